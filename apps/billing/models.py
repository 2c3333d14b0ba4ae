"""Models of the billing app; its tables live in the `billing` PostgreSQL schema (db_table = 'billing"."...')."""
