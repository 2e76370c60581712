"""The pact model: its parts' rules, cross-references, and lookups."""

from __future__ import annotations

import pytest

from leadpact.core.pact import Grades, Matrix, Pact, Quadrant, StageDef
from leadpact.errors import NotFoundError, PactError
from leadpact.pact_file import parse_pact


def fields_of(text: str) -> dict[str, str]:
    with pytest.raises(PactError) as info:
        parse_pact(text, "p.yaml")
    return {p.field: p.message for p in info.value.problems}


def treatments():
    return {p: {"action": "sales", "description": "d"} for p in (1, 2, 3, 4)}


@pytest.mark.parametrize(
    ("priority_2", "fit", "engagement", "expected"),
    [
        (Quadrant.GOOD_FIT_LOW_ENGAGEMENT, 60, 40, 1),  # both at threshold: high
        (Quadrant.GOOD_FIT_LOW_ENGAGEMENT, 59.9, 39.9, 4),
        (Quadrant.GOOD_FIT_LOW_ENGAGEMENT, 90, 10, 2),
        (Quadrant.GOOD_FIT_LOW_ENGAGEMENT, 10, 90, 3),
        (Quadrant.LOW_FIT_HIGH_ENGAGEMENT, 90, 10, 3),
        (Quadrant.LOW_FIT_HIGH_ENGAGEMENT, 10, 90, 2),
    ],
)
def test_matrix_priority(priority_2, fit, engagement, expected):
    matrix = Matrix(
        fit_threshold=60, engagement_threshold=40, priority_2=priority_2, treatment=treatments()
    )
    assert matrix.priority(fit, engagement) == expected


def test_matrix_needs_every_treatment():
    with pytest.raises(ValueError, match=r"missing \[4\]"):
        Matrix(
            fit_threshold=60,
            engagement_threshold=40,
            priority_2=Quadrant.GOOD_FIT_LOW_ENGAGEMENT,
            treatment={p: {"action": "sales", "description": "d"} for p in (1, 2, 3)},
        )


def test_grades_must_fall():
    assert Grades.model_validate({"A": 90, "B": 70, "C": 50}).b == 70
    with pytest.raises(ValueError, match="A > B > C"):
        Grades.model_validate({"A": 50, "B": 70, "C": 40})


def test_pact_stage_needs_entry():
    with pytest.raises(ValueError, match="needs `entry`"):
        StageDef(id="mql", name="MQL", description="d", source="pact")


def test_calendar_lookup_is_cached(pact: Pact):
    first = pact.calendar("sales-dk")
    assert pact.calendar("sales-dk") is first
    with pytest.raises(NotFoundError, match="no calendar 'nope'; it has: sales-dk, sales-us"):
        pact.calendar("nope")


def test_stage_lookup(pact: Pact):
    assert pact.stage("won").outcome == "won"
    with pytest.raises(NotFoundError, match="no stage 'x'"):
        pact.stage("x")


