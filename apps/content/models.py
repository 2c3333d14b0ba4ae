"""Models of the content app; its tables live in the `content` PostgreSQL schema (db_table = 'content"."...')."""
