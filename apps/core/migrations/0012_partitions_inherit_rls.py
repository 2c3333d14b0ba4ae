"""New monthly partitions get row-level security when their parent has it (docs/adr/0017).

Queries through a partitioned table are filtered by the parent's policies. A partition named
directly is checked by its own, and a partition has none, so with RLS enabled on it the app role
reads nothing there: the parent stays the only way in. This replaces
lyceum_ensure_monthly_partitions (core 0004) with the same function plus that one step (CREATE OR
REPLACE keeps its grants); the migration that protects progress.activity enables RLS on the
partitions that exist.
"""

import importlib

from django.db import migrations

ENSURE_RLS = r"""
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
            IF (SELECT c.relrowsecurity FROM pg_class c WHERE c.oid = parent) THEN
                EXECUTE format('ALTER TABLE %I.%I ENABLE ROW LEVEL SECURITY', nsp, part);
            END IF;
            created := created + 1;
        END IF;
    END LOOP;
    RETURN created;
END
$$;
"""


def create(apps, schema_editor):
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(ENSURE_RLS)


def restore(apps, schema_editor):
    before = importlib.import_module("apps.core.migrations.0004_partition_functions")
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(before.ENSURE)


class Migration(migrations.Migration):
    dependencies = [("core", "0011_maintenance_schedules")]
    operations = [migrations.RunPython(create, restore)]
