"""Charts of the funnel: leads entering each stage in the period, the funnel per period
(trend), and conversion by origin.

docs/report-outputs.md shows each chart and says how to read it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import altair as alt

from leadpact.reports.chart_labels import Labels, Report
from leadpact.reports.chart_style import (
    ACTUAL,
    ACTUAL_LIGHT,
    EXIT,
    GOAL,
    WIDTH,
    empty_chart,
    inline_data,
    recent_rows,
    title_params,
)

__all__ = ["conversion", "funnel", "trend"]


def funnel(report: Report) -> alt.HConcatChart | alt.LayerChart:
    """The funnel of the report period: leads entering each stage (funnel stages blue, exits
    grey) and, per step, the share of the period's entrants that reached the next stage."""
    labels = Labels.of(report)
    meta = report["meta"]
    section = report.get("funnel", {})
    stages = section.get("stages", [])
    start = meta["period_start"]
    counts = {
        r["stage"]: r["leads"] for r in section.get("by_period", []) if r["period_start"] == start
    }
    span = labels.span(start, meta["period_end"])
    if not stages:
        return empty_chart(f"Funnel, {span}", "The pact defines no stages")
    rows = [
        {
            "stage": s["name"],
            "leads": counts.get(s["stage"], 0),
            "text": labels.count(counts.get(s["stage"], 0)),
            "part": "Funnel stage" if s["on_ladder"] else "Left the funnel",
        }
        for s in stages
    ]
    order = [r["stage"] for r in rows]
    base = alt.Chart(inline_data(rows)).encode(
        y=alt.Y("stage:N", sort=order, title=None, axis=alt.Axis(labelLimit=200)),
    )
    bars = base.mark_bar().encode(
        x=alt.X("leads:Q", title="Leads entering the stage"),
        color=alt.Color(
            "part:N",
            scale=alt.Scale(domain=["Funnel stage", "Left the funnel"], range=[ACTUAL, EXIT]),
            legend=alt.Legend(title=None),
        ),
    )
    text = base.mark_text(align="left", dx=4, fontSize=12, color=GOAL).encode(
        x="leads:Q", text="text:N"
    )
    left = alt.layer(bars, text).properties(
        width=400,
        height=max(24 * len(rows), 120),
        title=title_params(f"Leads entering each stage, {span}", fontSize=14),
    )
    steps = [
        r
        for r in section.get("conversion", [])
        if r["period_start"] == start and _adjacent(stages, r["from_stage"], r["to_stage"])
    ]
    step_rows = [
        {
            "step": f"{labels.stage_short(report, r['from_stage'])} → "
            f"{labels.stage_short(report, r['to_stage'])}",
            "rate": r["rate"],
            "text": f"{labels.rate(r['rate'])} ({r['to_leads']} of {r['from_leads']})",
        }
        for r in steps
        if r["rate"] is not None
    ]
    step_order = [r["step"] for r in step_rows]
    step_base = alt.Chart(inline_data(step_rows)).encode(
        y=alt.Y("step:N", sort=step_order, title=None, axis=alt.Axis(labelLimit=200))
    )
    step_bars = step_base.mark_bar(color=ACTUAL, opacity=0.85).encode(
        x=alt.X(
            "rate:Q",
            title="Reached the next stage",
            axis=alt.Axis(format="%"),
            scale=alt.Scale(domain=[0, 1]),
        )
    )
    step_text = step_base.mark_text(align="left", dx=4, fontSize=12, color=GOAL).encode(
        x="rate:Q", text="text:N"
    )
    right = alt.layer(step_bars, step_text).properties(
        width=300,
        height=max(24 * len(step_rows), 120),
        title=title_params(
            "Conversion to the next stage",
            f"of the leads entering each stage in {span}, so far",
            fontSize=14,
        ),
    )
    return alt.hconcat(left, right).properties(title=title_params(f"Funnel, {span}"))


def _adjacent(stages: Sequence[Mapping[str, Any]], a: str, b: str) -> bool:
    ladder = [s["stage"] for s in stages if s["on_ladder"]]
    return a in ladder and b in ladder and ladder.index(b) == ladder.index(a) + 1


