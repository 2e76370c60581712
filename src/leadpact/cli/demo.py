"""`leadpact demo`: build a workspace with a year of a synthetic company's lead flow."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Annotated

import typer

from leadpact.cli._output import handle_errors, print_json, print_rows
from leadpact.cli._workspace import JsonOption


def _parse_date(value: str | date) -> date:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"{value!r} is not a date; write YYYY-MM-DD") from None


@handle_errors
def demo(
    directory: Annotated[
        Path, typer.Option("--dir", help="Folder for the demo workspace (created).")
    ] = Path("demo-workspace"),
    seed: Annotated[int, typer.Option("--seed", help="Seed: the same seed, the same data.")] = 7,
    leads: Annotated[
        int, typer.Option("--leads", min=10, help="Leads arriving over the period.")
    ] = 3000,
    start: Annotated[
        date | None,
        typer.Option(
            "--start",
            parser=_parse_date,
            metavar="DATE",
            help="First day of the period (default: 365 days before today).",
        ),
    ] = None,
    days: Annotated[int, typer.Option("--days", min=7, help="Length of the period.")] = 365,
    json: JsonOption = False,
) -> None:
    """Generate a realistic B2B lead flow, import it into a workspace, and summarise it."""
    from leadpact.cli.pact import example_pact_text
    from leadpact.clock import FixedClock, SystemClock
    from leadpact.services.demo import run_demo

    today = SystemClock().now()
    first = start or (today.date() - timedelta(days=days))
    period_end = datetime(first.year, first.month, first.day, tzinfo=UTC) + timedelta(days=days)
    clock = FixedClock(min(today, period_end)) if start is not None else SystemClock()
    summary = run_demo(
        directory,
        seed=seed,
        leads=leads,
        start=first,
        days=days,
        pact_text=example_pact_text(),
        clock=clock,
    )
    if json:
        print_json(
            {
                "directory": str(summary.directory),
                "as_of": summary.as_of,
                "imported": summary.imported,
                "stages": summary.stages,
                "priorities": summary.priorities,
                "commitments": summary.compliance,
                "breaches": summary.breaches,
                "queue": summary.queue,
            }
        )
        return
    typer.echo(f"Demo workspace {summary.directory} as of {summary.as_of:%Y-%m-%d %H:%M} UTC")
    typer.echo("imported: " + ", ".join(f"{n:,} {kind}" for kind, n in summary.imported.items()))
    typer.echo(
        "leads per stage: " + ", ".join(f"{s} {n}" for s, n in sorted(summary.stages.items()))
    )
    typer.echo(
        "leads per priority: "
        + ", ".join(f"{p}: {n}" for p, n in sorted(summary.priorities.items()))
    )
    print_rows(
        ["commitment", "met", "breached", "open", "attainment"],
        [
            [
                c["commitment"],
                c["met"],
                c["breached"],
                c["pending"],
                "-" if c["attainment"] is None else f"{c['attainment']:.0%}",
            ]
            for c in summary.compliance
        ],
    )
    typer.echo(f"breached clocks: {summary.breaches}")
    typer.echo(
        f"next: leadpact leads list -w {summary.directory}   "
        f"leadpact sla breaches -w {summary.directory}"
    )
