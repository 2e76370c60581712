"""Migrations: up, down and up again on SQLite and PostgreSQL; the result equals tables.py."""

from __future__ import annotations

import threading
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect, text

import leadpact.store.migrations as migrations
from leadpact.errors import LeadPactError
from leadpact.store.engine import begin_write, make_engine, sqlite_url
from leadpact.store.migrations import HEAD, current_revision, downgrade, ensure_schema, upgrade
from leadpact.store.tables import metadata

TABLES = set(metadata.tables)


def table_names(engine: Engine) -> set[str]:
    return set(inspect(engine).get_table_names()) - {"alembic_version"}


def schema_differences(engine: Engine) -> list[Any]:
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        return list(compare_metadata(context, metadata))


def test_head_constant_is_the_newest_script() -> None:
    location = Path(migrations.__file__).parent
    script = ScriptDirectory(str(location))
    assert script.get_current_head() == HEAD


def test_a_new_database_has_no_revision(engine: Engine) -> None:
    assert current_revision(engine) is None
    assert table_names(engine) == set()


def test_upgrade_creates_every_table(engine: Engine) -> None:
    upgrade(engine)
    assert current_revision(engine) == HEAD
    assert table_names(engine) == TABLES


def test_migrated_schema_matches_tables_py(engine: Engine) -> None:
    upgrade(engine)
    assert schema_differences(engine) == []


def test_schema_comparison_notices_a_difference(engine: Engine) -> None:
    # The comparison above can fail: drop an index the tables declare.
    upgrade(engine)
    with engine.begin() as conn:
        conn.execute(text("DROP INDEX ix_leads_owner"))
    assert [diff[0] for diff in schema_differences(engine)] == ["add_index"]


def test_down_and_up_again(engine: Engine) -> None:
    upgrade(engine)
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO leads (id, stage, stage_at, created_at) "
                "VALUES ('a', 'lead', '2025-01-01 00:00:00', '2025-01-01 00:00:00')"
            )
        )
    downgrade(engine)
    assert current_revision(engine) is None
    assert table_names(engine) == set()
    upgrade(engine)
    assert current_revision(engine) == HEAD
    assert schema_differences(engine) == []
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM leads")).scalar() == 0


def test_ensure_schema_is_idempotent(engine: Engine) -> None:
    ensure_schema(engine)
    ensure_schema(engine)
    assert current_revision(engine) == HEAD
    assert table_names(engine) == TABLES


def test_processes_opening_a_new_database_together_migrate_it_once(db_url: str) -> None:
    engines = [make_engine(db_url) for _ in range(4)]
    errors: list[BaseException] = []
    start = threading.Barrier(len(engines))

    def open_it(engine: Engine) -> None:
        try:
            start.wait()
            ensure_schema(engine)
        except BaseException as err:  # collected and asserted below
            errors.append(err)

    threads = [threading.Thread(target=open_it, args=(e,), daemon=True) for e in engines]
    for thread in threads:
        thread.start()
    for thread in threads:
        # Not a timing assertion: without the migration lock the threads deadlock on
        # PostgreSQL, and the test should fail rather than hang.
        thread.join(timeout=120)
    try:
        assert not any(thread.is_alive() for thread in threads), "migrations deadlocked"
        assert errors == []
        assert current_revision(engines[0]) == HEAD
        assert table_names(engines[0]) == TABLES
    finally:
        for engine in engines:
            engine.dispose()


def test_a_database_from_a_newer_leadpact_is_refused(engine: Engine) -> None:
    upgrade(engine)
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    with pytest.raises(LeadPactError, match="newer LeadPact"):
        ensure_schema(engine)


def test_a_file_that_is_not_a_database_is_a_user_error(tmp_path: Path) -> None:
    path = tmp_path / "leadpact.db"
    path.write_text("these are not the bytes of a database\n" * 200)
    engine = make_engine(sqlite_url(path))
    with pytest.raises(LeadPactError, match=r"cannot open the database .*not a database"):
        ensure_schema(engine)
    engine.dispose()


def test_a_missing_folder_is_a_user_error(tmp_path: Path) -> None:
    engine = make_engine(sqlite_url(tmp_path / "no" / "such" / "leadpact.db"))
    with pytest.raises(LeadPactError, match=r"cannot open the database .*unable to open"):
        ensure_schema(engine)
    engine.dispose()


def test_an_unreachable_server_is_a_user_error() -> None:
    engine = make_engine("postgresql://nobody@127.0.0.1:1/none?connect_timeout=2")
    with pytest.raises(LeadPactError, match=r"cannot open the database postgresql\+psycopg://"):
        ensure_schema(engine)
    engine.dispose()


def test_the_alembic_command_line_is_refused() -> None:
    from alembic import command

    with pytest.raises(RuntimeError, match=r"upgrade\(engine\), not the alembic command line"):
        command.upgrade(migrations._config(), "head")


def test_migrations_ship_inside_the_package() -> None:
    location = Path(migrations.__file__).parent
    assert (location / "env.py").is_file()
    assert (location / "script.py.mako").is_file()
    assert any(location.joinpath("versions").glob("0001_*.py"))


def test_a_database_locked_by_another_writer_is_a_user_error(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path / "leadpact.db")
    holder = make_engine(url)
    waiter = make_engine(url, busy_timeout=timedelta(milliseconds=50))
    with holder.begin() as conn:
        conn.execute(text("CREATE TABLE other (x INTEGER)"))
    try:
        with begin_write(holder), pytest.raises(LeadPactError, match="database is locked"):
            ensure_schema(waiter)
    finally:
        holder.dispose()
        waiter.dispose()


def test_0003_adds_the_suppression_list_to_a_workspace_with_data_and_down_removes_it(
    engine: Engine,
) -> None:
    upgrade(engine, "0002")
    assert {"salts", "suppressions"}.isdisjoint(table_names(engine))
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO leads (id, stage, stage_at, created_at) "
                "VALUES ('a', 'lead', '2025-01-01 00:00:00', '2025-01-01 00:00:00')"
            )
        )
    upgrade(engine)
    assert current_revision(engine) == HEAD == "0003"
    assert table_names(engine) == TABLES
    assert schema_differences(engine) == []
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO suppressions (hash, kind, added_at) "
                "VALUES (:hash, 'id', '2025-01-02 00:00:00')"
            ),
            {"hash": "ab" * 32},
        )
        conn.execute(
            text(
                "INSERT INTO salts (name, value, created_at) "
                "VALUES ('suppression', :value, '2025-01-02 00:00:00')"
            ),
            {"value": "cd" * 32},
        )
    downgrade(engine, "0002")
    assert current_revision(engine) == "0002"
    assert table_names(engine) == TABLES - {"salts", "suppressions"}
    with engine.connect() as conn:
        assert conn.execute(text("SELECT id FROM leads")).scalar_one() == "a"
    upgrade(engine)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM suppressions")).scalar() == 0
        assert conn.execute(text("SELECT id FROM leads")).scalar_one() == "a"
