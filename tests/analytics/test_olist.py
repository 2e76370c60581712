"""On the Olist example workspace the report shows that data set's real funnel and its problems.

Olist's public marketing funnel (8,000 MQLs, 842 won sellers) is imported with the example's
mappings (examples/olist); the report must give MQLs and wins per month, conversion by origin,
days to win, and say that the dates have no time of day and that one deal was won before its
first contact. Skipped when the data set is not beside the repository (shared/datasets).
"""

from __future__ import annotations

import csv
import shutil
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT.parent / "shared" / "datasets" / "olist_marketing_funnel"
MQLS = DATA / "olist_marketing_qualified_leads_dataset.csv"
DEALS = DATA / "olist_closed_deals_dataset.csv"

pytestmark = pytest.mark.skipif(
    not (MQLS.is_file() and DEALS.is_file()), reason=f"the Olist data set is not in {DATA}"
)


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    from leadpact.services import importing
    from leadpact.services.reporting import build_report
    from leadpact.services.workspace import open_workspace

    directory = tmp_path_factory.mktemp("olist") / "ws"
    shutil.copytree(ROOT / "examples" / "olist", directory)
    with open_workspace(directory) as ws:
        importing.import_file(ws, MQLS, mapping=directory / "mqls.yaml")
        importing.import_file(ws, MQLS, mapping=directory / "landing-pages.yaml")
        importing.import_file(ws, DEALS, mapping=directory / "deals.yaml")
        return build_report(
            ws,
            as_of=datetime(2019, 1, 1, tzinfo=UTC),
            period="month",
            start=datetime(2018, 1, 1).date(),
        )


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _per_month(report, stage):
    return {
        r["period_start"][:7]: r["leads"]
        for r in report["funnel"]["by_period"]
        if r["stage"] == stage and r["leads"]
    }


def test_mqls_per_month_are_the_data_sets(report):
    expected = Counter(r["first_contact_date"][:7] for r in _rows(MQLS))
    assert _per_month(report, "mql") == dict(expected)


def test_wins_per_month_are_the_data_sets(report):
    # Won dates are São Paulo wall times; the report's days (and months) are UTC.
    zone = ZoneInfo("America/Sao_Paulo")
    expected = Counter(
        datetime.fromisoformat(r["won_date"]).replace(tzinfo=zone).astimezone(UTC).strftime("%Y-%m")
        for r in _rows(DEALS)
    )
    assert sum(_per_month(report, "won").values()) == 842
    assert _per_month(report, "won") == dict(expected)


def test_conversion_by_origin(report):
    origin = {r["mql_id"]: r["origin"] or None for r in _rows(MQLS)}
    won = Counter(origin[r["mql_id"]] for r in _rows(DEALS))
    rows = {
        r["value"]: r
        for r in report["funnel"]["breakdown"]
        if r["scope"] == "all"
        and r["dimension"] == "source"
        and (r["from_stage"], r["to_stage"]) == ("mql", "won")
    }
    assert rows["organic_search"]["to_leads"] == won["organic_search"]
    assert rows["organic_search"]["from_leads"] == Counter(origin.values())["organic_search"]
    assert sum(r["to_leads"] for r in rows.values()) == 842


def test_days_to_win_and_the_data_problems(report):
    everything = next(r for r in report["funnel"]["days_to_win"] if r["scope"] == "all")
    assert everything["won_leads"] == 842
    assert 0 < everything["median_days"] < everything["p90_days"]
    problems = {(q["check"], q["detail"]): q for q in report["data_quality"]}
    assert problems[("date_only", "leads.created_at")]["count"] == 8000
    assert problems[("won_before_created", "won")]["count"] == 1