def trend(report: Report) -> alt.ConcatChart | alt.LayerChart:
    """The funnel over time: leads entering each funnel stage per period (MQLs per month, wins
    per month...), one small bar chart per stage with its own scale."""
    labels = Labels.of(report)
    section = report.get("funnel", {})
    ladder = [s for s in section.get("stages", []) if s["on_ladder"]]
    rows = recent_rows(section.get("by_period", []), labels.period)
    if not ladder or not rows:
        return empty_chart("Funnel per period", "No data yet")
    order = list(dict.fromkeys(labels.bucket(r["period_start"]) for r in rows))
    today = report["meta"]["as_of"][:10]
    partial = {labels.bucket(r["period_start"]) for r in rows if r["period_end"] >= today}
    panels = []
    columns = min(len(ladder), 4)
    width = max(int((WIDTH - 30 * (columns - 1)) / columns), 180)
    for s in ladder:
        mine = [
            {
                "period": labels.bucket(r["period_start"]),
                "leads": r["leads"],
                "state": "So far" if labels.bucket(r["period_start"]) in partial else "Complete",
            }
            for r in rows
            if r["stage"] == s["stage"]
        ]
        total = sum(r["leads"] for r in mine)
        base = alt.Chart(inline_data(mine)).encode(
            x=alt.X(
                "period:O",
                sort=order,
                title=None,
                axis=alt.Axis(labelAngle=-50 if len(order) > 4 else 0),
            ),
        )
        bars = base.mark_bar().encode(
            y=alt.Y("leads:Q", title=f"Leads per {labels.period}", axis=alt.Axis(minExtent=36)),
            color=alt.Color(
                "state:N",
                scale=alt.Scale(domain=["Complete", "So far"], range=[ACTUAL, ACTUAL_LIGHT]),
                legend=None,
            ),
            tooltip=["period:O", "leads:Q", "state:N"],
        )
        panels.append(
            alt.layer(bars).properties(
                width=width,
                height=150,
                title=title_params(
                    s["name"],
                    f"{labels.count(total)} in {len(order)} {labels.period}s",
                    fontSize=14,
                ),
            )
        )
    return alt.concat(*panels, columns=columns).properties(
        title=title_params(
            f"Funnel per {labels.period}",
            f"Leads entering each funnel stage per {labels.period}"
            + (f"; light bar: {', '.join(sorted(partial))} so far" if partial else ""),
        )
    )


def conversion(report: Report, dimension: str = "source") -> alt.LayerChart:
    """Conversion by origin (lead source): the share of all leads since the first data that
    reached the won stage (or the last funnel stage), per source, with the overall rate."""
    labels = Labels.of(report)
    section = report.get("funnel", {})
    ladder = [s["stage"] for s in section.get("stages", []) if s["on_ladder"]]
    won = next((s["stage"] for s in section.get("stages", []) if s["outcome"] == "won"), None)
    title = f"Conversion by {dimension}"
    if len(ladder) < 2:
        return empty_chart(title, "The funnel has one stage")
    first, last = ladder[0], won or ladder[-1]
    rows = [
        r
        for r in section.get("breakdown", [])
        if r["scope"] == "all"
        and r["dimension"] == dimension
        and (r["from_stage"], r["to_stage"]) == (first, last)
    ]
    if not rows:
        return empty_chart(title, f"No leads with a {dimension} yet")
    data = sorted(
        (
            {
                "value": "(none)" if r["value"] is None else str(r["value"]),
                "rate": r["rate"],
                "text": f"{labels.rate(r['rate'])} ({labels.count(r['to_leads'])} of "
                f"{labels.count(r['from_leads'])})",
            }
            for r in rows
        ),
        key=lambda r: -(r["rate"] or 0.0),
    )
    to_all = sum(r["to_leads"] for r in rows)
    from_all = sum(r["from_leads"] for r in rows)
    overall = to_all / from_all if from_all else None
    for r in data:
        r["part"] = dimension.capitalize()
    data.insert(
        0,
        {
            "value": f"All {dimension}s",
            "rate": overall,
            "text": f"{labels.rate(overall)} ({labels.count(to_all)} of {labels.count(from_all)})",
            "part": "All",
        },
    )
    order = [r["value"] for r in data]
    base = alt.Chart(inline_data(data)).encode(
        y=alt.Y("value:N", sort=order, title=None, axis=alt.Axis(labelLimit=220))
    )
    step = f"{labels.stage_short(report, first)} → {labels.stage_short(report, last)}"
    bars = base.mark_bar().encode(
        x=alt.X(
            "rate:Q",
            title=f"Share that reached {labels.stage(report, last)}",
            axis=alt.Axis(format="~%"),
        ),
        color=alt.Color(
            "part:N",
            scale=alt.Scale(domain=["All", dimension.capitalize()], range=[GOAL, ACTUAL]),
            legend=None,
        ),
    )
    text = base.mark_text(align="left", dx=4, fontSize=11, color=GOAL).encode(
        x="rate:Q", text="text:N"
    )
    layers: list[Any] = [bars, text]
    first_day = report["meta"].get("first_day")
    since = f"all leads since {labels.day(first_day)}" if first_day else "all leads"
    return alt.layer(*layers).properties(
        width=640,
        height=max(22 * len(data), 120),
        title=title_params(
            f"{title}: {step}",
            f"{since}; {labels.count(to_all)} of {labels.count(from_all)} converted "
            f"({labels.rate(overall)})",
        ),
    )
