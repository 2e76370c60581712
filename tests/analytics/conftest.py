"""Fixtures of the analytics tests: the demo workspace's Parquet export, and its PostgreSQL twin.

The SQLite demo workspace (`demo_dir`, tests/conftest.py) is built by `services.demo.run_demo`:
the example pact, a year of generated leads imported and scored, the path a user's data takes.
The PostgreSQL twin (same data, its own schema) is built only when LEADPACT_TEST_DATABASE_URL
is set.
"""

from __future__ import annotations

import os
import shutil
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest

#: The instant the shared demo reports are as of (tests/conftest.py DEMO_AS_OF).
AS_OF = datetime(2025, 11, 20, 15, 30, tzinfo=UTC)
PG_SKIP = "PostgreSQL tests need LEADPACT_TEST_DATABASE_URL (CI sets it)"
SPARK_SKIP = "Spark tests need Java (CI installs default-jre-headless)"


@pytest.fixture(scope="session")
def demo_export(demo_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo workspace's Parquet export."""
    from leadpact.services.reporting import export_parquet
    from leadpact.services.workspace import open_workspace

    target: Path = tmp_path_factory.mktemp("export")
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
    from tests.conftest import build_demo

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
