"""Versions, approvals, the version in force, report commitments and status, on real databases."""

from __future__ import annotations

import shutil
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import insert

from leadpact.clock import FixedClock
from leadpact.core.governance_dates import ReportState
from leadpact.core.pact import Pact, ResponseCommitment
from leadpact.core.versions import VersionState
from leadpact.errors import CalendarError, ConflictError, LeadPactError, NotFoundError, PactError
from leadpact.services.pact_records import list_versions
from leadpact.services.pact_reports import log_report
from leadpact.services.pact_status import pact_status
from leadpact.services.pact_versions import (
    approve_version,
    commit_pact,
    diff_versions,
    get_version,
    pact_in_force,
)
from leadpact.services.workspace import Workspace, open_workspace
from leadpact.settings import Settings
from leadpact.store import tables

EXAMPLE_PACT = Path(__file__).resolve().parents[2] / "src" / "leadpact" / "data" / "pact.yaml"
OWNERS = {"marketing": "Mette Holm", "sales": "Lars Nielsen", "service": "Anna Kruse"}


def at(day: int, month: int = 3, hour: int = 10) -> datetime:
    return datetime(2025, month, day, hour, tzinfo=UTC)


@pytest.fixture
def ws(tmp_path, db_url):
    folder = tmp_path / "ws"
    folder.mkdir()
    shutil.copy(EXAMPLE_PACT, folder / "pact.yaml")
    workspace = open_workspace(
        folder, settings=Settings(database_url=db_url), clock=FixedClock(at(1))
    )
    yield workspace
    workspace.close()


def set_now(ws: Workspace, when: datetime) -> None:
    ws.clock = FixedClock(when)


def edit(ws: Workspace, old: str, new: str) -> None:
    path = ws.directory / "pact.yaml"
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def approve_all(ws: Workspace, number: int, *days: int) -> None:
    for (party, owner), day in zip(OWNERS.items(), days, strict=True):
        set_now(ws, at(day))
        approve_version(ws, number, party, owner)


P1_2H = "stage: sql\n    within: 2h"
P1_1H = "stage: sql\n    within: 1h"


def p1_within(pact: Pact) -> timedelta:
    found = next(c for c in pact.commitments if c.id == "p1-response")
    assert isinstance(found, ResponseCommitment)
    return found.within


# --- commit -----------------------------------------------------------------------------------


def test_commit_records_versions_and_skips_an_unchanged_file(ws):
    first = commit_pact(ws, "First agreement")
    assert (first.number, first.created, first.changes) == (1, True, ())
    again = commit_pact(ws, "Nothing changed")
    assert (again.number, again.created) == (1, False)
    edit(ws, P1_2H, P1_1H)
    second = commit_pact(ws, "  Faster response  ")
    assert (second.number, second.created) == (2, True)
    assert [str(c) for c in second.changes] == [
        "Commitment p1-response: within changed from 2h to 1h"
    ]
    versions = list_versions(ws)
    assert [(v.number, v.message) for v in versions] == [
        (1, "First agreement"),
        (2, "Faster response"),
    ]
    assert versions[0].recorded_at == at(1)
    assert len(versions[0].sha256) == 64
    assert versions[0].pending == ("marketing", "sales", "service")


def test_an_invalid_pact_cannot_be_committed(ws):
    edit(ws, "within: 2h", "within: soon")
    with pytest.raises(PactError) as err:
        commit_pact(ws, "Broken")
    assert any("commitments.4.within" in str(p) for p in err.value.problems)
    assert list_versions(ws) == []


def test_a_commit_needs_a_message_and_may_name_another_file(ws, tmp_path):
    with pytest.raises(LeadPactError, match="say what changed"):
        commit_pact(ws, "  ")
    other = tmp_path / "draft.yaml"
    shutil.copy(EXAMPLE_PACT, other)
    assert commit_pact(ws, "From a draft", file=other, effective_on=date(2025, 4, 1)).number == 1
    assert list_versions(ws)[0].effective_on == date(2025, 4, 1)
    with pytest.raises(PactError, match="no such file"):
        commit_pact(ws, "Missing", file=tmp_path / "nope.yaml")


# --- approvals and the version in force --------------------------------------------------------


