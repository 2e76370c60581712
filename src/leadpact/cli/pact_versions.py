"""`leadpact pact commit|log|diff|approve|status|report-logged`: the agreement's governance."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from leadpact.cli._output import handle_errors, print_json, print_rows
from leadpact.cli._workspace import (
    DEFAULT_WORKSPACE,
    AsOfOption,
    JsonOption,
    WorkspaceOption,
    open_from_cli,
    parse_instant,
)
from leadpact.cli.pact import app

if TYPE_CHECKING:
    from leadpact.core.consequences import ConditionCheck
    from leadpact.core.governance_dates import ReportCheck
    from leadpact.services.pact_records import VersionSummary


def parse_day(value: str | date) -> date:
    """Parse an ISO date (2025-03-15)."""
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise typer.BadParameter(f"{value!r} is not a date; write e.g. 2025-03-15") from None


@app.command("commit")
@handle_errors
def commit(
    file: Annotated[
        Path | None,
        typer.Argument(help="The pact file to record; default: the workspace's pact.yaml."),
    ] = None,
    message: Annotated[
        str, typer.Option("--message", "-m", help="What changed and why (required).")
    ] = "",
    effective: Annotated[
        date | None,
        typer.Option(
            "--effective",
            help="Earliest date the version takes effect (still after every approval).",
            parser=parse_day,
            metavar="DATE",
        ),
    ] = None,
    workspace: WorkspaceOption = DEFAULT_WORKSPACE,
    as_of: AsOfOption = None,
    as_json: JsonOption = False,
) -> None:
    """Record the pact file as a new version of the agreement (a no-op if it is unchanged)."""
    from leadpact.services.pact_versions import commit_pact

    with open_from_cli(workspace, as_of) as ws:
        result = commit_pact(ws, message, file=file, effective_on=effective)
    if as_json:
        print_json(
            {
                "version": result.number,
                "created": result.created,
                "changes": [str(c) for c in result.changes],
            }
        )
    elif not result.created:
        typer.echo(f"unchanged since version {result.number}; nothing recorded")
    else:
        typer.echo(f"recorded version {result.number}; it needs every party's approval")
        for change in result.changes:
            typer.echo(f"  {change}")


def _version_json(v: VersionSummary) -> dict[str, Any]:
    return {
        "version": v.number,
        "recorded_at": v.recorded_at,
        "message": v.message,
        "sha256": v.sha256,
        "effective_on": v.effective_on,
        "state": v.state.value,
        "takes_effect_on": v.takes_effect_on,
        "approvals": [{"party": a.party, "by": a.by, "at": a.at} for a in v.approvals],
        "pending": list(v.pending),
    }


@app.command("log")
@handle_errors
def log(
    workspace: WorkspaceOption = DEFAULT_WORKSPACE,
    as_of: AsOfOption = None,
    as_json: JsonOption = False,
) -> None:
    """List the recorded versions with their approvals and state."""
    from leadpact.services.pact_records import list_versions

    with open_from_cli(workspace, as_of) as ws:
        versions = list_versions(ws)
    if as_json:
        print_json([_version_json(v) for v in versions])
        return
    if not versions:
        typer.echo("no version recorded yet; record one with: leadpact pact commit -m MESSAGE")
        return
    print_rows(
        ["version", "recorded", "state", "in force from", "waiting for", "message"],
        [
            [
                v.number,
                f"{v.recorded_at:%Y-%m-%d}",
                v.state.value,
                v.takes_effect_on or "-",
                ", ".join(v.pending) or "-",
                v.message,
            ]
            for v in versions
        ],
    )


@app.command("diff")
@handle_errors
def diff(
    old: Annotated[int, typer.Argument(help="The earlier version.")],
    new: Annotated[int, typer.Argument(help="The later version.")],
    workspace: WorkspaceOption = DEFAULT_WORKSPACE,
    as_json: JsonOption = False,
) -> None:
    """What changed in the agreement between two versions, in sentences."""
    from leadpact.services.pact_versions import diff_versions

    with open_from_cli(workspace) as ws:
        changes = diff_versions(ws, old, new)
    if as_json:
        print_json(
            [
                {
                    "kind": c.kind,
                    "where": c.where,
                    "field": c.field,
                    "before": c.before,
                    "after": c.after,
                    "item": c.item,
                    "text": str(c),
                }
                for c in changes
            ]
        )
        return
    if not changes:
        typer.echo(f"versions {old} and {new} say the same")
    for change in changes:
        typer.echo(str(change))


@app.command("approve")
@handle_errors
def approve(
    version: Annotated[int, typer.Argument(help="The version to approve.")],
    party: Annotated[str, typer.Option("--party", help="The party approving (id or name).")],
    by: Annotated[str, typer.Option("--by", help="The party's owner, by name.")],
    workspace: WorkspaceOption = DEFAULT_WORKSPACE,
    as_of: AsOfOption = None,
    as_json: JsonOption = False,
) -> None:
    """Approve a version for one party; it takes effect once every party's owner has approved."""
    from leadpact.services.pact_versions import approve_version

    with open_from_cli(workspace, as_of) as ws:
        result = approve_version(ws, version, party, by)
    if as_json:
        print_json(
            {
                "version": result.version,
                "party": result.party,
                "by": result.by,
                "at": result.at,
                "pending": list(result.pending),
                "takes_effect_on": result.takes_effect_on,
            }
        )
        return
    typer.echo(f"{result.by} approved version {result.version} for {result.party}")
    if result.pending:
        typer.echo(f"waiting for: {', '.join(result.pending)}")
    else:
        typer.echo(f"approved by every party; in force from {result.takes_effect_on}")


