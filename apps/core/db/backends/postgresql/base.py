"""Django's PostgreSQL backend, taught to see tables kept in the app schemas."""

from django.db.backends.postgresql import base

from .introspection import DatabaseIntrospection


class DatabaseWrapper(base.DatabaseWrapper):
    introspection_class = DatabaseIntrospection
