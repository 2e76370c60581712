"""Tests for `leadpact goals`: options, --json, pact input, re-forecast and what-if."""

from __future__ import annotations

import json
import re
from datetime import date
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from typer.testing import CliRunner

import leadpact.pact_file
from leadpact.cli import app
from leadpact.core.goals import GoalsSpec

EXAMPLE_PACT = Path(__file__).parents[2] / "examples" / "pact.yaml"
WORKED = [
    "--quota",
    "5000",
    "--deal-size",
    "100",
    "--close-rate",
    "0.5",
    "--marketing-share",
    "1.0",
]
TEAM = ["--reps", "4", "--hours-per-rep", "120", "--minutes-per-lead", "20", "--attempts", "3"]

runner = CliRunner()


def run(*args: str) -> Any:
    return runner.invoke(app, ["goals", *args])


def run_json(*args: str) -> dict[str, Any]:
    result = run(*args, "--json")
    assert result.exit_code == 0, result.output
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def fail(*args: str, code: int = 1) -> str:
    result = run(*args)
    assert result.exit_code == code, result.output
    return " ".join(result.stderr.split())


@pytest.fixture
def pact_goals(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """Make `load_pact` return a pact whose goals section is built from the returned dict."""
    section: dict[str, Any] = {
        "period": "week",
        "inputs": {
            "quota": 10000,
            "marketing_share": 0.5,
            "deal_size": 100,
            "close_rate": 0.25,
            "rates": {"lead_to_mql": 0.5, "mql_to_sql": 0.5, "sql_to_won": 0.5},
        },
        "targets": [
            {"metric": "leads", "target": 150, "deadline": date(2025, 12, 31), "description": "x"}
        ],
        "values": {
            "personas": {"ceo": 100, "manager": 40},
            "activities": {"webinar": 80},
            "mix": {"personas": {"ceo": 0.5, "manager": 0.5}, "activities": {"webinar": 0.5}},
        },
        "capacity": {"reps": 1, "hours_per_rep": 10, "minutes_per_lead": 30, "attempts": 2},
    }

    def load_pact(path: str | Path) -> Any:
        goals = None if section.get("absent") else GoalsSpec.model_validate(section)
        return SimpleNamespace(goals=goals)

    monkeypatch.setattr(leadpact.pact_file, "load_pact", load_pact)
    return section


def test_worked_example_as_json() -> None:
    data = run_json(*WORKED)
    assert data["marketing_revenue"] == 5000
    assert data["customers"] == 50
    assert data["leads"] == 100
    assert data["period"] == "month"
    assert data["sqls"] is None
    assert data["pace"] is None
    assert data["capacity"] is None
    assert data["targets"] == []


def test_worked_example_as_a_table() -> None:
    result = run(*WORKED)
    assert result.exit_code == 0, result.output
    assert "Goals per month" in result.stdout
    assert "Lead goal" in result.stdout
    assert "5,000.00" in result.stdout
    assert "100" in result.stdout


def test_stage_rates_give_mql_and_sql_goals() -> None:
    data = run_json(*WORKED, "--lead-to-mql", "0.5", "--mql-to-sql", "0.5", "--sql-to-won", "0.5")
    assert (data["sqls"], data["mqls"], data["leads_by_stages"]) == (100, 200, 400)
    assert data["leads"] == 400
    assert data["leads_by_close_rate"] == 100


def test_daily_pace_of_a_month() -> None:
    data = run_json(*WORKED, "--period", "month", "--start", "2025-03-01")
    pace = data["pace"]
    assert pace["days"] == 31
    assert pace["start_on"] == "2025-03-01"
    assert pace["end_on"] == "2025-03-31"
    assert pace["line"][-1]["cumulative"] == 100
    assert sum(Decimal(str(day["goal"])) for day in pace["line"]) == 100


def test_daily_pace_of_revenue_per_week_as_a_table() -> None:
    result = run(*WORKED, "--period", "week", "--start", "2025-03-03", "--pace-metric", "revenue")
    assert result.exit_code == 0, result.output
    assert "Goals per week" in result.stdout
    assert "Daily pace of revenue, 2025-03-03 to 2025-03-09" in result.stdout
    assert "714.29" in result.stdout


def test_pace_of_a_goal_the_plan_lacks() -> None:
    assert "no mqls goal to pace: give --mql-to-sql" in fail(
        *WORKED, "--start", "2025-03-01", "--pace-metric", "mqls"
    )
    assert "no value goal to pace" in fail(
        *WORKED, "--start", "2025-03-01", "--pace-metric", "value"
    )


def test_capacity_feasible() -> None:
    data = run_json(*WORKED, *TEAM)
    assert data["capacity"]["feasible"] is True
    assert data["capacity"]["needed_hours"] == 100
    assert data["capacity"]["surplus_leads"] == 380
    result = run(*WORKED, *TEAM)
    assert "sales can work 100 leads" in result.stdout
    assert "room for 380 more leads" in result.stdout


def test_capacity_infeasible() -> None:
    data = run_json(
        *WORKED,
        "--reps",
        "1",
        "--hours-per-rep",
        "50",
        "--minutes-per-lead",
        "20",
        "--attempts",
        "3",
    )
    assert data["capacity"]["feasible"] is False
    assert data["capacity"]["reps_needed"] == 2
    result = run(
        *WORKED,
        "--reps",
        "1",
        "--hours-per-rep",
        "50",
        "--minutes-per-lead",
        "20",
        "--attempts",
        "3",
    )
    out = " ".join(result.stdout.split())
    assert "sales CANNOT work 100 leads" in out
    assert "short by 50 leads (50.00 hours); 2 reps needed" in out


def test_capacity_needs_all_its_options() -> None:
    message = fail(*WORKED, "--reps", "2")
    assert "missing --hours-per-rep, --minutes-per-lead" in message


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--close-rate", "0"], "close_rate must be above 0 and at most 1, got 0"),
        (["--close-rate", "1.5"], "close_rate must be above 0 and at most 1, got 1.5"),
        (["--deal-size", "0"], "deal_size must be above 0, got 0"),
        (["--deal-size", "lots"], "deal_size: Input should be a valid decimal, got 'lots'"),
        (["--marketing-share", "2"], "marketing_share must be between 0 and 1, got 2.0"),
        (["--sql-to-won", "0"], "sql_to_won must be above 0 and at most 1, got 0.0"),
        (["--sales-cycle", "soon"], "'soon' is not a duration"),
    ],
)
def test_bad_inputs_are_one_red_line_and_exit_1(args: list[str], expected: str) -> None:
    result = run(*WORKED, *args)
    assert result.exit_code == 1
    assert expected in result.stderr
    assert "Traceback" not in result.output