def test_a_pact_change_mid_month_governs_from_its_last_approval(ws):
    commit_pact(ws, "v1")
    approve_all(ws, 1, 1, 1, 2)
    edit(ws, P1_2H, P1_1H)
    set_now(ws, at(10))
    commit_pact(ws, "v2: faster response")
    approve_all(ws, 2, 12, 14, 15)

    number, pact = pact_in_force(ws, date(2025, 3, 14))
    assert (number, p1_within(pact)) == (1, timedelta(hours=2))
    number, pact = pact_in_force(ws, date(2025, 3, 15))
    assert (number, p1_within(pact)) == (2, timedelta(hours=1))
    assert pact_in_force(ws, date(2025, 4, 30))[0] == 2
    # Before the first version took effect, it governs: history is measured against it.
    assert pact_in_force(ws, date(2024, 6, 1))[0] == 1
    states = {v.number: (v.state, v.takes_effect_on) for v in list_versions(ws)}
    assert states == {
        1: (VersionState.SUPERSEDED, date(2025, 3, 2)),
        2: (VersionState.IN_FORCE, date(2025, 3, 15)),
    }


def test_an_effective_date_given_at_commit_delays_the_version(ws):
    commit_pact(ws, "v1")
    approve_all(ws, 1, 1, 1, 1)
    edit(ws, P1_2H, P1_1H)
    commit_pact(ws, "v2 from April", effective_on=date(2025, 4, 1))
    approve_all(ws, 2, 20, 20, 21)
    assert pact_in_force(ws, date(2025, 3, 31))[0] == 1
    assert pact_in_force(ws, date(2025, 4, 1))[0] == 2
    assert list_versions(ws)[1].state is VersionState.SCHEDULED


def test_until_every_owner_approves_the_previous_version_governs(ws):
    commit_pact(ws, "v1")
    with pytest.raises(NotFoundError, match=r"approved by every party yet; versions: 1 \(waiting"):
        pact_in_force(ws, date(2025, 3, 1))
    approve_all(ws, 1, 1, 1, 1)
    edit(ws, P1_2H, P1_1H)
    commit_pact(ws, "v2")
    set_now(ws, at(5))
    result = approve_version(ws, 2, "Sales", "lars nielsen")
    assert (result.party, result.pending, result.takes_effect_on) == (
        "sales",
        ("marketing", "service"),
        None,
    )
    assert pact_in_force(ws, date(2025, 12, 1))[0] == 1


def test_no_version_recorded(ws):
    with pytest.raises(NotFoundError, match="no version of the pact is recorded yet"):
        pact_in_force(ws, date(2025, 3, 1))


def test_approval_mistakes_are_clear(ws):
    with pytest.raises(NotFoundError, match="no version is recorded yet"):
        approve_version(ws, 1, "sales", "Lars Nielsen")
    commit_pact(ws, "v1")
    with pytest.raises(NotFoundError, match="there is no version 7; versions recorded: 1 to 1"):
        approve_version(ws, 7, "sales", "Lars Nielsen")
    with pytest.raises(NotFoundError, match="no party 'legal'"):
        approve_version(ws, 1, "legal", "Lars Nielsen")
    with pytest.raises(ConflictError, match="only its owner, Lars Nielsen, can approve"):
        approve_version(ws, 1, "sales", "Sofie Dahl")
    approve_version(ws, 1, "sales", "Lars Nielsen")
    with pytest.raises(ConflictError, match="sales already approved version 1"):
        approve_version(ws, 1, "sales", "Lars Nielsen")


def test_the_party_must_exist_in_that_version(ws):
    commit_pact(ws, "v1 with three parties")
    edit(ws, "    owner: {name: Anna Kruse,", "    owner: {name: Anne Kruse,")
    commit_pact(ws, "v2: new service owner")
    with pytest.raises(ConflictError, match="only its owner, Anne Kruse"):
        approve_version(ws, 2, "service", "Anna Kruse")
    approve_version(ws, 1, "service", "Anna Kruse")


def test_a_superseded_version_cannot_be_approved(ws):
    commit_pact(ws, "v1")
    edit(ws, P1_2H, P1_1H)
    commit_pact(ws, "v2")
    approve_all(ws, 2, 3, 3, 3)
    with pytest.raises(ConflictError, match="version 1 is superseded: version 2"):
        approve_version(ws, 1, "sales", "Lars Nielsen")


