"""The goal side of the report: daily actuals per goal metric, period goals, attainment,
the monthly re-forecast from actuals, and the capacity check (PRODUCT.md part 4).

- Actuals per day (`metric_series`): ``leads`` (new leads), ``mqls`` (leads reaching the
  ``mql`` stage, else the handover stage), ``sqls``, ``meetings``, ``customers`` (leads
  reaching the won stage), ``revenue`` (won deal amounts by close day) and ``value`` (points
  of the leads created that day), each only when the pact has what it needs.
- The goal of the report period (`period_goal`): the pact's explicit target for the metric
  (without segment, deadline not passed), else the reverse funnel's figure; converted to the
  report period when the periods differ (`rollup.period_factor`).
- The re-forecast runs `core.goals.reforecast` with the actuals since the agreement's
  ``valid_from``: whole goal periods elapsed, revenue, close rate (new leads that reached won),
  stage rates, average won deal and the median days to win. The marketing share is not
  measured (the store holds only marketing leads) and stays as planned.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from leadpact.analytics.frames import ReportScope, ladder
from leadpact.analytics.metrics import Record, plan_start, won_stage
from leadpact.analytics.rollup import jsonable, period_factor, rate
from leadpact.core.goals import (
    Actuals,
    GoalMetric,
    Period,
    StageRates,
    check_capacity,
    daily_pace,
    period_end,
    reforecast,
    reverse_funnel,
    value_goal,
)
from leadpact.core.pact import Pact

__all__ = ["goals_section", "metric_series", "period_goal"]

Series = dict[str, dict[str, float]]


def metric_series(pact: Pact, records: dict[str, list[Record]], handover: str) -> Series:
    """Daily actuals per goal metric: {metric: {ISO day: value}}."""
    stages = {s.id for s in pact.stages}
    steps = ladder(pact)
    won = won_stage(pact)
    wanted = {
        GoalMetric.LEADS.value: steps[0],
        GoalMetric.MQLS.value: "mql" if "mql" in stages else handover,
        GoalMetric.SQLS.value: "sql" if "sql" in stages else None,
        GoalMetric.MEETINGS.value: "meeting" if "meeting" in stages else None,
        GoalMetric.CUSTOMERS.value: won,
    }
    series: Series = {}
    for metric, stage in wanted.items():
        if stage is None:
            continue
        daily: dict[str, float] = defaultdict(float)
        for r in records["pairs_daily"]:
            if r["from_stage"] == stage and r["to_stage"] == stage:
                daily[r["day_on"]] += r["leads"]
        series[metric] = dict(daily)
    series[GoalMetric.REVENUE.value] = {
        r["day_on"]: float(r["revenue"]) for r in records["deals_daily"]
    }
    if pact.goals is not None and pact.goals.values is not None:
        series[GoalMetric.VALUE.value] = {
            r["day_on"]: float(r["value"]) for r in records["value_daily"]
        }
    return series


def period_goal(pact: Pact, metric: str, scope: ReportScope) -> tuple[Decimal | None, str | None]:
    """The goal of `metric` for the report period and where it comes from (target, plan)."""
    goals = pact.goals
    if goals is None:
        return None, None
    for target in goals.targets:
        if target.metric.value == metric and target.segment is None:
            if target.deadline < scope.start:
                continue
            per = (target.period or goals.period).value
            return target.target * Decimal(repr(period_factor(scope, per))), "target"
    if goals.inputs is None:
        return None, None
    plan = reverse_funnel(goals.inputs)
    figures: dict[str, Decimal | int | None] = {
        "leads": plan.leads,
        "mqls": plan.mqls,
        "sqls": plan.sqls,
        "customers": plan.customers,
        "revenue": plan.marketing_revenue,
        "value": None,
    }
    if metric == "value" and goals.values is not None and goals.values.mix is not None:
        figures["value"] = value_goal(plan.leads, goals.values).value
    figure = figures.get(metric)
    if figure is None:
        return None, None
    factor = Decimal(repr(period_factor(scope, goals.period.value)))
    return Decimal(figure) * factor, "plan"


def _sum(daily: dict[str, float], first: date, last: date) -> float:
    return sum(v for d, v in daily.items() if first.isoformat() <= d <= last.isoformat())


def _targets(pact: Pact, scope: ReportScope, series: Series) -> list[Record]:
    goals = pact.goals
    if goals is None:
        return []
    as_of_day = scope.as_of.date()
    out = []
    for target in goals.targets:
        per = (target.period or goals.period).value
        goal = target.target * Decimal(repr(period_factor(scope, per)))
        daily = series.get(target.metric.value)
        actual = None
        if daily is not None and target.segment is None:
            actual = _sum(daily, scope.start, min(scope.end, as_of_day))
        pace = daily_pace(goal, scope.period, scope.start)
        elapsed = min(max((as_of_day - scope.start).days + 1, 0), pace.days)
        expected = float(pace.line[elapsed - 1].cumulative) if elapsed else 0.0
        out.append(
            {
                "metric": target.metric.value,
                "segment": target.segment,
                "description": target.description,
                "deadline": target.deadline.isoformat(),
                "expired": target.deadline < scope.start,
                "target": float(target.target),
                "target_period": per,
                "goal": float(goal),
                "actual": actual,
                "expected_to_date": expected,
                "attainment_rate": rate(actual, float(goal)),
                "on_track": None if actual is None else actual >= expected,
            }
        )
    return out


def _plan_periods(pact: Pact, scope: ReportScope) -> tuple[int, int] | None:
    """(periods elapsed, periods remaining) of the plan from valid_from to its last day."""
    goals = pact.goals
    if goals is None:
        return None
    start = plan_start(pact)
    deadlines = [t.deadline for t in goals.targets]
    last = pact.governance.valid_until or (max(deadlines) if deadlines else None)
    if last is None or scope.as_of.date() < start:
        return None
    elapsed = total = 0
    first = start
    while first <= last:
        end = period_end(goals.period, first)
        total += 1
        if end < scope.as_of.date():
            elapsed += 1
        first = end + timedelta(days=1)
    return elapsed, max(total - elapsed, 1)


def _reforecast(
    pact: Pact, scope: ReportScope, series: Series, records: dict[str, list[Record]]
) -> dict[str, Any] | None:
    goals = pact.goals
    periods = _plan_periods(pact, scope)
    if goals is None or goals.inputs is None or periods is None:
        return None
    first, last = plan_start(pact), scope.as_of.date()
    days = {
        r["day_on"]
        for r in records["pairs_daily"]
        if first.isoformat() <= r["day_on"] <= last.isoformat()
    }
    pairs: dict[tuple[str, str], int] = defaultdict(int)
    for r in records["pairs_daily"]:
        if r["day_on"] in days:
            pairs[(r["from_stage"], r["to_stage"])] += r["leads"]
    steps = ladder(pact)
    won = won_stage(pact)

    def stage_rate(a: str | None, b: str | None) -> float | None:
        if a is None or b is None:
            return None
        value = rate(pairs.get((a, b), 0), pairs.get((a, a), 0))
        return value if value is not None and 0 < value <= 1 else None

    stages = {s.id for s in pact.stages}
    named = {n: n if n in stages else None for n in ("mql", "sql")}
    revenue = _sum(series["revenue"], first, last)
    won_deals = sum(
        r["won_deals"]
        for r in records["deals_daily"]
        if first.isoformat() <= r["day_on"] <= last.isoformat()
    )
    cycle = next(
        (
            r
            for r in records["distributions"]
            if (r["metric"], r["scope"]) == ("days_to_win", "plan")
        ),
        None,
    )
    actuals = Actuals(
        periods_elapsed=periods[0],
        periods_remaining=periods[1],
        revenue=Decimal(repr(round(revenue, 2))),
        close_rate=stage_rate(steps[0], won),
        deal_size=Decimal(repr(round(revenue / won_deals, 2))) if won_deals and revenue else None,
        sales_cycle=None if cycle is None else timedelta(seconds=cycle["median"]),
        rates=StageRates(
            lead_to_mql=stage_rate(steps[0], named["mql"]),
            mql_to_sql=stage_rate(named["mql"], named["sql"]),
            sql_to_won=stage_rate(named["sql"], won),
        ),
    )
    result = reforecast(goals.inputs, actuals, Period(goals.period))
    return {
        "plan_start": first.isoformat(),
        "actuals": jsonable(actuals.model_dump()),
        **jsonable(result.model_dump()),
    }


def goals_section(
    pact: Pact, scope: ReportScope, series: Series, records: dict[str, list[Record]]
) -> dict[str, Any]:
    """The ``goals`` section: targets, plan, re-forecast and capacity."""
    goals = pact.goals
    plan = None if goals is None or goals.inputs is None else reverse_funnel(goals.inputs)
    capacity = None
    if goals is not None and goals.capacity is not None:
        handover = records["_meta"][0]["handover"]
        handed = sum(
            r["leads"]
            for r in records["pairs_daily"]
            if r["from_stage"] == handover
            and r["to_stage"] == handover
            and scope.start.isoformat() <= r["day_on"] <= scope.end.isoformat()
        )
        check = check_capacity(handed, goals.capacity)
        capacity = {
            "capacity_period": goals.period.value,
            "leads_counted": "leads that reached the handover stage in the report period",
            **jsonable(check.model_dump()),
        }
    return {
        "targets": _targets(pact, scope, series),
        "plan": None if plan is None else jsonable(plan.model_dump()),
        "reforecast": _reforecast(pact, scope, series, records),
        "capacity": capacity,
    }
