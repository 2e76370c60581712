"""`leadpact leads list|show` on a demo workspace, as a rep would use them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from leadpact.cli import app

runner = CliRunner()
AS_OF = "2026-01-06T00:00:00Z"


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("ws")
    args = ["demo", "--dir", str(directory), "--leads", "500", "--start", "2025-01-06", "--json"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    return directory


def run_json(*args: str) -> dict[str, Any]:
    result = runner.invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def test_queue_is_ordered_by_priority_then_time_left(workspace: Path):
    queue = run_json("leads", "list", "-w", str(workspace), "--as-of", AS_OF, "--limit", "500")
    leads = queue["leads"]
    assert queue["total"] >= len(leads) > 10
    priorities = [lead["priority"] for lead in leads]
    assert priorities == sorted(priorities)
    first = [lead for lead in leads if lead["priority"] == priorities[0] and lead["clock"]]
    lefts = [lead["clock"]["time_left"] for lead in first if lead["clock"]["time_left"] is not None]
    assert lefts == sorted(lefts)


def test_queue_filters(workspace: Path):
    base = ["leads", "list", "-w", str(workspace), "--as-of", AS_OF, "--limit", "500"]
    by_owner = run_json(*base, "--owner", "Sofie Dahl")["leads"]
    assert by_owner
    assert {lead["owner"] for lead in by_owner} == {"Sofie Dahl"}
    sqls = run_json(*base, "--stage", "sql")["leads"]
    assert {lead["stage"] for lead in sqls} == {"sql"}
    p1 = run_json(*base, "--priority", "1")["leads"]
    assert {lead["priority"] for lead in p1} <= {1}


def test_show_explains_the_score_and_lists_history_and_clocks(workspace: Path):
    top = run_json("leads", "list", "-w", str(workspace), "--as-of", AS_OF, "--stage", "sql")
    lead_id = top["leads"][0]["id"]
    detail = run_json("leads", "show", lead_id, "-w", str(workspace), "--as-of", AS_OF)
    assert detail["lead"]["id"] == lead_id
    score = detail["score"]
    criteria = [c for c in score["contributions"] if c["kind"] == "criterion"]
    assert sum(c["points"] for c in criteria) == pytest.approx(score["fit"])
    behaviour = [c for c in score["contributions"] if c["kind"] == "activity"]
    assert min(sum(c["points"] for c in behaviour), 100) == pytest.approx(score["engagement"])
    assert any(change["to_stage"] == "sql" for change in detail["stage_history"])
    assert {c["commitment_id"] for c in detail["clocks"]} & {"p1-response", "sql-response"}
    text = runner.invoke(app, ["leads", "show", lead_id, "-w", str(workspace), "--as-of", AS_OF])
    assert text.exit_code == 0
    assert f"Lead {lead_id}:" in text.stdout
    assert "ICP criterion" in text.stdout


def test_show_unknown_lead_is_one_line(workspace: Path):
    result = runner.invoke(app, ["leads", "show", "nope", "-w", str(workspace)])
    assert result.exit_code == 1
    assert "nope" in result.output
    assert "Traceback" not in result.output
