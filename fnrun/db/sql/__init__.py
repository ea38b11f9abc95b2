"""The SQL run DB (SQLAlchemy: SQLite embedded, PostgreSQL at scale): schema, migrations,
sessions and the queries of each resource.

May import: model and the shared leaves (and db's protocol).
"""
