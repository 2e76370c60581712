"""`leadpact leads erase`: by id or email, text and --json output, one-line errors."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from leadpact.cli import app
from leadpact.services.workspace import open_workspace
from leadpact.store.events import list_audit
from leadpact.store.leads import LeadRow, add_lead, list_leads

T0 = datetime(2025, 3, 7, 14, 30, tzinfo=UTC)
runner = CliRunner()


@pytest.fixture
def folder(tmp_path: Path, example_text: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A workspace on SQLite with two leads of jane@example.com and one of bo@example.com."""
    monkeypatch.delenv("LEADPACT_DATABASE_URL", raising=False)
    monkeypatch.delenv("LEADPACT_WORKSPACE", raising=False)
    folder = tmp_path / "ws"
    folder.mkdir()
    (folder / "pact.yaml").write_text(example_text, encoding="utf-8")
    with open_workspace(folder) as workspace, workspace.transaction() as conn:
        add_lead(conn, LeadRow("crm-1", "mql", T0, T0, email="jane@example.com"))
        add_lead(conn, LeadRow("crm-2", "sql", T0, T0, email="Jane@Example.com"))
        add_lead(conn, LeadRow("crm-3", "mql", T0, T0, email="bo@example.com"))
    return folder


def emails(folder: Path) -> list[str]:
    with open_workspace(folder) as workspace, workspace.engine.connect() as conn:
        return sorted((lead.email or "") for lead in list_leads(conn))


def test_erase_by_email_as_json(folder: Path) -> None:
    result = runner.invoke(
        app, ["leads", "erase", "--email", "jane@example.com", "-w", str(folder), "--json"]
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["purge"] == "complete"
    assert len(data["erased"]) == 2
    first = data["erased"][0]
    assert first["token"].startswith("erased-")
    assert set(first) == {
        "token",
        "at",
        "activities",
        "touches",
        "stage_changes",
        "deals",
        "audit_entries",
        "alerts",
    }
    assert "jane" not in result.stdout.lower()
    assert emails(folder) == ["", "", "bo@example.com"]


def test_erase_by_id_prints_what_it_kept(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(folder)
    result = runner.invoke(app, ["leads", "erase", "crm-3", "--reason", "asked by phone"])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("erased lead, now erased-")
    assert "0 activities, 0 touches, 0 stage changes and 0 deals kept" in result.stdout
    with open_workspace(folder) as workspace, workspace.engine.connect() as conn:
        (entry,) = list_audit(conn, action="erase")
    assert entry.reason == "asked by phone"


def test_the_workspace_can_come_from_the_environment(folder: Path) -> None:
    result = runner.invoke(
        app, ["leads", "erase", "crm-3"], env={"LEADPACT_WORKSPACE": str(folder)}
    )
    assert result.exit_code == 0, result.output
    assert emails(folder) == ["", "Jane@Example.com", "jane@example.com"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--email", "nobody@example.com"], "no lead with email 'nobody@example.com'"),
        (["ghost"], "no lead 'ghost' in this workspace"),
        (["crm-1", "--reason", "jane@example.com said so"], "must not contain the person's"),
    ],
)
def test_user_mistakes_are_one_line_errors(folder: Path, args: list[str], message: str) -> None:
    result = runner.invoke(app, ["leads", "erase", *args, "-w", str(folder)])
    assert result.exit_code == 1
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.output
    assert emails(folder).count("") == 0


@pytest.mark.parametrize("args", [[], ["crm-1", "--email", "jane@example.com"]])
def test_saying_whom_to_erase_is_required(folder: Path, args: list[str]) -> None:
    result = runner.invoke(app, ["leads", "erase", *args, "-w", str(folder)])
    assert result.exit_code == 2
    assert "give a lead ID or --email, not both" in result.stderr


def test_a_folder_without_a_pact(tmp_path: Path) -> None:
    result = runner.invoke(app, ["leads", "erase", "crm-1", "-w", str(tmp_path)])
    assert result.exit_code == 1
    assert result.stderr.strip() == (
        f"no pact.yaml in {tmp_path}; create one with `leadpact init {tmp_path}`"
    )


def test_on_postgresql_it_says_vacuum_is_left_to_the_administrator(
    folder: Path, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not db_url.startswith("postgresql"):
        pytest.skip("PostgreSQL only (SQLite: test_erase_by_email_as_json checks purge complete)")
    monkeypatch.setenv("LEADPACT_DATABASE_URL", db_url)
    with open_workspace(folder) as workspace, workspace.transaction() as conn:
        add_lead(conn, LeadRow("crm-9", "mql", T0, T0, email="pg@example.com"))
    result = runner.invoke(app, ["leads", "erase", "--email", "pg@example.com", "-w", str(folder)])
    assert result.exit_code == 0, result.output
    assert "PostgreSQL keeps old row versions on disk until VACUUM" in result.stderr


def test_help_lists_every_option() -> None:
    result = runner.invoke(app, ["leads", "erase", "--help"])
    assert result.exit_code == 0
    for option in ("--email", "--reason", "--workspace", "--json"):
        assert option in result.stdout
