"""Models of the audit app; its tables live in the `audit` PostgreSQL schema (db_table = 'audit"."...')."""
