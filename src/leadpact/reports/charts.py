"""The report's charts as Vega-Lite specs (Altair), one function per chart, from the report dict.

Each function takes the report (the JSON contract of `services.reporting.build_report`, see
docs/report.md) and returns an Altair chart; `chart_specs(report)` returns them all as plain
Vega-Lite dicts, ready for vega-embed (web) or vl-convert (`render_chart`: PNG, SVG, PDF,
without a browser). docs/report-outputs.md shows each chart and says how to read it.

Conventions, the same in every chart: the goal or target is a dashed dark-grey line with its
value written on it; what actually happened is blue; green and red say met and missed (only
where the report says so); every axis names its unit; every chart's subtitle says the figure
a reader would otherwise have to work out. Values are formatted here (`Labels`), not by Vega,
so the charts read the same in the browser, in PNG and in PDF.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal

import altair as alt

from leadpact.core.pact import KpiName
from leadpact.reports.i18n import Lang, get_lang
from leadpact.reports.phrases import kpi_label, metric_label

__all__ = [
    "CHARTS",
    "Labels",
    "aging",
    "chart",
    "chart_specs",
    "conversion",
    "depth",
    "funnel",
    "kpi_tiles",
    "render_chart",
    "speed",
    "trend",
    "waterfall",
]

Report = Mapping[str, Any]
ChartFormat = Literal["svg", "png", "pdf"]

#: Colours: goal/target lines, actual figures, met/missed, and neutral parts.
GOAL = "#3d434b"
ACTUAL = "#1f5fbf"
ACTUAL_LIGHT = "#8fb3e6"
MET = "#2e7d32"
MISSED = "#c62828"
UNKNOWN = "#8a9099"
EXIT = "#b4bbc4"
WARN = "#e08a00"
FONT = "Liberation Sans, Arial, Helvetica, sans-serif"
#: Full width of a chart row in pixels (A4 landscape at 96 dpi, less margins, is ~1000 px).
WIDTH = 960
#: Most buckets a trend chart shows (the latest ones).
TREND_BUCKETS = {"day": 31, "week": 26, "month": 24, "quarter": 12}
#: Waterfall metrics in reading order (the sources' marketing SLA report).
WATERFALL_METRICS = ("leads", "mqls", "sqls", "meetings", "customers", "revenue", "value")
_AGING_NAMES = {
    "under_1_week": "Under a week",
    "1_to_2_weeks": "1–2 weeks",
    "2_weeks_to_1_month": "2 weeks – a month",
    "over_1_month": "Over a month",
}
_AGING_STATUS = {"uncontacted": "Never contacted", "not_connected": "Contacted, not connected"}
_ACRONYMS = {"mql", "sal", "sql", "sqo", "pql"}
_KIND_NAMES = {"response": "first response", "acceptance": "accept or reject"}


def _config() -> dict[str, Any]:
    return {
        "font": FONT,
        "view": {"stroke": None},
        "title": {"fontSize": 15, "anchor": "start", "subtitleFontSize": 12, "offset": 8},
        "axis": {"labelFontSize": 11, "titleFontSize": 12, "titleFontWeight": "normal"},
        "legend": {"labelFontSize": 12, "titleFontSize": 12, "orient": "top"},
        "header": {"labelFontSize": 13, "titleFontSize": 13},
        "concat": {"spacing": 28},
    }


# --------------------------------------------------------------------------- labels


@dataclass(frozen=True)
class Labels:
    """How the report's values are written: numbers, money, rates, durations, periods."""

    lang: Lang
    currency: str
    period: str

    @classmethod
    def of(cls, report: Report, lang: str = "en") -> Labels:
        """The labels of a report (its currency and period length)."""
        meta = report.get("meta", {})
        return cls(get_lang(lang), meta.get("currency", "EUR"), meta.get("period", "month"))

    def count(self, value: float | None) -> str:
        """A count or other plain figure (1,234; 12.5)."""
        return "–" if value is None else self.lang.number(value, 1 if abs(value) < 100 else 0)

    def money(self, value: float | None) -> str:
        """An amount in the report's currency, whole units."""
        return "–" if value is None else self.lang.money(round(value), self.currency)

    def money_short(self, value: float | None) -> str:
        """An amount, compact (DKK 684.7K), for chart subtitles."""
        from babel.numbers import format_compact_currency

        if value is None:
            return "–"
        text = format_compact_currency(
            value, self.currency, locale=self.lang.locale, fraction_digits=1
        )
        return str(text).replace(self.currency, self.currency + "\u00a0", 1)

    def rate(self, value: float | None) -> str:
        """A 0..1 rate as a percentage (35.2%)."""
        return "–" if value is None else self.lang.percent(value)

    def rate_short(self, value: float | None) -> str:
        """A 0..1 rate as a whole percentage (35%), for labels on bars."""
        from babel.numbers import parse_pattern

        if value is None:
            return "–"
        pattern = parse_pattern(self.lang.locale.percent_formats[None].pattern)
        pattern.frac_prec = (0, 0)
        return str(pattern.apply(value, self.lang.locale))

    def hours(self, seconds: float | None) -> str:
        """Business time: minutes under an hour, else hours with one decimal."""
        if seconds is None:
            return "–"
        if seconds < 3600:
            return f"{self.lang.number(seconds / 60, 0)} min"
        return f"{self.lang.number(seconds / 3600, 1)} h"

    def days(self, value: float | None) -> str:
        """A number of days, one decimal under ten."""
        if value is None:
            return "–"
        return f"{self.lang.number(value, 1 if value < 10 else 0)} days"

    def value(self, value: float | None, unit: str | None) -> str:
        """A value in its report unit (rate, seconds, money, ratio, count)."""
        if unit == "rate":
            return self.rate(value)
        if unit == "seconds":
            return self.hours(value)
        if unit == "money":
            return self.money(value)
        if unit == "ratio":
            return "–" if value is None else f"{self.lang.number(value, 2)}×"
        return self.count(value)

    def metric(self, metric: str) -> str:
        """A goal metric's name (MQLs, Revenue)."""
        return metric_label(self.lang, metric)

    def kpi(self, kpi: str) -> str:
        """A KPI's name."""
        try:
            return kpi_label(self.lang, KpiName(kpi))
        except ValueError:
            return kpi.replace("_", " ").capitalize()

    def day(self, on: str | date) -> str:
        """A day, short (17 Dec 2025)."""
        from babel.dates import format_date

        day = date.fromisoformat(on) if isinstance(on, str) else on
        return str(format_date(day, "d MMM y", locale=self.lang.locale))

    def instant(self, at: str) -> str:
        """An ISO instant as day and UTC time (17 Dec 2025 12:00 UTC)."""
        moment = datetime.fromisoformat(at)
        return f"{self.day(moment.date())} {moment:%H:%M} UTC"

    def bucket(self, start: str, period: str | None = None) -> str:
        """A trend bucket by its first day: Dec 2025, Q4 2025, 1 Dec (weeks and days)."""
        from babel.dates import format_date

        kind = period or self.period
        day = date.fromisoformat(start)
        locale = self.lang.locale
        if kind == "month" and day.day == 1:
            return str(format_date(day, "MMM y", locale=locale))
        if kind == "quarter" and day.day == 1 and day.month in (1, 4, 7, 10):
            return f"Q{(day.month - 1) // 3 + 1} {day.year}"
        if kind in ("day", "week"):
            return str(format_date(day, "d MMM", locale=locale))
        return self.day(day)

    def span(self, start: str, end: str) -> str:
        """A report period in words: December 2025, week of 1 Dec 2025, 1–14 Dec 2025."""
        from babel.dates import format_date

        first, last = date.fromisoformat(start), date.fromisoformat(end)
        locale = self.lang.locale
        if self.period == "month" and first.day == 1:
            return str(format_date(first, "MMMM y", locale=locale))
        if self.period == "quarter" and first.day == 1 and first.month in (1, 4, 7, 10):
            return f"Q{(first.month - 1) // 3 + 1} {first.year}"
        if self.period == "day":
            return self.day(first)
        if self.period == "week" and first.weekday() == 0:
            return f"week {first.isocalendar()[1]} ({self.day(first)} – {self.day(last)})"
        return f"{self.day(first)} – {self.day(last)}"

    def span_of(self, start: str, end: str) -> str:
        """Any period by its bounds: a calendar month, an ISO week, a quarter, a day, or a
        range of days."""
        import calendar

        from babel.dates import format_date

        first, last = date.fromisoformat(start), date.fromisoformat(end)
        month_end = calendar.monthrange(first.year, first.month)[1]
        if first == last:
            return self.day(first)
        if first.day == 1 and last == first.replace(day=month_end):
            return str(format_date(first, "MMMM y", locale=self.lang.locale))
        if first.weekday() == 0 and (last - first).days == 6:
            return f"week {first.isocalendar()[1]}, {self.day(first)}"
        if first.day == 1 and first.month in (1, 4, 7, 10) and (last - first).days in range(89, 93):
            return f"Q{(first.month - 1) // 3 + 1} {first.year}"
        return f"{self.day(first)} – {self.day(last)}"

    def stage_short_id(self, stage_id: str) -> str:
        """A stage id as written in titles when its name is not at hand (MQL, meeting)."""
        return stage_id.upper() if stage_id in _ACRONYMS else stage_id

    def stage(self, report: Report, stage_id: str) -> str:
        """A stage's name from the report's funnel."""
        for s in report.get("funnel", {}).get("stages", []):
            if s["stage"] == stage_id:
                return str(s["name"])
        return stage_id

    def stage_short(self, report: Report, stage_id: str) -> str:
        """A stage as written in sentences: the funnel's acronyms (MQL, SAL, SQL) in capitals,
        else its name."""
        if stage_id in _ACRONYMS:
            return stage_id.upper()
        return self.stage(report, stage_id)


