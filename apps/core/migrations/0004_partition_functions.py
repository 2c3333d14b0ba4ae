"""Monthly range partitions, created ahead and archived by SECURITY DEFINER functions.

The app role cannot create or detach tables, so maintenance runs through two functions owned by
the migration owner with a fixed search_path, which the app role may execute (ADR 0008):

- lyceum_ensure_monthly_partitions(parent, months_ahead, months_back) creates the missing
  monthly partitions <table>_pYYYYMM with UTC bounds, idempotently; returns how many it created.
- lyceum_archive_partitions(parent, keep_months) detaches the monthly partitions that end before
  the first day of (this month - keep_months) and moves them to the `archive` schema (kept, never
  dropped); returns (partition, rows) for each.
"""

from django.conf import settings
from django.db import migrations

ENSURE = r"""
CREATE OR REPLACE FUNCTION public.lyceum_ensure_monthly_partitions(
    parent regclass, months_ahead integer, months_back integer DEFAULT 0
) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    nsp text;
    rel text;
    this_month timestamp;
    lower_bound timestamptz;
    upper_bound timestamptz;
    part text;
    created integer := 0;
BEGIN
    IF months_ahead < 0 OR months_ahead > 36 OR months_back < 0 OR months_back > 120 THEN
        RAISE EXCEPTION 'months out of range' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    SELECT n.nspname, c.relname INTO nsp, rel
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE c.oid = parent AND c.relkind = 'p';
    IF rel IS NULL THEN
        RAISE EXCEPTION '% is not a partitioned table', parent
            USING ERRCODE = 'wrong_object_type';
    END IF;
    this_month := date_trunc('month', now() AT TIME ZONE 'UTC');
    FOR i IN -months_back..months_ahead LOOP
        lower_bound := (this_month + make_interval(months => i)) AT TIME ZONE 'UTC';
        upper_bound := (this_month + make_interval(months => i + 1)) AT TIME ZONE 'UTC';
        part := rel || '_p' || to_char(this_month + make_interval(months => i), 'YYYYMM');
        IF to_regclass(format('%I.%I', nsp, part)) IS NULL THEN
            EXECUTE format(
                'CREATE TABLE %I.%I PARTITION OF %I.%I FOR VALUES FROM (%L) TO (%L)',
                nsp, part, nsp, rel, lower_bound, upper_bound
            );
            created := created + 1;
        END IF;
    END LOOP;
    RETURN created;
END
$$;
"""

ARCHIVE = r"""
CREATE OR REPLACE FUNCTION public.lyceum_archive_partitions(parent regclass, keep_months integer)
RETURNS TABLE (partition_name text, row_count bigint)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    cutoff timestamptz;
    part record;
    upper_bound timestamptz;
BEGIN
    IF keep_months < 1 THEN
        RAISE EXCEPTION 'keep_months must be at least 1' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    cutoff := (date_trunc('month', now() AT TIME ZONE 'UTC')
               - make_interval(months => keep_months)) AT TIME ZONE 'UTC';
    FOR part IN
        SELECT n.nspname AS nsp, c.relname AS rel, pg_get_expr(c.relpartbound, c.oid) AS bound
        FROM pg_inherits i
        JOIN pg_class c ON c.oid = i.inhrelid
        JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE i.inhparent = parent AND c.relname ~ '_p[0-9]{6}$'
        ORDER BY c.relname
    LOOP
        upper_bound := substring(part.bound from 'TO \(''([^'']+)''\)')::timestamptz;
        IF upper_bound <= cutoff THEN
            EXECUTE format('ALTER TABLE %s DETACH PARTITION %I.%I', parent, part.nsp, part.rel);
            EXECUTE format('ALTER TABLE %I.%I SET SCHEMA archive', part.nsp, part.rel);
            EXECUTE format('SELECT count(*) FROM archive.%I', part.rel) INTO row_count;
            partition_name := part.nsp || '.' || part.rel;
            RETURN NEXT;
        END IF;
    END LOOP;
END
$$;
"""


def create(apps, schema_editor):
    app = '"' + settings.DATABASE_APP_ROLE.replace('"', '""') + '"'
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("CREATE SCHEMA IF NOT EXISTS archive")
        cursor.execute("REVOKE ALL ON SCHEMA archive FROM PUBLIC")
        cursor.execute(ENSURE)
        cursor.execute(ARCHIVE)
        for signature in (
            "lyceum_ensure_monthly_partitions(regclass, integer, integer)",
            "lyceum_archive_partitions(regclass, integer)",
        ):
            cursor.execute(f"REVOKE ALL ON FUNCTION public.{signature} FROM PUBLIC")
            cursor.execute(f"GRANT EXECUTE ON FUNCTION public.{signature} TO {app}")


def drop(apps, schema_editor):
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            "DROP FUNCTION IF EXISTS public.lyceum_ensure_monthly_partitions(regclass, integer, integer)"
        )
        cursor.execute("DROP FUNCTION IF EXISTS public.lyceum_archive_partitions(regclass, integer)")


class Migration(migrations.Migration):
    dependencies = [("core", "0003_heartbeat_schedule")]
    operations = [migrations.RunPython(create, drop)]