@pytest.mark.parametrize(
    ("old", "new", "field", "fragment"),
    [
        (
            "- {from: marketing, to: sales, report: MQL",
            "- {from: pr, to: sales, report: MQL",
            "reporting.0.from",
            "party 'pr'",
        ),
        (
            "to: service, report: Customer",
            "to: legal, report: Customer",
            "reporting.2.to",
            "party 'legal'",
        ),
        (
            "    provider: marketing\n    receiver: sales\n    metric: mqls",
            "    provider: marketing\n    receiver: marketing\n    metric: mqls",
            "commitments.0.receiver",
            "another party",
        ),
        (
            "  - id: sql-delivery",
            "  - id: mql-delivery",
            "commitments",
            "'mql-delivery' is defined twice",
        ),
        ("  - id: sal\n", "  - id: sql\n", "stages", "'sql' is defined twice"),
        ("    - id: revenue\n", "    - id: size\n", "icp", "criterion 'size' is defined twice"),
        (
            "    provider: sales\n    receiver: marketing\n    stage: mql",
            "    provider: sales\n    receiver: marketing\n    stage: mqq",
            "commitments.3.stage",
            "stage 'mqq'",
        ),
        (
            "  not_ready: {to: nurture",
            "  not_ready: {to: limbo",
            "handling.not_ready.to",
            "stage 'limbo'",
        ),
        (
            "  recycle: {to: nurture",
            "  recycle: {to: limbo",
            "handling.recycle.to",
            "stage 'limbo'",
        ),
        ("    to: disqualified\n", "    to: gone\n", "handling.disqualify.to", "stage 'gone'"),
        (
            "  sales-dk:\n    party: sales",
            "  sales-dk:\n    party: finance",
            "teams.sales-dk.party",
            "party 'finance'",
        ),
        (
            "  - {kpi: win_rate, target: 0.25}",
            "  - {kpi: revenue, target: 0.25}",
            "kpis",
            "listed once",
        ),
        (
            "    - when: {goal: mqls, missed_periods: 3}",
            "    - when: {goal: mails, missed_periods: 3}",
            "governance.cancellation.0.when.goal",
            "goal 'mails'",
        ),
        (
            "    personas: {director: 100,",
            "    personas: {boss: 1, director: 100,",
            "goals.values.personas.boss",
            "persona 'boss'",
        ),
        (
            "    within: 2h\n",
            "    within: 2h\n    calendar: sales-xx\n",
            "commitments.4.calendar",
            "calendar 'sales-xx'",
        ),
    ],
)
def test_references_are_checked(example_text, old, new, field, fragment):
    assert old in example_text
    problems = fields_of(example_text.replace(old, new, 1))
    assert field in problems, problems
    assert fragment in problems[field]


@pytest.mark.parametrize(
    ("old", "new", "field", "fragment"),
    [
        ("      rank: 2\n", "      rank: 1\n", "icp.personas", "its own rank"),
        (
            "    caps: {page_view: 20",
            "    caps: {page_vue: 20",
            "scoring.engagement.caps",
            "unknown activity type 'page_vue'",
        ),
        (
            "  valid_until: 2025-12-31",
            "  valid_until: 2024-12-31",
            "governance",
            "before valid_from",
        ),
        (
            "    within: 8h\n    description: Sales accepts",
            "    within: 0h\n    description: Sales accepts",
            "commitments.3.within",
            "greater than zero",
        ),
        ("  warn_before: 30m", "  warn_before: 30", "alerts.warn_before", "found 30"),
    ],
)
def test_part_rules(example_text, old, new, field, fragment):
    assert old in example_text
    problems = fields_of(example_text.replace(old, new, 1))
    assert field in problems, problems
    assert fragment in problems[field]


def test_round_trip_through_json(pact: Pact):
    data = pact.model_dump(mode="json", by_alias=True)
    assert data["commitments"][4]["within"] == "2h"
    assert data["icp"]["criteria"][0]["when"] == {"employees": {"gte": 200}}
    assert Pact.model_validate(data) == pact


def test_optional_sections_may_be_left_out(pact: Pact):
    data = pact.model_dump(mode="json", by_alias=True, exclude={"goals"})
    del data["handling"]["recycle"], data["handling"]["disqualify"], data["costs"]
    slim = Pact.model_validate(data)
    assert slim.goals is None
    assert slim.handling.recycle is None
    assert slim.handling.disqualify is None


def test_models_accept_python_values(pact: Pact):
    from datetime import timedelta

    from leadpact.core.pact import ResponseCommitment

    commitment = ResponseCommitment(
        kind="response",
        id="fast",
        provider="sales",
        receiver="marketing",
        stage="sql",
        within=timedelta(minutes=5),
        when=pact.icp.criteria[0].when,
    )
    assert commitment.within == timedelta(minutes=5)
    assert commitment.when is pact.icp.criteria[0].when
