"""Models of the analytics app; its tables live in the `analytics` PostgreSQL schema (db_table = 'analytics"."...')."""
