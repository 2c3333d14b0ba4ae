"""SQL statements counted per process for Prometheus (exported by apps/core/metrics.py).

Installed on every connection by the database backend, as an execute wrapper: django-prometheus'
own database backends cannot be combined with ours (schema-aware introspection)."""

import prometheus_client

DB_QUERIES = prometheus_client.Counter(
    "lyceum_db_queries",
    "SQL statements executed by this process, by database alias and statement kind.",
    ["alias", "kind"],
)
DB_QUERY_ERRORS = prometheus_client.Counter(
    "lyceum_db_query_errors",
    "SQL statements that raised an error, by database alias.",
    ["alias"],
)
_KINDS = {"select", "insert", "update", "delete", "copy"}


def statement_kind(sql) -> str:
    """select, insert, update, delete, copy or other (a WITH query counts as a select)."""
    head = str(sql).lstrip()[:12].split(None, 1)
    kind = head[0].lower() if head else ""
    if kind == "with":
        return "select"
    return kind if kind in _KINDS else "other"


def count_queries(execute, sql, params, many, context):
    """The execute wrapper: counts each statement (executemany counts once) and its errors."""
    alias = context["connection"].alias
    try:
        return execute(sql, params, many, context)
    except Exception:
        DB_QUERY_ERRORS.labels(alias).inc()
        raise
    finally:
        DB_QUERIES.labels(alias, statement_kind(sql)).inc()
