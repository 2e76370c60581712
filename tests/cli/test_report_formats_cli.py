"""`leadpact report --format html|pdf|png|svg [--chart NAME]` and `leadpact report weekly`,
through the command line; and the Olist example's real funnel in the HTML report."""

from __future__ import annotations

import csv
import json
import os
import re
import shlex
import shutil
import statistics
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from typer.testing import CliRunner

from leadpact.cli import app

runner = CliRunner()
AS_OF = "2025-11-20T15:30:00Z"
ROOT = Path(__file__).resolve().parents[2]
OLIST = ROOT / "examples" / "olist"
OLIST_DATA = Path(os.environ.get("OLIST_DATA", "/work/shared/datasets/olist_marketing_funnel"))
for parent in ROOT.parents:  # CI clones the repo with shared/ beside it
    if (parent / "shared" / "datasets" / "olist_marketing_funnel").is_dir():
        OLIST_DATA = parent / "shared" / "datasets" / "olist_marketing_funnel"
        break
EXTERNAL = re.compile(r"""(?:\b(?:src|href)\s*=\s*["']?\s*(?:https?:)?//)|url\(\s*["']?https?:""")


def report(workspace: Path, *args: str):
    return runner.invoke(app, ["report", "-w", str(workspace), "--as-of", AS_OF, *args])


def test_html_report_is_one_offline_file(demo_dir, tmp_path):
    out = tmp_path / "report.html"
    result = report(demo_dir, "--format", "html", "-o", str(out))
    assert result.exit_code == 0, result.output
    html = out.read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>")
    assert EXTERNAL.findall(html) == []
    assert html.count("<svg") >= 8


def test_one_chart_as_png_and_as_svg(demo_dir, tmp_path):
    out = tmp_path / "waterfall.png"
    result = report(demo_dir, "--format", "png", "--chart", "waterfall", "-o", str(out))
    assert result.exit_code == 0, result.output
    assert out.read_bytes().startswith(b"\x89PNG")
    result = report(demo_dir, "--format", "svg", "--chart", "aging")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("<svg")
    assert "Never contacted" in result.stdout


def test_whole_report_as_pdf(demo_dir, tmp_path):
    out = tmp_path / "report.pdf"
    result = report(demo_dir, "--format", "pdf", "-o", str(out))
    assert result.exit_code == 0, result.output
    assert out.read_bytes().startswith(b"%PDF")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--format", "png"], "--format png draws one chart: add --chart NAME"),
        (["--format", "svg", "--chart", "pie"], "no chart 'pie'; expected one of kpi_tiles"),
        (["--format", "html", "--chart", "aging"], "--chart works with --format png, svg or pdf"),
        (["--format", "pdf"], "PDF and PNG are binary: write them to a file with -o FILE"),
    ],
)
def test_format_mistakes_are_one_line_errors(demo_dir, args, message):
    result = report(demo_dir, *args)
    assert result.exit_code == 1
    assert message in " ".join(result.output.split())


def test_weekly_status_in_every_format(demo_dir, tmp_path):
    base = ["report", "weekly", "-w", str(demo_dir), "--as-of", AS_OF]
    text = runner.invoke(app, base)
    assert text.exit_code == 0, text.output
    assert "weekly status, week 46, 10 Nov 2025" in text.stdout
    assert "Biggest bottleneck" in text.stdout
    assert "Suggested improvement" in text.stdout
    data = runner.invoke(app, [*base, "--format", "json"])
    assert data.exit_code == 0, data.output
    weekly = json.loads(data.stdout)
    assert weekly["meta"]["period_start"] == "2025-11-10"
    assert "report" not in weekly  # the week's report: leadpact report --period week
    md = runner.invoke(app, [*base, "--format", "md", "--start", "2025-11-17"])
    assert md.exit_code == 0, md.output
    assert md.stdout.startswith("# Nordlys Software ApS: weekly status, week 47, 17 Nov 2025")
    out = tmp_path / "weekly.html"
    html = runner.invoke(app, [*base, "--format", "html", "-o", str(out)])
    assert html.exit_code == 0, html.output
    assert EXTERNAL.findall(out.read_text(encoding="utf-8")) == []


# --------------------------------------------------------------------------- Olist


def _utc(local: str) -> datetime:
    """A São Paulo wall time of the data set (the mapping files say so) in UTC: the report
    counts UTC days."""
    moment = datetime.fromisoformat(local).replace(tzinfo=ZoneInfo("America/Sao_Paulo"))
    return moment.astimezone(UTC)


