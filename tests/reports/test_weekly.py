"""The weekly status: shortfalls in leads, the bottleneck and its one improvement, what
governance needs this week, and the four outputs (text, Markdown, JSON, HTML)."""

from __future__ import annotations

import copy
import json
from datetime import date, datetime

import pytest

from leadpact.reports.chart_labels import Labels
from leadpact.reports.weekly import build_weekly, due_items
from leadpact.reports.weekly_bottleneck import MIN_LEADS, candidates, expected_rates, improvement
from leadpact.reports.weekly_formats import weekly_html, weekly_markdown, weekly_text

AS_OF = datetime.fromisoformat("2025-11-20T15:30:00+00:00")


@pytest.fixture(scope="module")
def data(demo_dir):
    from leadpact.services.weekly import weekly_data
    from leadpact.services.workspace import open_workspace

    with open_workspace(demo_dir) as ws:
        return weekly_data(ws, as_of=AS_OF)


@pytest.fixture(scope="module")
def status(data):
    return build_weekly(data["report"], data["governance"])


@pytest.fixture(scope="module")
def report(data):
    return data["report"]


@pytest.fixture
def labels(report):
    return Labels.of(report)


def governance(**changes):
    """Governance status data as `services.weekly.governance_data` returns it."""
    data = {
        "on": "2025-11-20",
        "version": 1,
        "versions_pending": [],
        "valid_until": None,
        "review_cadence": "quarterly",
        "last_review": "2025-09-01",
        "next_review": "2025-12-01",
        "review_overdue": False,
        "conditions": [],
        "reports": [],
        "parties": {
            "marketing": {"name": "Marketing", "owner": "Ann"},
            "sales": {"name": "Sales", "owner": "Bo"},
        },
        "weekly_meeting": "Mondays 09:30",
    }
    return data | changes


def test_the_week_reviewed_is_the_last_complete_one(status):
    assert status["meta"]["period_start"] == "2025-11-10"
    assert status["meta"]["period_end"] == "2025-11-16"
    assert status["meta"]["week"] == "week 46, 10 Nov 2025"
    assert status["meta"]["period_end"] == "2025-11-16"


def test_the_bottleneck_is_the_largest_shortfall_in_leads(status):
    found = status["shortfalls"]
    assert found, "the demo's week falls short somewhere"
    assert status["bottleneck"] == found[0]
    sizes = [c["shortfall"] for c in found]
    assert sizes == sorted(sizes, reverse=True)
    assert all(c["shortfall"] > 0 for c in found)
    assert {c["kind"] for c in found} <= {
        "step",
        "goal",
        "delivery",
        "response",
        "acceptance",
        "follow_up",
    }


def test_every_shortfall_is_recomputed_from_the_report(report, labels):
    expected = expected_rates(report)
    start = report["meta"]["period_start"]
    for c in candidates(report, labels):
        if c["kind"] == "step":
            row = next(
                r
                for r in report["funnel"]["conversion"]
                if r["period_start"] == start
                and (r["from_stage"], r["to_stage"]) == (c["from_stage"], c["to_stage"])
            )
            rate = expected[(c["from_stage"], c["to_stage"])][0]
            assert row["from_leads"] >= MIN_LEADS
            assert c["shortfall"] == pytest.approx(
                rate * row["from_leads"] - row["to_leads"], abs=0.06
            )
        elif c["kind"] in ("response", "acceptance"):
            row = next(
                r
                for r in report["speed"]
                if r["period_start"] == start and r["commitment"] == c["subject"]
            )
            assert c["shortfall"] == row["late"] + row["overdue"]
        elif c["kind"] == "follow_up":
            row = next(
                r
                for r in report["depth"]["by_period"]
                if r["period_start"] == start and r["commitment"] == c["subject"]
            )
            assert c["shortfall"] == row["leads"] - row["at_target"]


def test_expected_rates_take_commitments_then_kpis_then_plan_then_history(report):
    rates = expected_rates(report)
    assert rates[("mql", "sal")] == (0.7, "commitment mql-quality")  # acceptance_rate
    assert rates[("lead", "mql")] == (0.4, "KPI lead_to_mql_rate")  # before the plan's 0.4
    assert rates[("mql", "meeting")] == (0.3, "KPI mql_to_meeting_rate")
    assert {source for _, source in rates.values()} <= {
        "commitment mql-quality",
        "KPI lead_to_mql_rate",
        "KPI mql_to_meeting_rate",
        "plan",
        "earlier periods",
    }
    assert rates[("sal", "sql")][1] == "earlier periods"


def test_a_week_too_young_judges_no_funnel_step(report, labels):
    young = copy.deepcopy(report)
    young["meta"]["as_of"] = young["meta"]["period_start"] + "T01:00:00+00:00"
    assert [c for c in candidates(young, labels) if c["kind"] == "step"] == []
    assert [c for c in candidates(report, labels) if c["kind"] == "step"]


