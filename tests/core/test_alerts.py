"""Alerts on the example pact: watched instants, due alerts, recipients, keys, back-off.

The example's sales-dk calendar is open Mon-Thu 09:00-17:00 and Fri 09:00-16:00 in
Copenhagen (UTC+1 in early March 2025); 6 March 2025 is a Thursday. Alerts: warn 30m before,
escalate 2h and propose a reassignment 1d (24 business hours) after a deadline, digest 08:00.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import leadpact
from leadpact.core.alerts import (
    DEFAULT_MAX_AGE,
    MAX_ATTEMPTS,
    RETRY_DELAYS,
    Alert,
    AlertKind,
    Recipient,
    Watch,
    due_alerts,
    retry_at,
    watch,
    watch_many,
)
from leadpact.core.models import Channel, LeadFacts, StageChange, Touch, TouchOutcome
from leadpact.core.pact import Pact
from leadpact.core.sla import SlaResult, SlaStatus, Stop, evaluate, evaluate_many
from leadpact.pact_file import load_pact

CPH = ZoneInfo("Europe/Copenhagen")
EXAMPLE = load_pact(Path(leadpact.__file__).parent / "data" / "pact.yaml")
TICK = timedelta(microseconds=1)


def at(day: int, hour: int, minute: int = 0, month: int = 3) -> datetime:
    """A local Copenhagen time in 2025."""
    return datetime(2025, month, day, hour, minute, tzinfo=CPH)


def variant(pact: Pact, **changes: Any) -> Pact:
    """The pact with top-level parts replaced (validated like a pact file)."""
    data = pact.model_dump(by_alias=True)
    for name, value in changes.items():
        data[name] = value
    return Pact.model_validate(data)


def with_alerts(pact: Pact, **rules: Any) -> Pact:
    return variant(pact, alerts=pact.alerts.model_dump() | rules)


def clocks(
    pact: Pact,
    entered: datetime,
    as_of: datetime,
    *,
    owner: str | None = "Sofie Dahl",
    team: str | None = "sales-dk",
    touches: list[datetime] | None = None,
    later: list[tuple[str, datetime]] | None = None,
    priority: int = 1,
) -> list[SlaResult]:
    """The clocks of lead l1 that entered sql at `entered` (priority 1: p1-response 2h)."""
    lead = LeadFacts(
        id="l1", stage="sql", stage_at=entered, created_at=entered, owner=owner, team=team
    )
    changes = [StageChange("l1", None, "sql", entered)]
    changes += [StageChange("l1", "sql", stage, when) for stage, when in later or []]
    made = [Touch("l1", owner, Channel.CALL, t, TouchOutcome.NO_ANSWER) for t in touches or []]
    facts = lead.facts() | {"priority": priority}
    return evaluate(lead, changes, made, pact, as_of=as_of, facts=facts)


def p1(pact: Pact, entered: datetime, as_of: datetime, **kwargs: Any) -> SlaResult:
    return next(
        c for c in clocks(pact, entered, as_of, **kwargs) if c.commitment_id == "p1-response"
    )


def watched(pact: Pact, entered: datetime, as_of: datetime, **kwargs: Any) -> Watch:
    found = watch(p1(pact, entered, as_of, **kwargs), pact, kwargs.get("team", "sales-dk"))
    assert found is not None
    return found


def kinds(alerts: list[Alert]) -> list[tuple[str, str]]:
    return [(a.kind.value, a.recipient.name) for a in alerts]


def clock_alerts(alerts: list[Alert]) -> list[Alert]:
    return [a for a in alerts if a.kind not in (AlertKind.DIGEST, AlertKind.REVIEW)]


# --------------------------------------------------------------------------- watch


def test_a_running_clock_is_watched_with_its_alert_instants(pact):
    w = watched(pact, at(6, 10), at(6, 11))
    assert w.running
    assert w.clock.due_at == at(6, 12)
    assert w.warn_at == at(6, 11, 30) + TICK
    assert w.breach_at == at(6, 12) + TICK
    assert w.escalate_at == at(6, 14)
    # 24 business hours: Thu 12-17 (5h), Fri 9-16 (7h), Mon 9-17 (8h), Tue 9-13 (4h).
    assert w.reassign_at == at(11, 13)


def test_the_warning_starts_once_business_time_runs_again(pact):
    # 16:00 Thu + 2h: due Fri 10:00 (1h on Thursday, 1h on Friday); 30 min left at Fri 09:30.
    w = watched(pact, at(6, 16), at(6, 16, 30))
    assert w.clock.due_at == at(7, 10)
    assert w.warn_at == at(7, 9, 30) + TICK
    assert p1(pact, at(6, 16), at(7, 9, 30)).status is SlaStatus.PENDING
    assert p1(pact, at(6, 16), at(7, 9, 30) + TICK).status is SlaStatus.AT_RISK


def test_a_warning_edge_on_a_closing_time_waits_for_the_next_opening(pact):
    # 1h30m warning on the 2h clock from Thu 16:30: due Fri 10:30; 1h30m left at Thu 17:00.
    pact = with_alerts(pact, warn_before="1h30m")
    w = watched(pact, at(6, 16, 30), at(6, 16, 40))
    assert w.clock.due_at == at(7, 10, 30)
    assert w.warn_at == at(7, 9) + TICK
    assert p1(pact, at(6, 16, 30), at(6, 23)).status is SlaStatus.PENDING
    assert p1(pact, at(6, 16, 30), at(7, 9) + TICK).status is SlaStatus.AT_RISK


def test_a_clock_shorter_than_the_warning_is_at_risk_from_its_start(pact):
    pact = with_alerts(pact, warn_before="3h")
    w = watched(pact, at(6, 10), at(6, 10, 5))
    assert w.warn_at == at(6, 10)


def test_no_warning_without_warn_before_and_no_escalation_without_its_delay(pact):
    pact = with_alerts(pact, warn_before="0s", escalate_after=None, reassign_after=None)
    w = watched(pact, at(6, 10), at(6, 11))
    assert (w.warn_at, w.escalate_at, w.reassign_at) == (None, None, None)


def test_a_zero_escalation_delay_still_comes_after_the_deadline(pact):
    w = watched(with_alerts(pact, escalate_after="0s"), at(6, 10), at(6, 11))
    assert w.escalate_at == at(6, 12) + TICK


def test_a_met_clock_is_not_watched(pact):
    met = p1(pact, at(6, 10), at(6, 13), touches=[at(6, 11)])
    assert met.status is SlaStatus.MET
    assert watch(met, pact) is None


def test_a_clock_stopped_late_is_watched_for_its_breach_only(pact):
    late = p1(pact, at(6, 10), at(6, 15), touches=[at(6, 13)])
    assert late.status is SlaStatus.BREACHED
    w = watch(late, pact, "sales-dk")
    assert w is not None
    assert not w.running
    assert (w.breach_at, w.warn_at, w.escalate_at, w.reassign_at) == (
        at(6, 12) + TICK,
        None,
        None,
        None,
    )
    due = due_alerts([w], pact, now=at(6, 15))
    assert kinds(clock_alerts(due)) == [("breach", "Sofie Dahl")]
    assert "stopped breached" in clock_alerts(due)[0].text


def test_a_clock_recycled_before_its_deadline_breaches_at_the_recycle(pact):
    recycled = p1(pact, at(6, 10), at(6, 15), later=[("nurture", at(6, 11))])
    assert (recycled.status, recycled.stopped_by) == (SlaStatus.BREACHED, Stop.CLOSED)
    w = watch(recycled, pact)
    assert w is not None
    assert w.breach_at == at(6, 11)


# --------------------------------------------------------------------------- due alerts


def test_alerts_fall_due_in_turn_to_owner_and_manager(pact):
    w = watched(pact, at(6, 10), at(6, 10, 5))
    counts = {"Emil Storm": 3}
    timeline = {
        at(6, 11, 30): [],
        at(6, 11, 31): [("warning", "Sofie Dahl")],
        at(6, 12): [("warning", "Sofie Dahl")],
        at(6, 12) + TICK: [("breach", "Sofie Dahl")],
        at(6, 14): [("breach", "Sofie Dahl"), ("escalation", "Lars Nielsen")],
        at(7, 14) + TICK: [],  # a day after the escalation
        at(11, 13): [("reassignment", "Lars Nielsen")],
        at(12, 13) + TICK: [],
    }
    for now, expected in timeline.items():
        found = clock_alerts(due_alerts([w], pact, now=now, open_leads=counts))
        assert sorted(kinds(found)) == sorted(expected), now


def test_clock_alerts_say_what_is_due_and_carry_the_details(pact):
    w = watched(pact, at(6, 10), at(6, 10, 5))
    found = clock_alerts(
        due_alerts(
            [w], pact, now=at(11, 13), open_leads={"Emil Storm": 3}, max_age=timedelta(days=7)
        )
    )
    _, escalation, reassignment = found
    assert escalation.key == "escalation:l1:p1-response:2025-03-06T11:00:00+00:00"
    assert escalation.recipient == Recipient(
        "Lars Nielsen", "lars.nielsen@nordlys.example", "manager"
    )
    assert "2025-03-06 12:00 Europe/Copenhagen" in escalation.text
    assert "Sofie Dahl" in escalation.text
    assert reassignment.details["reassign_to"] == "Emil Storm"
    assert reassignment.details["open_leads"] == 3
    assert reassignment.details["owner"] == "Sofie Dahl"
    assert reassignment.details["team"] == "sales-dk"
    assert (reassignment.lead_id, reassignment.commitment_id) == ("l1", "p1-response")
    assert reassignment.due_at == at(6, 12)
    data = reassignment.as_dict()
    assert data["kind"] == "reassignment"
    assert data["recipient"]["email"] == "lars.nielsen@nordlys.example"
    assert data["due_at"] == "2025-03-06T11:00:00+00:00"
    warning = clock_alerts(due_alerts([w], pact, now=at(6, 11, 45)))[0]
    assert warning.subject.startswith("SLA at risk: lead l1 (p1-response)")
    assert warning.until == at(6, 12)
    assert warning.recipient.email == "sofie.dahl@nordlys.example"


def test_the_owner_is_found_by_email_too(pact):
    w = watched(pact, at(6, 10), at(6, 10, 5), owner="SOFIE.DAHL@nordlys.example", team=None)
    breach, escalation = clock_alerts(due_alerts([w], pact, now=at(6, 14)))
    assert breach.recipient.name == "Sofie Dahl"
    assert escalation.details["team"] == "sales-dk"


def test_an_owner_the_pact_does_not_list_gets_alerts_without_an_email(pact):
    # New York: the clock starts at 08:00 local (14:00 in Copenhagen), due 10:00, escalated
    # at the 12:00 closing (18:00 in Copenhagen).
    w = watched(pact, at(6, 10), at(6, 14), owner="Temp Rep", team="sales-us")
    assert w.escalate_at == at(6, 18)
    found = clock_alerts(due_alerts([w], pact, now=at(7, 10)))
    assert [(a.kind.value, a.recipient) for a in found] == [
        ("breach", Recipient("Temp Rep", None, "owner")),
        ("escalation", Recipient("Rachel Moore", "rachel.moore@nordlys.example", "manager")),
    ]


def test_a_member_without_an_email_is_alerted_by_name(pact):
    teams = pact.model_dump()["teams"]
    teams["sales-dk"]["members"].append({"name": "New Rep"})
    more = variant(pact, teams=teams)
    w = watched(more, at(6, 10), at(6, 11), owner="new rep")
    found = clock_alerts(due_alerts([w], more, now=at(6, 13)))
    assert [a.recipient for a in found] == [Recipient("New Rep", None, "owner")]


def test_an_unassigned_lead_alerts_the_manager(pact):
    w = watched(pact, at(6, 10), at(6, 11), owner=None, team="sales-us")
    found = clock_alerts(due_alerts([w], pact, now=at(6, 17)))
    assert kinds(found) == [("breach", "Rachel Moore")]
    assert "nobody" not in found[0].text
    escalation = clock_alerts(due_alerts([w], pact, now=at(6, 18)))[1]
    assert "nobody (unassigned)" in escalation.text


def test_without_a_team_the_providers_manager_is_asked(pact):
    w = watched(pact, at(6, 10), at(6, 11), owner="Temp Rep", team=None)
    escalation = clock_alerts(due_alerts([w], pact, now=at(6, 14)))[1]
    assert escalation.recipient.name == "Lars Nielsen"  # first sales team


def test_no_manager_means_no_escalation_and_an_unowned_lead_goes_unalerted(pact):
    teams = {name: {**team, "manager": None} for name, team in pact.model_dump()["teams"].items()}
    bare = variant(pact, teams=teams)
    owned = watched(bare, at(6, 10), at(6, 11))
    assert kinds(clock_alerts(due_alerts([owned], bare, now=at(11, 13)))) == []
    assert kinds(clock_alerts(due_alerts([owned], bare, now=at(6, 14)))) == [
        ("breach", "Sofie Dahl")
    ]
    nobody = watched(bare, at(6, 10), at(6, 11), owner=None)
    assert clock_alerts(due_alerts([nobody], bare, now=at(6, 14))) == []


def test_reassignment_goes_to_the_least_loaded_member_ties_in_pact_order(pact):
    us = watched(pact, at(6, 10), at(6, 11), owner="Temp Rep", team="sales-us")
    assert us.reassign_at is not None
    now = us.reassign_at

    def proposed(counts: dict[str, int]) -> str:
        found = clock_alerts(due_alerts([us], pact, now=now, open_leads=counts))
        alert = next(a for a in found if a.kind is AlertKind.REASSIGNMENT)
        return str(alert.details["reassign_to"])

    assert proposed({}) == "Tom Reed"
    assert proposed({"Tom Reed": 4, "Maria Lopez": 2}) == "Maria Lopez"
    assert proposed({"Tom Reed": 2, "Maria Lopez": 2}) == "Tom Reed"
    assert proposed({"TOM.REED@nordlys.example": 2, "tom reed": 1, "Maria Lopez": 2}) == (
        "Maria Lopez"
    )
    mine = watched(pact, at(6, 10), at(6, 11), owner="Tom Reed", team="sales-us")
    found = clock_alerts(due_alerts([mine], pact, now=now, open_leads={"Maria Lopez": 9}))
    assert [a.details.get("reassign_to") for a in found] == ["Maria Lopez"]


def test_no_reassignment_without_another_member(pact):
    teams = pact.model_dump()["teams"]
    teams["sales-dk"]["members"] = teams["sales-dk"]["members"][:1]
    alone = variant(pact, teams=teams)
    w = watched(alone, at(6, 10), at(6, 11))
    week = timedelta(days=7)
    assert kinds(clock_alerts(due_alerts([w], alone, now=at(11, 13), max_age=week))) == [
        ("breach", "Sofie Dahl"),
        ("escalation", "Lars Nielsen"),
    ]
    nowhere = watched(alone, at(6, 10), at(6, 11), owner="Temp Rep", team="no-such-team")
    assert "reassignment" not in {
        a.kind.value for a in due_alerts([nowhere], alone, now=at(11, 13), max_age=week)
    }


def test_max_age_and_known_keys_leave_alerts_out(pact):
    w = watched(pact, at(6, 10), at(6, 11))
    hour = timedelta(hours=1)
    assert kinds(clock_alerts(due_alerts([w], pact, now=at(6, 14), max_age=hour))) == [
        ("escalation", "Lars Nielsen")
    ]
    key = "breach:l1:p1-response:2025-03-06T11:00:00+00:00"
    left = clock_alerts(due_alerts([w], pact, now=at(6, 14), known={key}))
    assert [a.kind for a in left] == [AlertKind.ESCALATION]
    assert due_alerts([w], pact, now=at(6, 14)) == due_alerts([w], pact, now=at(6, 14))


# --------------------------------------------------------------------------- digests


def digests(alerts: list[Alert]) -> list[Alert]:
    return [a for a in alerts if a.kind is AlertKind.DIGEST]


def test_each_rep_gets_a_digest_at_digest_at_local_time_on_business_days(pact):
    assert digests(due_alerts([], pact, now=at(7, 7, 59))) == []
    friday = digests(due_alerts([], pact, now=at(7, 8)))
    assert [a.recipient.name for a in friday] == ["Emil Storm", "Sofie Dahl"]  # by key
    assert friday[1].key == "digest:Sofie Dahl:2025-03-07"
    assert friday[1].recipient == Recipient("Sofie Dahl", "sofie.dahl@nordlys.example", "rep")
    assert friday[1].at == at(7, 8)
    assert friday[1].until == at(8, 0)
    # New York is at 08:00 at 14:00 in Copenhagen.
    later = digests(due_alerts([], pact, now=at(7, 14)))
    assert [a.recipient.name for a in later] == [
        "Emil Storm",
        "Sofie Dahl",
        "Maria Lopez",
        "Tom Reed",
    ]
    assert digests(due_alerts([], pact, now=at(8, 10))) == []  # Saturday
    assert digests(due_alerts([], with_alerts(pact, digest_at=None), now=at(7, 14))) == []


def test_a_digest_lists_the_reps_running_clocks_most_urgent_first(pact):
    overdue = watched(pact, at(6, 10), at(6, 11))
    at_risk = watched(pact, at(7, 8), at(7, 8), owner="sofie.dahl@nordlys.example")
    other = watched(pact, at(6, 10), at(6, 11), owner="Emil Storm")
    unowned = watched(pact, at(6, 10), at(6, 11), owner=None)
    stopped = watch(p1(pact, at(6, 10), at(7, 15), touches=[at(6, 13)]), pact)
    assert stopped is not None
    now = at(7, 10, 45)  # at_risk: due 11:00, warned from 10:30
    watches = [at_risk, overdue, other, unowned, stopped, *follow_ups(pact)]
    sofie = digests(due_alerts(watches, pact, now=now))[1]
    assert sofie.recipient.name == "Sofie Dahl"
    assert sofie.details["overdue"] == 1
    assert sofie.details["at_risk"] == 1
    assert sofie.details["running"] == 25
    assert [c["state"] for c in sofie.details["clocks"][:3]] == ["overdue", "at risk", "running"]
    assert len(sofie.details["clocks"]) == 20
    assert sofie.subject == "SLA digest 2025-03-07: 1 overdue, 1 at risk, 25 running"
    assert sofie.text.endswith("... and 7 more.")
    assert "- overdue: lead l1 (p1-response), due 2025-03-06 12:00 Europe/Copenhagen" in sofie.text


def follow_ups(pact: Pact) -> list[Watch]:
    """25 running follow-up clocks of Sofie's (started on the 7th, due in March)."""
    found = []
    for minute in range(25):
        clock = next(
            c
            for c in clocks(pact, at(7, 9, minute), at(7, 9, 30), priority=3)
            if c.commitment_id == "sql-follow-up"
        )
        w = watch(clock, pact, "sales-dk")
        assert w is not None
        found.append(w)
    return found


