"""Small arithmetic shared by the report's sections: rates, period lengths, buckets, JSON values.

A rate with a missing part or a zero denominator is None (the report shows "no data", never a
made-up 0). Period lengths follow `core.goals`: a day, a week, and the average month (30.4375
days), quarter, half-year and year (of 365.25 days).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from leadpact.analytics.frames import ReportScope
from leadpact.analytics.periods import Buckets

__all__ = [
    "AVERAGE_DAYS",
    "bucket_of",
    "calendar_period",
    "jsonable",
    "period_factor",
    "rate",
]

#: Average length in days of each period or cadence name.
AVERAGE_DAYS = {
    "day": 1.0,
    "daily": 1.0,
    "week": 7.0,
    "weekly": 7.0,
    "month": 30.4375,
    "monthly": 30.4375,
    "quarter": 91.3125,
    "quarterly": 91.3125,
    "half-yearly": 182.625,
    "year": 365.25,
    "yearly": 365.25,
}


def rate(part: float | None, whole: float | None) -> float | None:
    """part / whole, or None when either is missing or whole is 0."""
    if part is None or not whole:
        return None
    return part / whole


def period_factor(scope: ReportScope, per: str) -> float:
    """How many `per` periods the report period is: 1 when both are the same kind of period,
    else the report period's days over the average days of `per`."""
    if AVERAGE_DAYS[scope.period.value] == AVERAGE_DAYS[per]:
        return 1.0
    return ((scope.end - scope.start).days + 1) / AVERAGE_DAYS[per]


def bucket_of(buckets: Buckets, day_on: str) -> str:
    """The start (ISO date) of the report bucket holding the ISO day `day_on`."""
    return buckets.bounds(buckets.index(date.fromisoformat(day_on)))[0].isoformat()


def calendar_period(cadence: str, on: date) -> tuple[date, date]:
    """First and last day of the calendar period of a cadence (daily ... yearly) holding `on`.

    Weeks start on Monday; quarters on Jan/Apr/Jul/Oct 1; half-years on Jan 1 and Jul 1.
    """
    if cadence == "daily":
        return on, on
    if cadence == "weekly":
        first = on - timedelta(days=on.weekday())
        return first, first + timedelta(days=6)
    months = {"monthly": 1, "quarterly": 3, "half-yearly": 6, "yearly": 12}[cadence]
    first = date(on.year, (on.month - 1) // months * months + 1, 1)
    index = first.year * 12 + first.month - 1 + months
    after = date(index // 12, index % 12 + 1, 1)
    return first, after - timedelta(days=1)


def jsonable(value: Any) -> Any:
    """Model dumps as plain JSON values: Decimal → float, timedelta → seconds, dates → ISO."""
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, date):
        return value.isoformat()
    if hasattr(value, "value") and isinstance(getattr(value, "value", None), str):
        return value.value
    return value
