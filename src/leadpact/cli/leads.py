"""`leadpact leads ...`: look at the leads of a workspace, and erase a person who opted out."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Annotated

import typer

from leadpact.cli._output import exit_with_error, handle_errors, print_json, print_rows
from leadpact.cli._workspace import (
    DEFAULT_WORKSPACE,
    AsOfOption,
    JsonOption,
    WorkspaceOption,
    open_from_cli,
)

if TYPE_CHECKING:
    from leadpact.core.sla import SlaResult

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


def _when(at: datetime | None) -> str:
    return "-" if at is None else f"{at:%Y-%m-%d %H:%M} UTC"


def _left(clock: SlaResult | None) -> str:
    """Business time left on a running clock, to the minute; overdue once breached."""
    from leadpact.core.durations import format_duration
    from leadpact.core.sla import SlaStatus

    if clock is None or clock.time_left is None:
        return "-"
    seconds = int(clock.time_left.total_seconds())
    minutes = abs(seconds) // 60 * 60  # to the minute: seconds are noise in a queue
    text = format_duration(timedelta(seconds=minutes)) if minutes else "under 1m"
    if clock.status is SlaStatus.BREACHED:
        return f"overdue {text}" if minutes else "overdue (closed hours since)"
    return text


@app.command("list")
@handle_errors
def list_leads(
    stage: Annotated[str | None, typer.Option("--stage", help="Only leads in this stage.")] = None,
    owner: Annotated[str | None, typer.Option("--owner", help="Only this rep's leads.")] = None,
    priority: Annotated[
        int | None, typer.Option("--priority", min=1, max=4, help="Only this priority (1-4).")
    ] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, help="Show at most this many.")] = 50,
    workspace: WorkspaceOption = DEFAULT_WORKSPACE,
    as_of: AsOfOption = None,
    as_json: JsonOption = False,
) -> None:
    """The queue: open leads by priority, then by business time left on their clocks."""
    from leadpact.services.sla import queue

    with open_from_cli(workspace, as_of) as ws:
        items = queue(ws, as_of, stage=stage, owner=owner, priority=priority)
    shown = items[:limit]
    if as_json:
        print_json(
            {
                "total": len(items),
                "leads": [
                    {
                        "id": item.lead_id,
                        "owner": item.owner,
                        "team": item.team,
                        "stage": item.stage,
                        "priority": item.priority,
                        "clock": None if item.clock is None else asdict(item.clock),
                    }
                    for item in shown
                ],
            }
        )
        return
    rows = [
        [
            item.lead_id,
            item.priority or "-",
            item.stage,
            item.owner or "-",
            item.clock.commitment_id if item.clock else "-",
            _when(item.clock.due_at) if item.clock else "-",
            _left(item.clock),
        ]
        for item in shown
    ]
    print_rows(["lead", "priority", "stage", "owner", "clock", "due", "business time left"], rows)
    typer.echo(f"{len(shown)} of {len(items)} open leads")


@app.command("show")
@handle_errors
def show(
    lead_id: Annotated[str, typer.Argument(metavar="ID", help="Id of the lead.")],
    workspace: WorkspaceOption = DEFAULT_WORKSPACE,
    as_of: AsOfOption = None,
    as_json: JsonOption = False,
) -> None:
    """One lead: facts, scores with every contribution, stage history, clocks, timeline."""
    from leadpact.services.leads import lead_detail

    with open_from_cli(workspace, as_of) as ws:
        detail = lead_detail(ws, lead_id, as_of)
        treatment = ws.pact.matrix.treatment[detail.score.priority].description
    if as_json:
        print_json(
            {
                "lead": asdict(detail.lead),
                "score": asdict(detail.score),
                "stage_history": [asdict(c) for c in detail.stage_history],
                "clocks": [asdict(c) for c in detail.clocks],
                "activities": [asdict(a) for a in detail.activities],
                "touches": [asdict(t) for t in detail.touches],
                "deals": [asdict(d) for d in detail.deals],
                "as_of": detail.as_of,
            }
        )
        return
    lead, score = detail.lead, detail.score
    name = " ".join(p for p in (lead.first_name, lead.last_name) if p) or "(erased)"
    typer.echo(f"Lead {lead.id}: {name}, {lead.title or '-'} at {lead.company or '-'}")
    typer.echo(
        f"  {lead.country or '-'} · {lead.industry or '-'} · {lead.employees or '-'} employees"
        f" · source {lead.source or '-'} · owner {lead.owner or '-'} ({lead.team or '-'})"
    )
    typer.echo(
        f"  stage {lead.stage} since {_when(lead.stage_at)}; created {_when(lead.created_at)}"
    )
    typer.echo(
        f"Fit {score.fit:.1f} (grade {score.fit_grade}), persona {score.persona or '-'}; "
        f"engagement {score.engagement:.1f}; priority {score.priority}: {treatment}"
    )
    criteria = [c for c in score.contributions if c.kind == "criterion"]
    behaviour = [c for c in score.contributions if c.kind == "activity"]
    print_rows(
        ["ICP criterion", "met", "weight", "fit points"],
        [[c.label, "yes" if c.met else "no", f"{c.weight:g}", f"{c.points:.1f}"] for c in criteria],
    )
    if behaviour:
        print_rows(
            ["activity", "count", "raw", "after decay", "cap", "points"],
            [
                [
                    c.label,
                    c.count,
                    f"{c.raw:g}",
                    f"{c.decayed:.1f}",
                    "-" if c.cap is None else f"{c.cap:g}",
                    f"{c.points:.1f}",
                ]
                for c in behaviour
            ],
        )
    print_rows(
        ["stage change", "at", "reason"],
        [
            [f"{c.from_stage or '-'} → {c.to_stage}", _when(c.at), c.reason or "-"]
            for c in detail.stage_history
        ],
    )
    print_rows(
        ["clock", "started", "due", "stopped", "status", "business time left"],
        [
            [
                c.commitment_id,
                _when(c.started_at),
                _when(c.due_at),
                _when(c.stopped_at),
                c.status.value,
                _left(c),
            ]
            for c in detail.clocks
        ],
    )
    events = [(a.at, f"activity {a.type}", a.url or a.content or "") for a in detail.activities]
    events += [(t.at, f"touch {t.channel} by {t.rep or '-'}", t.outcome) for t in detail.touches]
    recent = sorted(events, key=lambda e: e[0])[-10:]
    print_rows(["when", "what", "detail"], [[_when(at), what, extra] for at, what, extra in recent])
