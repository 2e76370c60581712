"""Charts of figures against their goals: the marketing SLA waterfall (cumulative goal line
against cumulative actual) and the KPI tiles (each KPI against its target).

docs/report-outputs.md shows each chart and says how to read it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import altair as alt

from leadpact.reports.chart_labels import Labels, Report
from leadpact.reports.chart_style import (
    ACTUAL,
    GOAL,
    MET,
    MISSED,
    UNKNOWN,
    empty_chart,
    inline_data,
    title_params,
)

__all__ = ["WATERFALL_METRICS", "kpi_tiles", "waterfall"]

#: Waterfall metrics in reading order (the sources' marketing SLA report).
WATERFALL_METRICS = ("leads", "mqls", "sqls", "meetings", "customers", "revenue", "value")


def waterfall(report: Report) -> alt.ConcatChart | alt.LayerChart:
    """The marketing SLA waterfall: cumulative goal line (goal × day / n) against cumulative
    actual over the report period, one panel per goal metric (leads, MQLs, SQLs, revenue,
    value...).

    Metrics with a goal are drawn; without any goal, the metrics with data (actual only).
    The subtitle says how far the actual is ahead of or behind the goal line today, in green
    or red.
    """
    labels = Labels.of(report)
    meta = report["meta"]
    rows = report.get("waterfall", [])
    by_metric: dict[str, list[Mapping[str, Any]]] = {}
    for r in rows:
        by_metric.setdefault(r["metric"], []).append(r)
    with_goal = [
        m for m in WATERFALL_METRICS if any(r["goal"] is not None for r in by_metric.get(m, []))
    ]
    metrics = with_goal or [
        m for m in WATERFALL_METRICS if any(r["actual"] for r in by_metric.get(m, []))
    ]
    span = labels.span(meta["period_start"], meta["period_end"])
    if not metrics:
        return empty_chart(f"Goal against actual, {span}", "No goals and no data in this period")
    panels = [_waterfall_panel(labels, m, by_metric[m]) for m in metrics]
    columns = 3 if len(panels) > 4 else min(len(panels), 4)
    subtitle = (
        "Dashed: the goal line (goal × day / days in the period). Blue: the actual, added up "
        "day by day."
    )
    return alt.concat(*panels, columns=columns).properties(
        title=title_params(f"Marketing SLA: goal against actual, {span}", subtitle)
    )


def _waterfall_panel(labels: Labels, metric: str, rows: list[Mapping[str, Any]]) -> alt.LayerChart:
    money = metric == "revenue"
    long: list[dict[str, Any]] = []
    today: Mapping[str, Any] | None = None
    for r in rows:
        if r["goal_cumulative"] is not None:
            long.append({"on": r["on"], "series": "Goal line", "value": r["goal_cumulative"]})
        if r["actual_cumulative"] is not None:
            long.append({"on": r["on"], "series": "Actual", "value": r["actual_cumulative"]})
            today = r
    goal = next((r["goal"] for r in rows if r["goal"] is not None), None)
    actual = None if today is None else today["actual_cumulative"]
    expected = None if today is None else today["goal_cumulative"]
    show = labels.money_short if money else labels.count
    first = f"{show(actual)} so far"
    second = "no goal"
    colour = UNKNOWN
    if expected is not None and actual is not None:
        gap = actual - expected
        size = show(abs(gap)) if money else labels.lang.number(abs(gap), 0)
        first += f", {size} {'ahead' if gap >= 0 else 'behind'}"
        colour = MET if gap >= 0 else MISSED
    if goal is not None:
        second = f"goal line today {show(expected)} · goal {show(goal)}"
    parts = [first, second]
    unit = f" ({labels.currency})" if money else ""
    name = labels.metric(metric)
    y_title = f"Cumulative{unit}"
    colour_scale = alt.Scale(domain=["Goal line", "Actual"], range=[GOAL, ACTUAL])
    base = alt.Chart(inline_data(long)).encode(
        x=alt.X(
            "on:T",
            title=None,
            axis=alt.Axis(format="%-d %b", labelAngle=0, tickCount=5, grid=False),
        ),
        y=alt.Y(
            "value:Q",
            title=y_title,
            axis=alt.Axis(format="~s" if money else ",~r", tickCount=5, minExtent=40),
        ),
        color=alt.Color("series:N", scale=colour_scale, legend=alt.Legend(title=None)),
        strokeDash=alt.StrokeDash(
            "series:N",
            scale=alt.Scale(domain=["Goal line", "Actual"], range=[[6, 4], [1, 0]]),
            legend=None,
        ),
    )
    lines = base.mark_line(strokeWidth=2.5, interpolate="linear")
    end = (
        alt.Chart(inline_data([] if today is None else [{"on": today["on"], "value": actual}]))
        .mark_point(filled=True, size=60, color=ACTUAL)
        .encode(x="on:T", y="value:Q")
    )
    return alt.layer(lines, end).properties(
        width=280,
        height=170,
        title=title_params(name, parts, subtitleColor=colour, fontSize=14),
    )


def kpi_tiles(report: Report, columns: int = 3) -> alt.LayerChart:
    """The pact's KPIs as tiles: the value large, the target under it; green when met, red
    when missed, grey when there is no value or no target."""
    labels = Labels.of(report)
    kpis = report.get("kpis", [])
    if not kpis:
        return empty_chart("KPIs", "The pact names no KPIs")
    columns = min(columns, len(kpis))
    tiles = []
    for i, k in enumerate(kpis):
        state = "No data" if k["met"] is None else ("Met" if k["met"] else "Missed")
        better = "at most" if k["better"] == "lower" else "at least"
        target = k["target"]
        tiles.append(
            {
                "col": i % columns,
                "row": i // columns,
                "name": labels.kpi(k["kpi"]),
                "value": labels.value(k["value"], k["unit"]),
                "target": "no target"
                if target is None
                else f"target {better} {labels.value(target, k['unit'])}",
                "state": state,
            }
        )
    rows = (len(kpis) + columns - 1) // columns
    states = ["Met", "Missed", "No data"]
    base = alt.Chart(inline_data(tiles)).encode(
        x=alt.X("col:O", axis=None, scale=alt.Scale(paddingInner=0.08)),
        y=alt.Y("row:O", axis=None, scale=alt.Scale(paddingInner=0.12)),
    )
    rect = base.mark_rect(cornerRadius=6, opacity=0.14, stroke=None).encode(
        color=alt.Color(
            "state:N", scale=alt.Scale(domain=states, range=[MET, MISSED, UNKNOWN]), legend=None
        )
    )
    edge = base.mark_rect(cornerRadius=6, fillOpacity=0, strokeWidth=2).encode(
        stroke=alt.Stroke(
            "state:N", scale=alt.Scale(domain=states, range=[MET, MISSED, UNKNOWN]), legend=None
        )
    )
    name = base.mark_text(dy=-30, fontSize=13, color=GOAL).encode(text="name:N")
    value = base.mark_text(dy=2, fontSize=28, fontWeight="bold").encode(
        text="value:N",
        color=alt.Color(
            "state:N", scale=alt.Scale(domain=states, range=[MET, MISSED, UNKNOWN]), legend=None
        ),
    )
    target_text = base.mark_text(dy=32, fontSize=12, color=GOAL).encode(text="target:N")
    meta = report["meta"]
    met = sum(1 for k in kpis if k["met"] is True)
    judged = sum(1 for k in kpis if k["met"] is not None)
    return alt.layer(rect, edge, name, value, target_text).properties(
        width=columns * 300,
        height=rows * 120,
        title=title_params(
            f"KPIs, {labels.span(meta['period_start'], meta['period_end'])}",
            f"{met} of {judged} KPI{'' if judged == 1 else 's'} with a value met "
            f"{'its' if judged == 1 else 'their'} target"
            + (f"; {len(kpis) - judged} without data (grey)" if judged < len(kpis) else ""),
        ),
    )
