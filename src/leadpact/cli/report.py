"""`leadpact report` (every metric of the pact, as JSON or CSV; as an HTML page, a PDF or one
chart: docs/report-outputs.md), `leadpact report weekly` and `leadpact export --parquet`.

`report` is a command group whose callback runs the report when no subcommand is given, so
more report commands (`leadpact report weekly`) and formats can join it later.
"""

from __future__ import annotations

import sys
from datetime import date, datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from leadpact.cli._output import dumps, handle_errors
from leadpact.cli._workspace import DEFAULT_WORKSPACE, AsOfOption, WorkspaceOption, open_from_cli
from leadpact.errors import LeadPactError

app = typer.Typer(
    help="Reports both teams see: funnel, waterfall, SLA speed and depth, aging, KPIs, goals.",
    invoke_without_command=True,
)


class Engine(StrEnum):
    """Analytics engines (docs/report.md, "Engines")."""

    EMBEDDED = "embedded"
    POSTGRES = "postgres"
    DUCKDB = "duckdb"
    SPARK = "spark"


class ReportPeriod(StrEnum):
    """Lengths of a report period."""

    DAY = "day"
    WEEK = "week"
    MONTH = "month"
    QUARTER = "quarter"


class ReportFormat(StrEnum):
    """Output formats of `leadpact report`."""

    JSON = "json"
    CSV = "csv"
    HTML = "html"
    PDF = "pdf"
    PNG = "png"
    SVG = "svg"


class WeeklyFormat(StrEnum):
    """Output formats of `leadpact report weekly`."""

    TEXT = "text"
    MD = "md"
    JSON = "json"
    HTML = "html"


def _parse_day(value: str | date) -> date:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise typer.BadParameter(f"{value!r} is not a date; write e.g. 2025-03-01") from None


ParquetOption = Annotated[
    Path | None,
    typer.Option(
        "--parquet",
        help="For duckdb and spark: a folder written by `leadpact export --parquet` "
        "(default: export to a temporary folder first).",
        file_okay=False,
    ),
]


@app.callback()
@handle_errors
def report(
    ctx: typer.Context,
    engine: Annotated[
        Engine | None,
        typer.Option(
            "--engine",
            help="Where the metrics run (default: the workspace's database: embedded for "
            "SQLite, postgres for PostgreSQL).",
        ),
    ] = None,
    as_of: AsOfOption = None,
    period: Annotated[
        ReportPeriod,
        typer.Option("--period", help="Length of the report period and of every trend bucket."),
    ] = ReportPeriod.MONTH,
    start: Annotated[
        date | None,
        typer.Option(
            "--start",
            help="First day of the report period (default: the period holding --as-of).",
            parser=_parse_day,
            metavar="DATE",
        ),
    ] = None,
    output_format: Annotated[
        ReportFormat,
        typer.Option(
            "--format",
            help="json (the BI contract), csv, html (one self-contained page), pdf, "
            "png or svg (one chart: --chart).",
        ),
    ] = ReportFormat.JSON,
    chart: Annotated[
        str | None,
        typer.Option(
            "--chart",
            help="With png, svg or pdf: draw one chart (kpi_tiles, waterfall, funnel, trend, "
            "conversion, speed, depth, aging).",
        ),
    ] = None,
    interactive: Annotated[
        bool,
        typer.Option(
            "--interactive",
            help="html: draw the charts in the browser with the Vega JavaScript inlined "
            "(tooltips, about 1 MB) instead of inline SVG.",
        ),
    ] = False,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Write to this file instead of standard output."),
    ] = None,
    workspace: WorkspaceOption = DEFAULT_WORKSPACE,
    parquet: ParquetOption = None,
) -> None:
    """Compute the report of the pact over the workspace's leads (docs/report.md)."""
    if ctx.invoked_subcommand is not None:
        return
    from leadpact.services.reporting import build_report, report_csv

    rendered = output_format not in (ReportFormat.JSON, ReportFormat.CSV) or chart is not None
    if rendered:
        from leadpact.reports.report_page import check_request

        check_request(output_format.value, chart)
        if output is None and output_format in (ReportFormat.PDF, ReportFormat.PNG):
            raise LeadPactError("PDF and PNG are binary: write them to a file with -o FILE")
    moment: datetime | None = as_of
    with open_from_cli(workspace, as_of) as ws:
        data = build_report(
            ws,
            engine=None if engine is None else engine.value,
            as_of=moment,
            period=period.value,
            start=start,
            parquet=parquet,
        )
    if rendered:
        from leadpact.reports.report_page import render_report

        _write(
            render_report(data, output_format.value, chart_name=chart, interactive=interactive),
            output,
        )
        return
    text = dumps(data) + "\n" if output_format is ReportFormat.JSON else report_csv(data)
    if output is None:
        typer.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
        typer.echo(f"wrote the report to {output}", err=True)


