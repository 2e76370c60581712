"""`leadpact alerts run|list|log`: run the alert scheduler; see the alerts and their delivery."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

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
    from leadpact.services.alerts import Cycle

app = typer.Typer(
    help="SLA alerts: warnings, breaches, escalations, digests; their delivery and log.",
    no_args_is_help=True,
)

LimitOption = Annotated[
    int, typer.Option("--limit", min=1, help="Show at most this many rows, newest first.")
]


@app.command("run")
@handle_errors
def run(
    once: Annotated[
        bool, typer.Option("--once", help="Plan and deliver once, then exit (e.g. from cron).")
    ] = False,
    as_of: AsOfOption = None,
    as_json: JsonOption = False,
    workspace: WorkspaceOption = DEFAULT_WORKSPACE,
) -> None:
    """Plan the due alerts and deliver them: once, or every LEADPACT_SCHEDULER_INTERVAL."""
    if as_of is not None and not once:
        raise typer.BadParameter(
            "--as-of needs --once: a running scheduler follows the real clock",
            param_hint="--as-of",
        )
    from leadpact.services.alerts import Planner, run_cycle

    with open_from_cli(workspace, as_of) as ws:
        if once:
            planner = Planner(ws, background=False)
            cycle = run_cycle(planner, ws.clock.now())
            if as_json:
                print_json(_cycle_json(cycle))
            else:
                typer.echo(_cycle_text(cycle))
            return
        _loop(ws, as_json)


def _loop(ws: Any, as_json: bool) -> None:
    """Run the scheduler in a thread until Ctrl-C; print each cycle that did something."""
    import threading

    from leadpact.services.alerts import Planner, run_scheduler

    planner = Planner(ws)  # reads the channel settings now: a bad URL stops here
    names = ", ".join(c.name for c in planner.channels) or "none (alerts are stored, not sent)"
    every = ws.settings.scheduler_interval.total_seconds()
    typer.echo(f"alert scheduler: every {every:g} s, channels: {names}; Ctrl-C stops", err=True)

    def report(cycle: Cycle) -> None:
        done = cycle.delivered
        if cycle.planned.stored or done.attempts or done.interrupted:
            typer.echo(_dumps(_cycle_json(cycle)) if as_json else _cycle_text(cycle))

    stop = threading.Event()
    finished = threading.Event()

    def work() -> None:
        try:
            run_scheduler(ws, stop, planner=planner, on_cycle=report)
        finally:
            finished.set()

    thread = threading.Thread(target=work, name="leadpact-alert-scheduler")
    thread.start()
    # Wait on an event, not `thread.join`: a join interrupted by Ctrl-C can wrongly mark the
    # thread finished on Python 3.11, and the process would then exit in mid-cycle.
    try:
        while not finished.wait(0.5):
            pass
    except KeyboardInterrupt:
        typer.echo("stopping after the cycle in progress...", err=True)
        stop.set()
        finished.wait()
    thread.join()


def _dumps(data: dict[str, Any]) -> str:
    import json

    return json.dumps(data)  # one line per cycle


def _cycle_json(cycle: Cycle) -> dict[str, Any]:
    done = cycle.delivered
    return {
        "as_of": cycle.now.isoformat(),
        "due": cycle.planned.due,
        "stored": cycle.planned.stored,
        "skipped": cycle.planned.skipped,
        "sent": done.sent,
        "retrying": done.retrying,
        "failed": done.failed,
        "interrupted": done.interrupted,
    }


def _cycle_text(cycle: Cycle) -> str:
    done = cycle.delivered
    planned = cycle.planned
    text = (
        f"{cycle.now.isoformat()}: {planned.due} alert{'s' if planned.due != 1 else ''} due, "
        f"{planned.stored} new ({planned.skipped} without a channel); "
        f"{done.sent} sent, {done.retrying} to retry, {done.failed} failed"
    )
    if done.interrupted:
        text += f", {done.interrupted} interrupted earlier"
    return text


@app.command("list")
@handle_errors
def list_command(
    status: Annotated[
        str | None,
        typer.Option(
            "--status", help="Only alerts in this status: pending, sending, sent, failed, skipped."
        ),
    ] = None,
    kind: Annotated[
        str | None,
        typer.Option(
            "--kind",
            help="Only this kind: warning, breach, escalation, reassignment, digest, review.",
        ),
    ] = None,
    limit: LimitOption = 100,
    as_json: JsonOption = False,
    workspace: WorkspaceOption = DEFAULT_WORKSPACE,
) -> None:
    """The stored alerts, newest first: kind, recipient, channel, status, attempts."""
    from leadpact.services.alerts import list_alerts

    with open_from_cli(workspace) as ws:
        found = list_alerts(ws, status=status, kind=kind, limit=limit)
    if as_json:
        print_json(
            {
                "alerts": [
                    {
                        "id": a.id,
                        "key": a.key,
                        "kind": a.kind,
                        "lead": a.lead_id,
                        "commitment": a.commitment_id,
                        "recipient": a.recipient,
                        "channel": a.channel,
                        "due_at": a.due_at,
                        "created_at": a.created_at,
                        "status": a.status,
                        "attempts": a.attempts,
                        "next_attempt_at": a.next_attempt_at,
                        "sent_at": a.sent_at,
                        "last_error": a.last_error,
                        "subject": a.payload.get("subject"),
                    }
                    for a in found
                ]
            }
        )
        return
    if not found:
        typer.echo("no alerts" + (" with these filters" if status or kind else " yet"))
        return
    print_rows(
        ["id", "kind", "lead", "recipient", "channel", "status", "tries", "created", "subject"],
        [
            [
                a.id,
                a.kind,
                a.lead_id or "-",
                a.recipient,
                a.channel,
                a.status,
                a.attempts,
                _utc(a.created_at),
                a.payload.get("subject", ""),
            ]
            for a in found
        ],
    )


@app.command("log")
@handle_errors
def log_command(
    alert: Annotated[
        int | None, typer.Option("--alert", help="Only the attempts of this alert (its id).")
    ] = None,
    limit: LimitOption = 100,
    as_json: JsonOption = False,
    workspace: WorkspaceOption = DEFAULT_WORKSPACE,
) -> None:
    """The delivery log: every attempt to send an alert, newest first, with the outcome."""
    from leadpact.services.alerts import delivery_log

    with open_from_cli(workspace) as ws:
        found = delivery_log(ws, alert_id=alert, limit=limit)
    if as_json:
        print_json(
            {
                "deliveries": [
                    {
                        "id": d.id,
                        "alert": d.alert_id,
                        "key": d.key,
                        "kind": d.kind,
                        "channel": d.channel,
                        "recipient": d.recipient,
                        "attempt": d.attempt,
                        "at": d.at,
                        "ok": d.ok,
                        "detail": d.detail,
                    }
                    for d in found
                ]
            }
        )
        return
    if not found:
        if alert is not None:
            exit_with_error(f"no delivery attempts for alert {alert}; see `leadpact alerts list`")
        typer.echo("no delivery attempts yet")
        return
    print_rows(
        ["at", "alert", "kind", "channel", "recipient", "try", "ok", "detail"],
        [
            [
                _utc(d.at),
                d.alert_id,
                d.kind,
                d.channel,
                d.recipient,
                d.attempt,
                "yes" if d.ok else "no",
                d.detail or "",
            ]
            for d in found
        ],
    )


def _utc(at: datetime | None) -> str:
    return "-" if at is None else at.strftime("%Y-%m-%d %H:%M:%S UTC")
