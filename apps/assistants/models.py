"""Models of the assistants app; its tables live in the `assistants` PostgreSQL schema (db_table = 'assistants"."...')."""
