"""Scoring: fit, grades, personas, decayed engagement, priority; the batch path agrees."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import leadpact
from leadpact.core.conditions import ACTIVITY_TYPES
from leadpact.core.models import FACT_FIELDS, Activity, ContributionKind, LeadFacts
from leadpact.core.pact import EngagementRules, IcpCriterion, Pact
from leadpact.core.scoring import grade, score, score_many, scored_facts, type_codes
from leadpact.errors import LeadPactError
from leadpact.pact_file import load_pact

PACT = load_pact(Path(leadpact.__file__).parent / "data" / "pact.yaml")
NOW = datetime(2025, 6, 2, 12, 0, tzinfo=UTC)
DAY = timedelta(days=1)


def lead(**facts):
    base: dict[str, Any] = {
        "id": "l1",
        "stage": "lead",
        "stage_at": NOW - DAY,
        "created_at": NOW - DAY,
    }
    return LeadFacts(**(base | facts))


def activity(kind, age, lead_id="l1"):
    return Activity(lead_id, kind, NOW - age)


def with_rules(pact: Pact, **changes) -> Pact:
    rules = EngagementRules(**(pact.scoring.engagement.model_dump() | changes))
    return pact.model_copy(
        update={"scoring": pact.scoring.model_copy(update={"engagement": rules})}
    )


DIRECTOR = lead(
    title="Managing Director",
    employees=250,
    industry="Software",
    country="DK",
    annual_revenue=10_000_000.0,
)


def test_worked_example_of_the_docs():
    activities = [
        activity("pricing_page_view", 30 * DAY),  # one half-life: 10 -> 5
        activity("page_view", timedelta(0)),  # 1
        *[activity("email_open", timedelta(0)) for _ in range(15)],  # 15, capped at 10
        activity("webinar", 200 * DAY),  # outside the 180-day window
        activity("demo_request", -DAY),  # in the future
    ]
    result = score(DIRECTOR, activities, PACT, now=NOW)
    assert result.fit == pytest.approx(100 * 12 / 14)  # size 5 + industry 4 + region 3 of 14
    assert result.fit_grade == "A"
    assert result.persona == "director"
    assert result.engagement == pytest.approx(16.0)
    assert result.priority == 2  # good fit, low engagement: the pact's priority 2
    lines = {c.key: c for c in result.contributions}
    assert [lines[k].met for k in ("size", "industry", "region", "revenue")] == [
        True,
        True,
        True,
        False,
    ]
    assert lines["size"].weight == 5
    assert lines["size"].points == pytest.approx(100 * 5 / 14)
    assert lines["revenue"].points == 0.0
    assert lines["email_open"].count == 15
    assert lines["email_open"].decayed == pytest.approx(15.0)
    assert lines["email_open"].cap == 10
    assert lines["email_open"].points == 10
    assert lines["pricing_page_view"].raw == 10
    assert lines["pricing_page_view"].decayed == pytest.approx(5.0)
    assert lines["pricing_page_view"].cap is None
    assert lines["webinar"].count == 0
    assert lines["demo_request"].count == 0
    assert sum(c.points for c in result.contributions if c.kind is ContributionKind.CRITERION) == (
        pytest.approx(result.fit)
    )


@pytest.mark.parametrize(
    ("fit", "expected"),
    [(100, "A"), (80, "A"), (79.99, "B"), (60, "B"), (40, "C"), (39.99, "D"), (0, "D")],
)
def test_grades_start_at_their_threshold(fit, expected):
    assert grade(fit, PACT) == expected


@pytest.mark.parametrize(
    ("title", "persona"),
    [
        ("Marketing Director", "director"),  # director (rank 1) beats marketing (rank 3)
        ("VP SALES EMEA", "head-of-sales"),
        ("growth hacker", "marketer"),
        ("Engineer", None),
        (None, None),
    ],
)
def test_persona_is_the_best_ranked_match(title, persona):
    assert score(lead(title=title), [], PACT, now=NOW).persona == persona


def test_a_lead_without_facts_has_no_fit():
    result = score(lead(), [], PACT, now=NOW)
    assert (result.fit, result.fit_grade, result.engagement, result.priority) == (0, "D", 0, 4)


def test_engagement_is_capped_in_total():
    result = score(lead(), [activity("demo_request", DAY) for _ in range(5)], PACT, now=NOW)
    assert result.engagement == 100
    assert result.engagement_uncapped > 100


def test_without_half_life_points_do_not_decay():
    pact = with_rules(PACT, half_life=None)
    result = score(lead(), [activity("webinar", 100 * DAY)], pact, now=NOW)
    assert result.engagement == 20


def test_without_window_old_activities_count():
    pact = with_rules(PACT, window=None)
    result = score(lead(), [activity("webinar", 300 * DAY)], pact, now=NOW)
    assert result.engagement == pytest.approx(20 * 0.5**10)


def test_an_activity_exactly_at_the_window_edge_counts():
    result = score(lead(), [activity("webinar", 180 * DAY)], PACT, now=NOW)
    assert result.engagement == pytest.approx(20 * 0.5**6)


def test_negative_points_never_take_engagement_below_zero():
    pact = with_rules(PACT, points={"page_view": 1, "email_open": -5})
    activities = [activity("page_view", DAY), activity("email_open", DAY)]
    assert score(lead(), activities, pact, now=NOW).engagement == 0


def test_types_without_points_are_counted_and_unknown_types_ignored():
    activities = [activity("chat", DAY), activity("telepathy", DAY)]
    result = score(lead(), activities, PACT, now=NOW)
    assert result.engagement == 0
    assert result.activity_counts["chat"] == 1
    assert "telepathy" not in result.activity_counts
    assert "event" not in result.activity_counts  # no points, no activity: not listed


def test_criteria_may_test_persona_and_activity_counts():
    criteria = [
        IcpCriterion(
            id="boss", name="Boss", description="d", importance=1, when={"persona": "director"}
        ),
        IcpCriterion(
            id="webinar",
            name="Webinar",
            description="d",
            importance=5,
            when={"activities.webinar": {"gte": 1}},
        ),
    ]
    pact = PACT.model_copy(update={"icp": PACT.icp.model_copy(update={"criteria": criteria})})
    result = score(lead(title="CEO"), [activity("webinar", DAY)], pact, now=NOW)
    assert result.fit == 100
    leads, acts = columns([lead(title="CEO")], [[activity("webinar", DAY)]])
    batch = score_many(leads, acts, pact, now=NOW)
    assert batch.fit.tolist() == [100]


def test_naive_now_is_refused():
    with pytest.raises(LeadPactError, match="timezone-aware 'now'"):
        score(DIRECTOR, [], PACT, now=NOW.replace(tzinfo=None))
    leads, acts = columns([DIRECTOR], [[]])
    with pytest.raises(LeadPactError, match="timezone-aware 'now'"):
        score_many(leads, acts, PACT, now=NOW.replace(tzinfo=None))


def test_scored_facts_hold_scores_counts_and_extras():
    result = score(DIRECTOR, [activity("demo_request", DAY)], PACT, now=NOW)
    facts = scored_facts(DIRECTOR, result, attempts=2, connected=False)
    assert facts["fit_grade"] == "A"
    assert facts["persona"] == "director"
    assert facts["activities.demo_request"] == 1
    assert facts["activities.chat"] == 0
    assert facts["employees"] == 250
    assert (facts["attempts"], facts["connected"]) == (2, False)


def test_type_codes_follow_the_activity_vocabulary():
    codes = type_codes(np.array(["page_view", "chat", "nope"], dtype=object))
    assert codes.tolist() == [0, ACTIVITY_TYPES.index("chat"), -1]


def test_batch_skips_unknown_codes_and_missing_instants():
    leads, _ = columns([DIRECTOR], [[]])
    acts = {
        "lead": np.array([0, 0, 0]),
        "type": np.array([-1, 99, ACTIVITY_TYPES.index("webinar")]),
        "at": np.array(["2025-06-01", "2025-06-01", "NaT"], dtype="datetime64[us]"),
    }
    result = score_many(leads, acts, PACT, now=NOW)
    assert result.engagement.tolist() == [0.0]
    assert result.counts["webinar"].tolist() == [0]


def test_batch_refuses_activities_of_unknown_leads():
    leads, _ = columns([DIRECTOR], [[]])
    at = np.array(["2025-06-01"], "datetime64[us]")
    acts = {"lead": np.array([1]), "type": np.array([0]), "at": at}
    with pytest.raises(ValueError, match=r"lead positions must lie in 0\.\.0"):
        score_many(leads, acts, PACT, now=NOW)


def test_batch_of_no_leads():
    leads, acts = columns([], [])
    result = score_many(leads, acts, PACT, now=NOW)
    assert result.fit.shape == (0,)
    assert set(result.facts()) >= {"fit", "fit_grade", "persona", "engagement", "priority"}


# --- The batch path agrees with the scalar path ---------------------------------------------


def columns(leads, activities_per_lead):
    """The numpy columns `score_many` reads, built from value objects."""
    lead_columns = {"id": np.array([x.id for x in leads], dtype=object)}
    for name in FACT_FIELDS:
        values = [getattr(x, name) for x in leads]
        if name in ("employees", "annual_revenue"):
            lead_columns[name] = np.array(
                [math.nan if v is None else v for v in values], dtype=np.float64
            )
        else:
            array = np.empty(len(values), dtype=object)
            array[:] = values
            lead_columns[name] = array
    flat = [(i, a) for i, acts in enumerate(activities_per_lead) for a in acts]
    activity_columns = {
        "lead": np.array([i for i, _ in flat], dtype=np.int64),
        "type": type_codes(np.array([a.type for _, a in flat], dtype=object)),
        "at": np.array(
            [a.at.astimezone(UTC).replace(tzinfo=None) for _, a in flat], dtype="datetime64[us]"
        ),
    }
    return lead_columns, activity_columns


TITLES = ["CEO", "Sales Manager", "Head of Growth", "Engineer", "managing DIRECTOR", None]
leads_strategy = st.builds(
    lead,
    title=st.sampled_from(TITLES),
    employees=st.one_of(st.none(), st.integers(0, 1000)),
    annual_revenue=st.one_of(st.none(), st.floats(0, 1e9)),
    industry=st.sampled_from(["software", "Logistics", "retail", None]),
    country=st.sampled_from(["DK", "se", "US", None]),
)
activity_strategy = st.builds(
    lambda kind, us: Activity("l1", kind, NOW - timedelta(microseconds=us)),
    st.sampled_from([*ACTIVITY_TYPES, "unknown"]),
    st.integers(-5 * 86_400 * 10**6, 400 * 86_400 * 10**6),
)
rules_strategy = st.fixed_dictionaries(
    {
        "half_life": st.sampled_from([None, timedelta(days=30), timedelta(hours=7, seconds=3)]),
        "window": st.sampled_from([None, timedelta(days=180), timedelta(days=10)]),
        "cap": st.sampled_from([100.0, 37.5]),
        "caps": st.sampled_from([{}, {"page_view": 20, "email_open": 10}, {"webinar": 25}]),
    }
)


@given(
    leads=st.lists(leads_strategy, max_size=6),
    activities=st.lists(st.lists(activity_strategy, max_size=12), min_size=6, max_size=6),
    rules=rules_strategy,
)
def test_batch_and_scalar_paths_agree(leads, activities, rules):
    pact = with_rules(PACT, **rules)
    activities = activities[: len(leads)]
    lead_columns, activity_columns = columns(leads, activities)
    batch = score_many(lead_columns, activity_columns, pact, now=NOW)
    for i, (one, acts) in enumerate(zip(leads, activities, strict=True)):
        single = score(one, acts, pact, now=NOW)
        assert batch.fit[i] == single.fit
        assert batch.fit_grade[i] == single.fit_grade
        assert batch.persona[i] == single.persona
        assert batch.engagement[i] == single.engagement
        assert batch.priority[i] == single.priority
        assert {t: int(c[i]) for t, c in batch.counts.items()} == {
            t: single.activity_counts.get(t, 0) for t in ACTIVITY_TYPES
        }


@given(one=leads_strategy, acts=st.lists(activity_strategy, max_size=20), rules=rules_strategy)
def test_scores_stay_within_bounds(one, acts, rules):
    pact = with_rules(PACT, **rules)
    result = score(one, acts, pact, now=NOW)
    assert 0 <= result.fit <= 100
    assert 0 <= result.engagement <= pact.scoring.engagement.cap
    assert result.fit_grade in {"A", "B", "C", "D"}
    assert result.priority in {1, 2, 3, 4}


@given(
    one=leads_strategy,
    acts=st.lists(activity_strategy, max_size=20),
    extra=activity_strategy,
    rules=rules_strategy,
)
def test_a_positive_activity_never_lowers_engagement(one, acts, extra, rules):
    pact = with_rules(PACT, **rules)
    before = score(one, acts, pact, now=NOW).engagement
    assert score(one, [*acts, extra], pact, now=NOW).engagement >= before


@given(
    one=leads_strategy,
    acts=st.lists(activity_strategy, max_size=5),
    change=st.sampled_from(
        [
            {"employees": 500},
            {"industry": "Manufacturing"},
            {"country": "NO"},
            {"annual_revenue": 6e7},
        ]
    ),
)
def test_meeting_one_more_criterion_never_lowers_fit(one, acts, change):
    before = score(one, acts, PACT, now=NOW)
    changed = lead(**({f: getattr(one, f) for f in FACT_FIELDS} | change))
    after = score(changed, acts, PACT, now=NOW)
    assert after.fit >= before.fit
    assert after.priority <= before.priority  # same engagement, better fit
