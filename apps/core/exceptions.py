"""Domain errors: services raise these; the API maps them to status codes, pages to messages."""


class DomainError(Exception):
    """A business rule refused the operation. Subclasses set the HTTP status the edge returns."""

    status_code = 400
    code = "invalid"

    def __init__(self, message: str, *, code: str | None = None, fields: dict | None = None):
        super().__init__(message)
        self.message = message
        self.code = code or self.code
        self.fields = fields or {}


class PermissionDeniedError(DomainError):
    status_code = 403
    code = "permission_denied"


class NotFoundError(DomainError):
    status_code = 404
    code = "not_found"


class ConflictError(DomainError):
    status_code = 409
    code = "conflict"