def _condition_json(c: ConditionCheck) -> dict[str, Any]:
    return {
        "kind": c.kind,
        "goal": c.goal,
        "missed_periods": c.missed_periods,
        "text": c.text,
        "met": c.met,
        "streak": c.streak,
        "figures": [
            {"period": f.period, "actual": f.actual, "target": f.target, "missed": f.missed}
            for f in c.figures
        ],
    }


def _report_json(r: ReportCheck) -> dict[str, Any]:
    return {
        "commitment": r.commitment,
        "period": r.period,
        "due_at": r.due_at,
        "logged_at": r.logged_at,
        "state": r.state.value,
    }


def _figures_text(c: ConditionCheck) -> str:
    def number(value: float | None) -> str:
        return "?" if value is None else f"{value:,.4g}"

    if all(f.target is None for f in c.figures):
        return "no figures here yet (SLA attainment is measured by the SLA clocks)"
    return "; ".join(f"{f.period}: {number(f.actual)} of {number(f.target)}" for f in c.figures)


@app.command("status")
@handle_errors
def status(
    workspace: WorkspaceOption = DEFAULT_WORKSPACE,
    as_of: AsOfOption = None,
    as_json: JsonOption = False,
) -> None:
    """The version in force, pending approvals, validity, reviews and conditions met."""
    from leadpact.services.pact_status import pact_status

    with open_from_cli(workspace, as_of) as ws:
        s = pact_status(ws)
    if as_json:
        print_json(
            {
                "on": s.on,
                "version": s.version,
                "in_force_since": s.in_force_since,
                "pending": [_version_json(v) for v in s.versions_pending],
                "valid_from": s.valid_from,
                "valid_until": s.valid_until,
                "validity": s.validity,
                "review": {
                    "cadence": s.review_cadence,
                    "last": s.last_review,
                    "next": s.next_review,
                    "overdue": s.review_overdue,
                },
                "conditions": [_condition_json(c) for c in s.conditions],
                "reports": [_report_json(r) for r in s.reports],
            }
        )
        return
    if s.version is None:
        typer.echo("version in force: none approved yet (figures use the workspace's pact.yaml)")
    else:
        typer.echo(f"version in force: {s.version}, since {s.in_force_since}")
    for v in s.versions_pending:
        waiting = f"waiting for {', '.join(v.pending)}" if v.pending else v.state.value
        typer.echo(f"version {v.number}: {waiting}")
    until = s.valid_until or "renewal"
    typer.echo(f"validity: {s.validity} ({s.valid_from} to {until})")
    overdue = " (overdue)" if s.review_overdue else ""
    typer.echo(f"reviews: {s.review_cadence}, last {s.last_review}, next {s.next_review}{overdue}")
    for c in s.conditions:
        mark = "MET" if c.met else "not met"
        typer.echo(
            f"{c.kind} [{mark}] when {c.goal} is missed {c.missed_periods} months running "
            f"(missed {c.streak} running now): {c.text}"
        )
        if c.figures:
            typer.echo(f"    {_figures_text(c)}")
    for r in s.reports:
        logged = "not logged" if r.logged_at is None else f"logged {r.logged_at:%Y-%m-%d %H:%M}"
        typer.echo(
            f"report {r.commitment} {r.period}: {r.state.value} "
            f"(due {r.due_at:%Y-%m-%d %H:%M} UTC, {logged})"
        )


@app.command("report-logged")
@handle_errors
def report_logged(
    commitment: Annotated[str, typer.Argument(help="Id of the report commitment.")],
    period: Annotated[
        str, typer.Option("--period", help="The period reported on: 2025-03, 2025-Q1, 2025-W13.")
    ],
    at: Annotated[
        datetime | None,
        typer.Option(
            "--at",
            help="When the report was delivered (ISO 8601 with a time zone); default: now.",
            parser=parse_instant,
            metavar="INSTANT",
        ),
    ] = None,
    workspace: WorkspaceOption = DEFAULT_WORKSPACE,
    as_of: AsOfOption = None,
    as_json: JsonOption = False,
) -> None:
    """Record that a report commitment was delivered for a period; says if it was on time."""
    from leadpact.services.pact_reports import log_report

    with open_from_cli(workspace, as_of) as ws:
        check = log_report(ws, commitment, period, at)
    if as_json:
        print_json(_report_json(check))
        return
    typer.echo(
        f"logged {check.commitment} for {check.period}: {check.state.value} "
        f"(due {check.due_at:%Y-%m-%d %H:%M} UTC)"
    )
