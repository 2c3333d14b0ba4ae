from rest_framework import pagination


class PageNumberPagination(pagination.PageNumberPagination):
    """Page-number pagination; clients may ask for up to 100 items a page."""

    page_size_query_param = "page_size"
    max_page_size = 100


class CursorPagination(pagination.CursorPagination):
    """Cursor pagination for large or fast-growing collections (stable under inserts, no
    COUNT); subclasses set `ordering`, whose first field must be nearly unique."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200
