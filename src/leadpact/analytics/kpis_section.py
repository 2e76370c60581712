"""The report's KPIs (PRODUCT.md part 6) and rep scorecards with capacity, from a `Context`.

KPIs are measured over the report period (docs/report.md has the table of definitions); the
costs of the pact are scaled to the period's length. Rep scorecards put each owner's load
(leads handed over x attempts x minutes per lead) against the pact's capacity per rep.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from typing import TYPE_CHECKING

from leadpact.analytics.metrics import Record
from leadpact.analytics.rollup import period_factor, rate
from leadpact.core.pact import KpiName

if TYPE_CHECKING:
    from leadpact.analytics.sections import Context

__all__ = ["STATUSES", "kpi_records", "period_cost", "period_money", "rep_records"]

#: SLA clock statuses in the report, in order.
STATUSES = ("met", "late", "overdue", "pending")


def period_money(ctx: Context) -> dict[str, float]:
    """Won and lost deals and revenue closed in the report period."""
    won = lost = 0
    revenue = 0.0
    for r in ctx.records["deals_daily"]:
        if ctx.in_period(r["day_on"]):
            won += r["won_deals"]
            lost += r["lost_deals"]
            revenue += r["revenue"]
    return {"won_deals": won, "lost_deals": lost, "revenue": revenue}


def period_cost(ctx: Context) -> float | None:
    """The pact's marketing cost for the report period, or None without costs."""
    costs = ctx.pact.costs
    if costs is None:
        return None
    return costs.marketing * period_factor(ctx.scope, costs.period.value)


def kpi_records(ctx: Context) -> list[Record]:
    """The pact's KPIs for the report period, with targets."""
    first = ctx.ladder[0]
    mql = ctx.stage_id("mql") or ctx.handover
    meeting = ctx.stage_id("meeting")
    money = period_money(ctx)
    customers = ctx.period_pair(ctx.won, ctx.won) if ctx.won else None
    cost = period_cost(ctx)
    meetings = ctx.records["meetings"][0] if ctx.records["meetings"] else {}
    values: dict[KpiName, tuple[float | None, str, str]] = {
        KpiName.LEAD_TO_MQL_RATE: (
            rate(ctx.period_pair(first, mql), ctx.period_pair(first, first)),
            "rate",
            "higher",
        ),
        KpiName.MQL_TO_MEETING_RATE: (
            None
            if meeting is None
            else rate(ctx.period_pair(mql, meeting), ctx.period_pair(mql, mql)),
            "rate",
            "higher",
        ),
        KpiName.FIRST_RESPONSE_TIME: (
            ctx.stats("first_response", "period", "")["median"],
            "seconds",
            "lower",
        ),
        KpiName.NO_SHOW_RATE: (
            rate(meetings.get("no_shows"), meetings.get("meetings")),
            "rate",
            "lower",
        ),
        KpiName.WIN_RATE: (
            rate(money["won_deals"], money["won_deals"] + money["lost_deals"]),
            "rate",
            "higher",
        ),
        KpiName.REVENUE: (money["revenue"], "money", "higher"),
        KpiName.LEAD_TO_CUSTOMER_RATE: (
            None
            if ctx.won is None
            else rate(ctx.period_pair(first, ctx.won), ctx.period_pair(first, first)),
            "rate",
            "higher",
        ),
        KpiName.MARKETING_ROI: (
            None if cost is None else rate(money["revenue"] - cost, cost),
            "ratio",
            "higher",
        ),
        KpiName.COST_PER_CUSTOMER: (
            None if cost is None else rate(cost, customers),
            "money",
            "lower",
        ),
    }
    out = []
    for kpi in ctx.pact.kpis:
        value, unit, better = values[kpi.kpi]
        met = None
        if value is not None and kpi.target is not None:
            met = value >= kpi.target if better == "higher" else value <= kpi.target
        out.append(
            {
                "kpi": kpi.kpi.value,
                "value": value,
                "target": kpi.target,
                "unit": unit,
                "better": better,
                "met": met,
                "description": kpi.description,
            }
        )
    return out


def rep_records(ctx: Context) -> list[Record]:
    """One scorecard per lead owner for the report period."""
    clocks: dict[str | None, dict[str, int]] = defaultdict(lambda: dict.fromkeys(STATUSES, 0))
    for r in ctx.records["rep_clocks"]:
        clocks[r["owner"]][r["status"]] += r["clocks"]
    aging: dict[tuple[str | None, str], int] = defaultdict(int)
    for r in ctx.records["aging"]:
        aging[(r["owner"], r["status"])] += r["leads"]
    capacity = ctx.pact.goals.capacity if ctx.pact.goals else None
    period = ctx.pact.goals.period.value if ctx.pact.goals else "month"
    factor = period_factor(ctx.scope, period)
    out = []
    for r in ctx.records["rep_activity"]:
        owner = r["owner"]
        n = clocks[owner]
        decided = n["met"] + n["late"] + n["overdue"]
        st = ctx.stats("rep_speed", "period", owner or "")
        load = available = None
        if capacity is not None:
            minutes = Decimal(r["handed_over"]) * capacity.attempts * capacity.minutes_per_lead
            load = float(minutes / 60)
            available = float(capacity.hours_per_rep) * factor
        out.append(
            {
                "owner": owner,
                "team": r["team"],
                "leads": r["leads"],
                "handed_over": r["handed_over"],
                "touches": r["touches"],
                "clocks": sum(n.values()),
                **n,
                "breached": n["late"] + n["overdue"],
                "met_rate": rate(n["met"], decided),
                "median_response_seconds": st["median"],
                "p90_response_seconds": st["p90"],
                "uncontacted": aging[(owner, "uncontacted")],
                "not_connected": aging[(owner, "not_connected")],
                "won_deals": r["won_deals"],
                "revenue": r["revenue"],
                "load_hours": load,
                "capacity_hours": available,
                "utilisation_rate": rate(load, available),
            }
        )
    return out
