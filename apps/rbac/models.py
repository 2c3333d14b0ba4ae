"""Models of the rbac app; its tables live in the `rbac` PostgreSQL schema (db_table = 'rbac"."...')."""
