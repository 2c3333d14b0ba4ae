"""Models of the assistants app.

Its tables live in the `assistants` PostgreSQL schema: db_table = 'assistants"."<table>'.
"""
