"""Idempotent single-row inserts, the same on SQLite and PostgreSQL.

`INSERT ... ON CONFLICT DO NOTHING` on the record's key, inside a savepoint so that a row
pointing at a missing lead fails alone (PostgreSQL would otherwise abort the whole transaction)
and can be reported as `NotFoundError`.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Table, select
from sqlalchemy.exc import IntegrityError

from leadpact.errors import NotFoundError
from leadpact.store.tables import leads


def insert_new(conn: Connection, table: Table, key: str, values: dict[str, Any]) -> bool:
    """Insert `values` unless a row with the same `key` column value exists.

    Returns:
        True when the row was inserted, False when its key was already stored.

    Raises:
        NotFoundError: `values["lead_id"]` names no lead.
    """
    from sqlalchemy.dialects import postgresql, sqlite

    statement: postgresql.Insert | sqlite.Insert
    if conn.dialect.name == "postgresql":
        statement = postgresql.insert(table).on_conflict_do_nothing(index_elements=[key])
    else:
        statement = sqlite.insert(table).on_conflict_do_nothing(index_elements=[key])
    try:
        with conn.begin_nested():
            # RETURNING, not rowcount: psycopg reports -1 for an INSERT ... ON CONFLICT.
            inserted = conn.execute(statement.values(values).returning(table.c[key])).first()
    except IntegrityError:
        lead_id = values.get("lead_id")
        if lead_id is not None and not _lead_exists(conn, lead_id):
            raise NotFoundError(f"no lead {lead_id!r} in this workspace") from None
        raise
    return inserted is not None


def _lead_exists(conn: Connection, lead_id: str) -> bool:
    return conn.execute(select(leads.c.id).where(leads.c.id == lead_id)).first() is not None
