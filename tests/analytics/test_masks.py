"""Counting many tests at once through integer masks (`funnel.bit_masks`, `funnel.set_bits`).

The funnel groups leads by the outcome of dozens of tests packed into the bits of integer
columns; the counts per test read back from the groups must equal counting each test alone,
also past one column's 62 bits (a pact with many stages).
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from leadpact.analytics.funnel import bit_masks, set_bits


@pytest.fixture(params=["sqlite", "duckdb"])
def backend(request):
    import ibis

    con = ibis.sqlite.connect() if request.param == "sqlite" else ibis.duckdb.connect()
    yield con
    con.disconnect()


@pytest.mark.parametrize("tests", [1, 36, 62, 63, 130])
def test_counts_read_back_from_masks_equal_counting_each_test(backend, tests):
    import ibis

    rng = np.random.default_rng(tests)
    values = rng.integers(0, 1000, size=(400, 2))
    table = ibis.memtable(pa.table({"a": values[:, 0], "b": values[:, 1]}))
    # Test i: a + i * b is odd; independent enough that masks take many values.
    conditions = [((table.a + i * table.b) % 2) == 1 for i in range(tests)]
    masks = bit_masks(conditions)
    assert len(masks) == (tests + 61) // 62
    keyed = table.mutate(**masks)
    grouped = keyed.group_by(list(masks)).aggregate(n=keyed.count())
    counts = [0] * tests
    for row in backend.to_pyarrow(grouped).to_pylist():
        for bit in set_bits(row):
            counts[bit] += row["n"]
    expected = [int(((values[:, 0] + i * values[:, 1]) % 2 == 1).sum()) for i in range(tests)]
    assert counts == expected
