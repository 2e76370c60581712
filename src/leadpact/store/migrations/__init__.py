"""Bring a workspace database to the schema this LeadPact expects (Alembic, run in code).

The revisions live in `versions/` inside the package (no alembic.ini); `ensure_schema` is what
opening a workspace calls: it only reads the recorded revision when the database is current, and
migrates otherwise. Migrations run in one transaction that holds the write lock (SQLite
`BEGIN IMMEDIATE`, a PostgreSQL advisory lock), so two processes opening a new workspace at the
same moment do not both create the tables.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Connection, Engine, inspect, text
from sqlalchemy.exc import DBAPIError, OperationalError

from leadpact.errors import LeadPactError
from leadpact.store.engine import begin_write, describe

if TYPE_CHECKING:
    from alembic.config import Config

#: The newest revision in `versions/` (a test checks it against the scripts).
HEAD = "0003"

_VERSION_TABLE = "alembic_version"
#: Arbitrary constant naming LeadPact's migration lock among PostgreSQL advisory locks.
_PG_LOCK = 0x1EADAC7


def current_revision(engine: Engine) -> str | None:
    """The schema revision recorded in the database (None: not initialised).

    Raises:
        LeadPactError: the database cannot be opened.
    """
    try:
        with engine.connect() as conn:
            return _recorded(conn)
    except DBAPIError as err:  # unreachable server, missing folder, not a database file
        raise _unreachable(engine, err) from None


def ensure_schema(engine: Engine) -> None:
    """Migrate the database to `HEAD` unless it is there already (cheap when current).

    Raises:
        LeadPactError: the database cannot be opened, or it was written by a newer LeadPact.
    """
    if current_revision(engine) != HEAD:
        upgrade(engine)


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Apply the revisions up to `revision` ("head": all of them).

    Raises:
        LeadPactError: the database cannot be opened, or its revision is unknown.
    """
    from alembic import command

    _run(engine, lambda config: command.upgrade(config, revision))


def downgrade(engine: Engine, revision: str = "base") -> None:
    """Revert the revisions down to `revision` ("base": drops every LeadPact table).

    Raises:
        LeadPactError: the database cannot be opened, or its revision is unknown.
    """
    from alembic import command

    _run(engine, lambda config: command.downgrade(config, revision))


def run_env() -> None:
    """The body of `env.py`: run the revisions on the connection `_run` handed over.

    Lives here, not in env.py, so that it is an ordinary, tested and measured module (Alembic
    loads env.py under a name of its own).
    """
    from alembic import context

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


def _recorded(conn: Connection) -> str | None:
    if not inspect(conn).has_table(_VERSION_TABLE):
        return None
    return conn.execute(text(f"SELECT version_num FROM {_VERSION_TABLE}")).scalar()


def _config() -> Config:
    from alembic.config import Config

    config = Config()
    # configparser interpolation: a literal "%" in the install path must be doubled.
    location = str(Path(__file__).resolve().parent).replace("%", "%%")
    config.set_main_option("script_location", location)
    return config


def _run(engine: Engine, action: Callable[[Config], None]) -> None:
    from alembic.util import CommandError

    config = _config()
    try:
        with begin_write(engine) as conn:
            if conn.dialect.name == "postgresql":
                conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_LOCK})
            config.attributes["connection"] = conn
            action(config)
    except CommandError as err:
        raise LeadPactError(
            f"cannot migrate the database {describe(engine)}: {err} "
            "(was it written by a newer LeadPact? upgrade LeadPact)"
        ) from None
    except OperationalError as err:
        raise _unreachable(engine, err) from None


def _unreachable(engine: Engine, err: DBAPIError) -> LeadPactError:
    reason = str(err.orig).strip().splitlines()[0] if err.orig is not None else str(err)
    return LeadPactError(f"cannot open the database {describe(engine)}: {reason}")
