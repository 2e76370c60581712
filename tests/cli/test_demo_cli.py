"""`leadpact demo` builds a working workspace a newcomer can explore."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from leadpact.cli import app

runner = CliRunner()


def test_demo_builds_a_scored_clocked_workspace(tmp_path: Path):
    directory = tmp_path / "demo"
    args = ["demo", "--dir", str(directory), "--leads", "400", "--start", "2025-01-06", "--json"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["as_of"] == "2026-01-06T00:00:00+00:00"
    assert summary["imported"]["leads"] == 400
    assert summary["imported"]["activities"] > 400
    assert sum(summary["stages"].values()) == 400
    assert "unscored" not in summary["priorities"]
    by_id = {c["commitment"]: c for c in summary["commitments"]}
    assert set(by_id) == {"mql-acceptance", "p1-response", "sql-response", "sql-follow-up"}
    assert by_id["mql-acceptance"]["met"] + by_id["mql-acceptance"]["breached"] > 0
    assert (directory / "pact.yaml").is_file()
    assert (directory / "leadpact.db").is_file()
    check = runner.invoke(app, ["pact", "check", str(directory / "pact.yaml")])
    assert check.exit_code == 0


def test_demo_is_deterministic(tmp_path: Path):
    outputs = []
    for name in ("a", "b"):
        args = ["demo", "--dir", str(tmp_path / name), "--leads", "200", "--start", "2025-02-03"]
        result = runner.invoke(app, [*args, "--seed", "11", "--json"])
        assert result.exit_code == 0, result.output
        summary = json.loads(result.stdout)
        summary.pop("directory")
        outputs.append(summary)
    assert outputs[0] == outputs[1]


def test_demo_rejects_a_bad_start(tmp_path: Path):
    result = runner.invoke(app, ["demo", "--dir", str(tmp_path), "--start", "March"])
    assert result.exit_code == 2
    assert "is not a date" in result.output
