"""Business calendars as a lookup table that any SQL engine can join: B(t) without time zones.

ARCHITECTURE.md ("Business calendars") defines business time through `B(t)`, the cumulative
business seconds at instant t. `lookup_table` turns a calendar's compiled open intervals into
rows ``(calendar, day, open_s, next_s, close_s, before_s)``, all whole UTC epoch seconds: each
row covers ``[open_s, next_s)`` (an open interval and the closed gap after it), and is repeated
for every UTC day that span touches, so an engine finds the row of t with an equi-join on
``(calendar, t // 86400)`` plus the range test ``open_s <= t < next_s`` (a plain range join is
planned as a nested loop by some engines). Then

    B(t) = before_s + min(t, close_s) - open_s

and business time between a and b is B(b) - B(a). A sentinel row before the first interval
makes every instant of [start, end) find exactly one row.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

import numpy as np
import pyarrow as pa

from leadpact.core.calendar import NS, BusinessCalendar

__all__ = ["DAY_SECONDS", "lookup_table"]

#: Seconds in a UTC day: the join key of the lookup table is ``seconds // DAY_SECONDS``.
DAY_SECONDS = 86_400

_SCHEMA = pa.schema(
    [
        ("calendar", pa.string()),
        ("day", pa.int64()),
        ("open_s", pa.int64()),
        ("next_s", pa.int64()),
        ("close_s", pa.int64()),
        ("before_s", pa.int64()),
    ]
)


def lookup_table(
    calendars: Mapping[str, BusinessCalendar], start: datetime, end: datetime
) -> pa.Table:
    """The lookup rows of every calendar for instants in [start, end).

    Args:
        calendars: the calendars by name (the name is the ``calendar`` column).
        start: the earliest instant that will be looked up (tz-aware).
        end: later than every instant that will be looked up (tz-aware).

    Returns:
        One Arrow table, the columns described in the module docstring.

    Raises:
        CalendarError: an instant outside the calendars' range (1901..2199).

    Example:
        >>> table = lookup_table({"sales-dk": pact.calendar("sales-dk")}, monday, next_monday)
        >>> table.column_names[:3]
        ['calendar', 'day', 'open_s']
    """
    low = (int(start.timestamp()) // DAY_SECONDS) * DAY_SECONDS
    high = (int(end.timestamp()) // DAY_SECONDS + 1) * DAY_SECONDS
    parts = [_rows(name, cal, low, high) for name, cal in calendars.items()]
    if not parts:
        return _SCHEMA.empty_table()
    return pa.concat_tables(parts)


def _rows(name: str, calendar: BusinessCalendar, low: int, high: int) -> pa.Table:
    first = datetime.fromtimestamp(low, calendar.timezone)
    last = datetime.fromtimestamp(high, calendar.timezone)
    spans = calendar.intervals(first, last)
    # Whole seconds: openings and closings are whole minutes, DST jumps whole seconds.
    opens = spans.open_at.astype("datetime64[ns]").view(np.int64) // NS
    closes = spans.close_at.astype("datetime64[ns]").view(np.int64) // NS
    before = spans.business_before_ns // NS
    if len(opens) == 0:
        # A calendar with no opening in the range: business time stands still at 0.
        opens, closes, before = (np.array([low], np.int64) for _ in range(3))
        before = np.zeros(1, np.int64)
    # The sentinel: instants before the first opening have B = the first row's `before`.
    open_s = np.concatenate([[min(low, int(opens[0]))], opens])
    close_s = np.concatenate([open_s[:1], closes])
    before_s = np.concatenate([before[:1], before])
    next_s = np.concatenate([opens, [max(high, int(closes[-1]))]])
    first_day = open_s // DAY_SECONDS
    last_day = (next_s - 1) // DAY_SECONDS
    repeats = last_day - first_day + 1
    row = np.repeat(np.arange(len(open_s)), repeats)
    offset = np.arange(len(row)) - np.repeat(np.cumsum(repeats) - repeats, repeats)
    return pa.table(
        {
            "calendar": pa.array([name] * len(row), pa.string()),
            "day": first_day[row] + offset,
            "open_s": open_s[row],
            "next_s": next_s[row],
            "close_s": close_s[row],
            "before_s": before_s[row],
        },
        schema=_SCHEMA,
    )