def test_a_marketing_step_suggests_the_worst_source(report, labels):
    step = next(c for c in candidates(report, labels) if c["kind"] == "step")
    lead_to_mql = step | {"from_stage": "lead", "to_stage": "mql"}
    advice = improvement(report, labels, lead_to_mql)
    assert advice["rule"] == "step-before-handover"
    rows = [
        r
        for r in report["funnel"]["breakdown"]
        if r["dimension"] == "source"
        and (r["from_stage"], r["to_stage"]) == ("lead", "mql")
        and r["scope"] == "period"
        and r["from_leads"] >= MIN_LEADS
    ]
    worst = min(rows, key=lambda r: r["rate"])
    assert f"review the source {worst['value']}" in advice["action"]
    assert labels.rate(worst["rate"]) in advice["why"]


def test_a_sales_step_and_late_clocks_name_the_rep_or_the_routine(report, labels):
    after = improvement(
        report, labels, {"kind": "step", "from_stage": "sql", "to_stage": "meeting", "text": "x"}
    )
    assert after["rule"] == "step-after-handover"
    assert after["action"].startswith("Sales and marketing: go through this week's SQLs")
    late = improvement(
        report, labels, {"kind": "response", "stage": "sql", "text": "sql-response: 3 late"}
    )
    assert late["rule"] == "response-late"
    reps = [r for r in report["reps"] if r["late"] + r["overdue"]]
    total = sum(r["late"] + r["overdue"] for r in reps)
    top = max(reps, key=lambda r: r["late"] + r["overdue"]) if reps else None
    if top is not None and 2 * (top["late"] + top["overdue"]) >= total >= 2:
        assert f"rebalance {top['owner']}'s queue" in late["action"]
    else:
        assert "work the overdue list" in late["action"]


def test_depth_and_volume_have_their_own_rules(report, labels):
    depth = improvement(report, labels, {"kind": "follow_up", "text": "sql-follow-up: 4 below"})
    assert depth["rule"] == "follow-up-depth"
    assert "cadence" in depth["action"]
    volume = improvement(
        report, labels, {"kind": "goal", "metric": "mqls", "text": "MQLs: 10 against 20"}
    )
    assert volume["rule"] == "volume-behind"
    assert volume["action"].startswith("Marketing: close the gap on MQLs")


def test_due_items_cover_approvals_reviews_reports_consequences_and_validity(labels):
    data = governance(
        versions_pending=[
            {
                "number": 3,
                "message": "raise the MQL target",
                "pending": ["sales"],
                "takes_effect_on": None,
            },
        ],
        next_review="2025-11-24",
        reports=[
            {
                "commitment": "friction",
                "period": "2025-10",
                "due_at": "2025-11-05T23:00:00+00:00",
                "logged_at": None,
                "state": "missed",
            },
            {
                "commitment": "friction",
                "period": "2025-09",
                "due_at": "2025-10-05T22:00:00+00:00",
                "logged_at": "2025-10-01T10:00:00+00:00",
                "state": "met",
            },
        ],
        conditions=[
            {
                "kind": "consequence",
                "goal": "mqls",
                "missed_periods": 2,
                "text": "Extra budget",
                "met": True,
                "streak": 2,
            },
            {
                "kind": "cancellation",
                "goal": "sqls",
                "missed_periods": 3,
                "text": "Renegotiate",
                "met": False,
                "streak": 1,
            },
        ],
        valid_until="2025-12-15",
    )
    items = due_items(data, labels)
    assert [i["kind"] for i in items] == ["report", "approval", "consequence", "review", "validity"]
    texts = {i["kind"]: i["text"] for i in items}
    assert (
        texts["approval"] == "Version 3 (“raise the MQL target”) waits for approval by Sales (Bo)"
    )
    assert texts["review"].startswith("The quarterly review of the agreement is due on 24 Nov 2025")
    assert texts["report"] == "Report friction for 2025-10: not logged, due 5 Nov 2025 23:00 UTC"
    assert "mqls missed 2 months running" in texts["consequence"]
    assert texts["validity"] == "The agreement expires on 15 Dec 2025"
    assert {i["kind"]: i["state"] for i in items}["report"] == "overdue"


def test_nothing_is_due_when_the_review_is_far_and_all_is_kept(labels):
    assert due_items(governance(next_review="2026-02-01"), labels) == []
    overdue = due_items(governance(next_review="2025-10-01", review_overdue=True), labels)
    assert [(i["kind"], i["state"]) for i in overdue] == [("review", "overdue")]


def test_outputs_carry_the_same_status(report):
    weekly = build_weekly(report, governance(next_review="2025-11-24"))
    json.dumps(weekly)
    text = weekly_text(weekly)
    markdown = weekly_markdown(weekly)
    html = weekly_html(weekly)
    bottleneck, action = weekly["bottleneck"]["text"], weekly["improvement"]["action"]
    for output in (text.replace("\n", " "), markdown, html):
        assert "Performance against target" in output
        assert "Reviews and approvals due" in output
    assert bottleneck in markdown
    assert action in markdown
    assert action in html.replace("&#39;", "'")
    assert "Biggest bottleneck" in text
    assert "Suggested improvement" in text
    assert "<script" not in html
    assert "http" not in html.split("<body>")[1]
    assert "| MQLs |" in markdown
    assert date.fromisoformat(weekly["meta"]["period_start"]).weekday() == 0
