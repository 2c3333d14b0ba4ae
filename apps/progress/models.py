"""Models of the progress app; its tables live in the `progress` PostgreSQL schema (db_table = 'progress"."...')."""
