"""Models of the progress app.

Its tables live in the `progress` PostgreSQL schema: db_table = 'progress"."<table>'.
"""
