"""Report periods as a day table: which period (of every kind) each UTC day belongs to.

Engines disagree on truncating timestamps to weeks, months and quarters (and SQLite has no
such function), so periods are decided here, once, in Python: `day_table` maps each UTC day
number (``seconds // 86400``) to the start of its report bucket and of its calendar week,
month, quarter, half-year and year, as ISO date text. Metrics group by those columns after an
equi-join on ``day``, which every engine plans well.

Report buckets are anchored at the report's start date: bucket k is
``[add(start, k), add(start, k + 1))`` where ``add`` adds k days, weeks, months or quarters
(a month added to the 31st is clamped to the month's last day, as `core.goals.period_end`
does). Calendar periods start on Mondays (ISO weeks), on the 1st, and on Jan/Apr/Jul/Oct 1.
Days are UTC days.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pyarrow as pa

from leadpact.core.goals import Period

__all__ = ["CADENCE_COLUMNS", "Buckets", "day_number", "day_table"]

_EPOCH = date(1970, 1, 1)

#: The day-table column of each commitment cadence (`core.pact.Cadence` values).
CADENCE_COLUMNS = {
    "daily": "day_on",
    "weekly": "week",
    "monthly": "month",
    "quarterly": "quarter",
    "half-yearly": "half_year",
    "yearly": "year",
}


def day_number(on: date) -> int:
    """Days since 1970-01-01: the ``day`` key of the day table."""
    return (on - _EPOCH).days


def _add_months(start: date, months: int) -> date:
    index = start.year * 12 + start.month - 1 + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(start.day, last))


def _add(period: Period, start: date, k: int) -> date:
    if period is Period.DAY:
        return start + timedelta(days=k)
    if period is Period.WEEK:
        return start + timedelta(weeks=k)
    months = {Period.MONTH: 1, Period.QUARTER: 3, Period.YEAR: 12}[period]
    return _add_months(start, months * k)


@dataclass(frozen=True)
class Buckets:
    """The report buckets: periods of one length anchored at `start`."""

    period: Period
    start: date

    def index(self, on: date) -> int:
        """The k of the bucket holding `on` (negative before `start`)."""
        if self.period in (Period.DAY, Period.WEEK):
            length = 1 if self.period is Period.DAY else 7
            return (on - self.start).days // length
        months = {Period.MONTH: 1, Period.QUARTER: 3, Period.YEAR: 12}[self.period]
        k = ((on.year - self.start.year) * 12 + on.month - self.start.month) // months
        while _add(self.period, self.start, k) > on:
            k -= 1
        while _add(self.period, self.start, k + 1) <= on:
            k += 1
        return k

    def bounds(self, k: int) -> tuple[date, date]:
        """First and last day (inclusive) of bucket k."""
        return _add(self.period, self.start, k), _add(self.period, self.start, k + 1) - timedelta(1)

    def end_of(self, first: date) -> date:
        """The last day (inclusive) of the bucket that starts on `first`."""
        return self.bounds(self.index(first))[1]


def _calendar_starts(on: date) -> tuple[date, date, date, date, date]:
    quarter = date(on.year, 3 * ((on.month - 1) // 3) + 1, 1)
    half = date(on.year, 1 if on.month <= 6 else 7, 1)
    return on - timedelta(on.weekday()), on.replace(day=1), quarter, half, date(on.year, 1, 1)


def day_table(first: date, last: date, buckets: Buckets) -> pa.Table:
    """One row per UTC day from `first` to `last` (inclusive) with the start of its periods.

    Columns: ``day`` (int64 day number), ``day_on``, ``bucket`` (start of the report bucket),
    ``week``, ``month``, ``quarter``, ``half_year``, ``year`` (ISO date text).

    Example:
        >>> day_table(date(2025, 3, 30), date(2025, 4, 1), Buckets(Period.MONTH, date(2025, 3, 1)))
        ...     .column("bucket").to_pylist()
        ['2025-03-01', '2025-03-01', '2025-04-01']
    """
    days: list[int] = []
    day_on: list[str] = []
    bucket: list[str] = []
    week: list[str] = []
    month: list[str] = []
    quarter: list[str] = []
    half: list[str] = []
    year: list[str] = []
    k = buckets.index(first)
    start, end = buckets.bounds(k)
    on = first
    while on <= last:
        while on > end:
            k += 1
            start, end = buckets.bounds(k)
        days.append(day_number(on))
        day_on.append(on.isoformat())
        bucket.append(start.isoformat())
        for column, value in zip(
            (week, month, quarter, half, year), _calendar_starts(on), strict=True
        ):
            column.append(value.isoformat())
        on += timedelta(days=1)
    return pa.table(
        {
            "day": pa.array(days, pa.int64()),
            "day_on": day_on,
            "bucket": bucket,
            "week": week,
            "month": month,
            "quarter": quarter,
            "half_year": half,
            "year": year,
        }
    )


def utc_day(at: datetime) -> date:
    """The UTC calendar day of a tz-aware instant."""
    return at.astimezone(UTC).date()
