"""Shared fixtures: the example pact, its text, and the Hypothesis profiles."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings

settings.register_profile("ci", derandomize=True, deadline=None, max_examples=200)
settings.register_profile("dev", deadline=None, max_examples=50)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE_PACT = ROOT / "src" / "leadpact" / "data" / "pact.yaml"


@pytest.fixture
def example_text() -> str:
    """The text of the shipped example pact."""
    return EXAMPLE_PACT.read_text(encoding="utf-8")


@pytest.fixture
def pact():
    """The shipped example pact, loaded."""
    from leadpact.pact_file import load_pact

    return load_pact(EXAMPLE_PACT)


#: Why the PostgreSQL cases skip on a machine without a server configured.
PG_SKIP_REASON = "PostgreSQL tests need LEADPACT_TEST_DATABASE_URL (CI sets it)"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """URL of a fresh, empty database: an SQLite file in tmp_path, or a PostgreSQL schema.

    The PostgreSQL server is shared: each test gets its own schema (via `search_path`),
    dropped afterwards.
    """
    if request.param == "sqlite":
        from leadpact.store.engine import sqlite_url

        yield sqlite_url(tmp_path / "leadpact.db")
        return
    base = os.environ.get("LEADPACT_TEST_DATABASE_URL")
    if not base:
        pytest.skip(PG_SKIP_REASON)
    import uuid

    from sqlalchemy import make_url, text

    from leadpact.store.engine import make_engine

    schema = f"leadpact_test_{uuid.uuid4().hex[:12]}"
    admin = make_engine(base)
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        conn.commit()
    url = make_url(base).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            # A test that leaks a connection fails here instead of hanging the suite.
            conn.execute(text("SET lock_timeout = '10s'"))
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
            conn.commit()
        admin.dispose()


#: The instant the demo-workspace reports are as of: late in the generated year (2025).
DEMO_AS_OF = "2025-11-20T15:30:00+00:00"


def build_demo(directory: Path) -> Path:
    """A demo workspace in `directory`: the example pact, 1,500 leads of 2025 (seed 11),
    imported and scored by the real services."""
    from datetime import UTC, date, datetime

    from leadpact.cli.pact import example_pact_text
    from leadpact.clock import FixedClock
    from leadpact.services.demo import run_demo

    run_demo(
        directory,
        seed=11,
        leads=1500,
        start=date(2025, 1, 1),
        days=365,
        pact_text=example_pact_text(),
        clock=FixedClock(datetime(2026, 1, 5, 9, 0, tzinfo=UTC)),
    )
    return directory


@pytest.fixture(scope="session")
def demo_dir(tmp_path_factory) -> Path:
    """A SQLite demo workspace shared by the session (reports, analytics): do not write to
    it; copy it (`workspace_dir`) first."""
    return build_demo(tmp_path_factory.mktemp("demo") / "ws")


@pytest.fixture
def workspace_dir(demo_dir: Path, tmp_path: Path) -> Path:
    """A private copy of the demo workspace."""
    import shutil

    target = tmp_path / "ws"
    shutil.copytree(demo_dir, target)
    return target
