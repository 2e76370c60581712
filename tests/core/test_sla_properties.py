"""Properties of SLA clocks: the batch path equals the scalar one, clocks never run while the
calendar is closed, and the met/breached boundary sits exactly at the due instant."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import leadpact
from leadpact.core.calendar import BusinessCalendar
from leadpact.core.models import Channel, LeadFacts, StageChange, Touch, TouchOutcome
from leadpact.core.pact import Pact
from leadpact.core.sla import SlaResult, SlaStatus, evaluate, evaluate_many
from leadpact.pact_file import load_pact

EXAMPLE = load_pact(Path(leadpact.__file__).parent / "data" / "pact.yaml")
# The follow-up without spacing that counts through connections, on the US calendar.
VARIANT = EXAMPLE.model_copy(
    update={
        "commitments": [
            c.model_copy(
                update={"spacing": None, "unless_connected": False, "calendar": "sales-us"}
            )
            if c.id == "sql-follow-up"
            else c
            for c in EXAMPLE.commitments
        ]
    }
)
# March 2025 holds both DST changes (US 9 March, EU 30 March).
BASE = datetime(2025, 3, 1, tzinfo=UTC)
SPAN_MINUTES = 45 * 24 * 60
MICRO = timedelta(microseconds=1)
STAGES = [s.id for s in EXAMPLE.stages]

instants = st.one_of(
    st.integers(0, SPAN_MINUTES).map(lambda m: BASE + timedelta(minutes=m)),
    st.integers(0, SPAN_MINUTES * 60_000_000).map(lambda us: BASE + timedelta(microseconds=us)),
)
stages = st.one_of(st.sampled_from(["mql", "sql"]), st.sampled_from(STAGES))
leads = st.fixed_dictionaries(
    {
        "team": st.sampled_from(["sales-dk", "sales-us", "marketing", None, "ghost"]),
        "owner": st.sampled_from([None, "sofie"]),
        "priority": st.sampled_from([None, 1, 2, 3]),
        "changes": st.lists(st.tuples(stages, instants), max_size=6),
        "touches": st.lists(st.tuples(instants, st.sampled_from(list(TouchOutcome))), max_size=7),
    }
)


def one_lead(i: int, spec: dict[str, Any]) -> tuple[LeadFacts, list[StageChange], list[Touch]]:
    lead_id = f"lead-{i}"
    lead = LeadFacts(
        id=lead_id,
        stage="lead",
        stage_at=BASE,
        created_at=BASE,
        owner=spec["owner"],
        team=spec["team"],
    )
    changes = [StageChange(lead_id, None, stage, at) for stage, at in spec["changes"]]
    touches = [Touch(lead_id, None, Channel.EMAIL, at, outcome) for at, outcome in spec["touches"]]
    return lead, changes, touches


def utc64(values: list[datetime]) -> np.ndarray:
    return np.array([v.replace(tzinfo=None) for v in values], dtype="datetime64[ns]")


def scalar(pact: Pact, specs: list[dict[str, Any]], as_of: datetime) -> list[SlaResult]:
    out = []
    for i, spec in enumerate(specs):
        lead, changes, touches = one_lead(i, spec)
        facts = lead.facts() | {"priority": spec["priority"]}
        out += evaluate(lead, changes, touches, pact, as_of=as_of, facts=facts)
    return out


def batch(pact: Pact, specs: list[dict[str, Any]], as_of: datetime) -> list[SlaResult]:
    changes = [(i, stage, at) for i, s in enumerate(specs) for stage, at in s["changes"]]
    touches = [(i, at, outcome.value) for i, s in enumerate(specs) for at, outcome in s["touches"]]
    columns = evaluate_many(
        {
            "id": np.array([f"lead-{i}" for i in range(len(specs))], dtype=object),
            "owner": np.array([s["owner"] for s in specs], dtype=object),
            "team": np.array([s["team"] for s in specs], dtype=object),
            "priority": np.array(
                [np.nan if s["priority"] is None else s["priority"] for s in specs]
            ),
        },
        {
            "lead": np.array([c[0] for c in changes], dtype=np.int64),
            "to_stage": np.array([c[1] for c in changes], dtype=object),
            "at": utc64([c[2] for c in changes]),
        },
        {
            "lead": np.array([t[0] for t in touches], dtype=np.int64),
            "at": utc64([t[1] for t in touches]),
            "outcome": np.array([t[2] for t in touches], dtype=object),
        },
        pact,
        as_of=as_of,
    )
    return columns.results()


@given(
    pact=st.sampled_from([EXAMPLE, VARIANT]),
    specs=st.lists(leads, min_size=1, max_size=6),
    as_of=instants,
)
def test_the_batch_path_equals_the_scalar_path(pact, specs, as_of):
    assert batch(pact, specs, as_of) == scalar(pact, specs, as_of)


def open_part(calendar: BusinessCalendar, start: datetime, end: datetime) -> timedelta:
    """The open time inside [start, end), summed from the calendar's open intervals."""
    table = calendar.intervals(start, end)
    low, high = np.datetime64(start.replace(tzinfo=None)), np.datetime64(end.replace(tzinfo=None))
    overlap = np.minimum(table.close_at, high) - np.maximum(table.open_at, low)
    return timedelta(microseconds=int(overlap[overlap > np.timedelta64(0)].sum() // 1000))


@given(pact=st.sampled_from([EXAMPLE, VARIANT]), spec=leads, as_of=instants)
def test_a_clock_runs_only_while_its_calendar_is_open(pact, spec, as_of):
    seen = {
        **spec,
        "changes": [c for c in spec["changes"] if c[1] <= as_of],
        "touches": [t for t in spec["touches"] if t[0] <= as_of],
    }
    for clock in scalar(pact, [seen], as_of):
        calendar = pact.calendar(clock.calendar)
        end = clock.stopped_at or as_of
        assert clock.business_time_used == open_part(calendar, clock.started_at, end)
        if clock.stopped_at is None:
            # Nothing else happening, the clock stands still until the next opening.
            later = clock_of(pact, clock.commitment_id, seen, calendar.next_open(as_of))
            assert later.business_time_used == clock.business_time_used
            assert later.time_left == clock.time_left


def clock_of(pact: Pact, commitment_id: str, spec: dict[str, Any], as_of: datetime) -> SlaResult:
    found = [r for r in scalar(pact, [spec], as_of) if r.commitment_id == commitment_id]
    assert len(found) == 1
    return found[0]


def stopped(commitment_id: str, start: datetime, at: datetime) -> dict[str, Any]:
    """The event that stops a clock of this commitment, at `at`."""
    if commitment_id == "mql-acceptance":
        return {"changes": [("mql", start), ("sal", at)]}
    outcome = TouchOutcome.CONNECTED if commitment_id == "sql-follow-up" else TouchOutcome.SENT
    return {"touches": [(at, outcome)]}


@pytest.mark.parametrize("commitment_id", ["p1-response", "sql-follow-up", "mql-acceptance"])
@given(start=instants, team=st.sampled_from(["sales-dk", "sales-us"]))
def test_met_and_breached_meet_exactly_at_the_due_instant(commitment_id, start, team):
    stage = "mql" if commitment_id == "mql-acceptance" else "sql"
    spec = {"team": team, "owner": None, "priority": 1, "touches": [], "changes": [(stage, start)]}
    due = clock_of(EXAMPLE, commitment_id, spec, start).due_at
    assert clock_of(EXAMPLE, commitment_id, spec, due).status is not SlaStatus.BREACHED
    assert clock_of(EXAMPLE, commitment_id, spec, due + MICRO).status is SlaStatus.BREACHED
    far = due + timedelta(days=30)
    on_time = clock_of(EXAMPLE, commitment_id, {**spec, **stopped(commitment_id, start, due)}, far)
    assert (on_time.stopped_at, on_time.status) == (due, SlaStatus.MET)
    late_at = due + MICRO
    late = clock_of(EXAMPLE, commitment_id, {**spec, **stopped(commitment_id, start, late_at)}, far)
    assert (late.stopped_at, late.status) == (late_at, SlaStatus.BREACHED)


@given(start=instants, team=st.sampled_from(["sales-dk", "sales-us"]))
def test_a_response_is_due_after_exactly_its_business_time(start, team):
    spec = {"team": team, "owner": None, "priority": 1, "touches": [], "changes": [("sql", start)]}
    clock = clock_of(EXAMPLE, "p1-response", spec, start)
    at_due = clock_of(EXAMPLE, "p1-response", spec, clock.due_at)
    assert at_due.business_time_used == timedelta(hours=2)
    assert at_due.time_left == timedelta(0)
    assert EXAMPLE.calendar(clock.calendar).is_open(clock.due_at - MICRO)  # never in closed time
