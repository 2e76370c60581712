"""Every metric on every engine, over the same data: the records and the report are equal.

The embedded engine (Ibis on SQLite) is the reference; DuckDB and Spark read the Parquet
export of the same workspace, PostgreSQL a twin workspace imported from the same generated
files. Counts must be identical; floats (means, sums of money) equal to 1e-9 relative.
"""

from __future__ import annotations

import math
from datetime import date

import pytest
from tests.analytics.conftest import AS_OF, SPARK_SKIP, java_available

SCOPE_START = date(2025, 11, 1)


def _scope():
    from leadpact.analytics.frames import ReportScope
    from leadpact.core.goals import Period

    return ReportScope(AS_OF, Period.MONTH, SCOPE_START)


def _run(engine: str, source, pact):
    from leadpact.analytics.connection import open_analytics
    from leadpact.analytics.metrics import run_queries

    with open_analytics(engine, source, spark_master="local[2]") as analytics:
        return run_queries(analytics, pact, _scope())


def _pact(directory):
    from leadpact.pact_file import load_pact

    return load_pact(directory / "pact.yaml")


def _store_url(directory) -> str:
    from leadpact.services.workspace import open_workspace

    with open_workspace(directory) as ws:
        return ws.engine.url.render_as_string(hide_password=False)


@pytest.fixture(scope="module")
def reference(demo_dir):
    """The embedded engine's records: the reference every other engine is compared with."""
    return _run("embedded", _store_url(demo_dir), _pact(demo_dir))


def assert_same(expected, actual, path="records"):
    """Equal structures; floats within 1e-9 relative (engines sum in different orders)."""
    if isinstance(expected, float) or isinstance(actual, float):
        assert expected is not None, f"{path}: None != {actual}"
        assert actual is not None, f"{path}: {expected} != None"
        assert math.isclose(expected, actual, rel_tol=1e-9, abs_tol=1e-9), (
            f"{path}: {expected} != {actual}"
        )
    elif isinstance(expected, dict):
        assert list(expected) == list(actual), f"{path}: keys differ"
        for key in expected:
            assert_same(expected[key], actual[key], f"{path}.{key}")
    elif isinstance(expected, list):
        assert len(expected) == len(actual), f"{path}: {len(expected)} != {len(actual)} rows"
        for i, (a, b) in enumerate(zip(expected, actual, strict=True)):
            assert_same(a, b, f"{path}[{i}]")
    else:
        assert expected == actual, f"{path}: {expected!r} != {actual!r}"


def test_reference_has_data_in_every_metric(reference):
    empty = [name for name, rows in reference.items() if not rows]
    assert empty == []


def test_duckdb_over_parquet_equals_embedded(reference, demo_dir, demo_export):
    assert_same(reference, _run("duckdb", demo_export, _pact(demo_dir)))


@pytest.mark.postgres
def test_postgres_equals_embedded(reference, pg_demo_dir):
    assert_same(reference, _run("postgres", _store_url(pg_demo_dir), _pact(pg_demo_dir)))


#: Warnings from PySpark's own code that we cannot fix: its pandas conversion passes pandas 3's
#: deprecated `copy=` keyword, and py4j leaves its gateway sockets to the garbage collector.
SPARK_WARNINGS = [
    pytest.mark.filterwarnings("ignore:The copy keyword is deprecated:DeprecationWarning"),
    pytest.mark.filterwarnings("ignore:unclosed <socket.socket:ResourceWarning"),
    pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning"),
]


@pytest.mark.slow
@pytest.mark.skipif(not java_available(), reason=SPARK_SKIP)
@SPARK_WARNINGS[0]
@SPARK_WARNINGS[1]
@SPARK_WARNINGS[2]
def test_spark_equals_embedded(reference, demo_dir, demo_export):
    import gc

    assert_same(reference, _run("spark", demo_export, _pact(demo_dir)))
    gc.collect()  # py4j's dropped sockets warn here, under this test's filters


def test_report_sections_equal_across_engines(reference, demo_dir, demo_export):
    from leadpact.analytics.sections import build_sections

    pact = _pact(demo_dir)
    embedded = build_sections(pact, _scope(), reference)
    duck = build_sections(pact, _scope(), _run("duckdb", demo_export, pact))
    assert_same(embedded, duck, "report")
