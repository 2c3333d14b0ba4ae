"""Models of the audit app.

Its tables live in the `audit` PostgreSQL schema: db_table = 'audit"."<table>'.
"""
