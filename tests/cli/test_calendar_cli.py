"""Tests for `leadpact calendar due|between` on the example pact's sales-dk calendar."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from leadpact.cli import app

EXAMPLE_PACT = Path(__file__).parents[2] / "examples" / "pact.yaml"
SALES_DK = ["--pact", str(EXAMPLE_PACT), "--calendar", "sales-dk"]
LATER = ["--start", "2025-03-07T10:00Z", "--within", "2h"]

runner = CliRunner()


def run(*args: str) -> Any:
    return runner.invoke(app, ["calendar", *args])


def run_json(*args: str) -> dict[str, Any]:
    result = run(*args, "--json")
    assert result.exit_code == 0, result.output
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def test_due_as_text() -> None:
    # sales-dk: Fri closes 16:00, so 30m on Friday and 1h30m from Mon 09:00.
    result = run("due", *SALES_DK, "--start", "2025-03-07T15:30:00+01:00", "--within", "2h")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        "calendar  sales-dk (Europe/Copenhagen)",
        "start     Fri 2025-03-07 15:30:00+01:00 (CET) = 2025-03-07 14:30:00+00:00 UTC",
        "within    2h of business time",
        "due       Mon 2025-03-10 10:30:00+01:00 (CET) = 2025-03-10 09:30:00+00:00 UTC",
    ]


def test_due_as_json() -> None:
    data = run_json("due", *SALES_DK, "--start", "2025-03-07T14:30:00Z", "--within", "1h30m")
    assert data == {
        "calendar": "sales-dk",
        "timezone": "Europe/Copenhagen",
        "start": "2025-03-07T14:30:00+00:00",
        "within_seconds": 5400.0,
        "due_at": "2025-03-10T09:00:00+00:00",
        "due_local": "2025-03-10T10:00:00+01:00",
    }


def test_due_honours_holidays_and_closures() -> None:
    # Dec 31 2025 is a company closure, Jan 1 a public holiday: Tue 16:00 + 2h -> Fri 10:00.
    data = run_json("due", *SALES_DK, "--start", "2025-12-30T16:00:00+01:00", "--within", "2h")
    assert data["due_local"] == "2026-01-02T10:00:00+01:00"


def test_between_as_text() -> None:
    args = ["--start", "2025-03-07T15:00:00+01:00", "--end", "2025-03-10T10:00:00.5+01:00"]
    result = run("between", *SALES_DK, *args)
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[-1] == "business  2h0.5s (7200.5 s)"


def test_between_as_json_is_negative_backwards() -> None:
    args = ["--start", "2025-03-10T10:00:00+01:00", "--end", "2025-03-07T15:00:00+01:00"]
    data = run_json("between", *SALES_DK, *args)
    assert data == {
        "calendar": "sales-dk",
        "timezone": "Europe/Copenhagen",
        "start": "2025-03-10T09:00:00+00:00",
        "end": "2025-03-07T14:00:00+00:00",
        "business_seconds": -7200.0,
        "business": "-2h",
    }


def test_between_whole_seconds_as_text() -> None:
    args = ["--start", "2025-03-08T10:00:00+01:00", "--end", "2025-03-09T10:00:00+01:00"]
    result = run("between", *SALES_DK, *args)
    assert result.stdout.splitlines()[-1] == "business  0s (0 s)"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["due", *SALES_DK, "--start", "2025-13-01T10:00", "--within", "2h"],
            "--start: '2025-13-01T10:00' is not an ISO 8601 date-time with a UTC offset",
        ),
        (
            ["due", *SALES_DK, "--start", "2025-03-07T10:00", "--within", "2h"],
            "--start: '2025-03-07T10:00' has no UTC offset",
        ),
        (
            ["between", *SALES_DK, "--start", "2025-03-07T10:00Z", "--end", "tomorrow"],
            "--end: 'tomorrow' is not an ISO 8601 date-time",
        ),
        (
            ["due", *SALES_DK, "--start", "2025-03-07T10:00Z", "--within", "2 hours"],
            "--within: '2 hours' is not a duration",
        ),
        (
            ["due", "--pact", str(EXAMPLE_PACT), "--calendar", "sales-xx", *LATER],
            "no calendar 'sales-xx'",
        ),
        (
            ["due", "--pact", "missing.yaml", "--calendar", "sales-dk", *LATER],
            "missing.yaml",
        ),
        (
            ["due", *SALES_DK, "--start", "1850-03-07T10:00Z", "--within", "2h"],
            "outside the supported range",
        ),
    ],
)
def test_bad_input_is_one_line_and_exit_1(args: list[str], message: str) -> None:
    result = run(*args)
    assert result.exit_code == 1
    assert isinstance(result.exception, SystemExit)  # no traceback
    assert result.stdout == ""
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_help_lists_both_commands_and_every_option() -> None:
    listing = run("--help")
    assert listing.exit_code == 0
    assert "due" in listing.stdout
    assert "between" in listing.stdout
    for command, options in [
        ("due", ["--pact", "--calendar", "--start", "--within", "--json"]),
        ("between", ["--pact", "--calendar", "--start", "--end", "--json"]),
    ]:
        text = run(command, "--help").stdout
        assert all(option in text for option in options), text