def test_a_rep_in_two_teams_gets_one_digest_and_known_digests_are_skipped(pact):
    teams = pact.model_dump()["teams"]
    teams["sales-us"]["members"].append(teams["sales-dk"]["members"][0])
    both = variant(pact, teams=teams)
    names = [a.recipient.name for a in digests(due_alerts([], both, now=at(7, 14)))]
    assert names.count("Sofie Dahl") == 1
    known = {"digest:Sofie Dahl:2025-03-07"}
    names = [a.recipient.name for a in digests(due_alerts([], both, now=at(7, 14), known=known))]
    assert "Sofie Dahl" not in names


def test_a_digest_time_skipped_by_dst_is_sent_at_the_jump(pact):
    # 30 March 2025: Copenhagen jumps from 02:00 to 03:00; a calendar open every day.
    calendars = pact.model_dump(by_alias=True)["calendars"]
    calendars["sales-dk"]["hours"]["sun"] = "00:00-24:00"
    sunday = variant(with_alerts(pact, digest_at="02:30"), calendars=calendars)
    jump = datetime(2025, 3, 30, 1, tzinfo=UTC)
    assert digests(due_alerts([], sunday, now=jump - TICK)) == []
    found = digests(due_alerts([], sunday, now=jump))
    assert [a.at for a in found] == [jump, jump]


