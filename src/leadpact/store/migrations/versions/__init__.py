"""Alembic revisions of the workspace database, oldest first; each runs on SQLite and PostgreSQL."""
