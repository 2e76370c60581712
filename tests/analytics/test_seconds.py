"""`Analytics.seconds`: a stored instant as whole epoch seconds, the same on every engine."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from leadpact.analytics.connection import Analytics

#: Instants as the store writes them (UTC text), with sub-second parts that must be dropped.
STORED = ["2025-06-16 19:25:38.999659", "2025-06-16 19:25:38.000000", "2025-01-01 00:00:59.9995"]
EXPECTED = [
    int(datetime(2025, 6, 16, 19, 25, 38, tzinfo=UTC).timestamp()),
    int(datetime(2025, 6, 16, 19, 25, 38, tzinfo=UTC).timestamp()),
    int(datetime(2025, 1, 1, 0, 0, 59, tzinfo=UTC).timestamp()),
]


def test_sqlite_floors_sub_second_instants_instead_of_rounding(tmp_path: Path) -> None:
    import ibis

    path = tmp_path / "store.db"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE t (n INTEGER, at DATETIME)")
        db.executemany("INSERT INTO t VALUES (?, ?)", list(enumerate(STORED)))
    backend = ibis.sqlite.connect(str(path))
    analytics = Analytics("embedded", backend, _close=backend.disconnect)
    with analytics:
        table = backend.table("t")
        result = analytics.to_pyarrow(
            table.select("n", s=analytics.seconds(table.at)).order_by("n")
        )
    assert result.column("s").to_pylist() == EXPECTED


def test_duckdb_floors_the_same_instants(tmp_path: Path) -> None:
    import ibis

    instants = [datetime.fromisoformat(text).replace(tzinfo=UTC) for text in STORED]
    path = tmp_path / "t.parquet"
    pq.write_table(
        pa.table({"n": range(3), "at": pa.array(instants, pa.timestamp("us", tz="UTC"))}), path
    )
    backend = ibis.duckdb.connect()
    analytics = Analytics("duckdb", backend, _close=backend.disconnect)
    with analytics:
        table = backend.read_parquet(path)
        result = analytics.to_pyarrow(
            table.select("n", s=analytics.seconds(table.at)).order_by("n")
        )
    assert result.column("s").to_pylist() == EXPECTED