# --------------------------------------------------------------------------- reviews


def reviews(alerts: list[Alert]) -> list[Alert]:
    return [a for a in alerts if a.kind is AlertKind.REVIEW]


def test_review_reminders_come_a_week_ahead_then_when_overdue(pact):
    # Half-yearly from 2025-01-01: the next review is on 1 July 2025.
    review = datetime(2025, 7, 1, tzinfo=UTC)
    assert reviews(due_alerts([], pact, now=review - timedelta(days=7) - TICK)) == []
    ahead = reviews(due_alerts([], pact, now=review - timedelta(days=7)))
    assert [(a.recipient.name, a.recipient.email) for a in ahead] == [
        ("Anna Kruse", "anna.kruse@nordlys.example"),
        ("Lars Nielsen", "lars.nielsen@nordlys.example"),
        ("Mette Holm", "mette.holm@nordlys.example"),  # document owner and marketing's owner
    ]
    assert ahead[2].key == "review:upcoming:2025-07-01:Mette Holm"
    assert ahead[0].until == review
    assert "due on 2025-07-01" in ahead[0].text
    assert reviews(due_alerts([], pact, now=review + timedelta(hours=12))) == []
    late = reviews(due_alerts([], pact, now=datetime(2026, 2, 1, tzinfo=UTC)))
    assert [a.key for a in late] == [
        "review:overdue:2025-07-01:Anna Kruse",
        "review:overdue:2025-07-01:Lars Nielsen",
        "review:overdue:2025-07-01:Mette Holm",
    ]
    assert late[0].until is None
    assert late[0].details == {"review_on": "2025-07-01", "state": "overdue"}
    known = {"review:overdue:2025-07-01:Mette Holm"}
    late = reviews(due_alerts([], pact, now=datetime(2026, 2, 1, tzinfo=UTC), known=known))
    assert [a.recipient.name for a in late] == ["Anna Kruse", "Lars Nielsen"]


