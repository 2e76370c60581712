"""`leadpact calendar due|between`: deadlines and business time by a pact's calendars."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from leadpact.cli._output import exit_with_error, handle_errors, print_json

if TYPE_CHECKING:
    from leadpact.core.calendar import BusinessCalendar

app = typer.Typer(
    help="Business time by a pact's calendars: when something is due, and how much time passed.",
    no_args_is_help=True,
)

ISO_HINT = "an ISO 8601 date-time with a UTC offset, e.g. 2025-03-07T15:30:00+01:00"

PactFile = Annotated[
    Path, typer.Option("--pact", help="The pact.yaml that defines the calendar.", metavar="FILE")
]
CalendarName = Annotated[
    str, typer.Option("--calendar", help="The calendar's name in the pact.", metavar="NAME")
]
Start = Annotated[
    str,
    typer.Option("--start", help="When the clock starts, with a UTC offset.", metavar="ISO"),
]
AsJson = Annotated[bool, typer.Option("--json", help="Print a JSON object instead of text.")]


def _instant(option: str, text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        exit_with_error(f"{option}: {text!r} is not {ISO_HINT}")
    if value.utcoffset() is None:
        exit_with_error(f"{option}: {text!r} has no UTC offset; give {ISO_HINT}")
    return value


def _calendar(pact: Path, name: str) -> BusinessCalendar:
    from leadpact.pact_file import load_pact

    return load_pact(pact).calendar(name)


def _show(at: datetime, cal: BusinessCalendar) -> str:
    local = at.astimezone(cal.timezone)
    utc = at.astimezone(UTC)
    return f"{local:%a} {local.isoformat(sep=' ')} ({local:%Z}) = {utc.isoformat(sep=' ')} UTC"


@app.command("due")
@handle_errors
def due(
    pact: PactFile,
    calendar: CalendarName,
    start: Start,
    within: Annotated[
        str,
        typer.Option(
            "--within",
            help='Business time to allow: "30m", "2h", "1h30m", "3d" (a day is 24 business hours).',
            metavar="DURATION",
        ),
    ],
    as_json: AsJson = False,
) -> None:
    """When is it due: START plus WITHIN business time, in local time and UTC."""
    from leadpact.core.durations import format_duration, parse_duration

    begin = _instant("--start", start)
    try:
        allowed = parse_duration(within)
    except ValueError as err:
        exit_with_error(f"--within: {err}")
    cal = _calendar(pact, calendar)
    due_at = cal.deadline(begin, allowed)
    if as_json:
        print_json(
            {
                "calendar": calendar,
                "timezone": cal.spec.timezone,
                "start": begin.astimezone(UTC),
                "within_seconds": allowed.total_seconds(),
                "due_at": due_at,
                "due_local": due_at.astimezone(cal.timezone),
            }
        )
        return
    typer.echo(f"calendar  {calendar} ({cal.spec.timezone})")
    typer.echo(f"start     {_show(begin, cal)}")
    typer.echo(f"within    {format_duration(allowed)} of business time")
    typer.echo(f"due       {_show(due_at, cal)}")


@app.command("between")
@handle_errors
def between(
    pact: PactFile,
    calendar: CalendarName,
    start: Start,
    end: Annotated[
        str, typer.Option("--end", help="When the clock stops, with a UTC offset.", metavar="ISO")
    ],
    as_json: AsJson = False,
) -> None:
    """How much business time lies from START to END (negative if END is earlier)."""
    from leadpact.core.durations import format_duration

    begin, finish = _instant("--start", start), _instant("--end", end)
    cal = _calendar(pact, calendar)
    span = cal.between(begin, finish)
    if as_json:
        print_json(
            {
                "calendar": calendar,
                "timezone": cal.spec.timezone,
                "start": begin.astimezone(UTC),
                "end": finish.astimezone(UTC),
                "business_seconds": span.total_seconds(),
                "business": format_duration(span),
            }
        )
        return
    typer.echo(f"calendar  {calendar} ({cal.spec.timezone})")
    typer.echo(f"start     {_show(begin, cal)}")
    typer.echo(f"end       {_show(finish, cal)}")
    seconds = span.total_seconds()
    exact = f"{seconds:.0f}" if seconds.is_integer() else f"{seconds:.6f}".rstrip("0")
    typer.echo(f"business  {format_duration(span)} ({exact} s)")
