"""`leadpact leads ...`: look at the leads of a workspace, and erase a person who opted out."""

from __future__ import annotations

from typing import Annotated

import typer

from leadpact.cli._output import exit_with_error, handle_errors, print_json
from leadpact.cli._workspace import (
    DEFAULT_WORKSPACE,
    JsonOption,
    WorkspaceOption,
    open_from_cli,
)

app = typer.Typer(help="The leads of a workspace.", no_args_is_help=True)


@app.command("erase")
@handle_errors
def erase(
    lead_id: Annotated[
        str | None,
        typer.Argument(metavar="ID", help="Id of the lead to erase (or use --email)."),
    ] = None,
    email: Annotated[
        str | None,
        typer.Option("--email", help="Erase every lead with this email (case-insensitive)."),
    ] = None,
    reason: Annotated[
        str,
        typer.Option(
            "--reason", help="Why, kept in the audit log; must not contain the email or name."
        ),
    ] = "opted out",
    workspace: WorkspaceOption = DEFAULT_WORKSPACE,
    as_json: JsonOption = False,
) -> None:
    """Erase a person's data (email, names, notes) for good; anonymous counts stay."""
    from leadpact.services.workspace import erase as erase_person
    from leadpact.store.erasure import PurgeStatus

    if (lead_id is None) == (email is None):
        exit_with_error("give a lead ID or --email, not both", code=2)
    with open_from_cli(workspace) as ws:
        report = erase_person(ws, lead_id=lead_id, email=email, reason=reason)
    if as_json:
        print_json(
            {
                "erased": [
                    {
                        "token": r.token,
                        "at": r.at,
                        "activities": r.activities,
                        "touches": r.touches,
                        "stage_changes": r.stage_changes,
                        "deals": r.deals,
                        "audit_entries": r.audit_entries,
                        "alerts": r.alerts,
                    }
                    for r in report.erased
                ],
                "purge": report.purge.value,
            }
        )
        return
    for r in report.erased:
        typer.echo(
            f"erased lead, now {r.token}: {r.activities} activities, {r.touches} touches, "
            f"{r.stage_changes} stage changes and {r.deals} deals kept without personal data"
        )
    if report.purge is PurgeStatus.BLOCKED:
        typer.secho(
            "another process is reading the database: the old bytes stay in leadpact.db-wal "
            "until it stops (SQLite removes the log when the last connection closes)",
            fg=typer.colors.YELLOW,
            err=True,
        )
    elif report.purge is PurgeStatus.LEFT_TO_VACUUM:
        typer.secho(
            "PostgreSQL keeps old row versions on disk until VACUUM reuses their space "
            "(see docs/cli.md)",
            fg=typer.colors.YELLOW,
            err=True,
        )