def test_a_document_owner_the_pact_does_not_list_gets_no_email(pact):
    governance = pact.model_dump()["governance"] | {"document_owner": "Ops Desk"}
    other = variant(pact, governance=governance)
    found = reviews(due_alerts([], other, now=datetime(2026, 2, 1, tzinfo=UTC)))
    assert Recipient("Ops Desk", None, "pact owner") in [a.recipient for a in found]


# --------------------------------------------------------------------------- back-off


def test_retries_back_off_then_give_up():
    failed = datetime(2025, 3, 7, 9, tzinfo=UTC)
    waits = [retry_at(n, failed) for n in range(1, MAX_ATTEMPTS + 1)]
    assert waits == [
        failed + timedelta(minutes=1),
        failed + timedelta(minutes=5),
        failed + timedelta(minutes=30),
        failed + timedelta(hours=2),
        None,
    ]
    assert retry_at(MAX_ATTEMPTS + 3, failed) is None
    assert len(RETRY_DELAYS) == MAX_ATTEMPTS - 1
    with pytest.raises(ValueError, match="1 or more"):
        retry_at(0, failed)


def test_is_due_between_at_and_until():
    alert = Alert(
        key="k",
        kind=AlertKind.BREACH,
        at=at(6, 12),
        until=at(6, 13),
        recipient=Recipient("A", None, "owner"),
        subject="s",
        text="t",
    )
    assert [
        alert.is_due(t) for t in (at(6, 12) - TICK, at(6, 12), at(6, 13), at(6, 13) + TICK)
    ] == [
        False,
        True,
        True,
        False,
    ]
    assert alert.as_dict()["due_at"] is None


