"""Console output shared by the commands: JSON, tables, and `LeadPactError` → exit code 1."""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, NoReturn, ParamSpec, TypeVar

import typer

from leadpact.errors import LeadPactError

P = ParamSpec("P")
R = TypeVar("R")

#: Set by the root callback from `--debug`: show tracebacks instead of one-line errors.
DEBUG = {"enabled": False}


def _default(value: object) -> object:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, Decimal):
        return float(value)
    raise TypeError(f"cannot encode {type(value).__name__} as JSON")


def dumps(data: object) -> str:
    """Encode report data as stable, indented JSON (datetimes as ISO 8601, durations in s)."""
    return json.dumps(data, default=_default, indent=2, ensure_ascii=False)


def print_json(data: object) -> None:
    """Write `data` as JSON to standard output."""
    sys.stdout.write(dumps(data) + "\n")


def exit_with_error(message: str, code: int = 1) -> NoReturn:
    """Print a red one-line error to standard error and exit."""
    typer.secho(message, fg=typer.colors.RED, err=True)
    raise typer.Exit(code)


def handle_errors(func: Callable[P, R]) -> Callable[P, R]:
    """Turn a `LeadPactError` raised by a command into a red message and exit code 1."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except LeadPactError as err:
            if DEBUG["enabled"]:
                raise
            exit_with_error(str(err))

    return wrapper


def print_rows(headers: list[str], rows: list[list[Any]]) -> None:
    """Print a simple aligned table (Rich), one row per list."""
    from rich.console import Console
    from rich.table import Table

    table = Table(*headers, show_edge=False, header_style="bold")
    for row in rows:
        table.add_row(*(str(cell) for cell in row))
    # Piped output is not cut to 80 columns: it is read in files and logs, not a terminal.
    console = Console() if sys.stdout.isatty() else Console(width=200)
    console.print(table)
