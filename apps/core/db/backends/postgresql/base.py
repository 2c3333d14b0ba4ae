"""Django's PostgreSQL backend, taught to see tables kept in the app schemas, and counting its
statements for Prometheus."""

from django.db.backends.postgresql import base

from apps.core.db.instrumentation import count_queries

from .introspection import DatabaseIntrospection


class DatabaseWrapper(base.DatabaseWrapper):
    introspection_class = DatabaseIntrospection

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.execute_wrappers.append(count_queries)