# --------------------------------------------------------------------------- properties

ENTRY = st.datetimes(
    min_value=datetime(2025, 3, 3), max_value=datetime(2025, 4, 30), timezones=st.just(CPH)
)
LATER = st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=10))


@given(entered=ENTRY, looked=LATER, after=LATER, priority=st.sampled_from([1, 2, 3]))
def test_alerts_are_deterministic_and_never_early(entered, looked, after, priority):
    pact = EXAMPLE
    evaluated_at = entered + looked
    now = evaluated_at + after
    watches = [
        w
        for c in clocks(pact, entered, evaluated_at, priority=priority)
        if (w := watch(c, pact, "sales-dk")) is not None
    ]
    first = due_alerts(watches, pact, now=now)
    again = due_alerts(watches, pact, now=now)
    assert [a.key for a in first] == [a.key for a in again]
    assert len({a.key for a in first}) == len(first)
    assert all(a.at <= now and a.is_due(now) for a in first)
    # Each clock alert agrees with the clock's own status at `now`.
    status = {c.commitment_id: c for c in clocks(pact, entered, now, priority=priority)}
    for alert in clock_alerts(first):
        clock = status[str(alert.commitment_id)]
        if alert.kind is AlertKind.WARNING:
            assert clock.status is SlaStatus.AT_RISK
        else:
            assert clock.status is SlaStatus.BREACHED
    # And every clock at risk (within the day) is warned; every fresh breach is reported.
    found = {(a.kind, a.commitment_id) for a in first}
    for clock in status.values():
        w = watch(clock, pact)
        if clock.status is SlaStatus.AT_RISK:
            assert (AlertKind.WARNING, clock.commitment_id) in found
        if w is not None and w.breach_at <= now <= w.breach_at + DEFAULT_MAX_AGE:
            assert (AlertKind.BREACH, clock.commitment_id) in found


