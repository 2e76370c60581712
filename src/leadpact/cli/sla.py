"""`leadpact sla status|breaches`: how the SLA clocks of a workspace stand, and which broke."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Annotated

import typer

from leadpact.cli._output import handle_errors, print_json, print_rows
from leadpact.cli._workspace import (
    DEFAULT_WORKSPACE,
    AsOfOption,
    JsonOption,
    WorkspaceOption,
    open_from_cli,
)

if TYPE_CHECKING:
    from leadpact.core.pact import Pact

app = typer.Typer(help="SLA clocks: compliance per commitment and breaches.", no_args_is_help=True)


@app.command("status")
@handle_errors
def status(
    as_of: AsOfOption = None,
    commitment: Annotated[
        str | None,
        typer.Option("--commitment", help="Only this commitment (its id in pact.yaml)."),
    ] = None,
    as_json: JsonOption = False,
    workspace: WorkspaceOption = DEFAULT_WORKSPACE,
) -> None:
    """Clocks per commitment and status, attainment, median and p90 business time to stop."""
    from leadpact.services.sla import sla_compliance

    with open_from_cli(workspace, as_of) as ws:
        now = ws.clock.now()
        found = sla_compliance(ws, now, commitment)
    if as_json:
        rows = [
            {
                "commitment": c.commitment_id,
                "kind": c.kind,
                "pending": c.pending,
                "at_risk": c.at_risk,
                "met": c.met,
                "breached": c.breached,
                "total": c.total,
                "attainment_rate": c.attainment_rate,
                "median_business_seconds": _seconds(c.median_business_time),
                "p90_business_seconds": _seconds(c.p90_business_time),
                "stopped": c.stopped,
            }
            for c in found
        ]
        print_json({"as_of": now, "commitments": rows})
        return
    typer.echo(f"SLA clocks as of {now.isoformat()}")
    print_rows(
        [
            "commitment",
            "kind",
            "pending",
            "at risk",
            "met",
            "breached",
            "attainment",
            "median",
            "p90",
        ],
        [
            [
                c.commitment_id,
                c.kind,
                c.pending,
                c.at_risk,
                c.met,
                c.breached,
                "-" if c.attainment_rate is None else f"{c.attainment_rate:.1%}",
                _duration(c.median_business_time),
                _duration(c.p90_business_time),
            ]
            for c in found
        ],
    )


@app.command("breaches")
@handle_errors
def breaches(
    as_of: AsOfOption = None,
    as_json: JsonOption = False,
    workspace: WorkspaceOption = DEFAULT_WORKSPACE,
) -> None:
    """One row per breached clock: lead, owner, commitment, due, stopped, overdue by."""
    from leadpact.services.sla import overdue_by, sla_breaches

    with open_from_cli(workspace, as_of) as ws:
        now = ws.clock.now()
        found = sla_breaches(ws, now)
        pact = ws.pact
    if as_json:
        rows = [
            {
                "lead": r.lead_id,
                "owner": r.owner,
                "commitment": r.commitment_id,
                "kind": r.kind,
                "calendar": r.calendar,
                "started_at": r.started_at,
                "due_at": r.due_at,
                "stopped_at": r.stopped_at,
                "stopped_by": None if r.stopped_by is None else r.stopped_by.value,
                "overdue_seconds": overdue_by(r, now).total_seconds(),
                "business_time_used_seconds": r.business_time_used.total_seconds(),
                "attempts": r.attempts,
            }
            for r in found
        ]
        print_json({"as_of": now, "breaches": rows})
        return
    if not found:
        typer.echo(f"no breached clocks as of {now.isoformat()}")
        return
    typer.echo(
        f"{len(found)} breached clock{'s' if len(found) != 1 else ''} as of {now.isoformat()}"
    )
    print_rows(
        ["lead", "owner", "commitment", "due", "stopped", "overdue by"],
        [
            [
                r.lead_id,
                r.owner or "-",
                r.commitment_id,
                _local(pact, r.calendar, r.due_at),
                "-" if r.stopped_at is None else _local(pact, r.calendar, r.stopped_at),
                _duration(overdue_by(r, now)) + ("" if r.stopped_at else " (open)"),
            ]
            for r in found
        ],
    )


def _seconds(value: timedelta | None) -> float | None:
    return None if value is None else value.total_seconds()


def _duration(value: timedelta | None) -> str:
    from leadpact.core.durations import format_duration

    return "-" if value is None else format_duration(value)


def _local(pact: Pact, calendar: str, at: datetime) -> str:
    """An instant in the time zone of the clock's calendar, e.g. "Fri 2025-03-07 10:00 CET"."""
    return at.astimezone(pact.calendar(calendar).timezone).strftime("%a %Y-%m-%d %H:%M %Z")