def test_diff_and_get_versions(ws):
    commit_pact(ws, "v1")
    edit(
        ws,
        "    - {name: Sofie Dahl, role: sales development lead,",
        "    - {name: Sofie Dahl, role: SDR lead,",
    )
    commit_pact(ws, "v2")
    assert [str(c) for c in diff_versions(ws, 1, 2)] == [
        "Party sales: contacts changed from "
        '[{"name": "Sofie Dahl", "email": "sofie.dahl@nordlys.example", "title": null, '
        '"role": "sales development lead"}] to [{"name": "Sofie Dahl", "email": '
        '"sofie.dahl@nordlys.example", "title": null, "role": "SDR lead"}]'
    ]
    assert diff_versions(ws, 2, 2) == []
    summary, pact = get_version(ws, 2)
    assert (summary.number, pact.company) == (2, "Nordlys Software ApS")
    with pytest.raises(NotFoundError, match="there is no version 3"):
        diff_versions(ws, 1, 3)
    with pytest.raises(NotFoundError, match="there is no version 9"):
        get_version(ws, 9)


# --- report commitments ------------------------------------------------------------------------


def test_report_commitments_are_logged_and_judged_against_their_due_time(ws):
    set_now(ws, at(20, month=4))
    on_time = log_report(
        ws, "friction-report", "2025-03", at=datetime(2025, 4, 5, 21, 59, tzinfo=UTC)
    )
    assert on_time.state is ReportState.MET
    assert on_time.due_at == datetime(2025, 4, 5, 22, tzinfo=UTC)  # 5 days after midnight CEST
    late = log_report(ws, "friction-report", "2025-02")
    assert late.state is ReportState.LATE
    with pytest.raises(ConflictError, match="for 2025-03 is already logged"):
        log_report(ws, "friction-report", "2025-03")
    with pytest.raises(NotFoundError, match="no report commitment 'p1-response'; its report"):
        log_report(ws, "p1-response", "2025-03")
    with pytest.raises(CalendarError, match="not a monthly period"):
        log_report(ws, "friction-report", "March")
    with pytest.raises(LeadPactError, match="in the future"):
        log_report(ws, "friction-report", "2025-04", at=at(21, month=4))


# --- status ------------------------------------------------------------------------------------

GOVERNANCE_RULES = """  consequences:
    - when: {goal: mqls, missed_periods: 2}
      action: Marketing presents a recovery plan at the next weekly status
    - when: {goal: p1-response, missed_periods: 2}
      action: Sales reviews the rota and the lead routing with marketing
"""
MORE_RULES = """  consequences:
    - when: {goal: mqls, missed_periods: 2}
      action: Marketing presents a recovery plan at the next weekly status
    - when: {goal: friction-report, missed_periods: 2}
      action: Sales explains the missing reports
    - when: {goal: mql-quality, missed_periods: 2}
      action: Marketing reviews the MQL definition
    - when: {goal: sqls, missed_periods: 1}
      action: Check the SQL flow
    - when: {goal: customers, missed_periods: 1}
      action: Check the win rate
    - when: {goal: revenue, missed_periods: 1}
      action: Check the deal sizes
    - when: {goal: leads, missed_periods: 1}
      action: Check the lead flow
    - when: {goal: value, missed_periods: 1}
      action: Check the lead value
"""


def add_flow(ws: Workspace, month: int, mqls: int, sals: int = 0, sqls: int = 0) -> None:
    """Leads created in `month` of 2025 that become MQL, some SAL and SQL, the same month."""
    with ws.transaction() as conn:
        for i in range(mqls):
            lead = f"m{month}-{i}"
            when = at(5, month=month)
            conn.execute(
                insert(tables.leads).values(
                    id=lead, stage="mql", stage_at=when, created_at=when, opted_out=False
                )
            )
            stages = ["mql"] + (["sal"] if i < sals else []) + (["sql"] if i < sqls else [])
            for stage in stages:
                conn.execute(
                    insert(tables.stage_changes).values(
                        key=f"{lead}-{stage}", lead_id=lead, to_stage=stage, at=when
                    )
                )
        conn.execute(
            insert(tables.deals).values(
                id=f"d{month}",
                lead_id=f"m{month}-0",
                stage="won",
                amount=50000.0,
                created_at=at(6, month=month),
                closed_at=at(20, month=month),
                won=True,
            )
        )