@given(entered=ENTRY, looked=LATER, step=LATER)
def test_a_due_alert_keeps_its_key_while_it_stays_due(entered, looked, step):
    pact = EXAMPLE
    now = entered + looked
    watches = [w for c in clocks(pact, entered, entered) if (w := watch(c, pact)) is not None]
    earlier = {a.key: a for a in due_alerts(watches, pact, now=now)}
    later = {a.key: a for a in due_alerts(watches, pact, now=now + step)}
    for key, alert in earlier.items():
        if alert.is_due(now + step):
            assert key in later
    assert all(a.at <= now + step for a in later.values())


def test_keys_name_the_review_and_the_day(pact):
    found = due_alerts([], pact, now=datetime(2026, 3, 2, 9, tzinfo=CPH))
    assert [a.key for a in found] == [
        "review:overdue:2025-07-01:Anna Kruse",
        "review:overdue:2025-07-01:Lars Nielsen",
        "review:overdue:2025-07-01:Mette Holm",
        "digest:Emil Storm:2026-03-02",
        "digest:Sofie Dahl:2026-03-02",
    ]
    assert date.fromisoformat(found[3].details["date"]) == date(2026, 3, 2)


# --------------------------------------------------------------------------- many at once

BASE = datetime(2025, 3, 1, tzinfo=UTC)  # March 2025 holds both DST changes
SPAN_MINUTES = 45 * 24 * 60
OTHER_RULES = with_alerts(EXAMPLE, warn_before="3h", escalate_after="0s", reassign_after=None)
NO_RULES = with_alerts(EXAMPLE, warn_before="0s", escalate_after=None, reassign_after="4h")
moments = st.one_of(
    st.integers(0, SPAN_MINUTES).map(lambda m: BASE + timedelta(minutes=m)),
    st.integers(0, SPAN_MINUTES * 60_000_000).map(lambda us: BASE + timedelta(microseconds=us)),
)
lead_specs = st.fixed_dictionaries(
    {
        "team": st.sampled_from(["sales-dk", "sales-us", None]),
        "priority": st.sampled_from([1, 2, 3]),
        "changes": st.lists(
            st.tuples(st.sampled_from(["mql", "sql", "sql", "nurture", "won"]), moments),
            max_size=4,
        ),
        "touches": st.lists(moments, max_size=4),
    }
)


