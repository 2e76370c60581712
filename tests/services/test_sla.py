"""SLA clocks of a workspace on SQLite and PostgreSQL: status, breaches, compliance, queue."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Connection

from leadpact.clock import FixedClock
from leadpact.core.models import Activity, Channel, StageChange, Touch, TouchOutcome
from leadpact.core.sla import SlaStatus, Stop
from leadpact.errors import NotFoundError
from leadpact.services.sla import (
    lead_clocks,
    overdue_by,
    queue,
    sla_breaches,
    sla_compliance,
    sla_status,
)
from leadpact.services.workspace import Workspace, open_workspace
from leadpact.settings import Settings
from leadpact.store.events import add_activity, add_stage_change, add_touch
from leadpact.store.leads import LeadRow, add_lead

EXAMPLE_PACT = Path(__file__).resolve().parents[2] / "src" / "leadpact" / "data" / "pact.yaml"
CPH = ZoneInfo("Europe/Copenhagen")


def at(day: int, hour: int, minute: int = 0) -> datetime:
    """Copenhagen time in March 2025 (6 March is a Thursday)."""
    return datetime(2025, 3, day, hour, minute, tzinfo=CPH)


AS_OF = at(7, 12)


def open_in(folder: Path, db_url: str, pact_text: str) -> Workspace:
    folder.mkdir()
    (folder / "pact.yaml").write_text(pact_text, encoding="utf-8")
    return open_workspace(folder, settings=Settings(database_url=db_url), clock=FixedClock(AS_OF))


@pytest.fixture
def ws(tmp_path, db_url):
    workspace = open_in(tmp_path / "ws", db_url, EXAMPLE_PACT.read_text(encoding="utf-8"))
    with workspace.transaction() as conn:
        fill(conn)
    yield workspace
    workspace.close()


def lead(conn: Connection, lead_id: str, stage: str, **facts: Any) -> None:
    add_lead(
        conn, LeadRow(id=lead_id, stage=stage, stage_at=at(1, 9), created_at=at(1, 9), **facts)
    )


def moves(conn: Connection, lead_id: str, *steps: tuple[str, datetime]) -> None:
    for stage, when in steps:
        add_stage_change(conn, StageChange(lead_id, None, stage, when))


def call(conn: Connection, lead_id: str, when: datetime, outcome: str = "no_answer") -> None:
    add_touch(conn, Touch(lead_id, "rep", Channel.CALL, when, TouchOutcome(outcome)))


def fill(conn: Connection) -> None:
    # a: priority 1, answered in time; acceptance decided by the move to sql.
    lead(conn, "a", "sql", owner="sofie", team="sales-dk", priority=1)
    moves(conn, "a", ("mql", at(6, 9)), ("sql", at(6, 10)))
    call(conn, "a", at(6, 11))
    call(conn, "a", at(7, 13))  # after as_of: not seen
    # b: priority 2 on the US team, never called: sql-response overdue by as_of.
    lead(conn, "b", "sql", owner="tom", team="sales-us", priority=2)
    moves(conn, "b", ("sql", at(6, 10)))
    # c: an MQL nobody decided on: acceptance overdue (due Fri 10:00).
    lead(conn, "c", "mql", owner="sofie", team="sales-dk", priority=1)
    moves(conn, "c", ("mql", at(6, 10)))
    # d: won: closed, not in the queue.
    lead(conn, "d", "won", owner="sofie", team="sales-dk", priority=1)
    moves(conn, "d", ("sql", at(6, 10)), ("won", at(6, 11)))
    # e: an unscored lead without history.
    lead(conn, "e", "lead", owner="emil", team="sales-dk")
    # f: priority 1 SQL close to its deadline at as_of.
    lead(conn, "f", "sql", owner="emil", team="sales-dk", priority=1)
    moves(conn, "f", ("sql", at(7, 10, 15)))


def test_status_is_every_clock_and_matches_each_lead_alone(ws):
    found = sla_status(ws, AS_OF)
    assert [(r.lead_id, r.commitment_id) for r in found] == [
        ("a", "mql-acceptance"),
        ("a", "p1-response"),
        ("a", "sql-follow-up"),
        ("b", "sql-response"),
        ("b", "sql-follow-up"),
        ("c", "mql-acceptance"),
        ("d", "p1-response"),
        ("d", "sql-follow-up"),
        ("f", "p1-response"),
        ("f", "sql-follow-up"),
    ]
    by_lead = [r for lead_id in "abcdef" for r in lead_clocks(ws, lead_id, AS_OF)]
    assert found == by_lead
    a_follow_up = found[2]
    assert a_follow_up.attempts == 1  # the call after as_of is not seen
    assert sla_status(ws) == found  # as_of defaults to the workspace clock


def test_breaches_list_the_overdue_clocks_earliest_due_first(ws):
    breaches = sla_breaches(ws, AS_OF)
    assert [(r.lead_id, r.commitment_id) for r in breaches] == [
        ("b", "sql-response"),  # due Thursday 17:00 in New York
        ("c", "mql-acceptance"),  # due Friday 10:00 in Copenhagen
    ]
    response, acceptance = breaches
    assert acceptance.due_at == at(7, 10)
    assert overdue_by(acceptance, AS_OF) == timedelta(hours=2)
    assert response.owner == "tom"
    assert response.calendar == "sales-us"
    assert response.stopped_at is None
    stopped = lead_clocks(ws, "a", AS_OF)[1]
    assert stopped.stopped_at == at(6, 11)
    assert overdue_by(stopped, AS_OF) == -timedelta(hours=1)  # called an hour early


def test_compliance_per_commitment(ws):
    found = {c.commitment_id: c for c in sla_compliance(ws, AS_OF)}
    assert list(found) == ["mql-acceptance", "p1-response", "sql-response", "sql-follow-up"]
    p1 = found["p1-response"]
    assert (p1.pending, p1.at_risk, p1.met, p1.breached) == (0, 1, 2, 0)
    assert p1.attainment_rate == 1.0
    assert p1.median_business_time == timedelta(hours=1)  # a's call; d was closed, no response
    assert found["mql-acceptance"].attainment_rate == 0.5
    only = sla_compliance(ws, AS_OF, commitment="sql-response")
    assert [(c.commitment_id, c.breached) for c in only] == [("sql-response", 1)]
    with pytest.raises(NotFoundError, match=r"no timed commitment 'mql-delivery'.*p1-response"):
        sla_compliance(ws, AS_OF, commitment="mql-delivery")


def test_queue_orders_open_leads_by_priority_then_time_left(ws):
    items = queue(ws, AS_OF)
    assert [i.lead_id for i in items] == ["c", "f", "a", "b", "e"]
    c, f, a, b, e = items
    assert c.clock is not None
    assert c.clock.status is SlaStatus.BREACHED  # overdue comes first
    assert f.clock is not None
    assert (f.clock.commitment_id, f.clock.status) == ("p1-response", SlaStatus.AT_RISK)
    assert a.clock is not None
    assert a.clock.commitment_id == "sql-follow-up"
    assert (b.priority, b.owner, b.team, b.stage) == (2, "tom", "sales-us", "sql")
    assert (e.clock, e.priority) == (None, None)


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({"owner": "sofie"}, ["c", "a"]),
        ({"stage": "sql"}, ["f", "a", "b"]),
        ({"priority": 2}, ["b"]),
        ({"stage": "won"}, []),
    ],
)
def test_queue_filters(ws, filters, expected):
    assert [i.lead_id for i in queue(ws, AS_OF, **filters)] == expected


def test_an_unknown_lead(ws):
    with pytest.raises(NotFoundError, match="no lead 'zz'"):
        lead_clocks(ws, "zz", AS_OF)


def test_an_empty_workspace(tmp_path, db_url):
    workspace = open_in(tmp_path / "empty", db_url, EXAMPLE_PACT.read_text(encoding="utf-8"))
    try:
        assert sla_status(workspace) == []
        assert queue(workspace) == []
        assert [c.total for c in sla_compliance(workspace)] == [0, 0, 0, 0]
    finally:
        workspace.close()


def test_conditions_may_test_touches_and_activities(tmp_path, db_url):
    text = EXAMPLE_PACT.read_text(encoding="utf-8").replace(
        "when: {priority: {gte: 2}}",
        "when: {activities.demo_request: {gte: 1}, connected: false, attempts: {lt: 2}}",
    )
    workspace = open_in(tmp_path / "custom", db_url, text)
    try:
        with workspace.transaction() as conn:
            for lead_id in ("demo", "plain", "late-demo", "talked"):
                lead(conn, lead_id, "sql", team="sales-dk")
                moves(conn, lead_id, ("sql", at(6, 10)))
            for lead_id, when in (
                ("demo", at(5, 9)),
                ("late-demo", at(7, 13)),
                ("talked", at(5, 9)),
            ):
                add_activity(conn, Activity(lead_id, "demo_request", when))
            call(conn, "talked", at(6, 11), "connected")
        found = sla_status(workspace, AS_OF)
        assert {r.lead_id for r in found if r.commitment_id == "sql-response"} == {"demo"}
        singles = [
            r
            for lead_id in ("demo", "late-demo", "plain", "talked")
            for r in lead_clocks(workspace, lead_id, AS_OF)
        ]
        assert sorted(singles, key=lambda r: r.lead_id) == found
        talked = [r for r in found if r.lead_id == "talked"]
        assert [r.stopped_by for r in talked] == [Stop.CONNECTION]
    finally:
        workspace.close()
