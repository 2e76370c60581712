"""The report as one self-contained HTML page (charts inline, no network), and as a PDF.

`render_html(report)` lays the report dict (docs/report.md) out for a weekly meeting: KPI tiles,
the marketing waterfall and goals, the funnel (per period, conversion by source, days to win),
the sales SLA (speed, depth, waiting leads), commitments, reps, and the data problems. Charts
come from `reports.charts`; with ``charts="svg"`` (the default) they are rendered by vl-convert
and inlined as SVG: the page needs no JavaScript and stays small. With ``charts="vega"`` the
page inlines the Vega, Vega-Lite and vega-embed JavaScript (`vl_convert.javascript_bundle`)
and the specs, and the browser draws interactive charts (tooltips), still with no CDN.
docs/report-outputs.md has the measured sizes of both. `render_pdf` prints the SVG page with
WeasyPrint on A4 landscape.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any, Literal

from leadpact.reports.charts import CHARTS, ChartFormat, Labels, chart, render_chart
from leadpact.reports.report_tables import (
    PageTable,
    Report,
    commitments_table,
    conversion_table,
    data_quality_table,
    days_to_win_table,
    funnel_table,
    goals_table,
    kpi_table,
    plan_facts,
    reps_table,
)

__all__ = [
    "ChartMode",
    "PageTable",
    "chart_names",
    "check_request",
    "page_context",
    "render_html",
    "render_pdf",
    "render_report",
]

ChartMode = Literal["svg", "vega"]

#: What the bundled JavaScript exposes to the page (vl-convert's default, written out).
_BUNDLE_SNIPPET = "window.vegaEmbed = vegaEmbed; window.vegaLite = vegaLite; window.vega = vega;"


# --------------------------------------------------------------------------- charts


def _svg_charts(report: Report) -> dict[str, str]:
    """Every chart rendered as inline SVG, ids made unique per chart."""
    out = {}
    for name in CHARTS:
        svg = render_chart(chart(report, name), "svg").decode("utf-8")
        out[name] = _inline_svg(svg, name)
    return out


def _inline_svg(svg: str, prefix: str) -> str:
    """An SVG document as an element of an HTML page: no XML prolog, scalable, unique ids."""
    svg = re.sub(r"^<\?xml[^>]*>\s*", "", svg)
    svg = re.sub(r'\bid="([^"]+)"', lambda m: f'id="{prefix}-{m.group(1)}"', svg)
    svg = re.sub(r"url\(#([^)]+)\)", lambda m: f"url(#{prefix}-{m.group(1)})", svg)
    svg = re.sub(r'href="#([^"]+)"', lambda m: f'href="#{prefix}-{m.group(1)}"', svg)
    return svg.replace("<svg ", f'<svg role="img" aria-label="{prefix} chart" class="chart" ', 1)


def _script_json(data: Any) -> str:
    """JSON safe inside a <script> element."""
    return json.dumps(data, ensure_ascii=False).replace("</", "<\\/")


# --------------------------------------------------------------------------- page


def page_context(report: Report, charts: ChartMode = "svg") -> dict[str, Any]:
    """What the page template needs: headings, tables and the charts (SVG or specs)."""
    labels = Labels.of(report)
    meta = report["meta"]
    span = labels.span(meta["period_start"], meta["period_end"])
    context: dict[str, Any] = {
        "meta": meta,
        "title": f"SLA report: {span}",
        "company": meta.get("company", ""),
        "agreement": meta.get("title", ""),
        "span": span,
        "as_of": labels.instant(meta["as_of"]),
        "first_day": labels.day(meta["first_day"]),
        "facts": [
            (
                "Period",
                f"{span} ({labels.day(meta['period_start'])} – {labels.day(meta['period_end'])})",
            ),
            ("Data as of", labels.instant(meta["as_of"])),
            ("Data since", labels.day(meta["first_day"])),
            ("Engine", f"{meta.get('engine', '–')}, {meta.get('seconds', 0):.1f} s"),
        ],
        "tables": {
            "kpis": kpi_table(report, labels),
            "goals": goals_table(report, labels),
            "funnel": funnel_table(report, labels),
            "conversion": conversion_table(report, labels),
            "days_to_win": days_to_win_table(report, labels),
            "commitments": commitments_table(report, labels),
            "reps": reps_table(report, labels),
            "data_quality": data_quality_table(report),
        },
        "plan": plan_facts(report, labels),
        "problems": sum(1 for r in report.get("data_quality", []) if r["severity"] == "problem"),
        "mode": charts,
    }
    if charts == "svg":
        context["svg"] = _svg_charts(report)
        context["specs"] = {}
        context["bundle"] = ""
    else:
        import vl_convert as vlc

        from leadpact.reports.charts import vl_version

        context["svg"] = {}
        context["specs"] = {name: _script_json(chart(report, name)) for name in CHARTS}
        context["bundle"] = vlc.javascript_bundle(_BUNDLE_SNIPPET, vl_version=vl_version()).replace(
            "</script", "<\\/script"
        )
    return context


def render_html(report: Report, *, charts: ChartMode = "svg") -> str:
    """The report as one self-contained HTML page (no network needed to open it)."""
    from markupsafe import Markup

    from leadpact.reports.document_writer import MONO, SANS, environment

    context = page_context(report, charts)
    context["svg"] = {k: Markup(v) for k, v in context["svg"].items()}
    context["specs"] = {k: Markup(v) for k, v in context["specs"].items()}
    context["bundle"] = Markup(context["bundle"])
    return (
        environment()
        .get_template("report.html")
        .render(sans=Markup(SANS), mono=Markup(MONO), **context)
    )


def render_pdf(report: Report) -> bytes:
    """The report as PDF: the SVG page printed by WeasyPrint on A4 landscape."""
    from weasyprint import HTML  # type: ignore[import-untyped]

    pdf = HTML(string=render_html(report, charts="svg")).write_pdf(
        pdf_identifier=b"leadpact-report", uncompressed_pdf=False
    )
    assert pdf is not None  # write_pdf returns bytes when no target is given
    return bytes(pdf)


def chart_names() -> Sequence[str]:
    """The names `--chart` accepts."""
    return tuple(CHARTS)


def check_request(fmt: str, chart_name: str | None) -> None:
    """Check a format and chart name before the report is computed.

    Raises:
        LeadPactError: png or svg without a chart, or a chart with another format.
        NotFoundError: no chart of that name.
    """
    from leadpact.errors import LeadPactError, NotFoundError

    names = ", ".join(CHARTS)
    if fmt in ("png", "svg") and chart_name is None:
        raise LeadPactError(f"--format {fmt} draws one chart: add --chart NAME ({names})")
    if chart_name is not None and fmt not in ("png", "svg", "pdf"):
        raise LeadPactError(f"--chart works with --format png, svg or pdf, not {fmt}")
    if chart_name is not None and chart_name not in CHARTS:
        raise NotFoundError(f"no chart {chart_name!r}; expected one of {names}")


def render_report(
    report: Report, fmt: str, *, chart_name: str | None = None, interactive: bool = False
) -> bytes:
    """The report in a presentation format: ``html`` (the page), ``pdf`` (the page, or one
    chart with `chart_name`), ``png`` or ``svg`` (one chart, `chart_name` required).

    Raises:
        LeadPactError: a format that needs a chart got none, or the page got one.
        NotFoundError: no chart of that name.
    """
    check_request(fmt, chart_name)
    if chart_name is not None:
        kind: ChartFormat = "png" if fmt == "png" else "svg" if fmt == "svg" else "pdf"
        return render_chart(chart(report, chart_name), kind)
    if fmt == "pdf":
        return render_pdf(report)
    if fmt == "html":
        return render_html(report, charts="vega" if interactive else "svg").encode("utf-8")
    from leadpact.errors import LeadPactError

    raise LeadPactError(f"unknown report format {fmt!r}; expected html, pdf, png or svg")
