"""Models of the content app.

Its tables live in the `content` PostgreSQL schema: db_table = 'content"."<table>'.
"""