# --------------------------------------------------------------------------- helpers


def _data(rows: Sequence[Mapping[str, Any]]) -> alt.InlineData:
    return alt.InlineData(values=[dict(r) for r in rows])


def _title(text: str, subtitle: str | Sequence[str] | None = None, **kw: Any) -> alt.TitleParams:
    if subtitle is None:
        return alt.TitleParams(text, **kw)
    return alt.TitleParams(text, subtitle=subtitle, **kw)


def _empty(title: str, message: str, width: int = WIDTH) -> alt.LayerChart:
    """A chart that says there is nothing to draw, and why."""
    text = (
        alt.Chart(_data([{"message": message}]))
        .mark_text(fontSize=14, color=UNKNOWN, align="center")
        .encode(text="message:N")
    )
    return alt.layer(text).properties(title=_title(title), width=width, height=60)


def _target_layer(value: float, label: str, *, axis: Literal["x", "y"] = "y") -> alt.LayerChart:
    """A dashed target line with its label written on it, at the right end (or top)."""
    base = alt.Chart(_data([{"target": value, "label": label}]))
    if axis == "y":
        rule = base.mark_rule(color=GOAL, strokeDash=[6, 4], strokeWidth=2).encode(
            y=alt.Y("target:Q")
        )
        text = base.mark_text(
            align="right", baseline="bottom", dx=-2, dy=-3, color=GOAL, fontWeight="bold"
        ).encode(y="target:Q", x=alt.value("width"), text="label:N")
    else:
        rule = base.mark_rule(color=GOAL, strokeDash=[6, 4], strokeWidth=2).encode(
            x=alt.X("target:Q")
        )
        text = base.mark_text(
            align="left", baseline="top", dx=4, dy=2, color=GOAL, fontWeight="bold"
        ).encode(x="target:Q", y=alt.value(0), text="label:N")
    return alt.layer(rule, text)


