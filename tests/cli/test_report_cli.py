"""`leadpact report` and `leadpact export --parquet` through the command line."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from leadpact.cli import app

runner = CliRunner()
AS_OF = "2025-11-20T15:30:00Z"


def test_report_prints_json(demo_dir):
    result = runner.invoke(app, ["report", "-w", str(demo_dir), "--as-of", AS_OF])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["meta"]["as_of"] == "2025-11-20T15:30:00+00:00"
    assert data["meta"]["period_start"] == "2025-11-01"


def test_report_writes_csv_for_a_week(demo_dir, tmp_path):
    out = tmp_path / "report.csv"
    result = runner.invoke(
        app,
        [
            "report",
            "-w",
            str(demo_dir),
            "--as-of",
            AS_OF,
            "--period",
            "week",
            "--start",
            "2025-11-10",
            "--format",
            "csv",
            "-o",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    lines = out.read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith("section,")
    assert sum(1 for line in lines if line.startswith("waterfall,")) == 7 * 7


def test_export_then_duckdb_report(demo_dir, tmp_path):
    folder = tmp_path / "export"
    result = runner.invoke(app, ["export", "--parquet", str(folder), "-w", str(demo_dir)])
    assert result.exit_code == 0, result.output
    assert "leads 1,500" in result.stdout
    result = runner.invoke(
        app,
        [
            "report",
            "-w",
            str(demo_dir),
            "--as-of",
            AS_OF,
            "--engine",
            "duckdb",
            "--parquet",
            str(folder),
        ],
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["meta"]["engine"] == "duckdb"


def test_bad_start_is_a_usage_error(demo_dir):
    result = runner.invoke(app, ["report", "-w", str(demo_dir), "--start", "March"])
    assert result.exit_code == 2
    assert "is not a date" in result.output


def test_engine_mismatch_is_one_red_line(demo_dir):
    result = runner.invoke(
        app, ["report", "-w", str(demo_dir), "--as-of", AS_OF, "--engine", "postgres"]
    )
    assert result.exit_code == 1
    assert "this workspace's database is SQLite" in result.output
    assert "Traceback" not in result.output
