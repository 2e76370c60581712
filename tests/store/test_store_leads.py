"""Leads and deals in the store: round trips, lookups, filters and the errors they raise."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import Engine, text

from leadpact.core.models import LeadFacts
from leadpact.errors import ConflictError, NotFoundError
from leadpact.store.engine import begin_write
from leadpact.store.leads import (
    DealRow,
    LeadRow,
    add_deal,
    add_lead,
    find_lead,
    find_lead_by_email,
    get_lead,
    list_deals,
    list_leads,
)

T0 = datetime(2025, 3, 7, 14, 30, tzinfo=UTC)
CPH = timezone(timedelta(hours=1))
LeadFactory = Callable[..., LeadRow]


def test_a_lead_round_trips_with_utc_timestamps(store: Engine, make_lead: LeadFactory) -> None:
    lead = make_lead(
        "crm-1",
        email="dan@nordlys.dk",
        first_name="Dan",
        last_name="Director",
        title="IT director",
        company="Nordlys",
        employees=120,
        annual_revenue=1.5e7,
        industry="software",
        country="DK",
        source="webinar",
        owner="rep-a",
        team="sales-dk",
        stage="mql",
        stage_at=datetime(2025, 3, 7, 15, 30, tzinfo=CPH),
        persona="dan",
        fit=80.0,
        fit_grade="A",
        engagement=45.5,
        priority=1,
        scored_at=T0,
        row_hash="ab" * 32,
    )
    with begin_write(store) as conn:
        add_lead(conn, lead)
    with store.connect() as conn:
        stored = get_lead(conn, "crm-1")
    assert stored == lead
    assert stored.stage_at.tzinfo is UTC
    assert stored.stage_at == datetime(2025, 3, 7, 14, 30, tzinfo=UTC)
    assert stored.opted_out is False


def test_sqlite_stores_utc_text(store: Engine, make_lead: LeadFactory) -> None:
    with begin_write(store) as conn:
        add_lead(conn, make_lead("a", stage_at=datetime(2025, 3, 7, 15, 30, tzinfo=CPH)))
        raw = conn.execute(text("SELECT CAST(stage_at AS TEXT) FROM leads")).scalar()
    assert str(raw).startswith("2025-03-07 14:30:00")


def test_naive_datetimes_are_refused(store: Engine, make_lead: LeadFactory) -> None:
    with pytest.raises(Exception, match="naive datetime"), begin_write(store) as conn:
        add_lead(conn, make_lead("a", stage_at=datetime(2025, 3, 7, 15, 30)))


def test_missing_lead(store: Engine) -> None:
    with store.connect() as conn:
        assert find_lead(conn, "nope") is None
        with pytest.raises(NotFoundError, match="no lead 'nope' in this workspace"):
            get_lead(conn, "nope")


def test_adding_a_lead_twice_is_a_conflict(store: Engine, make_lead: LeadFactory) -> None:
    with begin_write(store) as conn:
        add_lead(conn, make_lead("a"))
        with pytest.raises(ConflictError, match="a lead 'a' is already stored"):
            add_lead(conn, make_lead("a", stage="mql"))
        # The transaction is still usable after the conflict (PostgreSQL included).
        add_lead(conn, make_lead("b"))
    with store.connect() as conn:
        assert [lead.id for lead in list_leads(conn)] == ["a", "b"]
        assert get_lead(conn, "a").stage == "lead"


def test_find_by_email_ignores_case_and_spaces_and_takes_the_oldest(
    store: Engine, make_lead: LeadFactory
) -> None:
    with begin_write(store) as conn:
        add_lead(conn, make_lead("new", email="Jane@Example.com", created_at=T0))
        add_lead(conn, make_lead("old", email="jane@example.com", created_at=T0 - timedelta(1)))
        add_lead(conn, make_lead("other", email="john@example.com"))
    with store.connect() as conn:
        found = find_lead_by_email(conn, "  JANE@example.COM ")
        assert found is not None
        assert found.id == "old"
        assert [x.id for x in list_leads(conn, email="jane@example.com")] == ["old", "new"]
        assert find_lead_by_email(conn, "nobody@example.com") is None


def test_list_leads_filters(store: Engine, make_lead: LeadFactory) -> None:
    with begin_write(store) as conn:
        add_lead(conn, make_lead("a", stage="mql", owner="rep-a", priority=1))
        add_lead(conn, make_lead("b", stage="mql", owner="rep-b", priority=2))
        add_lead(conn, make_lead("c", stage="sql", owner="rep-a", priority=1))
    with store.connect() as conn:

        def ids(**filters: Any) -> list[str]:
            return [lead.id for lead in list_leads(conn, **filters)]

        assert ids() == ["a", "b", "c"]
        assert ids(stage="mql") == ["a", "b"]
        assert ids(owner="rep-a") == ["a", "c"]
        assert ids(priority=1) == ["a", "c"]
        assert ids(stage="mql", owner="rep-a", priority=1) == ["a"]
        assert ids(stage="won") == []


def test_lead_row_gives_the_core_facts(make_lead: LeadFactory) -> None:
    lead = make_lead("a", email="x@y.dk", employees=50, country="DK", first_name="X")
    facts = lead.facts()
    assert isinstance(facts, LeadFacts)
    assert (facts.id, facts.email, facts.employees, facts.country) == ("a", "x@y.dk", 50, "DK")


def test_deals(store: Engine, make_lead: LeadFactory) -> None:
    deal = DealRow(id="opp-1", lead_id="a", stage="proposal", created_at=T0, amount=1200.0)
    with begin_write(store) as conn:
        add_lead(conn, make_lead("a"))
        assert add_deal(conn, deal) is True
        assert add_deal(conn, deal) is False
        later = DealRow(
            id="opp-2", lead_id="a", stage="won", created_at=T0 + timedelta(1), won=True
        )
        add_deal(conn, later)
        with pytest.raises(NotFoundError, match="no lead 'ghost'"):
            add_deal(conn, DealRow(id="opp-3", lead_id="ghost", stage="won", created_at=T0))
    with store.connect() as conn:
        assert list_deals(conn, "a") == [deal, later]
        assert list_deals(conn, "ghost") == []


def test_deleting_a_lead_deletes_its_deals(store: Engine, make_lead: LeadFactory) -> None:
    with begin_write(store) as conn:
        add_lead(conn, make_lead("a"))
        add_deal(conn, DealRow(id="opp-1", lead_id="a", stage="won", created_at=T0))
        conn.execute(text("DELETE FROM leads WHERE id = 'a'"))
        assert list_deals(conn, "a") == []
