"""The report page: one self-contained HTML file (SVG or bundled Vega charts, no network), the
tables a weekly meeting reads, and the PDF printed from it."""

from __future__ import annotations

import io
import json
import re
from datetime import datetime

import pytest

from leadpact.reports.charts import CHARTS, chart_specs
from leadpact.reports.report_page import render_html, render_pdf, render_report

AS_OF = datetime.fromisoformat("2025-11-20T15:30:00+00:00")
#: Anything that would make a browser fetch a script, style, image or font from the network.
EXTERNAL = re.compile(
    r"""(?:\b(?:src|href|srcset|poster|data)\s*=\s*["']?\s*(?:https?:)?//)"""
    r"""|(?:url\(\s*["']?\s*(?:https?:)?//)|(?:@import)""",
    re.IGNORECASE,
)


@pytest.fixture(scope="module")
def report(demo_dir):
    from leadpact.services.reporting import build_report
    from leadpact.services.workspace import open_workspace

    with open_workspace(demo_dir) as ws:
        return build_report(ws, as_of=AS_OF)


@pytest.fixture(scope="module")
def page(report):
    return render_html(report)


def external_references(html: str) -> list[str]:
    return EXTERNAL.findall(html)


def test_the_page_is_self_contained_and_needs_no_javascript(page):
    assert external_references(page) == []
    assert "<script" not in page
    assert "<link" not in page
    assert page.count('<svg role="img"') == len(CHARTS)
    for name in CHARTS:
        assert f'id="chart-{name}"' in page


def test_the_page_shows_every_section_with_its_figures(report, page):
    for heading in ("Summary: KPIs", "Marketing SLA", "Funnel", "Sales SLA", "Commitments"):
        assert heading in page
    for c in report["commitments"]:
        assert c["commitment"] in page
    assert "Nordlys Software ApS: November 2025" in page
    assert "20 Nov 2025 15:30 UTC" in page
    # The funnel table: leads entering the first stage per month, and the total.
    leads = [r["leads"] for r in report["funnel"]["by_period"] if r["stage"] == "lead"]
    table = page.split('id="table-funnel"')[1].split("</table>")[0]
    assert f"{sum(leads):,}" in table
    assert "Jan 2025" in table
    assert "Nov 2025" in table


def test_goal_rows_say_on_track_or_behind(report, page):
    table = page.split('id="table-goals"')[1].split("</table>")[0]
    for g in report["goals"]["targets"]:
        assert (">On track<" if g["on_track"] else ">Behind<") in table


def test_data_problems_are_listed_never_hidden(report):
    noisy = json.loads(json.dumps(report))
    noisy["data_quality"] = [
        {
            "check": "won_before_created",
            "detail": "won",
            "count": 1,
            "total": 842,
            "share": 1 / 842,
            "severity": "problem",
            "message": "1 of 842 won leads reached won before they were created",
        }
    ]
    html = render_html(noisy)
    assert "1 data problem</strong>" in html
    assert "1 of 842 won leads reached won before they were created" in html
    assert "Won before created" in html


def test_the_interactive_page_inlines_vega_and_the_specs(report):
    html = render_html(report, charts="vega")
    assert external_references(html) == []
    scripts = re.findall(r"<script([^>]*)>", html)
    assert scripts
    assert all("src" not in attributes for attributes in scripts)
    assert "vegaEmbed(el, spec" in html
    specs = chart_specs(report)
    for name in CHARTS:
        body = html.split(f'<script type="application/json" id="spec-{name}">')[1]
        assert json.loads(body.split("</script>")[0]) == specs[name]
    # Measured trade-off (docs/report-outputs.md): the JavaScript makes the page ~1 MB.
    assert len(html.encode()) > 2 * len(render_html(report).encode())


def test_the_pdf_prints_the_page_on_a4_landscape(report):
    from pypdf import PdfReader

    pdf = PdfReader(io.BytesIO(render_pdf(report)))
    box = pdf.pages[0].mediabox
    assert (round(float(box.width) / 72 * 25.4), round(float(box.height) / 72 * 25.4)) == (297, 210)
    assert len(pdf.pages) >= 4
    text = " ".join(page.extract_text() for page in pdf.pages)
    for words in ("Marketing SLA", "Sales SLA", "Commitments in the current period"):
        assert words in text
    assert "Page 1 of" in pdf.pages[0].extract_text()


def test_render_report_checks_the_format_and_chart(report):
    from leadpact.errors import LeadPactError, NotFoundError

    assert render_report(report, "svg", chart_name="aging").startswith(b"<svg")
    assert render_report(report, "pdf", chart_name="funnel").startswith(b"%PDF")
    with pytest.raises(LeadPactError, match="add --chart NAME"):
        render_report(report, "png")
    with pytest.raises(LeadPactError, match="--chart works with --format png, svg or pdf"):
        render_report(report, "html", chart_name="aging")
    with pytest.raises(NotFoundError, match="no chart 'pie'"):
        render_report(report, "png", chart_name="pie")