def _write(content: bytes, output: Path | None) -> None:
    """Write a rendered report to a file, or a text format to standard output."""
    if output is not None:
        output.write_bytes(content)
        typer.echo(f"wrote the report to {output}", err=True)
    else:
        typer.echo(content.decode("utf-8"), nl=False)


@app.command("weekly")
@handle_errors
def weekly(
    engine: Annotated[
        Engine | None,
        typer.Option("--engine", help="Where the metrics run (default: the workspace's database)."),
    ] = None,
    as_of: AsOfOption = None,
    start: Annotated[
        date | None,
        typer.Option(
            "--start",
            help="First day of the week to review (default: the Monday of the last complete "
            "week before --as-of).",
            parser=_parse_day,
            metavar="DATE",
        ),
    ] = None,
    output_format: Annotated[
        WeeklyFormat, typer.Option("--format", help="text, md, json or html.")
    ] = WeeklyFormat.TEXT,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Write to this file instead of standard output."),
    ] = None,
    workspace: WorkspaceOption = DEFAULT_WORKSPACE,
    parquet: ParquetOption = None,
) -> None:
    """The weekly status: performance against target, the biggest bottleneck, one
    suggested improvement, reviews and approvals due (docs/report-outputs.md)."""
    from leadpact.reports.weekly import build_weekly
    from leadpact.reports.weekly_formats import (
        weekly_html,
        weekly_markdown,
        weekly_rich,
        weekly_text,
    )
    from leadpact.services.weekly import weekly_data

    with open_from_cli(workspace, as_of) as ws:
        data = weekly_data(
            ws, start=start, engine=None if engine is None else engine.value, parquet=parquet
        )
    status = build_weekly(data["report"], data["governance"])
    if output_format is WeeklyFormat.TEXT and output is None:
        from rich.console import Console

        Console(width=None if sys.stdout.isatty() else 110).print(weekly_rich(status))
        return
    text = {
        WeeklyFormat.TEXT: weekly_text,
        WeeklyFormat.MD: weekly_markdown,
        WeeklyFormat.JSON: lambda w: dumps(w) + "\n",
        WeeklyFormat.HTML: weekly_html,
    }[output_format](status)
    _write(text.encode("utf-8"), output)


@handle_errors
def export(
    parquet: Annotated[
        Path,
        typer.Option(
            "--parquet", help="Folder to write one Parquet file per table into.", file_okay=False
        ),
    ],
    workspace: WorkspaceOption = DEFAULT_WORKSPACE,
) -> None:
    """Write the workspace's tables as Parquet (no names, emails or notes) for DuckDB, Spark
    and BI tools."""
    from leadpact.services.reporting import export_parquet

    with open_from_cli(workspace) as ws:
        result = export_parquet(ws, parquet)
    rows = ", ".join(f"{name} {count:,}" for name, count in result.rows.items())
    typer.echo(f"wrote {result.directory}: {rows}")