def olist_truth() -> dict[str, Any]:
    """The figures of the Olist data set, straight from its CSV files (months in UTC)."""
    with (OLIST_DATA / "olist_marketing_qualified_leads_dataset.csv").open() as f:
        mqls = list(csv.DictReader(f))
    with (OLIST_DATA / "olist_closed_deals_dataset.csv").open() as f:
        deals = list(csv.DictReader(f))
    first = {m["mql_id"]: m for m in mqls}
    origin = Counter(m["origin"] or None for m in mqls)
    won = Counter(first[d["mql_id"]]["origin"] or None for d in deals)
    days = [
        (
            datetime.fromisoformat(d["won_date"])
            - datetime.fromisoformat(first[d["mql_id"]]["first_contact_date"])
        ).total_seconds()
        / 86400
        for d in deals
    ]
    return {
        "mqls_per_month": Counter(f"{_utc(m['first_contact_date']):%Y-%m}" for m in mqls),
        "wins_per_month": Counter(f"{_utc(d['won_date']):%Y-%m}" for d in deals),
        "origin": origin,
        "won_by_origin": won,
        "median_days": statistics.median(days),
    }


@pytest.fixture(scope="module")
def olist(tmp_path_factory):
    folder = tmp_path_factory.mktemp("olist") / "olist"
    shutil.copytree(OLIST, folder)
    readme = (folder / "README.md").read_text(encoding="utf-8")
    block = re.findall(r"```sh\n(.*?)```", readme, flags=re.DOTALL)[0]
    env = {"OLIST_DATA": str(OLIST_DATA)}
    for line in filter(None, map(str.strip, block.splitlines())):
        args = shlex.split(re.sub(r"\$(\w+)", lambda m: env[m.group(1)], line))[1:]
        args = [str(folder / a) if a.endswith((".yaml", ".yml")) else a for a in args]
        if args[0] == "import":
            args += ["-w", str(folder)]
        result = runner.invoke(app, args)
        assert result.exit_code == 0, (args, result.output)
    return folder


def _row(html: str, table: str, first_cell: str) -> list[str]:
    body = html.split(f'id="table-{table}"')[1].split("</table>")[0]
    for row in re.findall(r"<tr>(.*?)</tr>", body, flags=re.DOTALL):
        cells = [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", row)]
        if cells and cells[0] == first_cell:
            return cells
    raise AssertionError(f"no row {first_cell!r} in table {table}")


needs_olist = pytest.mark.skipif(
    not OLIST_DATA.is_dir(), reason="the Olist data set is not on this machine"
)


@pytest.fixture(scope="module")
def olist_html(olist, tmp_path_factory):
    out = tmp_path_factory.mktemp("olist-report") / "olist.html"
    args = ["report", "-w", str(olist), "--as-of", "2018-12-01T00:00Z", "--format", "html"]
    result = runner.invoke(app, [*args, "-o", str(out)])
    assert result.exit_code == 0, result.output
    return out.read_text(encoding="utf-8")


@needs_olist
def test_olist_report_shows_the_real_funnel(olist_html):
    truth, html = olist_truth(), olist_html
    header = re.findall(r"<th>(.*?)</th>", html.split('id="table-funnel"')[1].split("</thead>")[0])
    mql, won = header.index("Marketing qualified lead"), header.index("Signed seller")
    # MQLs per month and wins per month (the funnel table lists every month).
    for month, label in (
        ("2018-01", "Jan 2018"),
        ("2018-04", "Apr 2018"),
        ("2017-09", "Sept 2017"),
    ):
        row = _row(html, "funnel", label)
        assert row[mql] == f"{truth['mqls_per_month'][month]:,}"
        assert row[won] == f"{truth['wins_per_month'][month]:,}"
    assert _row(html, "funnel", "Total")[mql] == "8,000"
    assert _row(html, "funnel", "Total")[won] == "842"
    # Conversion by origin (lead source), over all leads.
    for origin in ("organic_search", "paid_search", "social"):
        row = _row(html, "conversion", origin)
        assert row[1:3] == [f"{truth['origin'][origin]:,}", f"{truth['won_by_origin'][origin]:,}"]
    assert _row(html, "conversion", "All")[1:] == ["8,000", "842", "10.5%"]
    # Days to win: the median over all won leads, to the day.
    median = _row(html, "days_to_win", "All won leads")[2]
    assert abs(float(median.split()[0]) - truth["median_days"]) < 1


@needs_olist
def test_olist_report_lists_the_deal_won_before_its_first_contact(olist_html):
    problems = olist_html.split('id="table-data_quality"')[1].split("</table>")[0]
    assert "1 of 842 won leads reached won before they were created" in problems
    assert '<p class="alert">' in olist_html  # the page warns before the figures


@needs_olist
def test_olist_report_lists_the_dates_without_a_time(olist_html):
    problems = olist_html.split('id="table-data_quality"')[1].split("</table>")[0]
    assert "8,000 of 8,000 values of leads.created_at" in problems.replace("8000", "8,000")
    assert "dates without a time" in problems