def utc64(values: list[datetime]) -> np.ndarray:
    return np.array([v.replace(tzinfo=None) for v in values], dtype="datetime64[ns]")


@given(
    pact=st.sampled_from([EXAMPLE, OTHER_RULES, NO_RULES]),
    specs=st.lists(lead_specs, min_size=1, max_size=5),
    as_of=moments,
)
def test_watch_many_watches_as_watch_does(pact, specs, as_of):
    changes = [(i, stage, t) for i, s in enumerate(specs) for stage, t in s["changes"]]
    touches = [(i, t) for i, s in enumerate(specs) for t in s["touches"]]
    teams = np.array([s["team"] for s in specs], dtype=object)
    columns = evaluate_many(
        {
            "id": np.array([f"lead-{i}" for i in range(len(specs))], dtype=object),
            "owner": np.array(["Sofie Dahl"] * len(specs), dtype=object),
            "team": teams,
            "priority": np.array([s["priority"] for s in specs]),
        },
        {
            "lead": np.array([c[0] for c in changes], dtype=np.int64),
            "to_stage": np.array([c[1] for c in changes], dtype=object),
            "at": utc64([c[2] for c in changes]),
        },
        {
            "lead": np.array([t[0] for t in touches], dtype=np.int64),
            "at": utc64([t[1] for t in touches]),
            "outcome": np.array(["no_answer"] * len(touches), dtype=object),
        },
        pact,
        as_of=as_of,
    )
    positions = columns.lead.tolist()
    expected = [
        w
        for result, position in zip(columns.results(), positions, strict=True)
        if (w := watch(result, pact, teams[position])) is not None
    ]
    assert watch_many(columns, pact, teams) == expected