def _recent(rows: Sequence[Mapping[str, Any]], period: str) -> list[Mapping[str, Any]]:
    """Rows of the latest trend buckets only (TREND_BUCKETS of the report's period)."""
    starts = sorted({r["period_start"] for r in rows})
    keep = set(starts[-TREND_BUCKETS.get(period, 24) :])
    return [r for r in rows if r["period_start"] in keep]


def _label_angle(count: int) -> int:
    return -40 if count > 8 else 0


# --------------------------------------------------------------------------- waterfall


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
        return _empty(f"Goal against actual, {span}", "No goals and no data in this period")
    panels = [_waterfall_panel(labels, m, by_metric[m]) for m in metrics]
    columns = 3 if len(panels) > 4 else min(len(panels), 4)
    subtitle = (
        "Dashed: the goal line (goal × day / days in the period). Blue: the actual, added up "
        "day by day."
    )
    return alt.concat(*panels, columns=columns).properties(
        title=_title(f"Marketing SLA: goal against actual, {span}", subtitle)
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
    base = alt.Chart(_data(long)).encode(
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
        alt.Chart(_data([] if today is None else [{"on": today["on"], "value": actual}]))
        .mark_point(filled=True, size=60, color=ACTUAL)
        .encode(x="on:T", y="value:Q")
    )
    return alt.layer(lines, end).properties(
        width=280,
        height=170,
        title=_title(name, parts, subtitleColor=colour, fontSize=14),
    )


# --------------------------------------------------------------------------- speed


def speed(report: Report) -> alt.VConcatChart | alt.LayerChart:
    """Sales SLA speed: business time from handover to first follow-up per period (median,
    mean and 90th percentile) against the commitment's target line, and the share of clocks
    met within the target, one row per response or acceptance commitment."""
    labels = Labels.of(report)
    rows = _recent(report.get("speed", []), labels.period)
    commitments = list(dict.fromkeys(r["commitment"] for r in rows))
    if not commitments:
        return _empty("Sales SLA: speed", "The pact has no response or acceptance commitment")
    idle = [c for c in commitments if not any(r["clocks"] for r in rows if r["commitment"] == c)]
    commitments = [c for c in commitments if c not in idle]
    if not commitments:
        return _empty(
            "Sales SLA: speed of the first follow-up",
            f"No SLA clock started in these {labels.period}s ({', '.join(idle)})",
        )
    charts = [_speed_row(labels, c, [r for r in rows if r["commitment"] == c]) for c in commitments]
    return alt.vconcat(*charts).properties(
        title=_title(
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
        axis=alt.Axis(labelAngle=_label_angle(len(order))),
    )
    stats = ["Median", "Mean", "90th percentile"]
    lines = (
        alt.Chart(_data(long))
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
    time_chart = alt.layer(lines, _target_layer(target / scale, target_text)).properties(
        width=540,
        height=160,
        title=_title(
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
    base = alt.Chart(_data(shares)).encode(x=x)
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
        title=_title("Share met within target", "target: every clock", fontSize=14),
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
    rows = _recent(section.get("by_period", []), labels.period)
    commitments = list(dict.fromkeys(r["commitment"] for r in rows))
    if not commitments:
        return _empty("Sales SLA: follow-up depth", "The pact has no follow-up commitment")
    charts = []
    for c in commitments:
        mine = [r for r in rows if r["commitment"] == c]
        spread = [r for r in section.get("attempts", []) if r["commitment"] == c]
        charts.append(_depth_row(labels, c, mine, spread))
    return alt.vconcat(*charts).properties(
        title=_title(
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
        axis=alt.Axis(labelAngle=_label_angle(len(order))),
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
    base = alt.Chart(_data(points)).encode(x=x)
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
    trend_chart = alt.layer(bars, text, _target_layer(target, f"Target {target}")).properties(
        width=540,
        height=190,
        title=_title(f"{commitment}: average attempts", subtitle, fontSize=14),
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
    dist = alt.Chart(_data(counts)).encode(
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
        title=_title(
            "Waiting leads by attempts made",
            f"{below} of {waiting} below {target} attempts",
            fontSize=14,
        ),
    )
    return alt.hconcat(trend_chart, dist_chart)


# --------------------------------------------------------------------------- funnel


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
        return _empty(f"Funnel, {span}", "The pact defines no stages")
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
    base = alt.Chart(_data(rows)).encode(
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
        title=_title(f"Leads entering each stage, {span}", fontSize=14),
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
    step_base = alt.Chart(_data(step_rows)).encode(
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
        title=_title(
            "Conversion to the next stage",
            f"of the leads entering each stage in {span}, so far",
            fontSize=14,
        ),
    )
    return alt.hconcat(left, right).properties(title=_title(f"Funnel, {span}"))


def _adjacent(stages: Sequence[Mapping[str, Any]], a: str, b: str) -> bool:
    ladder = [s["stage"] for s in stages if s["on_ladder"]]
    return a in ladder and b in ladder and ladder.index(b) == ladder.index(a) + 1


def trend(report: Report) -> alt.ConcatChart | alt.LayerChart:
    """The funnel over time: leads entering each funnel stage per period (MQLs per month, wins
    per month...), one small bar chart per stage with its own scale."""
    labels = Labels.of(report)
    section = report.get("funnel", {})
    ladder = [s for s in section.get("stages", []) if s["on_ladder"]]
    rows = _recent(section.get("by_period", []), labels.period)
    if not ladder or not rows:
        return _empty("Funnel per period", "No data yet")
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
        base = alt.Chart(_data(mine)).encode(
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
                title=_title(
                    s["name"],
                    f"{labels.count(total)} in {len(order)} {labels.period}s",
                    fontSize=14,
                ),
            )
        )
    return alt.concat(*panels, columns=columns).properties(
        title=_title(
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
        return _empty(title, "The funnel has one stage")
    first, last = ladder[0], won or ladder[-1]
    rows = [
        r
        for r in section.get("breakdown", [])
        if r["scope"] == "all"
        and r["dimension"] == dimension
        and (r["from_stage"], r["to_stage"]) == (first, last)
    ]
    if not rows:
        return _empty(title, f"No leads with a {dimension} yet")
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
    base = alt.Chart(_data(data)).encode(
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
        title=_title(
            f"{title}: {step}",
            f"{since}; {labels.count(to_all)} of {labels.count(from_all)} converted "
            f"({labels.rate(overall)})",
        ),
    )


# --------------------------------------------------------------------------- aging


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
        return _empty("Uncontacted leads", "No leads with sales")
    order = [_AGING_NAMES[k] for k in _AGING_NAMES]
    statuses = list(_AGING_STATUS.values())
    stale = sum(r["leads"] for r in rows if r["order"] >= 1)
    total = sum(r["leads"] for r in rows)
    base = alt.Chart(_data(rows)).encode(
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
        title=_title(
            "Leads waiting for sales, by time since the last attempt",
            f"{labels.count(total)} not connected; {labels.count(stale)} last approached "
            f"a week ago or more",
        ),
    )


# --------------------------------------------------------------------------- KPI tiles


def kpi_tiles(report: Report, columns: int = 3) -> alt.LayerChart:
    """The pact's KPIs as tiles: the value large, the target under it; green when met, red
    when missed, grey when there is no value or no target."""
    labels = Labels.of(report)
    kpis = report.get("kpis", [])
    if not kpis:
        return _empty("KPIs", "The pact names no KPIs")
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
    base = alt.Chart(_data(tiles)).encode(
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
        title=_title(
            f"KPIs, {labels.span(meta['period_start'], meta['period_end'])}",
            f"{met} of {judged} KPI{'' if judged == 1 else 's'} with a value met "
            f"{'its' if judged == 1 else 'their'} target"
            + (f"; {len(kpis) - judged} without data (grey)" if judged < len(kpis) else ""),
        ),
    )


# --------------------------------------------------------------------------- all charts

#: The charts of a report by name, in the order a report shows them.
CHARTS: dict[str, Callable[[Report], alt.TopLevelMixin]] = {
    "kpi_tiles": kpi_tiles,
    "waterfall": waterfall,
    "funnel": funnel,
    "trend": trend,
    "conversion": conversion,
    "speed": speed,
    "depth": depth,
    "aging": aging,
}


def chart(report: Report, name: str) -> dict[str, Any]:
    """One chart of the report as a Vega-Lite spec (a plain dict).

    Raises:
        NotFoundError: there is no chart of that name.
    """
    from leadpact.errors import NotFoundError

    if name not in CHARTS:
        raise NotFoundError(f"no chart {name!r}; expected one of {', '.join(CHARTS)}")
    spec: dict[str, Any] = CHARTS[name](report).configure(**_config()).to_dict()
    return spec


def chart_specs(report: Report) -> dict[str, dict[str, Any]]:
    """Every chart of the report as a Vega-Lite spec, by name (for vega-embed or vl-convert)."""
    return {name: chart(report, name) for name in CHARTS}


def render_chart(spec: Mapping[str, Any], fmt: ChartFormat, *, scale: float = 2.0) -> bytes:
    """A Vega-Lite spec rendered offline by vl-convert: SVG (UTF-8 text), PNG or PDF bytes.

    `scale` multiplies the PNG's pixel size (2 = sharp on high-density screens and in print).
    """
    import vl_convert as vlc

    version = _vl_version()
    if fmt == "svg":
        return str(vlc.vegalite_to_svg(dict(spec), vl_version=version)).encode("utf-8")
    if fmt == "png":
        return bytes(vlc.vegalite_to_png(dict(spec), vl_version=version, scale=scale))
    return bytes(vlc.vegalite_to_pdf(dict(spec), vl_version=version))


def _vl_version() -> str:
    """The Vega-Lite version Altair writes specs for (v5.20.1 → 5.20), for vl-convert."""
    major, minor = alt.SCHEMA_VERSION.lstrip("v").split(".")[:2]
    return f"{major}.{minor}"
