"""`leadpact init` and `leadpact pact check|schema` as a user runs them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from leadpact.cli import app

runner = CliRunner()


def test_init_writes_a_pact_that_passes_check(tmp_path: Path):
    result = runner.invoke(app, ["init", str(tmp_path / "ws")])
    assert result.exit_code == 0, result.output
    pact_file = tmp_path / "ws" / "pact.yaml"
    assert pact_file.read_text(encoding="utf-8").startswith("# pact.yaml")
    check = runner.invoke(app, ["pact", "check", str(pact_file)])
    assert check.exit_code == 0, check.output
    assert "valid pact v1 for Nordlys Software ApS: 3 parties" in check.output


def test_init_refuses_to_overwrite_without_force(tmp_path: Path):
    (tmp_path / "pact.yaml").write_text("mine", encoding="utf-8")
    result = runner.invoke(app, ["init", str(tmp_path)])
    assert result.exit_code == 1
    assert "exists; use --force" in result.output
    assert (tmp_path / "pact.yaml").read_text(encoding="utf-8") == "mine"
    forced = runner.invoke(app, ["init", str(tmp_path), "--force"])
    assert forced.exit_code == 0
    assert (tmp_path / "pact.yaml").read_text(encoding="utf-8") != "mine"


def test_examples_pact_is_the_shipped_template():
    root = Path(__file__).resolve().parents[2]
    shipped = (root / "src" / "leadpact" / "data" / "pact.yaml").read_text(encoding="utf-8")
    assert (root / "examples" / "pact.yaml").read_text(encoding="utf-8") == shipped


def test_check_prints_every_problem_one_per_line(tmp_path: Path, example_text: str):
    broken = example_text.replace("  fit_threshold: 60", "  fit_threshold: high").replace(
        "timezone: America/New_York", "timezone: Mars/Base"
    )
    pact_file = tmp_path / "pact.yaml"
    pact_file.write_text(broken, encoding="utf-8")
    result = runner.invoke(app, ["pact", "check", str(pact_file)])
    assert result.exit_code == 1
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 2
    assert all(line.startswith(f"{pact_file}:") for line in lines)
    assert "matrix.fit_threshold:" in lines[0]
    assert "calendars.sales-us.timezone: unknown time zone 'Mars/Base'" in lines[1]
    assert "2 problems" in result.stderr


def test_check_on_empty_and_missing_files(tmp_path: Path):
    empty = tmp_path / "empty.yaml"
    empty.write_text("", encoding="utf-8")
    result = runner.invoke(app, ["pact", "check", str(empty)])
    assert result.exit_code == 1
    expected = f"{empty}:1: the file is empty; expected a pact (see `leadpact init`)"
    assert result.stdout.strip() == expected
    missing = runner.invoke(app, ["pact", "check", str(tmp_path / "none.yaml")])
    assert missing.exit_code == 1
    assert "no such file" in missing.stdout
    assert "Traceback" not in missing.output


def test_schema_is_json_schema():
    result = runner.invoke(app, ["pact", "schema"])
    assert result.exit_code == 0
    schema = json.loads(result.stdout)
    assert schema["$schema"].endswith("2020-12/schema")
    assert "commitments" in schema["required"]


def test_help_lists_the_commands():
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    for command in ("init", "pact", "calendar", "goals"):
        assert command in result.stdout


def test_console_script_runs_as_a_module():
    result = subprocess.run(
        [sys.executable, "-m", "leadpact", "--help"], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0
    assert "sales & marketing SLA" in result.stdout
