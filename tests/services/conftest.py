"""Fixtures shared by the services tests: a workspace with the example pact at a fixed instant."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from leadpact.clock import FixedClock
from leadpact.services.workspace import Workspace, open_workspace
from leadpact.settings import Settings

EXAMPLE_PACT = Path(__file__).resolve().parents[2] / "src" / "leadpact" / "data" / "pact.yaml"
#: The clock of the `ws` fixture.
NOW = datetime(2025, 4, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def ws(tmp_path: Path, db_url: str) -> Iterator[Workspace]:
    """A workspace with the example pact on a fresh database, its clock at NOW."""
    folder = tmp_path / "ws"
    folder.mkdir()
    shutil.copy(EXAMPLE_PACT, folder / "pact.yaml")
    workspace = open_workspace(
        folder, settings=Settings(database_url=db_url), clock=FixedClock(NOW)
    )
    yield workspace
    workspace.close()
