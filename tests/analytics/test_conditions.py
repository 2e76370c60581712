"""Conditions compiled to Ibis mean what `core.conditions` means, on SQLite and DuckDB."""

from __future__ import annotations

from typing import Any

import pyarrow as pa
import pytest

from leadpact.analytics.conditions import compile_condition
from leadpact.core.conditions import parse_condition

FACTS: list[dict[str, Any]] = [
    {"employees": 250, "industry": "Software", "country": "DK", "title": "CEO", "priority": 1},
    {
        "employees": 20,
        "industry": "retail",
        "country": "US",
        "title": "Sales Manager",
        "priority": 3,
    },
    {"employees": None, "industry": None, "country": "SE", "title": None, "priority": 2},
    {
        "employees": 200,
        "industry": "LOGISTICS",
        "country": None,
        "title": "Director",
        "priority": 4,
    },
]

CONDITIONS = [
    {"employees": {"gte": 200}},
    {"industry": ["software", "logistics"]},
    {"industry": "software"},
    {"country": {"ne": "US"}},
    {"country": {"not_in": ["US", "CA"]}},
    {"employees": {"between": [10, 200]}},
    {"title": {"contains": ["director", "ceo"]}},
    {"employees": {"exists": False}},
    {"not": {"priority": {"lt": 3}}},
    {"any": [{"priority": 1}, {"employees": {"lt": 50}}]},
    {"all": [{"priority": {"gte": 2}}, {"country": {"exists": True}}]},
]


@pytest.fixture(params=["sqlite", "duckdb"])
def backend(request):
    import ibis

    con = ibis.sqlite.connect() if request.param == "sqlite" else ibis.duckdb.connect()
    yield con
    con.disconnect()


@pytest.mark.parametrize("raw", CONDITIONS, ids=[str(c) for c in CONDITIONS])
def test_compiled_condition_agrees_with_matches(backend, raw):
    import ibis

    condition = parse_condition(raw)
    data = pa.table(
        {
            "n": list(range(len(FACTS))),
            "employees": pa.array([f["employees"] for f in FACTS], pa.float64()),
            "industry": pa.array([f["industry"] for f in FACTS], pa.string()),
            "country": pa.array([f["country"] for f in FACTS], pa.string()),
            "title": pa.array([f["title"] for f in FACTS], pa.string()),
            "priority": pa.array([f["priority"] for f in FACTS], pa.int64()),
        }
    )
    table = ibis.memtable(data)
    columns = {name: table[name] for name in data.column_names if name != "n"}
    expr = table.select("n", ok=compile_condition(condition, columns)).order_by("n")
    got = backend.to_pyarrow(expr).column("ok").to_pylist()
    assert got == [condition.matches(f) for f in FACTS]


def test_a_field_without_a_column_is_missing(backend):
    import ibis

    table = ibis.memtable(pa.table({"n": [1, 2]}))
    absent = parse_condition({"persona": {"exists": False}})
    present = parse_condition({"persona": "director"})
    expr = table.select(a=compile_condition(absent, {}), b=compile_condition(present, {}))
    rows = backend.to_pyarrow(expr).to_pylist()
    assert rows == [{"a": True, "b": False}, {"a": True, "b": False}]
