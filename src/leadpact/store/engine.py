"""Database engines for the store: SQLite (WAL, the embedded default) or PostgreSQL (psycopg 3).

SQLite connections are set up so that CLI, web server and scheduler can share one file:
write-ahead log, foreign keys enforced, a busy timeout instead of "database is locked", and
`secure_delete` so that erased personal data is overwritten in the file, not just unlinked.
SQLAlchemy, not the `sqlite3` module, emits `BEGIN`, so a transaction covers its reads too.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import URL, Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError

from leadpact.errors import LeadPactError

#: How long a connection waits for another process's write lock before giving up.
DEFAULT_BUSY_TIMEOUT = timedelta(seconds=5)

#: Execution option naming the SQLite transaction mode ("IMMEDIATE" takes the write lock now).
BEGIN_MODE = "leadpact_sqlite_begin"

_URL_HINT = "expected sqlite:///PATH or postgresql+psycopg://USER@HOST/DATABASE"


def sqlite_url(path: Path) -> str:
    """The SQLAlchemy URL of the SQLite file at `path` (made absolute)."""
    return URL.create("sqlite+pysqlite", database=str(path.resolve())).render_as_string()


def make_engine(url: str, *, busy_timeout: timedelta = DEFAULT_BUSY_TIMEOUT) -> Engine:
    """Create an engine for a workspace database; no connection is opened yet.

    `postgresql://` and `postgres://` URLs use psycopg 3. SQLite connections get WAL,
    `foreign_keys=ON`, `busy_timeout`, `secure_delete=ON` and `synchronous=NORMAL`.

    Raises:
        LeadPactError: the URL is not a SQLite or PostgreSQL URL.
    """
    parsed = _parse(url)
    backend = parsed.get_backend_name()
    if backend == "postgresql":
        if parsed.drivername in {"postgresql", "postgres"}:
            parsed = parsed.set(drivername="postgresql+psycopg")
        return _create(parsed, pool_pre_ping=True)
    if backend != "sqlite":
        raise LeadPactError(
            f"database {parsed.render_as_string()} is not supported: use SQLite or PostgreSQL "
            f"({_URL_HINT})"
        )
    if parsed.database in {None, "", ":memory:"}:
        raise LeadPactError(f"an SQLite database needs a file path ({_URL_HINT})")
    engine = _create(parsed, connect_args={"timeout": busy_timeout.total_seconds()})
    _configure_sqlite(engine, busy_timeout)
    return engine


def _parse(url: str) -> URL:
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise LeadPactError(f"{url!r} is not a database URL ({_URL_HINT})") from None
    if parsed.drivername == "postgres":  # Heroku-style URLs
        parsed = parsed.set(drivername="postgresql")
    return parsed


def _create(url: URL, **kwargs: Any) -> Engine:
    try:
        return create_engine(url, **kwargs)
    except NoSuchModuleError:
        raise LeadPactError(
            f"database driver {url.drivername!r} is not available ({_URL_HINT})"
        ) from None


def _configure_sqlite(engine: Engine, busy_timeout: timedelta) -> None:
    timeout_ms = int(busy_timeout.total_seconds() * 1000)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy emit BEGIN (see `_on_begin`); sqlite3's own implicit BEGIN only starts
        # before a write, so the reads of a transaction would not see one snapshot.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        for pragma in (
            "journal_mode=WAL",
            "foreign_keys=ON",
            f"busy_timeout={timeout_ms}",
            # Erased personal data is overwritten with zeros, not left in free space.
            "secure_delete=ON",
            # Safe with WAL (a power cut may lose the last commits, never corrupt the file).
            "synchronous=NORMAL",
        ):
            cursor.execute(f"PRAGMA {pragma}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        options = conn.get_execution_options()
        if options.get("isolation_level") == "AUTOCOMMIT":
            return
        driver = conn.connection.driver_connection
        if driver is not None and driver.isolation_level is not None:
            # Leaving AUTOCOMMIT makes SQLAlchemy hand BEGIN back to sqlite3; take it back.
            driver.isolation_level = None
        mode = options.get(BEGIN_MODE, "")
        conn.exec_driver_sql(f"BEGIN {mode}".strip())


@contextmanager
def begin_write(engine: Engine) -> Iterator[Connection]:
    """A transaction that takes the write lock at once (SQLite `BEGIN IMMEDIATE`).

    Use it when a transaction reads and then writes what it read (migrations, erasure): a
    deferred SQLite transaction that upgrades to a write fails instead of waiting when another
    process wrote in between. On PostgreSQL it is an ordinary transaction.
    """
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            conn = conn.execution_options(**{BEGIN_MODE: "IMMEDIATE"})
        with conn.begin():
            yield conn


def describe(engine: Engine) -> str:
    """The engine's URL for messages, password hidden."""
    return engine.url.render_as_string(hide_password=True)
