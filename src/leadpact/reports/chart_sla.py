"""Charts of the sales SLA: speed of the first follow-up, depth of follow-up attempts, and
the aging of leads sales has not connected with.

docs/report-outputs.md shows each chart and says how to read it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import altair as alt

from leadpact.reports.chart_labels import Labels, Report
from leadpact.reports.chart_style import (
    ACTUAL,
    ACTUAL_LIGHT,
    GOAL,
    MET,
    MISSED,
    WARN,
    empty_chart,
    inline_data,
    label_angle,
    recent_rows,
    target_layer,
    title_params,
)

__all__ = ["aging", "depth", "speed"]

_AGING_NAMES = {
    "under_1_week": "Under a week",
    "1_to_2_weeks": "1–2 weeks",
    "2_weeks_to_1_month": "2 weeks – a month",
    "over_1_month": "Over a month",
}
_AGING_STATUS = {"uncontacted": "Never contacted", "not_connected": "Contacted, not connected"}
_KIND_NAMES = {"response": "first response", "acceptance": "accept or reject"}


def speed(report: Report) -> alt.VConcatChart | alt.LayerChart:
    """Sales SLA speed: business time from handover to first follow-up per period (median,
    mean and 90th percentile) against the commitment's target line, and the share of clocks
    met within the target, one row per response or acceptance commitment."""
    labels = Labels.of(report)
    rows = recent_rows(report.get("speed", []), labels.period)
    commitments = list(dict.fromkeys(r["commitment"] for r in rows))
    if not commitments:
        return empty_chart("Sales SLA: speed", "The pact has no response or acceptance commitment")
    idle = [c for c in commitments if not any(r["clocks"] for r in rows if r["commitment"] == c)]
    commitments = [c for c in commitments if c not in idle]
    if not commitments:
        return empty_chart(
            "Sales SLA: speed of the first follow-up",
            f"No SLA clock started in these {labels.period}s ({', '.join(idle)})",
        )
    charts = [_speed_row(labels, c, [r for r in rows if r["commitment"] == c]) for c in commitments]
    return alt.vconcat(*charts).properties(
        title=title_params(
            "Sales SLA: speed of the first follow-up",
            "Business time from handover to the first touch (acceptance: to accept or reject), "
            f"per {labels.period}, against the target"
            + (f"; no clocks for {', '.join(idle)}" if idle else ""),
        )
    )


def _speed_row(labels: Labels, commitment: str, rows: list[Mapping[str, Any]]) -> alt.HConcatChart:
    target = float(rows[0]["target_seconds"])
    minutes = target < 3600
    unit, scale = ("minutes", 60.0) if minutes else ("hours", 3600.0)
    order = [labels.bucket(r["period_start"]) for r in rows]
    long: list[dict[str, Any]] = []
    for r, label in zip(rows, order, strict=True):
        for key, name in (
            ("median_seconds", "Median"),
            ("mean_seconds", "Mean"),
            ("p90_seconds", "90th percentile"),
        ):
            if r[key] is not None:
                long.append({"period": label, "stat": name, "value": r[key] / scale})
    x = alt.X(
        "period:O",
        sort=order,
        title=None,
        scale=alt.Scale(domain=order),
        axis=alt.Axis(labelAngle=label_angle(len(order))),
    )
    stats = ["Median", "Mean", "90th percentile"]
    lines = (
        alt.Chart(inline_data(long))
        .mark_line(point=True, strokeWidth=2.5)
        .encode(
            x=x,
            y=alt.Y("value:Q", title=f"Business {unit}"),
            color=alt.Color(
                "stat:N",
                scale=alt.Scale(domain=stats, range=[ACTUAL, "#5b8fd6", ACTUAL_LIGHT]),
                legend=alt.Legend(title=None),
                sort=stats,
            ),
            strokeDash=alt.StrokeDash(
                "stat:N",
                scale=alt.Scale(domain=stats, range=[[1, 0], [2, 2], [1, 0]]),
                legend=None,
            ),
        )
    )
    target_text = f"Target {labels.hours(target)}"
    time_chart = alt.layer(lines, target_layer(target / scale, target_text)).properties(
        width=540,
        height=160,
        title=title_params(
            f"{commitment} ({labels.stage_short_id(rows[0]['stage'])}): time to "
            f"{_KIND_NAMES.get(rows[0]['kind'], 'respond')}",
            _latest_speed(labels, rows),
            fontSize=14,
        ),
    )
    shares = [
        {
            "period": label,
            "rate": r["met_rate"],
            "text": labels.rate_short(r["met_rate"]),
            "detail": f"{r['met']} of {r['met'] + r['late'] + r['overdue']}",
        }
        for r, label in zip(rows, order, strict=True)
        if r["met_rate"] is not None
    ]
    base = alt.Chart(inline_data(shares)).encode(x=x)
    bars = base.mark_bar(color=ACTUAL, opacity=0.85).encode(
        y=alt.Y(
            "rate:Q",
            title="Met within target",
            axis=alt.Axis(format="%"),
            scale=alt.Scale(domain=[0, 1]),
        ),
        tooltip=["period:O", "text:N", "detail:N"],
    )
    text = base.mark_text(dy=-6, fontSize=10, color=GOAL).encode(y="rate:Q", text="text:N")
    share_chart = alt.layer(bars, text).properties(
        width=300,
        height=160,
        title=title_params("Share met within target", "target: every clock", fontSize=14),
    )
    return alt.hconcat(time_chart, share_chart)


def _latest_speed(labels: Labels, rows: list[Mapping[str, Any]]) -> str:
    last = next((r for r in reversed(rows) if r["clocks"]), None)
    if last is None:
        return "no clocks yet"
    return (
        f"{labels.bucket(last['period_start'])}: median {labels.hours(last['median_seconds'])}, "
        f"{labels.rate(last['met_rate'])} met, {last['late']} late, {last['overdue']} overdue"
    )


# --------------------------------------------------------------------------- depth


def depth(report: Report) -> alt.VConcatChart | alt.LayerChart:
    """Sales SLA depth: for leads not yet connected, the average number of follow-up
    attempts per period against the target, and how many such leads have had 0, 1, 2...
    attempts (red below the target, green at or above it)."""
    labels = Labels.of(report)
    section = report.get("depth", {})
    rows = recent_rows(section.get("by_period", []), labels.period)
    commitments = list(dict.fromkeys(r["commitment"] for r in rows))
    if not commitments:
        return empty_chart("Sales SLA: follow-up depth", "The pact has no follow-up commitment")
    charts = []
    for c in commitments:
        mine = [r for r in rows if r["commitment"] == c]
        spread = [r for r in section.get("attempts", []) if r["commitment"] == c]
        charts.append(_depth_row(labels, c, mine, spread))
    return alt.vconcat(*charts).properties(
        title=title_params(
            "Sales SLA: follow-up depth",
            "Leads handed over and not yet connected: follow-up attempts made, against the target",
        )
    )


def _depth_row(
    labels: Labels,
    commitment: str,
    rows: list[Mapping[str, Any]],
    spread: list[Mapping[str, Any]],
) -> alt.HConcatChart:
    target = int(rows[0]["target_attempts"])
    order = [labels.bucket(r["period_start"]) for r in rows]
    x = alt.X(
        "period:O",
        sort=order,
        title=None,
        scale=alt.Scale(domain=order),
        axis=alt.Axis(labelAngle=label_angle(len(order))),
    )
    points = [
        {
            "period": label,
            "mean": r["mean_attempts"],
            "text": labels.count(r["mean_attempts"]),
            "leads": r["leads"],
        }
        for r, label in zip(rows, order, strict=True)
        if r["mean_attempts"] is not None
    ]
    base = alt.Chart(inline_data(points)).encode(x=x)
    bars = base.mark_bar(color=ACTUAL, opacity=0.85).encode(
        y=alt.Y("mean:Q", title="Average attempts per lead", scale=alt.Scale(domainMin=0)),
        tooltip=["period:O", "text:N", "leads:Q"],
    )
    text = base.mark_text(dy=-6, fontSize=10, color=GOAL).encode(y="mean:Q", text="text:N")
    last = next((p for p in reversed(points)), None)
    subtitle = (
        "no leads waiting"
        if last is None
        else f"{last['period']}: {last['text']} attempts on average over {last['leads']} leads"
    )
    trend_chart = alt.layer(bars, text, target_layer(target, f"Target {target}")).properties(
        width=540,
        height=190,
        title=title_params(f"{commitment}: average attempts", subtitle, fontSize=14),
    )
    counts = [
        {
            "attempts": r["attempts"],
            "leads": r["leads"],
            "state": "At target" if r["attempts"] >= target else "Below target",
        }
        for r in spread
    ]
    waiting = sum(r["leads"] for r in counts)
    below = sum(r["leads"] for r in counts if r["state"] == "Below target")
    dist = alt.Chart(inline_data(counts)).encode(
        x=alt.X("attempts:O", title="Attempts made so far", axis=alt.Axis(labelAngle=0))
    )
    dist_bars = dist.mark_bar().encode(
        y=alt.Y("leads:Q", title="Leads not yet connected"),
        color=alt.Color(
            "state:N",
            scale=alt.Scale(domain=["Below target", "At target"], range=[MISSED, MET]),
            legend=alt.Legend(title=None),
        ),
    )
    dist_text = dist.mark_text(dy=-6, fontSize=10, color=GOAL).encode(y="leads:Q", text="leads:Q")
    dist_chart = alt.layer(dist_bars, dist_text).properties(
        width=300,
        height=190,
        title=title_params(
            "Waiting leads by attempts made",
            f"{below} of {waiting} below {target} attempts",
            fontSize=14,
        ),
    )
    return alt.hconcat(trend_chart, dist_chart)


def aging(report: Report) -> alt.LayerChart:
    """Leads with sales that are not connected, by how long ago they were last approached
    (under a week, 1–2 weeks, 2 weeks – a month, over a month): never contacted in red,
    contacted but not connected in amber."""
    labels = Labels.of(report)
    rows = [
        {
            "bucket": _AGING_NAMES.get(r["bucket"], r["bucket"]),
            "order": r["order"],
            "status": _AGING_STATUS.get(r["status"], r["status"]),
            "leads": r["leads"],
            "text": labels.count(r["leads"]),
        }
        for r in report.get("aging", [])
    ]
    if not rows:
        return empty_chart("Uncontacted leads", "No leads with sales")
    order = [_AGING_NAMES[k] for k in _AGING_NAMES]
    statuses = list(_AGING_STATUS.values())
    stale = sum(r["leads"] for r in rows if r["order"] >= 1)
    total = sum(r["leads"] for r in rows)
    base = alt.Chart(inline_data(rows)).encode(
        x=alt.X(
            "bucket:N",
            sort=order,
            title="Time since the last attempt (or the handover)",
            axis=alt.Axis(labelAngle=0),
        ),
        xOffset=alt.XOffset("status:N", sort=statuses),
    )
    bars = base.mark_bar().encode(
        y=alt.Y("leads:Q", title="Leads"),
        color=alt.Color(
            "status:N",
            sort=statuses,
            scale=alt.Scale(domain=statuses, range=[MISSED, WARN]),
            legend=alt.Legend(title=None),
        ),
        tooltip=["bucket:N", "status:N", "leads:Q"],
    )
    text = base.mark_text(dy=-6, fontSize=11, color=GOAL).encode(y="leads:Q", text="text:N")
    return alt.layer(bars, text).properties(
        width=640,
        height=220,
        title=title_params(
            "Leads waiting for sales, by time since the last attempt",
            f"{labels.count(total)} not connected; {labels.count(stale)} last approached "
            f"a week ago or more",
        ),
    )
