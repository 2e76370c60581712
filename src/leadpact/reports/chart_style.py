"""The look every report chart shares: colours, sizes, the Vega config and the common layers
(inline data, titles, the dashed target line, the "nothing to draw" chart).

Conventions, the same in every chart: the goal or target is a dashed dark-grey line with its
value written on it; what actually happened is blue; green and red say met and missed (only
where the report says so); every axis names its unit.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

import altair as alt

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


def vega_config() -> dict[str, Any]:
    """The Vega config of every chart: font, title, axis and legend sizes."""
    return {
        "font": FONT,
        "view": {"stroke": None},
        "title": {"fontSize": 15, "anchor": "start", "subtitleFontSize": 12, "offset": 8},
        "axis": {"labelFontSize": 11, "titleFontSize": 12, "titleFontWeight": "normal"},
        "legend": {"labelFontSize": 12, "titleFontSize": 12, "orient": "top"},
        "header": {"labelFontSize": 13, "titleFontSize": 13},
        "concat": {"spacing": 28},
    }


def inline_data(rows: Sequence[Mapping[str, Any]]) -> alt.InlineData:
    """Rows as a chart's inline data."""
    return alt.InlineData(values=[dict(r) for r in rows])


def title_params(
    text: str, subtitle: str | Sequence[str] | None = None, **kw: Any
) -> alt.TitleParams:
    """A chart title, with its subtitle when there is one."""
    if subtitle is None:
        return alt.TitleParams(text, **kw)
    return alt.TitleParams(text, subtitle=subtitle, **kw)


def empty_chart(title: str, message: str, width: int = WIDTH) -> alt.LayerChart:
    """A chart that says there is nothing to draw, and why."""
    text = (
        alt.Chart(inline_data([{"message": message}]))
        .mark_text(fontSize=14, color=UNKNOWN, align="center")
        .encode(text="message:N")
    )
    return alt.layer(text).properties(title=title_params(title), width=width, height=60)


def target_layer(value: float, label: str, *, axis: Literal["x", "y"] = "y") -> alt.LayerChart:
    """A dashed target line with its label written on it, at the right end (or top)."""
    base = alt.Chart(inline_data([{"target": value, "label": label}]))
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


def recent_rows(rows: Sequence[Mapping[str, Any]], period: str) -> list[Mapping[str, Any]]:
    """Rows of the latest trend buckets only (TREND_BUCKETS of the report's period)."""
    starts = sorted({r["period_start"] for r in rows})
    keep = set(starts[-TREND_BUCKETS.get(period, 24) :])
    return [r for r in rows if r["period_start"] in keep]


def label_angle(count: int) -> int:
    """The angle of axis labels: slanted when there are more than eight."""
    return -40 if count > 8 else 0