def test_missing_inputs_are_named() -> None:
    assert "missing --quota, --deal-size, --close-rate" in fail()


def test_bad_period_is_a_usage_error() -> None:
    fail(*WORKED, "--period", "fortnight", code=2)


def test_reforecast_from_an_actuals_file(tmp_path: Path) -> None:
    actuals = tmp_path / "actuals.yaml"
    actuals.write_text(
        "periods_elapsed: 6\nperiods_remaining: 6\nrevenue: 24000\nclose_rate: 0.4\n"
        "sales_cycle: 61d\n",
        encoding="utf-8",
    )
    data = run_json(*WORKED, "--actuals", str(actuals))
    forecast = data["reforecast"]
    assert forecast["quota_per_period"] == 6000
    assert forecast["forecast"]["customers"] == 60
    assert forecast["forecast"]["leads"] == 150
    assert forecast["changes"]["leads"] == 50
    assert forecast["on_track"] is False
    result = run(*WORKED, "--actuals", str(actuals))
    out = " ".join(result.stdout.split())
    assert "(behind)" in out
    assert "Re-forecast" in out
    assert "Leads must arrive 2.00 month(s) before the revenue." in out


def test_reforecast_on_track_as_json_file(tmp_path: Path) -> None:
    actuals = tmp_path / "actuals.json"
    actuals.write_text('{"periods_elapsed": 1, "periods_remaining": 1, "revenue": 6000}')
    result = run(*WORKED, "--actuals", str(actuals))
    assert result.exit_code == 0, result.output
    assert "on track" in result.stdout
    assert "Leads must arrive" not in result.stdout


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("- 1\n- 2\n", "must hold a mapping of actuals"),
        ("a: [1\n", "is not YAML or JSON"),
        ("periods_elapsed: 1\nperiods_remaining: 0\nrevenue: 1\n", "periods_remaining must be"),
    ],
)
def test_bad_actuals_files(tmp_path: Path, text: str, expected: str) -> None:
    actuals = tmp_path / "actuals.yaml"
    actuals.write_text(text, encoding="utf-8")
    assert expected in fail(*WORKED, "--actuals", str(actuals))


def test_missing_actuals_file(tmp_path: Path) -> None:
    assert "cannot read actuals file" in fail(*WORKED, "--actuals", str(tmp_path / "no.yaml"))


