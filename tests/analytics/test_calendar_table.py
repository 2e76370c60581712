"""The calendar lookup table gives B(t) exactly as `BusinessCalendar` measures business time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from leadpact.analytics.calendar_table import DAY_SECONDS, lookup_table

START = datetime(2025, 3, 20, tzinfo=UTC)  # spans the spring DST change in both zones
END = datetime(2025, 4, 20, tzinfo=UTC)


def b_of(rows, name: str, t: int) -> int:
    """B(t) the way the engines compute it: equi-join on the day, then the range test."""
    hits = [
        r
        for r in rows
        if r["calendar"] == name and r["day"] == t // DAY_SECONDS and r["open_s"] <= t < r["next_s"]
    ]
    assert len(hits) == 1, (name, t, hits)
    row = hits[0]
    return int(row["before_s"] + min(t, row["close_s"]) - row["open_s"])


@pytest.mark.parametrize("name", ["sales-dk", "sales-us"])
def test_differences_of_b_are_business_time(pact, name):
    calendar = pact.calendar(name)
    rows = lookup_table({name: calendar}, START, END).to_pylist()
    rng = np.random.default_rng(5)
    low, high = int(START.timestamp()), int(END.timestamp())
    for a, b in rng.integers(low, high, size=(300, 2)):
        a, b = int(min(a, b)), int(max(a, b))
        expected = calendar.between(datetime.fromtimestamp(a, UTC), datetime.fromtimestamp(b, UTC))
        assert b_of(rows, name, b) - b_of(rows, name, a) == expected.total_seconds()


def test_openings_and_closings_are_exact(pact):
    calendar = pact.calendar("sales-dk")
    rows = lookup_table({"sales-dk": calendar}, START, END).to_pylist()
    friday_close = int(datetime(2025, 3, 21, 15, tzinfo=UTC).timestamp())  # 16:00 CET
    monday_open = int(datetime(2025, 3, 24, 8, tzinfo=UTC).timestamp())  # 09:00 CET
    assert b_of(rows, "sales-dk", friday_close) == b_of(rows, "sales-dk", monday_open)
    assert b_of(rows, "sales-dk", monday_open + 60) - b_of(rows, "sales-dk", monday_open) == 60


def test_every_instant_of_the_range_finds_one_row(pact):
    rows = lookup_table({"sales-us": pact.calendar("sales-us")}, START, END).to_pylist()
    t = int(START.timestamp())
    while t < int((END - timedelta(hours=1)).timestamp()):
        b_of(rows, "sales-us", t)
        t += 3_599


def test_no_calendars_give_an_empty_table():
    assert lookup_table({}, START, END).num_rows == 0
