"""Models of the rbac app.

Its tables live in the `rbac` PostgreSQL schema: db_table = 'rbac"."<table>'.
"""