def test_what_if_a_lower_close_rate() -> None:
    data = run_json(*WORKED, *TEAM, "--what-if", "close-rate=0.25")
    variant = data["what_if"]
    assert variant["changed"]["leads"] == 200
    assert variant["differences"]["leads"] == 100
    assert variant["changed_capacity"]["leads"] == 200
    result = run(*WORKED, *TEAM, "--what-if", "close_rate=0.25", "--what-if", "sql_to_won=0.5")
    out = " ".join(result.stdout.split())
    assert "What if close_rate=0.25, sql_to_won=0.5" in out
    assert "sales can work 200 leads" in out


def test_what_if_errors() -> None:
    assert "expected NAME=VALUE" in fail(*WORKED, "--what-if", "close_rate", code=2)
    assert "what-if cannot change speed" in fail(*WORKED, "--what-if", "speed=2")


def test_pact_supplies_every_section(pact_goals: dict[str, Any]) -> None:
    data = run_json("--pact", "pact.yaml")
    assert data["period"] == "week"
    assert data["marketing_revenue"] == 5000
    assert data["customers"] == 50
    assert data["leads"] == 400  # the stage rates need more leads than the close rate
    assert data["value"]["value"] == 400 * 110
    assert data["capacity"]["feasible"] is False
    (target,) = data["targets"]
    assert target["funnel"] == 400
    assert target["covers_funnel"] is False


def test_options_override_the_pact(pact_goals: dict[str, Any]) -> None:
    data = run_json(
        "--pact",
        "pact.yaml",
        "--close-rate",
        "0.05",
        "--sql-to-won",
        "1",
        "--reps",
        "20",
        "--period",
        "month",
    )
    assert data["period"] == "month"
    assert data["leads_by_close_rate"] == 1000
    assert data["sqls"] == 50
    assert data["inputs"]["rates"]["lead_to_mql"] == 0.5
    assert data["capacity"]["available_hours"] == 200
    assert data["targets"][0]["funnel"] is None  # a weekly target beside a monthly plan


def test_pact_as_a_table(pact_goals: dict[str, Any]) -> None:
    result = run("--pact", "pact.yaml", "--start", "2025-03-03", "--pace-metric", "value")
    out = " ".join(result.stdout.split())
    assert result.exit_code == 0, result.output
    assert "Value goal: 44,000" in out
    assert "Targets in the pact" in out
    assert "Daily pace of value, 2025-03-03 to 2025-03-09" in out


def test_pact_without_a_mix_hints_at_one(pact_goals: dict[str, Any]) -> None:
    del pact_goals["values"]["mix"]
    result = run("--pact", "pact.yaml")
    assert "add goals.values.mix" in result.stdout


def test_pact_without_goals(pact_goals: dict[str, Any]) -> None:
    pact_goals["absent"] = True
    assert "pact.yaml has no goals: section" in fail("--pact", "pact.yaml")


def test_pact_with_only_targets_needs_the_inputs(pact_goals: dict[str, Any]) -> None:
    del pact_goals["inputs"]
    assert "missing --quota, --deal-size, --close-rate" in fail("--pact", "pact.yaml")
    data = run_json("--pact", "pact.yaml", *WORKED)
    assert data["leads"] == 100


def test_example_pact() -> None:
    data = run_json("--pact", str(EXAMPLE_PACT), "--start", "2025-03-01")
    assert data["leads"] >= data["customers"] > 0
    assert data["capacity"] is not None
    assert data["pace"]["line"][-1]["cumulative"] == data["leads"]
    assert data["targets"]
    assert all(t["covers_funnel"] is not False for t in data["targets"])


def test_help_lists_the_options() -> None:
    result = runner.invoke(app, ["goals", "--help"], terminal_width=200)
    assert result.exit_code == 0
    for option in ["--quota", "--deal-size", "--close-rate", "--pact", "--start", "--reps"]:
        assert option in result.stdout
    assert "--what-if" in result.stdout
    assert "--actuals" in result.stdout


def test_optional_inputs_in_the_table() -> None:
    result = run(
        *WORKED, "--lifetime-value", "600", "--website-traffic", "20000", "--sales-cycle", "45d"
    )
    out = " ".join(result.stdout.split())
    assert re.search(r"Lifetime value\W+30,000\.00", out)
    assert re.search(r"Visit to lead\W+0\.50%", out)


def test_what_if_without_capacity_as_a_table() -> None:
    result = run(*WORKED, "--what-if", "deal_size=50")
    out = " ".join(result.stdout.split())
    assert "What if deal_size=50" in out
    assert re.search(r"customers\W+50\W+100\W+\+50", out)
    assert "Capacity" not in out
