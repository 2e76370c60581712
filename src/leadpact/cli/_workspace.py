"""The options every workspace command shares (`--workspace`, `--as-of`) and opening it.

Kept light: the services, the store and SQLAlchemy are imported only when a command runs.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from leadpact.services.workspace import Workspace


def parse_instant(value: str | datetime) -> datetime:
    """Parse an ISO 8601 instant with a time zone into a tz-aware UTC datetime.

    Raises:
        typer.BadParameter: not ISO 8601, or no time zone (a usage error, exit code 2).
    """
    if isinstance(value, datetime):  # Typer hands defaults through the parser too
        return value
    text = value.strip()
    try:
        instant = datetime.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(
            f"{value!r} is not an ISO 8601 instant; write e.g. 2025-03-07T15:30:00+01:00 or "
            "2025-03-07T14:30:00Z"
        ) from None
    if instant.tzinfo is None:
        raise typer.BadParameter(
            f"{value!r} has no time zone; add one, e.g. {text}Z or {text}+01:00"
        )
    return instant.astimezone(UTC)


#: The default workspace: the current folder.
DEFAULT_WORKSPACE = Path(".")

#: `--workspace DIR` / `-w DIR` (or LEADPACT_WORKSPACE): the folder with pact.yaml.
WorkspaceOption = Annotated[
    Path,
    typer.Option(
        "--workspace",
        "-w",
        help="Workspace folder (holds pact.yaml and, by default, the database leadpact.db).",
        envvar="LEADPACT_WORKSPACE",
        file_okay=False,
    ),
]

#: `--as-of INSTANT`: what "now" is for this command (ISO 8601 with a time zone).
AsOfOption = Annotated[
    datetime | None,
    typer.Option(
        "--as-of",
        help="Act as if now were this instant (ISO 8601 with a time zone, e.g. 2025-03-07T15:30Z).",
        parser=parse_instant,
        metavar="INSTANT",
    ),
]

#: `--json`: print the result as JSON instead of text.
JsonOption = Annotated[bool, typer.Option("--json", help="Print the result as JSON.")]


def open_from_cli(directory: Path, as_of: datetime | None = None) -> Workspace:
    """Open the workspace of a command, with a clock stopped at `as_of` when given.

    Raises:
        LeadPactError: as `services.workspace.open_workspace` (the CLI prints it in one line).
    """
    from leadpact.clock import FixedClock
    from leadpact.services.workspace import open_workspace

    clock = FixedClock(as_of) if as_of is not None else None
    return open_workspace(directory, clock=clock)
