"""Store fixtures: an engine on each backend (`db_url`, tests/conftest.py), migrated or not."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import Engine

from leadpact.store.engine import make_engine
from leadpact.store.leads import LeadRow
from leadpact.store.migrations import ensure_schema

T0 = datetime(2025, 3, 7, 14, 30, tzinfo=UTC)


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    """An engine on an empty database (no tables yet)."""
    engine = make_engine(db_url)
    yield engine
    engine.dispose()


@pytest.fixture
def store(engine: Engine) -> Engine:
    """An engine on a database migrated to the newest schema."""
    ensure_schema(engine)
    return engine


@pytest.fixture
def make_lead() -> Callable[..., LeadRow]:
    """Build a `LeadRow` with sensible defaults: `make_lead("a", email="x@y.dk")`."""

    def build(lead_id: str, **facts: Any) -> LeadRow:
        facts.setdefault("stage", "lead")
        facts.setdefault("stage_at", T0)
        facts.setdefault("created_at", T0)
        return LeadRow(id=lead_id, **facts)

    return build
