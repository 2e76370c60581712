"""SLA clocks on the example pact: start, due, stop and status of each commitment, one lead.

The example's sales-dk calendar is open Mon-Thu 09:00-17:00 and Fri 09:00-16:00 in
Copenhagen (UTC+1 in early March 2025), with Danish holidays. 6 March 2025 is a Thursday.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from leadpact.core.calendar import BusinessCalendar
from leadpact.core.models import Channel, LeadFacts, StageChange, Touch, TouchOutcome
from leadpact.core.pact import Pact
from leadpact.core.sla import (
    SlaResult,
    SlaStatus,
    Stop,
    calendar_name,
    evaluate,
    evaluate_many,
    follow_up_due,
    timed_commitments,
)
from leadpact.errors import LeadPactError

CPH = ZoneInfo("Europe/Copenhagen")
MINUTE = timedelta(minutes=1)
MICRO = timedelta(microseconds=1)


def at(day: int, hour: int, minute: int = 0, month: int = 3) -> datetime:
    """A local Copenhagen time in 2025."""
    return datetime(2025, month, day, hour, minute, tzinfo=CPH)


def lead(team: str | None = "sales-dk") -> LeadFacts:
    return LeadFacts(
        id="l1", stage="lead", stage_at=at(1, 9), created_at=at(1, 9), owner="sofie", team=team
    )


def moves(*steps: tuple[str, datetime]) -> list[StageChange]:
    return [StageChange("l1", None, stage, when) for stage, when in steps]


def touch(when: datetime, outcome: TouchOutcome = TouchOutcome.NO_ANSWER) -> Touch:
    return Touch("l1", "sofie", Channel.CALL, when, outcome)


def clocks(
    pact: Pact,
    changes: list[StageChange],
    touches: list[Touch] = (),  # type: ignore[assignment]
    *,
    as_of: datetime,
    priority: int | None = 1,
    team: str | None = "sales-dk",
) -> dict[str, SlaResult]:
    one = lead(team)
    facts = one.facts() | {"priority": priority}
    found = evaluate(one, changes, touches, pact, as_of=as_of, facts=facts)
    return {r.commitment_id: r for r in found}


def with_commitment(pact: Pact, commitment_id: str, **changes: Any) -> Pact:
    """The pact with one commitment changed (validation skipped: tests build what they need)."""
    commitments = [
        c.model_copy(update=changes) if c.id == commitment_id else c for c in pact.commitments
    ]
    return pact.model_copy(update={"commitments": commitments})


# --- response ---------------------------------------------------------------------------------


def test_response_met_by_a_touch_before_the_deadline(pact):
    sql = moves(("mql", at(6, 9)), ("sql", at(6, 10)))
    clock = clocks(pact, sql, [touch(at(6, 11, 30))], as_of=at(7, 9))["p1-response"]
    assert clock.kind == "response"
    assert clock.started_at == at(6, 10)
    assert clock.due_at == at(6, 12)
    assert clock.due_at.tzinfo is UTC
    assert clock.stopped_at == at(6, 11, 30)
    assert clock.stopped_by is Stop.TOUCH
    assert clock.status is SlaStatus.MET
    assert clock.time_left is None
    assert clock.business_time_used == timedelta(hours=1, minutes=30)
    assert clock.owner == "sofie"
    assert clock.calendar == "sales-dk"
    assert clock.attempts is None
    assert clock.next_attempt_at is None


@pytest.mark.parametrize(
    ("offset", "status"),
    [(-MICRO, SlaStatus.MET), (timedelta(0), SlaStatus.MET), (MICRO, SlaStatus.BREACHED)],
)
def test_a_touch_exactly_at_the_deadline_meets_it(pact, offset, status):
    sql = moves(("sql", at(6, 10)))
    clock = clocks(pact, sql, [touch(at(6, 12) + offset)], as_of=at(10, 9))["p1-response"]
    assert clock.status is status


def test_a_call_after_the_closing_deadline_is_late_though_no_business_time_passed(pact):
    # ARCHITECTURE.md: due at the 17:00 closing, called at 17:30: late.
    sql = moves(("sql", at(6, 15)))
    clock = clocks(pact, sql, [touch(at(6, 17, 30))], as_of=at(7, 9))["p1-response"]
    assert clock.due_at == at(6, 17)
    assert clock.status is SlaStatus.BREACHED
    assert clock.business_time_used == timedelta(hours=2)


@pytest.mark.parametrize(
    ("as_of", "status", "left"),
    [
        (at(6, 11, 29), SlaStatus.PENDING, timedelta(minutes=31)),
        (at(6, 11, 30), SlaStatus.PENDING, timedelta(minutes=30)),  # not below warn_before
        (at(6, 11, 31), SlaStatus.AT_RISK, timedelta(minutes=29)),
        (at(6, 12), SlaStatus.AT_RISK, timedelta(0)),  # exactly at the deadline: still open
        (at(6, 12) + MICRO, SlaStatus.BREACHED, -MICRO),
        (at(7, 10), SlaStatus.BREACHED, -timedelta(hours=6)),
    ],
)
def test_an_open_clock_is_pending_at_risk_or_breached_by_time_left(pact, as_of, status, left):
    clock = clocks(pact, moves(("sql", at(6, 10))), as_of=as_of)["p1-response"]
    assert clock.status is status
    assert clock.time_left == left
    assert clock.stopped_at is None
    assert clock.stopped_by is None


def test_a_clock_started_in_closed_time_starts_at_the_next_opening(pact):
    sql = moves(("sql", at(8, 12)))  # Saturday
    on_sunday = clocks(pact, sql, as_of=at(9, 20))["p1-response"]
    assert on_sunday.started_at == at(8, 12)
    assert on_sunday.due_at == at(10, 11)  # Monday 09:00 + 2 h
    assert on_sunday.business_time_used == timedelta(0)
    assert on_sunday.time_left == timedelta(hours=2)
    assert on_sunday.status is SlaStatus.PENDING


def test_when_selects_the_commitments_that_apply(pact):
    sql = moves(("sql", at(6, 10)))
    assert set(clocks(pact, sql, as_of=at(6, 11), priority=1)) == {"p1-response", "sql-follow-up"}
    priority_3 = clocks(pact, sql, as_of=at(6, 11), priority=3)
    assert set(priority_3) == {"sql-response", "sql-follow-up"}
    assert priority_3["sql-response"].due_at == at(7, 10)  # 8 business hours
    assert set(clocks(pact, sql, as_of=at(6, 11), priority=None)) == {"sql-follow-up"}


def test_facts_default_to_the_leads_own(pact):
    # Without scores there is no priority: neither response commitment applies.
    found = evaluate(lead(), moves(("sql", at(6, 10))), [], pact, as_of=at(6, 11))
    assert [r.commitment_id for r in found] == ["sql-follow-up"]


def test_the_clock_starts_at_the_latest_entry_into_the_stage(pact):
    history = moves(("sql", at(3, 10)), ("meeting", at(3, 11)), ("sql", at(5, 14)))
    clock = clocks(pact, history, [touch(at(3, 12))], as_of=at(6, 9))["p1-response"]
    assert clock.started_at == at(5, 14)
    assert clock.due_at == at(5, 16)
    assert clock.status is SlaStatus.BREACHED  # the touch came before this entry
    assert clock.stopped_at is None


def test_events_after_as_of_are_not_seen(pact):
    history = moves(("sql", at(6, 10)), ("sql", at(6, 16)))
    clock = clocks(pact, history, [touch(at(6, 11))], as_of=at(6, 10, 30))["p1-response"]
    assert clock.started_at == at(6, 10)
    assert clock.stopped_at is None
    assert clocks(pact, history, as_of=at(6, 9)) == {}


def test_input_order_does_not_matter_but_ties_keep_it(pact):
    history = moves(("mql", at(6, 10)), ("sql", at(6, 10)), ("lead", at(6, 9)))
    found = clocks(pact, history, [touch(at(6, 11)), touch(at(6, 10))], as_of=at(6, 12))
    assert found["mql-acceptance"].stopped_at == at(6, 10)  # the sql entry at the same instant
    assert found["p1-response"].stopped_at == at(6, 10)


@pytest.mark.parametrize(
    ("stage", "status"),
    [
        ("disqualified", SlaStatus.MET),  # a decision, with a reason
        ("won", SlaStatus.MET),
        ("lost", SlaStatus.MET),
        ("nurture", SlaStatus.BREACHED),  # recycled without the response
    ],
)
def test_a_closing_stage_stops_the_response_clock(pact, stage, status):
    history = moves(("sql", at(6, 10)), ("meeting", at(6, 10, 30)), (stage, at(6, 11)))
    clock = clocks(pact, history, [touch(at(6, 11, 30))], as_of=at(7, 9))["p1-response"]
    assert clock.stopped_at == at(6, 11)
    assert clock.stopped_by is Stop.CLOSED
    assert clock.status is status


def test_closing_after_the_deadline_is_a_breach(pact):
    history = moves(("sql", at(6, 10)), ("disqualified", at(6, 13)))
    assert clocks(pact, history, as_of=at(7, 9))["p1-response"].status is SlaStatus.BREACHED


def test_a_touch_at_the_instant_of_the_recycle_comes_first(pact):
    history = moves(("sql", at(6, 10)), ("nurture", at(6, 11)))
    clock = clocks(pact, history, [touch(at(6, 11))], as_of=at(7, 9))["p1-response"]
    assert clock.stopped_by is Stop.TOUCH
    assert clock.status is SlaStatus.MET


# --- acceptance -------------------------------------------------------------------------------


@pytest.mark.parametrize("decision", ["sal", "nurture", "disqualified"])
def test_acceptance_is_stopped_by_any_decision(pact, decision):
    history = moves(("mql", at(6, 10)), (decision, at(7, 9, 30)))
    clock = clocks(pact, history, as_of=at(10, 9))["mql-acceptance"]
    assert clock.due_at == at(7, 10)  # 8 business hours: Thu 10-17 and Fri 09-10
    assert clock.stopped_at == at(7, 9, 30)
    assert clock.stopped_by is Stop.DECISION
    assert clock.status is SlaStatus.MET


def test_acceptance_ignores_touches_and_is_breached_when_late(pact):
    history = moves(("mql", at(6, 10)), ("sal", at(7, 11)))
    clock = clocks(pact, history, [touch(at(6, 11))], as_of=at(10, 9))["mql-acceptance"]
    assert clock.stopped_at == at(7, 11)
    assert clock.status is SlaStatus.BREACHED
    assert clock.business_time_used == timedelta(hours=9)


# --- follow-up --------------------------------------------------------------------------------


def test_follow_up_is_due_at_the_end_of_the_tenth_business_day(pact):
    clock = clocks(pact, moves(("sql", at(6, 10))), as_of=at(6, 10))["sql-follow-up"]
    # Thu 6, Fri 7, Mon 10 ... Wed 19 March is business day 10; it closes at 17:00.
    assert clock.due_at == at(19, 17)
    assert clock.attempts == 0
    assert clock.next_attempt_at == at(6, 10)
    assert clock.status is SlaStatus.PENDING


def test_follow_up_counts_only_spaced_attempts_and_is_met_by_the_last(pact):
    calls = [touch(at(6, 11)), touch(at(6, 15)), touch(at(7, 11)), touch(at(10, 11, 59))]
    calls.append(touch(at(10, 12)))
    history = moves(("sql", at(6, 10)))
    early = clocks(pact, history, calls[:3], as_of=at(7, 12))["sql-follow-up"]
    # 15:00 is only 4 business hours after 11:00 (spacing 8h); Fri 11:00 is 8 h after.
    assert early.attempts == 2
    assert early.next_attempt_at == at(10, 12)  # 8 business hours after Fri 11:00
    assert early.stopped_at is None
    done = clocks(pact, history, calls, as_of=at(10, 12))["sql-follow-up"]
    assert done.attempts == 3
    assert done.stopped_at == at(10, 12)
    assert done.stopped_by is Stop.ATTEMPTS
    assert done.status is SlaStatus.MET
    assert done.next_attempt_at is None


def test_follow_up_without_spacing_counts_every_touch(pact):
    free = with_commitment(pact, "sql-follow-up", spacing=None)
    calls = [touch(at(6, 11)), touch(at(6, 11)), touch(at(6, 12)), touch(at(6, 13))]
    clock = clocks(free, moves(("sql", at(6, 10))), calls, as_of=at(6, 14))["sql-follow-up"]
    assert clock.attempts == 3
    assert clock.stopped_at == at(6, 12)


def test_follow_up_next_attempt_without_spacing_is_right_away(pact):
    free = with_commitment(pact, "sql-follow-up", spacing=None)
    history = moves(("sql", at(6, 10)))
    clock = clocks(free, history, [touch(at(6, 11))], as_of=at(6, 14))["sql-follow-up"]
    assert clock.next_attempt_at == at(6, 11)


def test_follow_up_is_met_by_a_connection(pact):
    calls = [touch(at(6, 11)), touch(at(6, 12), TouchOutcome.REPLIED)]
    clock = clocks(pact, moves(("sql", at(6, 10))), calls, as_of=at(6, 14))["sql-follow-up"]
    assert clock.stopped_at == at(6, 12)
    assert clock.stopped_by is Stop.CONNECTION
    assert clock.attempts == 1  # 12:00 is too close to 11:00 to count as an attempt
    assert clock.status is SlaStatus.MET


def test_follow_up_keeps_counting_through_connections_when_asked(pact):
    strict = with_commitment(pact, "sql-follow-up", unless_connected=False)
    calls = [touch(at(6, 11), TouchOutcome.CONNECTED)]
    clock = clocks(strict, moves(("sql", at(6, 10))), calls, as_of=at(6, 14))["sql-follow-up"]
    assert clock.stopped_at is None
    assert clock.attempts == 1


def test_follow_up_is_breached_when_the_days_pass(pact):
    calls = [touch(at(6, 11)), touch(at(7, 11))]
    history = moves(("sql", at(6, 10)))
    clock = clocks(pact, history, calls, as_of=at(19, 17) + MICRO)["sql-follow-up"]
    assert clock.status is SlaStatus.BREACHED
    assert clock.attempts == 2
    assert clock.time_left == timedelta(0)  # closed after 17:00: no business time overdue yet
    late = clocks(pact, history, [*calls, touch(at(20, 10))], as_of=at(21, 9))["sql-follow-up"]
    assert late.stopped_at == at(20, 10)
    assert late.status is SlaStatus.BREACHED


def test_recycling_before_the_attempts_breaks_the_follow_up(pact):
    history = moves(("sql", at(6, 10)), ("nurture", at(7, 12)))
    calls = [touch(at(6, 11)), touch(at(7, 11)), touch(at(7, 12, 30))]
    clock = clocks(pact, history, calls, as_of=at(10, 9))["sql-follow-up"]
    assert clock.stopped_at == at(7, 12)
    assert clock.stopped_by is Stop.CLOSED
    assert clock.attempts == 2  # the touch after the recycle does not count
    assert clock.status is SlaStatus.BREACHED
    won = clocks(pact, moves(("sql", at(6, 10)), ("won", at(7, 12))), as_of=at(10, 9))
    assert won["sql-follow-up"].status is SlaStatus.MET


@pytest.mark.parametrize(
    ("start", "days", "due"),
    [
        (at(6, 10), 1, at(6, 17)),  # counts its own day
        (at(6, 8), 1, at(6, 17)),  # before opening: still that day
        (at(6, 17), 1, at(7, 16)),  # at the last closing: the next business day
        (at(7, 16, 30), 1, at(10, 17)),  # Friday evening: Monday is day 1
        (at(7, 16, 30), 2, at(11, 17)),
        (at(16, 10, month=4), 2, at(22, 17, month=4)),  # Easter: 17, 18 and 21 April closed
        (datetime(2025, 12, 22, 10, tzinfo=CPH), 2, datetime(2025, 12, 23, 12, tzinfo=CPH)),
    ],
)
def test_follow_up_due_counts_business_days(pact, start, days, due):
    assert follow_up_due(pact.calendar("sales-dk"), start, days) == due


def test_follow_up_due_on_round_the_clock_and_overnight_calendars():
    always = BusinessCalendar.from_dict(
        {"timezone": "UTC", "hours": dict.fromkeys(("mon", "tue", "wed"), "00:00-24:00")}
    )
    monday = datetime(2025, 3, 3, 15, tzinfo=UTC)
    assert follow_up_due(always, monday, 2) == datetime(2025, 3, 5, tzinfo=UTC)
    night = BusinessCalendar.from_dict({"timezone": "UTC", "hours": {"mon": "22:00-06:00"}})
    # Local days run midnight to midnight: Monday's shift ends Monday's day at midnight.
    assert follow_up_due(night, monday, 1) == datetime(2025, 3, 4, tzinfo=UTC)
    assert follow_up_due(night, monday, 2) == datetime(2025, 3, 4, 6, tzinfo=UTC)


# --- calendars, inputs ------------------------------------------------------------------------


def test_the_calendar_is_the_commitments_then_the_teams_then_the_providers(pact):
    response = next(c for c in pact.commitments if c.id == "p1-response")
    assert calendar_name(pact, response, "sales-us") == "sales-us"
    assert calendar_name(pact, response, None) == "sales-dk"  # sales' first team
    assert calendar_name(pact, response, "no-such-team") == "sales-dk"
    own = response.model_copy(update={"calendar": "marketing-dk"})
    assert calendar_name(pact, own, "sales-us") == "marketing-dk"
    service = response.model_copy(update={"provider": "service"})  # a party without a team
    assert calendar_name(pact, service, None) == "sales-dk"  # the pact's first team


def test_a_lead_of_another_team_runs_on_its_calendar(pact):
    eastern = ZoneInfo("America/New_York")
    sql = moves(("sql", datetime(2025, 3, 6, 11, 30, tzinfo=eastern)))
    clock = clocks(pact, sql, as_of=at(6, 18), team="sales-us")["p1-response"]
    assert clock.calendar == "sales-us"
    assert clock.due_at == datetime(2025, 3, 6, 14, 30, tzinfo=eastern)  # lunch 12-13 closed
    assert clocks(pact, sql, as_of=at(6, 18), team=None)["p1-response"].calendar == "sales-dk"


def test_timed_commitments_are_the_clocked_kinds(pact):
    kinds = [c.kind for c in timed_commitments(pact)]
    assert kinds == ["acceptance", "response", "response", "follow_up"]


def test_as_of_must_be_aware(pact):
    with pytest.raises(LeadPactError, match="timezone-aware"):
        evaluate(lead(), [], [], pact, as_of=datetime(2025, 3, 6, 10))
    with pytest.raises(LeadPactError, match="timezone-aware"):
        evaluate_many(
            {"id": np.array([], dtype=object)},
            EMPTY,
            EMPTY_TOUCHES,
            pact,
            as_of=datetime(2025, 3, 6, 10),
        )


# --- many leads -------------------------------------------------------------------------------

EMPTY = {
    "lead": np.array([], dtype=np.int64),
    "to_stage": np.array([], dtype=object),
    "at": np.array([], dtype="datetime64[ns]"),
}
EMPTY_TOUCHES = {
    "lead": np.array([], dtype=np.int64),
    "outcome": np.array([], dtype=object),
    "at": np.array([], dtype="datetime64[ns]"),
}


def utc64(values: list[datetime]) -> np.ndarray:
    return np.array([v.astimezone(UTC).replace(tzinfo=None) for v in values], "datetime64[ns]")


def mondays_only(pact: Pact) -> Pact:
    """sales-us open on Mondays only: ten business days span ten weeks."""
    spec = pact.calendars["sales-us"].model_copy(
        update={
            "hours": pact.calendars["sales-us"].hours.model_copy(
                update=dict.fromkeys(("tue", "wed", "thu", "fri"))
            )
        }
    )
    return pact.model_copy(update={"calendars": {**pact.calendars, "mondays": spec}})


VARIANTS: dict[str, Callable[[Pact], Pact]] = {
    "example": lambda pact: pact,
    "no spacing, count through connections": lambda pact: with_commitment(
        pact, "sql-follow-up", spacing=None, unless_connected=False
    ),
    "own calendar, mondays only": lambda pact: with_commitment(
        mondays_only(pact), "sql-follow-up", calendar="mondays"
    ),
}


@pytest.mark.parametrize("variant", VARIANTS)
def test_many_leads_match_one_at_a_time(pact, variant):
    pact = VARIANTS[variant](pact)
    ids = np.array(["a", "b", "c"], dtype=object)
    leads = {
        "id": ids,
        "owner": np.array(["sofie", None, "tom"], dtype=object),
        "team": np.array(["sales-dk", None, "sales-us"], dtype=object),
        "priority": np.array([1, 3, 2]),
    }
    changes = [
        (2, "sql", at(6, 10)),
        (0, "mql", at(6, 9)),
        (0, "sql", at(6, 10)),
        (1, "mql", at(6, 10)),
        (1, "nurture", at(6, 12)),
        (2, "nurture", at(6, 16)),
        (0, "won", at(20, 9)),
    ]
    touches = [(0, at(6, 12, 30), "no_answer"), (2, at(6, 15), "replied"), (0, at(7, 11), "sent")]
    found = evaluate_many(
        leads,
        {
            "lead": np.array([c[0] for c in changes]),
            "to_stage": np.array([c[1] for c in changes], dtype=object),
            "at": utc64([c[2] for c in changes]),
        },
        {
            "lead": np.array([t[0] for t in touches]),
            "at": utc64([t[1] for t in touches]),
            "outcome": np.array([t[2] for t in touches], dtype=object),
        },
        pact,
        as_of=at(19, 9),
    )
    expected = []
    for i, lead_id in enumerate(ids):
        one = LeadFacts(
            id=lead_id,
            stage="lead",
            stage_at=at(1, 9),
            created_at=at(1, 9),
            owner=leads["owner"][i],
            team=leads["team"][i],
        )
        mine = [StageChange(lead_id, None, s, w) for j, s, w in changes if j == i]
        theirs = [
            Touch(lead_id, None, Channel.CALL, w, TouchOutcome(o)) for j, w, o in touches if j == i
        ]
        facts = one.facts() | {"priority": int(leads["priority"][i])}
        expected += evaluate(one, mine, theirs, pact, as_of=at(19, 9), facts=facts)
    assert found.results() == expected
    assert len(found) == len(expected) == 6
    assert found.lead.tolist() == [0, 0, 0, 1, 2, 2]
    assert {r.status for r in expected} == {SlaStatus.MET, SlaStatus.BREACHED, SlaStatus.PENDING}


def test_many_leads_without_events_or_clocks(pact):
    none = evaluate_many(
        {"id": np.array(["a"], dtype=object)}, EMPTY, EMPTY_TOUCHES, pact, as_of=at(6, 10)
    )
    assert len(none) == 0
    assert none.results() == []
    untimed = pact.model_copy(
        update={"commitments": [c for c in pact.commitments if c.kind == "delivery"]}
    )
    assert (
        len(
            evaluate_many(
                {"id": np.array([], dtype=object)}, EMPTY, EMPTY_TOUCHES, untimed, as_of=at(6, 10)
            )
        )
        == 0
    )


def test_many_leads_skip_missing_instants_and_refuse_unknown_leads(pact):
    changes = {
        "lead": np.array([0, 0]),
        "to_stage": np.array(["sql", "nurture"], dtype=object),
        "at": np.array([utc64([at(6, 10)])[0], np.datetime64("NaT")]),
    }
    leads = {"id": np.array(["a"], dtype=object), "priority": np.array([1])}
    found = evaluate_many(leads, changes, EMPTY_TOUCHES, pact, as_of=at(6, 11)).results()
    assert [r.stopped_at for r in found] == [None, None]
    wrong = {
        **EMPTY_TOUCHES,
        "lead": np.array([1]),
        "at": utc64([at(6, 10)]),
        "outcome": np.array(["sent"], dtype=object),
    }
    with pytest.raises(ValueError, match="lead positions"):
        evaluate_many(leads, changes, wrong, pact, as_of=at(6, 11))
