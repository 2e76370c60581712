"""`leadpact import` as a user runs it: summaries, JSON, exit codes, one-line errors."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from leadpact.cli import app

DATA = Path(__file__).resolve().parents[1] / "data" / "import"
EXAMPLE_PACT = Path(__file__).resolve().parents[2] / "src" / "leadpact" / "data" / "pact.yaml"
AS_OF = "2025-04-01T12:00:00Z"

runner = CliRunner()


@pytest.fixture
def ws(tmp_path, monkeypatch):
    """A workspace folder with the example pact; its database is the SQLite file inside."""
    monkeypatch.delenv("LEADPACT_DATABASE_URL", raising=False)
    folder = tmp_path / "ws"
    folder.mkdir()
    shutil.copy(EXAMPLE_PACT, folder / "pact.yaml")
    return folder


def run(ws: Path, *args: object) -> Result:
    return runner.invoke(app, ["import", *map(str, args), "--workspace", str(ws), "--as-of", AS_OF])


def flat(text: str) -> str:
    return " ".join(text.split())


def test_a_clean_import_prints_a_summary_and_exits_0(ws):
    result = run(ws, DATA / "leads.csv")
    assert result.exit_code == 0, result.output
    out = flat(result.output)
    assert "Imported leads from" in out
    assert "3 rows read, 3 landed (3 new, 0 updated, 0 unchanged), 0 rejected" in out
    assert "times without a time zone, read as UTC" in out
    assert "1 row (line 4)" in out
    assert not (ws / "rejects").exists()


def test_rows_of_an_erased_person_are_suppressed_and_the_import_exits_0(ws):
    assert run(ws, DATA / "leads.csv", "--no-score").exit_code == 0
    erased = runner.invoke(app, ["leads", "erase", "L2", "--workspace", str(ws)])
    assert erased.exit_code == 0, erased.output
    result = run(ws, DATA / "leads.csv", "--no-score")
    assert result.exit_code == 0, result.output
    out = flat(result.output)
    assert "3 rows read, 2 landed (0 new, 0 updated, 2 unchanged), 0 rejected, " in out
    assert "1 suppressed (erased earlier)" in out
    assert "Suppressed (erased earlier, not stored): 1 row (line 3)" in out
    assert "bo@beta.example" not in out
    assert not (ws / "rejects").exists()
    as_json = json.loads(run(ws, DATA / "leads.csv", "--no-score", "--json").output)
    assert (as_json["suppressed"], as_json["suppressed_lines"], as_json["rejected"]) == (1, [3], 0)


def test_rejected_rows_exit_1_and_land_in_the_rejects_file(ws):
    result = run(ws, DATA / "leads_bad.csv", "--no-score")
    assert result.exit_code == 1
    out = flat(result.output)
    assert "9 rows read, 3 landed (3 new, 0 updated, 0 unchanged), 6 rejected" in out
    assert "malformed line │ 2" in out
    assert "created_at: 'next tuesday' is not a date and time" in out
    rejects = ws / "rejects" / "leads_bad.rejects.csv"
    assert f"All rejected rows: {rejects}" in out
    assert rejects.read_text().startswith("line,reason,raw\n3,id is empty,")


def test_json_output_and_a_chosen_rejects_path(ws, tmp_path):
    target = tmp_path / "bad.csv"
    result = run(ws, DATA / "leads_bad.csv", "--json", "--rejects", target, "--no-score")
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert (report["kind"], report["landed"], report["rejected"]) == ("leads", 3, 6)
    assert report["rejects_file"] == str(target)
    assert [r["line"] for r in report["rejects"]] == [3, 4, 5, 6, 8, 11]
    assert report["reject_reasons"]["id is empty"] == 1
    assert target.is_file()


def test_events_for_unknown_leads_and_the_kind_option(ws):
    assert run(ws, DATA / "leads.csv").exit_code == 0
    result = run(ws, DATA / "touches.csv", "--kind", "touches", "--json")
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert (report["kind"], report["landed"], report["rejected"]) == ("touches", 3, 2)
    assert report["rejects"][1]["reason"].startswith("lead_id: no lead 'L404' in the workspace")


def test_a_preset_and_a_mapping_file(ws):
    result = run(ws, DATA / "hubspot_contacts.csv", "--preset", "hubspot")
    assert result.exit_code == 1  # "Other" is no stage of the pact
    assert "7 stage changes recorded" in flat(result.output)
    assert run(ws, DATA / "leads.csv").exit_code == 0
    mapped = run(ws, DATA / "dialler.csv", "--mapping", DATA / "mapping_touches.yaml", "--json")
    assert json.loads(mapped.stdout)["landed"] == 2


def test_won_and_lost_deals_report_the_stage_changes_they_made(ws):
    assert run(ws, DATA / "leads.csv").exit_code == 0
    result = run(ws, DATA / "deals.csv", "--json")
    assert result.exit_code == 1  # D5 names no lead
    report = json.loads(result.stdout)
    assert (report["landed"], report["stage_changes"]) == (4, 2)
    text = flat(run(ws, DATA / "deals.csv").output)
    assert "4 landed (0 new, 0 updated, 4 unchanged), 1 rejected" in text
    assert "stage changes recorded" not in text


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["missing.csv"], "missing.csv: no such file"),
        (
            [DATA / "leads.csv", "--kind", "deals"],
            "leads.csv has no lead_id column, which deals need",
        ),
        (
            [DATA / "leads.csv", "--mapping", DATA / "mapping_broken.yaml"],
            "mapping_broken.yaml:2: colums",
        ),
    ],
)
def test_whole_file_problems_are_one_red_message_without_a_traceback(ws, args, message):
    result = run(ws, *args)
    assert result.exit_code == 1
    assert message in result.output
    assert "Traceback" not in result.output


def test_a_usage_error_is_exit_2(ws):
    result = run(ws, DATA / "leads.csv", "--kind", "people")
    assert result.exit_code == 2


def test_leads_are_rescored_unless_told_not_to(ws):
    skipped = run(ws, DATA / "leads.csv", "--no-score")
    assert "re-scored" not in skipped.output
    db = ws / "leadpact.db"
    with sqlite3.connect(db) as conn:
        assert conn.execute(
            "SELECT count(*) FROM leads WHERE scored_at IS NOT NULL"
        ).fetchone() == (0,)
    scored = run(ws, DATA / "activities.csv")
    assert "Leads re-scored." in scored.output
    with sqlite3.connect(db) as conn:
        assert conn.execute(
            "SELECT count(*) FROM leads WHERE scored_at IS NOT NULL"
        ).fetchone() == (3,)
