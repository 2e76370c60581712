"""The shared workspace options: `--as-of` parsing and opening the workspace with its clock."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from leadpact.cli._output import handle_errors
from leadpact.cli._workspace import (
    DEFAULT_WORKSPACE,
    AsOfOption,
    JsonOption,
    WorkspaceOption,
    open_from_cli,
    parse_instant,
)

runner = CliRunner()
probe = typer.Typer()


@probe.command()
@handle_errors
def show(
    workspace: WorkspaceOption = DEFAULT_WORKSPACE,
    as_of: AsOfOption = None,
    as_json: JsonOption = False,
) -> None:
    """Print what the options parsed to."""
    typer.echo(f"{workspace}|{as_of.isoformat() if as_of else None}|{as_json}")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2025-03-07T15:30:00+01:00", datetime(2025, 3, 7, 14, 30, tzinfo=UTC)),
        ("2025-03-07T14:30Z", datetime(2025, 3, 7, 14, 30, tzinfo=UTC)),
        (" 2025-03-07 14:30:00.5-05:00 ", datetime(2025, 3, 7, 19, 30, 0, 500000, tzinfo=UTC)),
    ],
)
def test_instants_become_utc(text: str, expected: datetime) -> None:
    parsed = parse_instant(text)
    assert parsed == expected
    assert parsed.tzinfo is UTC


def test_a_datetime_passes_through() -> None:
    at = datetime(2025, 3, 7, 14, 30, tzinfo=UTC)
    assert parse_instant(at) is at


def test_the_options_on_a_command(tmp_path: Path) -> None:
    result = runner.invoke(probe, ["-w", str(tmp_path), "--as-of", "2025-03-07T15:30+01:00"])
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == f"{tmp_path}|2025-03-07T14:30:00+00:00|False"
    result = runner.invoke(probe, ["--json"], env={"LEADPACT_WORKSPACE": str(tmp_path)})
    assert result.stdout.strip() == f"{tmp_path}|None|True"
    result = runner.invoke(probe, [], env={"LEADPACT_WORKSPACE": None})
    assert result.stdout.strip() == ".|None|False"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("2025-03-07T15:30", "has no time zone; add one, e.g. 2025-03-07T15:30Z"),
        ("yesterday", "is not an ISO 8601 instant"),
    ],
)
def test_bad_instants_are_usage_errors(value: str, message: str) -> None:
    result = runner.invoke(probe, ["--as-of", value])
    assert result.exit_code == 2
    assert message in " ".join(result.stderr.replace("│", " ").split())  # Rich wraps it in a box


def test_open_from_cli_uses_a_fixed_clock(tmp_path: Path, example_text: str) -> None:
    (tmp_path / "pact.yaml").write_text(example_text, encoding="utf-8")
    at = datetime(2025, 3, 7, 14, 30, tzinfo=UTC)
    with open_from_cli(tmp_path, at) as workspace:
        assert workspace.clock.now() == at
    with open_from_cli(tmp_path) as workspace:
        assert workspace.clock.now() > at
