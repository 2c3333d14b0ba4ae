"""Models of the analytics app.

Its tables live in the `analytics` PostgreSQL schema: db_table = 'analytics"."<table>'.
"""
