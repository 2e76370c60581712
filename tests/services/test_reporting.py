"""The report service: the JSON contract on a real workspace, its schema, CSV, export, errors."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

AS_OF = datetime(2025, 11, 20, 15, 30, tzinfo=UTC)
SCHEMA = Path(__file__).resolve().parents[2] / "docs" / "report.schema.json"


def _report(directory, **options):
    from leadpact.services.reporting import build_report
    from leadpact.services.workspace import open_workspace

    with open_workspace(directory) as ws:
        return build_report(ws, as_of=AS_OF, **options)


@pytest.fixture(scope="module")
def report(demo_dir):
    return _report(demo_dir)


def test_report_validates_against_the_published_schema(report):
    import jsonschema  # type: ignore[import-untyped]

    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    jsonschema.validate(json.loads(json.dumps(report)), schema)


def test_report_has_every_section_with_data(report):
    for key in ("funnel", "waterfall", "speed", "depth", "aging", "kpis", "commitments", "goals"):
        assert report[key], key
    assert report["meta"]["engine"] == "embedded"
    assert report["meta"]["period_start"] == "2025-11-01"


def test_funnel_counts_fall_down_the_ladder(report):
    ladder = [s["stage"] for s in report["funnel"]["stages"] if s["on_ladder"]]
    totals = dict.fromkeys(ladder, 0)
    for row in report["funnel"]["by_period"]:
        if row["stage"] in totals:
            totals[row["stage"]] += row["leads"]
    counts = [totals[s] for s in ladder]
    assert counts == sorted(counts, reverse=True)
    assert counts[0] > counts[-1] > 0


def test_waterfall_goal_line_reaches_the_goal_and_actuals_stop_at_as_of(report):
    leads = [r for r in report["waterfall"] if r["metric"] == "leads"]
    assert len(leads) == 30
    assert leads[-1]["goal_cumulative"] == pytest.approx(leads[-1]["goal"])
    known = [r for r in leads if r["on"] <= "2025-11-20"]
    assert all(r["actual_cumulative"] is not None for r in known)
    assert all(r["actual_cumulative"] is None for r in leads if r["on"] > "2025-11-20")
    assert known[-1]["actual_cumulative"] == sum(r["actual"] for r in known)


def test_kpis_follow_the_pact_with_targets(report, demo_dir):
    from leadpact.pact_file import load_pact

    pact = load_pact(demo_dir / "pact.yaml")
    assert [k["kpi"] for k in report["kpis"]] == [k.kpi.value for k in pact.kpis]
    assert all(k["target"] is not None for k in report["kpis"])


def test_later_as_of_sees_more_leads(demo_dir):
    early = _report(demo_dir, start=date(2025, 1, 1), period="quarter")
    from leadpact.services.reporting import build_report
    from leadpact.services.workspace import open_workspace

    with open_workspace(demo_dir) as ws:
        late = build_report(
            ws, as_of=datetime(2025, 12, 31, tzinfo=UTC), start=date(2025, 1, 1), period="quarter"
        )

    def leads(rep):
        return sum(r["leads"] for r in rep["funnel"]["by_period"] if r["stage"] == "lead")

    assert leads(late) > leads(early)


def test_csv_has_one_row_per_record(report):
    import csv
    import io

    from leadpact.services.reporting import report_csv

    rows = list(csv.DictReader(io.StringIO(report_csv(report))))
    assert sum(1 for r in rows if r["section"] == "waterfall") == len(report["waterfall"])
    assert {r["section"] for r in rows} >= {"funnel.by_period", "speed", "kpis", "aging"}


def test_export_writes_every_table_without_personal_data(workspace_dir, tmp_path):
    import pyarrow.parquet as pq

    from leadpact.services.reporting import export_parquet
    from leadpact.services.workspace import open_workspace

    with open_workspace(workspace_dir) as ws:
        result = export_parquet(ws, tmp_path / "out")
    assert result.rows["leads"] == 1500
    leads = pq.read_table(tmp_path / "out" / "leads.parquet")
    assert "email" not in leads.column_names
    assert str(leads.schema.field("created_at").type) == "timestamp[us, tz=UTC]"


def test_duckdb_report_over_a_fresh_export_equals_embedded(demo_dir, report):
    duck = _report(demo_dir, engine="duckdb")
    assert duck["meta"]["engine"] == "duckdb"
    assert duck["kpis"] == report["kpis"]
    assert duck["speed"] == report["speed"]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"period": "fortnight"}, "unknown period 'fortnight'"),
        ({"engine": "oracle"}, "unknown engine 'oracle'"),
        ({"engine": "postgres"}, "this workspace's database is SQLite"),
        ({"start": date(2026, 3, 1)}, "after as_of"),
        ({"engine": "duckdb", "parquet": Path("/nonexistent/export")}, "no Parquet export"),
    ],
)
def test_mistakes_are_one_line_errors(demo_dir, options, message):
    from leadpact.errors import LeadPactError

    with pytest.raises(LeadPactError, match=message):
        _report(demo_dir, **options)
