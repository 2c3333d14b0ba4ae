"""Introspection that also lists and describes the tables in the app schemas.

App models name their tables `schema"."table` (docs/adr/0002-schema-per-app.md). Django's own
introspection only sees tables on the search_path, so `flush` (TransactionTestCase) would skip
them and fail on their foreign keys, and schema editors could not find their constraints. Here
those tables are listed under their `schema"."table` name, and the per-table look-ups run with the
table's schema put first on the search_path for the duration of the query, so Django's catalogue
queries (which filter on `pg_table_is_visible`) find them.
"""

import contextlib

from django.conf import settings
from django.db.backends.postgresql import introspection
from django.db.backends.postgresql.introspection import TableInfo

SEPARATOR = '"."'


def split_table_name(name: str) -> tuple[str | None, str]:
    """Split `schema"."table` into (schema, table); an unqualified name has no schema."""
    if SEPARATOR in name:
        schema, table = name.split(SEPARATOR, 1)
        return schema.strip('"'), table.strip('"')
    return None, name


class DatabaseIntrospection(introspection.DatabaseIntrospection):
    def get_table_list(self, cursor):
        tables = super().get_table_list(cursor)
        cursor.execute(
            """
            SELECT
                n.nspname,
                c.relname,
                CASE
                    WHEN c.relispartition THEN 'p'
                    WHEN c.relkind IN ('m', 'v') THEN 'v'
                    ELSE 't'
                END,
                obj_description(c.oid, 'pg_class')
            FROM pg_catalog.pg_class c
            JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
            WHERE c.relkind IN ('f', 'm', 'p', 'r', 'v')
                AND n.nspname = ANY(%s)
            """,
            [list(settings.APP_SCHEMAS)],
        )
        tables.extend(
            TableInfo(f"{schema}{SEPARATOR}{name}", kind, comment)
            for schema, name, kind, comment in cursor.fetchall()
        )
        return tables

    @contextlib.contextmanager
    def _schema_first(self, cursor, table_name):
        schema, table = split_table_name(table_name)
        if schema is None:
            yield table
            return
        cursor.execute("SELECT pg_catalog.current_setting('search_path')")
        previous = cursor.fetchone()[0]
        quoted = self.connection.ops.quote_name(schema)
        cursor.execute(
            "SELECT pg_catalog.set_config('search_path', %s, false)", [f"{quoted}, {previous}"]
        )
        try:
            yield table
        finally:
            cursor.execute("SELECT pg_catalog.set_config('search_path', %s, false)", [previous])

    def get_table_description(self, cursor, table_name):
        with self._schema_first(cursor, table_name) as table:
            return super().get_table_description(cursor, table)

    def get_sequences(self, cursor, table_name, table_fields=()):
        with self._schema_first(cursor, table_name) as table:
            sequences = super().get_sequences(cursor, table, table_fields)
        for sequence in sequences:
            sequence["table"] = table_name
        return sequences

    def get_relations(self, cursor, table_name):
        with self._schema_first(cursor, table_name) as table:
            return super().get_relations(cursor, table)

    def get_constraints(self, cursor, table_name):
        with self._schema_first(cursor, table_name) as table:
            return super().get_constraints(cursor, table)
