"""Governance rules: version in force, reviews, periods, report commitments, conditions, diff."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from leadpact.core.governance import (
    Approval,
    Change,
    PeriodFigure,
    ReportState,
    Target,
    VersionRecord,
    VersionState,
    check_approval,
    check_conditions,
    check_report,
    complete_periods,
    diff_pacts,
    goal_target,
    next_review,
    period_bounds,
    period_of,
    report_due_at,
    validity,
    version_in_force,
    version_state,
)
from leadpact.core.governance_dates import add_months
from leadpact.core.pact import Cadence, Review
from leadpact.errors import CalendarError, ConflictError, NotFoundError

PARTIES = ("marketing", "sales", "service")


def at(day: int, hour: int = 10, month: int = 3) -> datetime:
    return datetime(2025, month, day, hour, tzinfo=UTC)


def approved(number: int, when: datetime, effective_on: date | None = None) -> VersionRecord:
    approvals = tuple(Approval(p, f"owner of {p}", when) for p in PARTIES)
    return VersionRecord(number, PARTIES, approvals, effective_on)


# --- versions ------------------------------------------------------------------------------


def test_a_version_takes_effect_on_the_day_of_its_last_approval():
    record = VersionRecord(
        2,
        PARTIES,
        (
            Approval("marketing", "Mette", at(3)),
            Approval("service", "Anna", at(15, 23)),
            Approval("sales", "Lars", at(10)),
        ),
    )
    assert record.pending() == ()
    assert record.takes_effect_on() == date(2025, 3, 15)


def test_a_version_with_a_missing_approval_does_not_take_effect():
    record = VersionRecord(2, PARTIES, (Approval("sales", "Lars", at(3)),))
    assert record.pending() == ("marketing", "service")
    assert record.takes_effect_on() is None
    assert VersionRecord(3, (), ()).takes_effect_on() is None


def test_an_effective_date_asked_at_commit_delays_but_never_advances():
    assert approved(2, at(15), date(2025, 4, 1)).takes_effect_on() == date(2025, 4, 1)
    assert approved(2, at(15), date(2025, 3, 1)).takes_effect_on() == date(2025, 3, 15)


def test_the_approval_date_is_taken_in_utc():
    late_evening = datetime(2025, 3, 14, 23, 30, tzinfo=UTC)
    assert approved(1, late_evening).takes_effect_on() == date(2025, 3, 14)


def test_a_change_mid_month_governs_from_its_approval_day():
    versions = [approved(1, at(1)), approved(2, at(15))]
    assert version_in_force(versions, date(2025, 3, 14)) == 1
    assert version_in_force(versions, date(2025, 3, 15)) == 2
    assert version_in_force(versions, date(2025, 12, 31)) == 2


def test_an_unapproved_version_leaves_the_previous_one_in_force():
    pending = VersionRecord(2, PARTIES, (Approval("sales", "Lars", at(15)),))
    versions = [approved(1, at(1)), pending]
    assert version_in_force(versions, date(2025, 6, 1)) == 1


def test_before_the_first_version_takes_effect_it_governs_alone():
    versions = [approved(1, at(10)), approved(2, at(20))]
    assert version_in_force(versions, date(2024, 1, 1)) == 1


def test_no_approved_version_means_none_in_force():
    assert version_in_force([VersionRecord(1, PARTIES)], date(2025, 3, 1)) is None
    assert version_in_force([], date(2025, 3, 1)) is None


def test_an_older_version_approved_late_never_displaces_a_newer_one():
    versions = [approved(1, at(1)), approved(2, at(20)), approved(3, at(10))]
    assert version_in_force(versions, date(2025, 3, 12)) == 3
    assert version_in_force(versions, date(2025, 3, 25)) == 3


def test_version_states():
    pending = VersionRecord(4, PARTIES)
    versions = [approved(1, at(1)), approved(2, at(15)), approved(3, at(25)), pending]
    on = date(2025, 3, 20)
    assert version_state(versions, 1, on) is VersionState.SUPERSEDED
    assert version_state(versions, 2, on) is VersionState.IN_FORCE
    assert version_state(versions, 3, on) is VersionState.SCHEDULED
    assert version_state(versions, 4, on) is VersionState.PENDING
    with pytest.raises(NotFoundError, match="no version 9"):
        version_state(versions, 9, on)


def test_the_owner_of_a_party_approves_it_by_id_or_name(pact):
    record = VersionRecord(1, tuple(pact.parties))
    assert check_approval(pact, record, "sales", "Lars Nielsen") == "sales"
    assert check_approval(pact, record, "Customer  service", " anna kruse") == "service"


def test_an_unknown_party_cannot_approve(pact):
    record = VersionRecord(1, tuple(pact.parties))
    with pytest.raises(NotFoundError, match=r"no party 'legal'.*sales \(Sales\)"):
        check_approval(pact, record, "legal", "Lars Nielsen")


def test_only_the_party_owner_can_approve(pact):
    record = VersionRecord(1, tuple(pact.parties))
    with pytest.raises(ConflictError, match="only its owner, Lars Nielsen, can approve"):
        check_approval(pact, record, "sales", "Sofie Dahl")


def test_a_party_approves_a_version_once(pact):
    approvals = (
        Approval("marketing", "Mette Holm", at(1)),
        Approval("sales", "Lars Nielsen", at(2)),
    )
    record = VersionRecord(1, tuple(pact.parties), approvals)
    with pytest.raises(ConflictError, match="sales already approved version 1"):
        check_approval(pact, record, "sales", "Lars Nielsen")


# --- validity and reviews ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cadence", "last", "expected"),
    [
        ("monthly", date(2025, 1, 31), date(2025, 2, 28)),
        ("quarterly", date(2025, 11, 15), date(2026, 2, 15)),
        ("half-yearly", date(2025, 1, 1), date(2025, 7, 1)),
        ("half-yearly", date(2024, 8, 31), date(2025, 2, 28)),
    ],
)
def test_next_review_adds_the_cadence(cadence, last, expected):
    assert next_review(Review(cadence=cadence, last=last)) == expected


def test_add_months_goes_backwards_too():
    assert add_months(date(2025, 3, 31), -1) == date(2025, 2, 28)


def test_validity(pact):
    governance = pact.governance
    assert validity(governance, date(2024, 12, 31)) == "not yet valid"
    assert validity(governance, date(2025, 1, 1)) == "valid"
    assert validity(governance, date(2025, 12, 31)) == "valid"
    assert validity(governance, date(2026, 1, 1)) == "expired"
    open_ended = governance.model_copy(update={"valid_until": None})
    assert validity(open_ended, date(2040, 1, 1)) == "valid"


# --- periods -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("label", "cadence", "start", "end"),
    [
        ("2025-03-31", Cadence.DAILY, date(2025, 3, 31), date(2025, 4, 1)),
        ("2025-W01", Cadence.WEEKLY, date(2024, 12, 30), date(2025, 1, 6)),
        ("2025-12", Cadence.MONTHLY, date(2025, 12, 1), date(2026, 1, 1)),
        ("2025-Q4", Cadence.QUARTERLY, date(2025, 10, 1), date(2026, 1, 1)),
        ("2025-H2", Cadence.HALF_YEARLY, date(2025, 7, 1), date(2026, 1, 1)),
        ("2025", Cadence.YEARLY, date(2025, 1, 1), date(2026, 1, 1)),
    ],
)
def test_period_labels_round_trip(label, cadence, start, end):
    assert period_bounds(label, cadence) == (start, end)
    assert period_of(start, cadence) == label
    assert period_of(end - timedelta(days=1), cadence) == label


@pytest.mark.parametrize(
    ("label", "cadence"),
    [("March", Cadence.MONTHLY), ("2025-13", Cadence.MONTHLY), ("2025-W54", Cadence.WEEKLY)],
)
def test_a_bad_period_label_says_what_is_expected(label, cadence):
    with pytest.raises(CalendarError, match=f"not a {cadence.value} period; expected a label"):
        period_bounds(label, cadence)


def test_complete_periods_end_before_the_current_one():
    assert complete_periods(date(2025, 3, 10), Cadence.MONTHLY, 3) == [
        "2024-12",
        "2025-01",
        "2025-02",
    ]
    assert complete_periods(date(2025, 1, 1), Cadence.QUARTERLY, 2) == ["2024-Q3", "2024-Q4"]


# --- report commitments --------------------------------------------------------------------


def friction(pact):
    return next(c for c in pact.commitments if c.id == "friction-report")


def test_a_report_is_due_after_the_period_in_the_providers_time_zone(pact):
    due = report_due_at(friction(pact), "2025-03", "Europe/Copenhagen")
    assert due == datetime(2025, 4, 5, 22, tzinfo=UTC)
    assert report_due_at(friction(pact), "2025-03") == datetime(2025, 4, 6, tzinfo=UTC)


def test_report_states(pact):
    c = friction(pact)
    due = datetime(2025, 4, 6, tzinfo=UTC)
    late = due + timedelta(seconds=1)
    assert check_report(c, "2025-03", due, now=late).state is ReportState.MET
    assert check_report(c, "2025-03", due, now=late).met
    assert check_report(c, "2025-03", late, now=late).state is ReportState.LATE
    assert check_report(c, "2025-03", None, now=late).state is ReportState.MISSED
    assert check_report(c, "2025-03", None, now=due).state is ReportState.PENDING


# --- consequences and cancellation ---------------------------------------------------------


def test_goal_targets_come_from_goals_then_commitments(pact):
    march = date(2025, 3, 1)
    assert goal_target(pact, "mqls", march) == Target("mqls", 80)
    assert goal_target(pact, "revenue", march) == Target("revenue", 600000)
    assert goal_target(pact, "mql-delivery", march) == Target("mqls", 80)
    assert goal_target(pact, "mql-quality", march) == Target("acceptance_rate", 0.7)
    assert goal_target(pact, "friction-report", march) == Target("report", 1.0)
    assert goal_target(pact, "p1-response", march) is None
    assert goal_target(pact, "value", march) is None
    # after the goals' deadline the delivery commitment's target still holds
    assert goal_target(pact, "mqls", date(2026, 1, 1)) == Target("mqls", 80)
    assert goal_target(pact, "leads", date(2026, 1, 1)) is None


def test_targets_of_other_periods_are_converted_to_the_month(pact):
    def revised(part, **changes):
        return type(part).model_validate({**part.model_dump(), **changes})

    targets = pact.goals.targets
    goals = revised(
        pact.goals,
        targets=(revised(targets[0], period="quarter"), revised(targets[1], period="week")),
    )
    weekly = revised(pact.commitments[1], period="weekly", target=7)
    changed = pact.model_copy(update={"goals": goals, "commitments": [weekly]})
    leads = goal_target(changed, "leads", date(2025, 3, 1))
    assert leads is not None
    assert leads.metric == "leads"
    assert leads.value == pytest.approx(200 / 3)
    mqls = goal_target(changed, "mqls", date(2025, 2, 1))
    assert mqls is not None
    assert mqls.metric == "mqls"
    assert mqls.value == pytest.approx(80 / 7 * 28)
    assert goal_target(changed, "sql-delivery", date(2025, 4, 1)) == Target("sqls", 30)
    no_goals = pact.model_copy(update={"goals": None})
    assert goal_target(no_goals, "sqls", date(2025, 3, 1)) == Target("sqls", 40)


def test_figures_know_when_a_goal_was_missed():
    assert PeriodFigure("2025-01", 70, 80).missed is True
    assert PeriodFigure("2025-01", 80, 80).missed is False
    assert PeriodFigure("2025-01", None, 80).missed is None
    assert PeriodFigure("2025-01", 80, None).missed is None


def test_the_mql_goal_missed_three_months_running_meets_the_cancellation(pact):
    figures = {
        "mqls": [
            PeriodFigure("2024-12", 90, 80),
            PeriodFigure("2025-01", 75, 80),
            PeriodFigure("2025-02", 61, 80),
            PeriodFigure("2025-03", 79, 80),
        ]
    }
    checks = check_conditions(pact.governance, figures)
    assert [(c.kind, c.goal, c.met, c.streak) for c in checks] == [
        ("consequence", "mqls", True, 3),
        ("consequence", "p1-response", False, 0),
        ("cancellation", "mqls", True, 3),
    ]
    cancel = checks[2]
    assert cancel.text.startswith("Either party may call")
    assert [f.period for f in cancel.figures] == ["2025-01", "2025-02", "2025-03"]
    assert checks[1].figures == ()


def test_a_met_month_breaks_the_streak(pact):
    figures = {
        "mqls": [
            PeriodFigure("2025-01", 75, 80),
            PeriodFigure("2025-02", 85, 80),
            PeriodFigure("2025-03", 70, 80),
        ]
    }
    checks = check_conditions(pact.governance, figures)
    assert [(c.met, c.streak) for c in checks if c.goal == "mqls"] == [(False, 1), (False, 1)]
    assert [f.period for f in checks[0].figures] == ["2025-02", "2025-03"]


def test_a_month_without_figures_breaks_the_streak(pact):
    figures = {"mqls": [PeriodFigure("2025-01", 75, 80), PeriodFigure("2025-02", None, 80)]}
    assert check_conditions(pact.governance, figures)[0].streak == 0


# --- semantic diff -------------------------------------------------------------------------


def edited(text: str, old: str, new: str) -> str:
    assert old in text, old
    return text.replace(old, new, 1)


def diff_texts(old: str, new: str) -> list[str]:
    from leadpact.pact_file import parse_pact

    return [str(c) for c in diff_pacts(parse_pact(old), parse_pact(new))]


def test_the_same_pact_has_no_changes(pact):
    assert diff_pacts(pact, pact) == []


def test_a_changed_response_time_reads_as_a_sentence(example_text):
    new = edited(example_text, "stage: sql\n    within: 2h", "stage: sql\n    within: 1h")
    assert diff_texts(example_text, new) == ["Commitment p1-response: within changed from 2h to 1h"]


def test_added_and_removed_named_parts(example_text):
    persona = (
        "    - id: marketer\n      name: Mads the marketer\n      rank: 3\n"
        "      description: Marketing manager who evaluates the tool day to day\n"
        "      titles: [marketing manager, marketing, growth]\n"
    )
    new = edited(example_text, persona, "")
    new = edited(new, "head-of-sales: 50, marketer: 40}", "head-of-sales: 50}")
    new = edited(new, "head-of-sales: 0.25, marketer: 0.3}", "head-of-sales: 0.25}")
    new = edited(new, "  - {kpi: win_rate, target: 0.25}\n", "")
    new = edited(
        new,
        "kpis:\n",
        "kpis:\n  - {kpi: no_show_rate, target: 0.1}\n",
    )
    assert diff_texts(example_text, new) == [
        "Persona 'Mads the marketer' removed",
        "Goals: values.personas.marketer removed (was 40)",
        "Goals: values.mix.personas.marketer removed (was 0.3)",
        "KPI win_rate removed",
        "KPI no_show_rate added",
    ]
    assert diff_texts(new, example_text)[0] == "Persona 'Mads the marketer' added"


def test_reordering_named_parts_is_no_change(example_text):
    lead, mql = example_text.index("  - id: lead\n"), example_text.index("  - id: mql\n")
    swapped = (
        example_text[:lead]
        + example_text[mql : example_text.index("  - id: sal\n")]
        + example_text[lead:mql]
        + example_text[example_text.index("  - id: sal\n") :]
    )
    assert diff_texts(example_text, swapped) == []


def test_fields_of_sections_lists_and_optional_values(example_text):
    new = edited(example_text, "company: Nordlys Software ApS", "company: Nordlys A/S")
    new = edited(new, "reject_reasons: [not the ICP, no budget,", "reject_reasons: [no budget,")
    new = edited(
        new, "duplicate, student or job seeker]", "duplicate, student or job seeker, spam]"
    )
    new = edited(new, "  reassign_after: 1d\n", "")
    new = edited(new, "  escalate_after: 2h\n", "  escalate_after: 3h\n")
    new = edited(new, 'fri: "09:00-16:00"}', 'fri: "09:00-15:00"}')
    new = edited(new, "title: Head of Sales,", "title: VP Sales,")
    new = edited(new, "    then: nurture\n", "")
    new = edited(new, "{metric: mqls, target: 80,", "{metric: mqls, target: 90,")
    new = edited(new, "goal: mqls, missed_periods: 3}", "goal: mqls, missed_periods: 2}")
    new = edited(new, "    when: {priority: 1}\n", "    when: {priority: [1, 2]}\n")
    assert diff_texts(example_text, new) == [
        "Agreement: company changed from 'Nordlys Software ApS' to 'Nordlys A/S'",
        "Party sales: owner.title changed from 'Head of Sales' to 'VP Sales'",
        "Goal mqls: target changed from 80 to 90",
        'Commitment p1-response: when changed from {"priority": 1} to {"priority": {"in": [1, 2]}}',
        "Commitment sql-follow-up: then removed (was nurture)",
        "Lead handling: 'not the ICP' removed from reject_reasons",
        "Lead handling: spam added to reject_reasons",
        "Calendar sales-dk: hours.fri changed from 09:00-16:00 to 09:00-15:00",
        "Alerts: escalate_after changed from 2h to 3h",
        "Alerts: reassign_after removed (was 1d)",
        "Cancellation condition when mqls is missed 3 periods running removed",
        "Cancellation condition when mqls is missed 2 periods running added",
    ]


def test_a_section_that_appears_is_one_change(pact):
    without = pact.model_copy(update={"costs": None})
    assert [str(c) for c in diff_pacts(without, pact)] == ["Costs added"]
    assert [str(c) for c in diff_pacts(pact, without)] == ["Costs removed"]


def test_named_parts_added_as_a_mapping_entry(pact):
    team = pact.teams["marketing"]
    more = pact.model_copy(update={"teams": {**pact.teams, "growth": team}})
    assert [str(c) for c in diff_pacts(pact, more)] == ["Team growth added"]


def test_change_sentences():
    assert str(Change("changed", "Stage mql", "name", "a", "b")) == (
        "Stage mql: name changed from a to b"
    )
    assert str(Change("removed", "Party 'Legal'")) == "Party 'Legal' removed"
