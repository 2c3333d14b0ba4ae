"""One INSERT ... SELECT ... FROM unnest(...) for many rows that differ in a few columns.

`bulk_create` builds a model instance and a parameter per column and row (20 columns x 1,000
rows = 20,000 parameters to adapt). When most columns hold the same value for every row (one
course, one type, one timestamp), `insert_unnest` sends those once, each varying column as one
array, and still writes every concrete column the way the ORM would: the constants are the
template instance's values after `pre_save` (auto_now, defaults) and `get_db_prep_save`, a
column with a database default that the template leaves unset is left to the database. A
field added to the model later is covered without touching the callers.
"""

# ruff: noqa: S608 (identifiers come from the model's meta, quoted; values are parameters;
# `conflict` is the caller's constant)
import json

from django.db import connection
from django.db.models import JSONField
from django.db.models.expressions import DatabaseDefault


def insert_unnest(
    model, *, template, varying: dict[str, list], conflict: str = "", returning: tuple = ()
) -> list[tuple]:
    """Insert one row per position of the `varying` lists (attname -> values, all the same
    length), every other concrete column from `template`. `conflict` is appended as is (e.g.
    "ON CONFLICT DO NOTHING"); `returning` names attnames to return. Returns the fetched rows."""
    lengths = {len(values) for values in varying.values()}
    if lengths == {0}:
        return []
    if len(lengths) != 1:
        raise ValueError("The varying columns have different lengths.")
    meta = model._meta
    columns, selects, params, arrays, array_params = [], [], [], [], []
    for field in meta.concrete_fields:
        if not field.column or getattr(field, "generated", False):
            continue
        db_type = field.db_type(connection)
        if field.attname in varying:
            values = varying[field.attname]
            position = len(arrays) + 1
            if isinstance(field, JSONField):
                arrays.append("%s::text[]")
                array_params.append([None if v is None else json.dumps(v) for v in values])
                selects.append(f"u.c{position}::jsonb")
            else:
                arrays.append(f"%s::{db_type}[]")
                array_params.append(list(values))
                selects.append(f"u.c{position}")
            columns.append(field.column)
            continue
        value = field.pre_save(template, add=True)
        if isinstance(value, DatabaseDefault):
            continue
        columns.append(field.column)
        selects.append(f"%s::{db_type}")
        params.append(field.get_db_prep_save(value, connection))
    quote = connection.ops.quote_name
    names = ", ".join(f"c{i}" for i in range(1, len(arrays) + 1))
    sql = (
        f"INSERT INTO {quote(meta.db_table)} ({', '.join(quote(c) for c in columns)}) "
        f"SELECT {', '.join(selects)} FROM unnest({', '.join(arrays)}) AS u({names}) {conflict}"
    )
    if returning:
        sql += " RETURNING " + ", ".join(quote(meta.get_field(a).column) for a in returning)
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, *array_params])
        return cursor.fetchall() if returning else []
