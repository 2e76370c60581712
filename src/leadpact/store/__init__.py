"""The system of record: SQLAlchemy 2 Core tables, migrations and queries.

Imports `core` and `errors` only; nothing above (services, CLI, web). Runs on SQLite (WAL, the
embedded default) and PostgreSQL, the same migrations and queries on both.
"""