def test_status_shows_version_validity_reviews_and_met_conditions(ws):
    commit_pact(ws, "v1")
    approve_all(ws, 1, 1, 1, 1)
    for month, count in ((1, 90), (2, 70), (3, 75)):
        add_flow(ws, month, count)
    edit(ws, P1_2H, P1_1H)
    commit_pact(ws, "v2 waiting")
    set_now(ws, at(10, month=4))
    status = pact_status(ws)
    assert (status.on, status.version, status.in_force_since) == (
        date(2025, 4, 10),
        1,
        date(2025, 3, 1),
    )
    assert [(v.number, v.pending) for v in status.versions_pending] == [
        (2, ("marketing", "sales", "service"))
    ]
    assert (status.validity, status.valid_until) == ("valid", date(2025, 12, 31))
    assert (status.last_review, status.next_review, status.review_overdue) == (
        date(2025, 1, 1),
        date(2025, 7, 1),
        False,
    )
    by_rule = {(c.kind, c.goal): c for c in status.conditions}
    mqls = by_rule[("consequence", "mqls")]
    assert (mqls.met, mqls.streak) == (True, 2)
    assert [(f.period, f.actual, f.target) for f in mqls.figures] == [
        ("2025-02", 70.0, 80.0),
        ("2025-03", 75.0, 80.0),
    ]
    cancel = by_rule[("cancellation", "mqls")]
    assert (cancel.met, cancel.streak) == (False, 2)
    assert [f.actual for f in cancel.figures] == [90.0, 70.0, 75.0]
    p1 = by_rule[("consequence", "p1-response")]
    assert (p1.met, p1.figures[-1].actual, p1.figures[-1].target) == (False, None, None)
    # The friction report was never logged: missed for every complete month.
    assert [(r.period, r.state) for r in status.reports] == [
        ("2025-01", ReportState.MISSED),
        ("2025-02", ReportState.MISSED),
        ("2025-03", ReportState.MISSED),
    ]


def test_three_months_missed_meet_the_cancellation_condition(ws):
    for month, count in ((1, 79), (2, 70), (3, 75)):
        add_flow(ws, month, count)
    set_now(ws, at(2, month=4))
    status = pact_status(ws)  # no version yet: the workspace's pact file decides
    assert status.version is None
    cancel = next(c for c in status.conditions if c.kind == "cancellation")
    assert (cancel.met, cancel.streak) == (True, 3)
    assert [f.period for f in cancel.figures] == ["2025-01", "2025-02", "2025-03"]


def test_status_measures_every_kind_of_goal(ws):
    edit(ws, GOVERNANCE_RULES, MORE_RULES)
    commit_pact(ws, "more rules")
    approve_all(ws, 1, 1, 1, 1)
    add_flow(ws, 3, 80, sals=40, sqls=30)
    set_now(ws, at(20, month=4))
    log_report(ws, "friction-report", "2025-03", at=at(3, month=4))
    status = pact_status(ws)
    last = {c.goal: c.figures[-1] for c in status.conditions if c.kind == "consequence"}
    assert (last["mqls"].actual, last["mqls"].target) == (80.0, 80.0)
    assert (last["mql-quality"].actual, last["mql-quality"].target) == (0.5, 0.7)
    assert (last["sqls"].actual, last["sqls"].target) == (30.0, 40.0)
    assert (last["customers"].actual, last["revenue"].actual) == (1.0, 50000.0)
    assert (last["leads"].actual, last["leads"].target) == (80.0, 200.0)
    assert (last["friction-report"].actual, last["friction-report"].target) == (1.0, 1.0)
    assert last["value"].actual is None
    two = ("mql-quality", "friction-report")
    february = {c.goal: c.figures[-2] for c in status.conditions if c.goal in two}
    assert february["mql-quality"].actual is None  # no MQLs, no rate
    assert february["friction-report"].actual == 0.0  # never logged, now overdue
    assert [(r.period, r.state) for r in status.reports][-1] == ("2025-03", ReportState.MET)


def test_an_overdue_review_and_an_expired_agreement(ws):
    commit_pact(ws, "v1")
    approve_all(ws, 1, 1, 1, 1)
    set_now(ws, datetime(2026, 2, 1, tzinfo=UTC))
    status = pact_status(ws)
    assert (status.validity, status.review_overdue) == ("expired", True)
