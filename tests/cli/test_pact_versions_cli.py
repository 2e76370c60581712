"""`leadpact pact commit|log|diff|approve|status|report-logged` as a user runs them."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from leadpact.cli import app

EXAMPLE_PACT = Path(__file__).resolve().parents[2] / "src" / "leadpact" / "data" / "pact.yaml"
runner = CliRunner()


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    folder = tmp_path / "ws"
    folder.mkdir()
    shutil.copy(EXAMPLE_PACT, folder / "pact.yaml")
    return folder


def run(ws: Path, *args: str, as_of: str | None = None):
    extra = ["-w", str(ws)] + (["--as-of", as_of] if as_of else [])
    return runner.invoke(app, ["pact", *args, *extra])


def approve_all(ws: Path, version: str, day: str) -> None:
    owners = {"marketing": "Mette Holm", "sales": "Lars Nielsen", "service": "Anna Kruse"}
    for party, owner in owners.items():
        result = run(ws, "approve", version, "--party", party, "--by", owner, as_of=day)
        assert result.exit_code == 0, result.output


def test_commit_approve_and_log(ws: Path):
    first = run(ws, "commit", "-m", "First agreement", as_of="2025-03-01T08:00Z")
    assert first.exit_code == 0, first.output
    assert "recorded version 1; it needs every party's approval" in first.output
    same = run(ws, "commit", "-m", "again")
    assert "unchanged since version 1; nothing recorded" in same.output
    approve = run(
        ws, "approve", "1", "--party", "sales", "--by", "Lars Nielsen", as_of="2025-03-02T08:00Z"
    )
    assert approve.exit_code == 0
    assert "Lars Nielsen approved version 1 for sales\nwaiting for: marketing, service" in (
        approve.output
    )
    approve_all_but_sales = [("marketing", "Mette Holm"), ("service", "Anna Kruse")]
    for party, owner in approve_all_but_sales:
        last = run(ws, "approve", "1", "--party", party, "--by", owner, as_of="2025-03-15T09:00Z")
    assert "approved by every party; in force from 2025-03-15" in last.output
    log = run(ws, "log", "--json", as_of="2025-03-20T00:00Z")
    (entry,) = json.loads(log.output)
    assert entry["state"] == "in force"
    assert entry["takes_effect_on"] == "2025-03-15"
    assert [a["party"] for a in entry["approvals"]] == ["sales", "marketing", "service"]
    table = run(ws, "log", as_of="2025-03-20T00:00Z")
    assert "in force" in table.output
    assert "First" in table.output


def test_an_empty_workspace_log(ws: Path):
    result = run(ws, "log")
    assert result.exit_code == 0
    assert "no version recorded yet" in result.output


def test_commit_mistakes_are_one_line_errors(ws: Path):
    missing = run(ws, "commit")
    assert missing.exit_code == 1
    assert "say what changed" in missing.output
    path = ws / "pact.yaml"
    path.write_text(path.read_text().replace("within: 2h", "within: soon", 1))
    broken = run(ws, "commit", "-m", "broken")
    assert broken.exit_code == 1
    assert "commitments.4.within" in broken.output
    assert "Traceback" not in broken.output
    bad_date = run(ws, "commit", "-m", "x", "--effective", "next week")
    assert bad_date.exit_code == 2


def test_wrong_approver_and_unknown_version(ws: Path):
    run(ws, "commit", "-m", "v1")
    wrong = run(ws, "approve", "1", "--party", "sales", "--by", "Sofie Dahl")
    assert wrong.exit_code == 1
    assert "only its owner, Lars Nielsen, can approve it" in wrong.output
    unknown = run(ws, "approve", "4", "--party", "sales", "--by", "Lars Nielsen")
    assert "there is no version 4" in unknown.output


def test_diff_in_sentences_and_json(ws: Path):
    run(ws, "commit", "-m", "v1")
    path = ws / "pact.yaml"
    path.write_text(path.read_text().replace("    within: 2h", "    within: 1h", 1))
    commit = run(ws, "commit", "-m", "faster", "--json")
    assert json.loads(commit.output) == {
        "version": 2,
        "created": True,
        "changes": ["Commitment p1-response: within changed from 2h to 1h"],
    }
    text = run(ws, "diff", "1", "2")
    assert text.output == "Commitment p1-response: within changed from 2h to 1h\n"
    (change,) = json.loads(run(ws, "diff", "1", "2", "--json").output)
    assert (change["where"], change["field"], change["before"], change["after"]) == (
        "Commitment p1-response",
        "within",
        "2h",
        "1h",
    )
    assert run(ws, "diff", "2", "2").output == "versions 2 and 2 say the same\n"


def test_status_and_report_logging(ws: Path):
    run(ws, "commit", "-m", "v1", as_of="2025-01-02T08:00Z")
    approve_all(ws, "1", "2025-01-02T09:00Z")
    logged = run(
        ws,
        "report-logged",
        "friction-report",
        "--period",
        "2025-03",
        "--at",
        "2025-04-03T12:00+02:00",
        as_of="2025-04-10T08:00Z",
    )
    assert logged.exit_code == 0, logged.output
    assert logged.output == ("logged friction-report for 2025-03: met (due 2025-04-05 22:00 UTC)\n")
    late = run(
        ws,
        "report-logged",
        "friction-report",
        "--period",
        "2025-02",
        "--json",
        as_of="2025-04-10T08:00Z",
    )
    assert json.loads(late.output)["state"] == "late"
    text = run(ws, "status", as_of="2025-04-10T08:00Z")
    assert text.exit_code == 0, text.output
    assert "version in force: 1, since 2025-01-02" in text.output
    assert "reviews: half-yearly, last 2025-01-01, next 2025-07-01" in text.output
    assert (
        "cancellation [MET] when mqls is missed 3 months running (missed 3 running now)"
        in text.output
    )
    assert "2025-01: 0 of 80; 2025-02: 0 of 80; 2025-03: 0 of 80" in text.output
    assert "no figures here yet" in text.output
    assert "report friction-report 2025-03: met" in text.output
    data = json.loads(run(ws, "status", "--json", as_of="2025-04-10T08:00Z").output)
    assert data["version"] == 1
    assert data["review"] == {
        "cadence": "half-yearly",
        "last": "2025-01-01",
        "next": "2025-07-01",
        "overdue": False,
    }
    cancel = next(c for c in data["conditions"] if c["kind"] == "cancellation")
    assert cancel["met"] is True
    assert [f["actual"] for f in cancel["figures"]] == [0.0, 0.0, 0.0]
    assert [r["state"] for r in data["reports"]] == ["missed", "late", "met"]


def test_status_with_pending_versions_and_no_version_in_force(ws: Path):
    run(ws, "commit", "-m", "v1")
    text = run(ws, "status", as_of="2025-03-05T08:00Z")
    assert "version in force: none approved yet" in text.output
    assert "version 1: waiting for marketing, sales, service" in text.output


def test_unknown_report_commitment(ws: Path):
    result = run(ws, "report-logged", "p1-response", "--period", "2025-03")
    assert result.exit_code == 1
    assert "no report commitment 'p1-response'" in result.output
