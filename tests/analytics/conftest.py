"""Shared fixtures of the analytics tests: demo workspaces built by the real import, and their
Parquet export.

`services.demo.run_demo` writes the example pact, generates a year of leads (seed 11), imports
them and scores them: the same path a user's data takes. The SQLite workspace and its export
are built once per session; the PostgreSQL twin (same data, its own schema) only when
LEADPACT_TEST_DATABASE_URL is set.
"""

from __future__ import annotations

import os
import shutil
import uuid
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

DEMO_SEED = 11
DEMO_LEADS = 1500
#: The instant the shared demo reports are as of: late in the generated year.
AS_OF = datetime(2025, 11, 20, 15, 30, tzinfo=UTC)
#: When the demo workspace was built (scores are as of then).
BUILT_AT = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
PG_SKIP = "PostgreSQL tests need LEADPACT_TEST_DATABASE_URL (CI sets it)"
SPARK_SKIP = "Spark tests need Java (CI installs default-jre-headless)"


def build_demo(directory: Path) -> Path:
    """A demo workspace in `directory` (the example pact, 1,500 leads of 2025)."""
    from leadpact.cli.pact import example_pact_text
    from leadpact.clock import FixedClock
    from leadpact.services.demo import run_demo

    run_demo(
        directory,
        seed=DEMO_SEED,
        leads=DEMO_LEADS,
        start=date(2025, 1, 1),
        days=365,
        pact_text=example_pact_text(),
        clock=FixedClock(BUILT_AT),
    )
    return directory


@pytest.fixture(scope="session")
def demo_dir(tmp_path_factory) -> Path:
    """A SQLite demo workspace shared by the session: copy it before writing to it."""
    return build_demo(tmp_path_factory.mktemp("demo") / "ws")


@pytest.fixture
def workspace_dir(demo_dir, tmp_path) -> Path:
    """A private copy of the demo workspace."""
    target = tmp_path / "ws"
    shutil.copytree(demo_dir, target)
    return target


@pytest.fixture(scope="session")
def demo_export(demo_dir, tmp_path_factory) -> Path:
    """The demo workspace's Parquet export."""
    from leadpact.services.reporting import export_parquet
    from leadpact.services.workspace import open_workspace

    target = tmp_path_factory.mktemp("export")
    with open_workspace(demo_dir) as ws:
        export_parquet(ws, target)
    return target


@pytest.fixture(scope="session")
def pg_demo_dir(tmp_path_factory):
    """The demo workspace on PostgreSQL, in a schema of its own (dropped afterwards)."""
    base = os.environ.get("LEADPACT_TEST_DATABASE_URL")
    if not base:
        pytest.skip(PG_SKIP)
    from sqlalchemy import make_url, text

    from leadpact.store.engine import make_engine

    schema = f"leadpact_analytics_{uuid.uuid4().hex[:10]}"
    admin = make_engine(base)
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        conn.commit()
    url = make_url(base).update_query_dict({"options": f"-csearch_path={schema}"})
    directory = tmp_path_factory.mktemp("pg") / "ws"
    directory.mkdir()
    rendered = url.render_as_string(hide_password=False)
    (directory / ".env").write_text(f"LEADPACT_DATABASE_URL={rendered}\n", encoding="utf-8")
    try:
        yield build_demo(directory)
    finally:
        with admin.connect() as conn:
            conn.execute(text("SET lock_timeout = '10s'"))
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
            conn.commit()
        admin.dispose()


def java_available() -> bool:
    """Whether a Java runtime is on this machine (Spark needs one)."""
    return shutil.which("java") is not None or bool(os.environ.get("JAVA_HOME"))
