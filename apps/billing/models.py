"""Models of the billing app.

Its tables live in the `billing` PostgreSQL schema: db_table = 'billing"."<table>'.
"""
