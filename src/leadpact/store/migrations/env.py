"""Alembic environment: runs the revisions on the connection `upgrade`/`downgrade` hand over.

There is no alembic.ini: `leadpact.store.migrations` builds the configuration in code and puts an
open connection (already inside a locked transaction) in `config.attributes["connection"]`.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from leadpact.store.tables import metadata

connection = context.config.attributes.get("connection")
if not isinstance(connection, Connection):
    raise RuntimeError(
        "run LeadPact migrations with leadpact.store.migrations.upgrade(engine), "
        "not the alembic command line"
    )
context.configure(
    connection=connection,
    target_metadata=metadata,
    # SQLite cannot ALTER most things: later revisions rewrite tables in batch mode.
    render_as_batch=True,
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
