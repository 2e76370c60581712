"""`leadpact sla status|breaches` as a user runs them: tables, JSON, one-line errors."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from leadpact.cli import app
from leadpact.clock import FixedClock
from leadpact.core.models import Channel, StageChange, Touch, TouchOutcome
from leadpact.services.workspace import open_workspace
from leadpact.store.events import add_stage_change, add_touch
from leadpact.store.leads import LeadRow, add_lead

EXAMPLE_PACT = Path(__file__).resolve().parents[2] / "src" / "leadpact" / "data" / "pact.yaml"
AS_OF = "2025-03-07T11:00:00Z"  # Friday 12:00 in Copenhagen

runner = CliRunner(env={"COLUMNS": "160"})  # wide enough that table rows do not wrap


def utc(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2025, 3, day, hour, minute, tzinfo=UTC)


@pytest.fixture
def ws(tmp_path, monkeypatch):
    """A workspace with three leads: one answered in time, two overdue."""
    monkeypatch.delenv("LEADPACT_DATABASE_URL", raising=False)
    folder = tmp_path / "ws"
    folder.mkdir()
    shutil.copy(EXAMPLE_PACT, folder / "pact.yaml")
    workspace = open_workspace(folder, clock=FixedClock(utc(7, 11)))
    with workspace, workspace.transaction() as conn:
        for lead_id, owner, team, priority, stage, entered in (
            ("a", "sofie", "sales-dk", 1, "sql", utc(6, 9)),
            ("b", "tom", "sales-us", 2, "sql", utc(6, 9)),
            ("c", None, "sales-dk", 1, "mql", utc(6, 9)),
        ):
            add_lead(
                conn,
                LeadRow(
                    id=lead_id,
                    stage=stage,
                    stage_at=entered,
                    created_at=entered,
                    owner=owner,
                    team=team,
                    priority=priority,
                ),
            )
            add_stage_change(conn, StageChange(lead_id, None, stage, entered))
        add_touch(conn, Touch("a", "sofie", Channel.CALL, utc(6, 10), TouchOutcome.SENT))
        # b is called at 17:30 New York time, after its 17:00 deadline.
        add_touch(conn, Touch("b", "tom", Channel.CALL, utc(6, 22, 30), TouchOutcome.SENT))
    return folder


def run(ws: Path, *args: str) -> Result:
    return runner.invoke(app, ["sla", *args, "--workspace", str(ws), "--as-of", AS_OF])


def table_cells(line: str) -> list[str]:
    """The cells of a table row as Rich draws it (columns separated by │)."""
    return [cell.strip() for cell in line.split("│")]


def run_json(ws: Path, *args: str) -> Any:
    result = run(ws, *args, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_status_as_json(ws):
    data = run_json(ws, "status")
    assert data["as_of"] == "2025-03-07T11:00:00+00:00"
    rows = {row["commitment"]: row for row in data["commitments"]}
    assert list(rows) == ["mql-acceptance", "p1-response", "sql-response", "sql-follow-up"]
    assert rows["p1-response"] == {
        "commitment": "p1-response",
        "kind": "response",
        "pending": 0,
        "at_risk": 0,
        "met": 1,
        "breached": 0,
        "total": 1,
        "attainment_rate": 1.0,
        "median_business_seconds": 3600.0,
        "p90_business_seconds": 3600.0,
        "stopped": 1,
    }
    assert rows["sql-response"]["breached"] == 1
    assert rows["mql-acceptance"]["attainment_rate"] == 0.0
    assert rows["sql-follow-up"]["pending"] == 2
    assert rows["sql-follow-up"]["median_business_seconds"] is None


def test_status_as_a_table(ws):
    result = run(ws, "status")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == "SLA clocks as of 2025-03-07T11:00:00+00:00"
    rows = {cells[0]: cells[1:] for cells in map(table_cells, lines) if len(cells) == 9}
    assert rows["p1-response"] == ["response", "0", "0", "1", "0", "100.0%", "1h", "1h"]
    assert rows["sql-follow-up"][-3:] == ["-", "-", "-"]


def test_status_of_one_commitment(ws):
    data = run_json(ws, "status", "--commitment", "sql-response")
    assert [row["commitment"] for row in data["commitments"]] == ["sql-response"]


def test_an_unknown_commitment_is_a_one_line_error(ws):
    result = run(ws, "status", "--commitment", "mql-delivery")
    assert result.exit_code == 1
    assert result.output.strip() == (
        "the pact has no timed commitment 'mql-delivery'; it has: mql-acceptance, "
        "p1-response, sql-response, sql-follow-up"
    )


def test_breaches_as_json(ws):
    data = run_json(ws, "breaches")
    assert data["as_of"] == "2025-03-07T11:00:00+00:00"
    assert data["breaches"] == [
        {
            "lead": "b",
            "owner": "tom",
            "commitment": "sql-response",
            "kind": "response",
            "calendar": "sales-us",
            "started_at": "2025-03-06T09:00:00+00:00",
            "due_at": "2025-03-06T22:00:00+00:00",
            "stopped_at": "2025-03-06T22:30:00+00:00",
            "stopped_by": "touch",
            "overdue_seconds": 1800.0,
            "business_time_used_seconds": 28800.0,
            "attempts": None,
        },
        {
            "lead": "c",
            "owner": None,
            "commitment": "mql-acceptance",
            "kind": "acceptance",
            "calendar": "sales-dk",
            "started_at": "2025-03-06T09:00:00+00:00",
            "due_at": "2025-03-07T09:00:00+00:00",
            "stopped_at": None,
            "stopped_by": None,
            "overdue_seconds": 7200.0,
            "business_time_used_seconds": 36000.0,
            "attempts": None,
        },
    ]


def test_breaches_as_a_table_in_each_calendars_time(ws):
    result = run(ws, "breaches")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == "2 breached clocks as of 2025-03-07T11:00:00+00:00"
    assert [cells for cells in map(table_cells, lines) if len(cells) == 6] == [
        ["b", "tom", "sql-response", "Thu 2025-03-06 17:00 EST", "Thu 2025-03-06 17:30 EST", "30m"],
        ["c", "-", "mql-acceptance", "Fri 2025-03-07 10:00 CET", "-", "2h (open)"],
    ]


def test_no_breaches(ws):
    result = runner.invoke(
        app, ["sla", "breaches", "--workspace", str(ws), "--as-of", "2025-03-06T09:30:00Z"]
    )
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "no breached clocks as of 2025-03-06T09:30:00+00:00"


def test_a_folder_without_a_pact(tmp_path):
    result = runner.invoke(app, ["sla", "status", "--workspace", str(tmp_path)])
    assert result.exit_code == 1
    assert "no pact.yaml in" in result.output
