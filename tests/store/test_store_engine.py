"""Engines: SQLite connection setup, transactions, URLs and the errors users can cause."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, make_url, text
from sqlalchemy.exc import OperationalError

from leadpact.errors import LeadPactError
from leadpact.store.engine import begin_write, describe, make_engine, sqlite_url


@pytest.fixture
def sqlite_engine(tmp_path: Path) -> Iterator[Engine]:
    engine = make_engine(sqlite_url(tmp_path / "leadpact.db"))
    yield engine
    engine.dispose()


@pytest.mark.parametrize(
    ("pragma", "expected"),
    [
        ("journal_mode", "wal"),
        ("foreign_keys", 1),
        ("busy_timeout", 5000),
        ("secure_delete", 1),
        ("synchronous", 1),  # NORMAL
    ],
)
def test_sqlite_connections_are_set_up(
    sqlite_engine: Engine, pragma: str, expected: object
) -> None:
    with sqlite_engine.connect() as conn:
        assert conn.exec_driver_sql(f"PRAGMA {pragma}").scalar() == expected


def test_busy_timeout_follows_the_argument(tmp_path: Path) -> None:
    engine = make_engine(sqlite_url(tmp_path / "x.db"), busy_timeout=timedelta(milliseconds=250))
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 250
    engine.dispose()


def test_a_transaction_reads_one_snapshot(sqlite_engine: Engine) -> None:
    # sqlite3 on its own only opens a transaction before a write; SQLAlchemy's BEGIN makes the
    # reads of one transaction consistent even when another connection commits in between.
    with sqlite_engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (x INTEGER)"))
    with sqlite_engine.connect() as reader, sqlite_engine.connect() as writer:
        with reader.begin():
            assert reader.execute(text("SELECT count(*) FROM t")).scalar() == 0
            with writer.begin():
                writer.execute(text("INSERT INTO t VALUES (1)"))
            assert reader.execute(text("SELECT count(*) FROM t")).scalar() == 0
        assert reader.execute(text("SELECT count(*) FROM t")).scalar() == 1
        reader.rollback()


def test_begin_write_takes_the_write_lock_at_once(tmp_path: Path) -> None:
    path = tmp_path / "leadpact.db"
    first = make_engine(sqlite_url(path))
    second = make_engine(sqlite_url(path), busy_timeout=timedelta(milliseconds=50))
    with first.begin() as conn:
        conn.execute(text("CREATE TABLE t (x INTEGER)"))
    with (
        begin_write(first),
        pytest.raises(OperationalError, match="locked"),
        second.begin() as conn,
    ):
        conn.execute(text("INSERT INTO t VALUES (1)"))
    with second.begin() as conn:  # free again once the write transaction ended
        conn.execute(text("INSERT INTO t VALUES (1)"))
    first.dispose()
    second.dispose()


def test_begin_write_rolls_back_on_error(sqlite_engine: Engine) -> None:
    with sqlite_engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (x INTEGER)"))

    def insert_then_fail() -> None:
        with begin_write(sqlite_engine) as conn:
            conn.execute(text("INSERT INTO t VALUES (1)"))
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        insert_then_fail()
    with sqlite_engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM t")).scalar() == 0


def test_sqlite_url_survives_odd_paths(tmp_path: Path) -> None:
    path = tmp_path / "my workspace æøå" / "lead#pact?.db"
    url = sqlite_url(path)
    assert make_url(url).database == str(path.resolve())
    path.parent.mkdir()
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (x INTEGER)"))
    engine.dispose()
    assert path.exists()


def test_sqlite_url_is_absolute(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert make_url(sqlite_url(Path("leadpact.db"))).database == str(tmp_path / "leadpact.db")


@pytest.mark.parametrize(
    "url", ["postgresql://u:secret@db.example/x", "postgres://u:secret@db.example/x"]
)
def test_postgresql_urls_use_psycopg_3(url: str) -> None:
    engine = make_engine(url)  # no connection is made
    assert engine.url.drivername == "postgresql+psycopg"
    assert describe(engine) == "postgresql+psycopg://u:***@db.example/x"
    engine.dispose()


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("mysql://u@h/db", "is not supported: use SQLite or PostgreSQL"),
        ("not a url", "is not a database URL"),
        ("sqlite://", "needs a file path"),
        ("sqlite:///:memory:", "needs a file path"),
        ("postgresql+nosuchdriver://u@h/db", "driver 'postgresql+nosuchdriver' is not available"),
    ],
)
def test_bad_urls_are_user_errors(url: str, message: str) -> None:
    with pytest.raises(LeadPactError, match=re.escape(message)):
        make_engine(url)


def test_autocommit_connections_get_no_transaction_and_leave_none_behind(
    sqlite_engine: Engine,
) -> None:
    with sqlite_engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (x INTEGER)"))
    with sqlite_engine.connect() as conn:
        auto = conn.execution_options(isolation_level="AUTOCOMMIT")
        auto.execute(text("INSERT INTO t VALUES (1)"))
        auto.rollback()  # nothing to roll back: the insert is committed already
    with sqlite_engine.connect() as reader, sqlite_engine.connect() as writer:
        # The pooled connection used in AUTOCOMMIT is back to SQLAlchemy-managed BEGIN.
        with reader.begin():
            assert reader.execute(text("SELECT count(*) FROM t")).scalar() == 1
            with writer.begin():
                writer.execute(text("INSERT INTO t VALUES (2)"))
            assert reader.execute(text("SELECT count(*) FROM t")).scalar() == 1
        with writer.begin() as transaction:
            writer.execute(text("INSERT INTO t VALUES (3)"))
            transaction.rollback()
        assert writer.execute(text("SELECT count(*) FROM t")).scalar() == 2
        writer.rollback()
