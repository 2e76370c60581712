"""The report's charts by name, as Vega-Lite specs ready for vega-embed or for offline rendering.

Each chart is one function that takes the report (the JSON contract of
`services.reporting.build_report`, see docs/report.md) and returns an Altair chart; they live
with their family (`chart_targets`: waterfall and KPI tiles; `chart_funnel`: funnel, trend and
conversion; `chart_sla`: speed, depth and aging) and are re-exported here. `chart_specs(report)`
returns them all as plain Vega-Lite dicts, ready for vega-embed (web) or vl-convert
(`render_chart`: PNG, SVG, PDF, without a browser). docs/report-outputs.md shows each chart and
says how to read it; `chart_style` holds the conventions every chart shares, and `chart_labels`
writes the values (not Vega), so the charts read the same in the browser, in PNG and in PDF.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Literal

import altair as alt

from leadpact.reports.chart_funnel import conversion, funnel, trend
from leadpact.reports.chart_labels import Labels, Report
from leadpact.reports.chart_sla import aging, depth, speed
from leadpact.reports.chart_style import vega_config
from leadpact.reports.chart_targets import kpi_tiles, waterfall

__all__ = [
    "CHARTS",
    "ChartFormat",
    "Labels",
    "Report",
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
    "vl_version",
    "waterfall",
]

ChartFormat = Literal["svg", "png", "pdf"]

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
    spec: dict[str, Any] = CHARTS[name](report).configure(**vega_config()).to_dict()
    return spec


def chart_specs(report: Report) -> dict[str, dict[str, Any]]:
    """Every chart of the report as a Vega-Lite spec, by name (for vega-embed or vl-convert)."""
    return {name: chart(report, name) for name in CHARTS}


def render_chart(spec: Mapping[str, Any], fmt: ChartFormat, *, scale: float = 2.0) -> bytes:
    """A Vega-Lite spec rendered offline by vl-convert: SVG (UTF-8 text), PNG or PDF bytes.

    `scale` multiplies the PNG's pixel size (2 = sharp on high-density screens and in print).
    """
    import vl_convert as vlc

    version = vl_version()
    if fmt == "svg":
        return str(vlc.vegalite_to_svg(dict(spec), vl_version=version)).encode("utf-8")
    if fmt == "png":
        return bytes(vlc.vegalite_to_png(dict(spec), vl_version=version, scale=scale))
    return bytes(vlc.vegalite_to_pdf(dict(spec), vl_version=version))


def vl_version() -> str:
    """The Vega-Lite version Altair writes specs for (v5.20.1 → 5.20), for vl-convert."""
    major, minor = alt.SCHEMA_VERSION.lstrip("v").split(".")[:2]
    return f"{major}.{minor}"
