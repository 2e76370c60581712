"""Nearest-rank percentiles on every engine, and the report's day table and buckets."""

from __future__ import annotations

from datetime import date

import pyarrow as pa
import pytest

from leadpact.analytics.periods import Buckets, day_number, day_table
from leadpact.core.goals import Period


@pytest.fixture(params=["sqlite", "duckdb"])
def backend(request):
    import ibis

    con = ibis.sqlite.connect() if request.param == "sqlite" else ibis.duckdb.connect()
    yield con
    con.disconnect()


def test_median_and_p90_are_nearest_rank(backend):
    import ibis

    from leadpact.analytics.stats import distribution

    values = {"a": [4, 1, 3, 2], "b": list(range(10, 0, -1)), "c": [7]}
    rows = [(g, v) for g, vs in values.items() for v in vs] + [("a", None)]
    table = ibis.memtable(
        pa.table({"g": [r[0] for r in rows], "v": pa.array([r[1] for r in rows], pa.int64())})
    )
    result = {r["g"]: r for r in backend.to_pyarrow(distribution(table, ["g"], "v")).to_pylist()}
    assert (result["a"]["n"], result["a"]["median"], result["a"]["p90"]) == (4, 2, 4)
    assert (result["b"]["median"], result["b"]["p90"]) == (5, 9)
    assert (result["c"]["median"], result["c"]["p90"], result["c"]["mean"]) == (7, 7, 7.0)
    assert result["a"]["mean"] == pytest.approx(2.5)


def test_month_buckets_anchored_on_the_31st_have_no_gaps():
    buckets = Buckets(Period.MONTH, date(2025, 1, 31))
    assert buckets.bounds(0) == (date(2025, 1, 31), date(2025, 2, 27))
    assert buckets.bounds(1) == (date(2025, 2, 28), date(2025, 3, 30))
    assert buckets.bounds(-1) == (date(2024, 12, 31), date(2025, 1, 30))
    for on in (date(2025, 2, 27), date(2025, 2, 28), date(2025, 1, 30)):
        k = buckets.index(on)
        first, last = buckets.bounds(k)
        assert first <= on <= last


def test_day_table_maps_days_to_buckets_and_calendar_periods():
    table = day_table(date(2025, 3, 30), date(2025, 4, 1), Buckets(Period.WEEK, date(2025, 3, 25)))
    rows = table.to_pylist()
    assert [r["day"] for r in rows] == [day_number(date(2025, 3, 30)) + i for i in range(3)]
    assert [r["bucket"] for r in rows] == ["2025-03-25", "2025-03-25", "2025-04-01"]
    assert [r["week"] for r in rows] == ["2025-03-24", "2025-03-31", "2025-03-31"]
    assert [r["quarter"] for r in rows] == ["2025-01-01", "2025-01-01", "2025-04-01"]
