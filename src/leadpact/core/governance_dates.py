"""The dates governance runs on (PRODUCT.md part 7): when the agreement is valid, when it is
next reviewed, the reporting periods, and when each period's report is due.

Rules (docs/governance.md states them for users):

- The next review is the last review plus the cadence (1, 3 or 6 months, the day clamped to
  the month's end).
- A report commitment for a period is met when it is logged no later than `due_within` after
  the period's end (midnight at the start of the next period, in the provider's time zone).

Pure: `now` and every figure are parameters; nothing here reads a clock, a file or a database.
"""

from __future__ import annotations

import calendar as month_calendar
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import Literal
from zoneinfo import ZoneInfo

from leadpact.core.pact import Cadence, Governance, ReportCommitment, Review
from leadpact.errors import CalendarError

__all__ = [
    "ReportCheck",
    "ReportState",
    "add_months",
    "check_report",
    "complete_periods",
    "next_review",
    "period_bounds",
    "period_of",
    "report_due_at",
    "validity",
]


_REVIEW_MONTHS = {"monthly": 1, "quarterly": 3, "half-yearly": 6}


def add_months(day: date, months: int) -> date:
    """`day` moved by whole months, the day clamped to the month's end (Jan 31 + 1 = Feb 28)."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    last = month_calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day.day, last))


def next_review(review: Review) -> date:
    """The next review date: the last review plus the cadence.

    Example:
        >>> next_review(Review(cadence="half-yearly", last=date(2025, 1, 1)))
        datetime.date(2025, 7, 1)
    """
    return add_months(review.last, _REVIEW_MONTHS[review.cadence])


def validity(governance: Governance, on: date) -> Literal["not yet valid", "valid", "expired"]:
    """Whether the agreement is valid on a date, by its `valid_from` and `valid_until`."""
    if on < governance.valid_from:
        return "not yet valid"
    if governance.valid_until is not None and on > governance.valid_until:
        return "expired"
    return "valid"


# --------------------------------------------------------------------------- periods

_PERIOD_FORMATS: dict[Cadence, tuple[str, str]] = {
    Cadence.DAILY: (r"^(\d{4})-(\d{2})-(\d{2})$", "2025-03-31"),
    Cadence.WEEKLY: (r"^(\d{4})-W(\d{2})$", "2025-W13"),
    Cadence.MONTHLY: (r"^(\d{4})-(\d{2})$", "2025-03"),
    Cadence.QUARTERLY: (r"^(\d{4})-Q([1-4])$", "2025-Q1"),
    Cadence.HALF_YEARLY: (r"^(\d{4})-H([12])$", "2025-H1"),
    Cadence.YEARLY: (r"^(\d{4})$", "2025"),
}
_CADENCE_MONTHS = {Cadence.MONTHLY: 1, Cadence.QUARTERLY: 3, Cadence.HALF_YEARLY: 6}


def period_bounds(label: str, cadence: Cadence) -> tuple[date, date]:
    """The first day of a period and the first day after it, from its label.

    Labels: daily 2025-03-31, weekly 2025-W13 (ISO week), monthly 2025-03, quarterly
    2025-Q1, half-yearly 2025-H1, yearly 2025.

    Raises:
        CalendarError: the label does not name a period of this cadence.

    Example:
        >>> period_bounds("2025-Q1", Cadence.QUARTERLY)
        (datetime.date(2025, 1, 1), datetime.date(2025, 4, 1))
    """
    pattern, example = _PERIOD_FORMATS[cadence]
    match = re.match(pattern, label.strip())
    try:
        if match is None:
            raise ValueError(label)
        parts = [int(g) for g in match.groups()]
        if cadence is Cadence.DAILY:
            start = date(parts[0], parts[1], parts[2])
            return start, start + timedelta(days=1)
        if cadence is Cadence.WEEKLY:
            start = date.fromisocalendar(parts[0], parts[1], 1)
            return start, start + timedelta(days=7)
        if cadence is Cadence.YEARLY:
            return date(parts[0], 1, 1), date(parts[0] + 1, 1, 1)
        months = _CADENCE_MONTHS[cadence]
        first_month = parts[1] if cadence is Cadence.MONTHLY else (parts[1] - 1) * months + 1
        start = date(parts[0], first_month, 1)
        return start, add_months(start, months)
    except ValueError:
        raise CalendarError(
            f"{label!r} is not a {cadence.value} period; expected a label like {example}"
        ) from None


def period_of(day: date, cadence: Cadence) -> str:
    """The label of the period of this cadence that contains `day`."""
    if cadence is Cadence.DAILY:
        return day.isoformat()
    if cadence is Cadence.WEEKLY:
        year, week, _ = day.isocalendar()
        return f"{year}-W{week:02d}"
    if cadence is Cadence.MONTHLY:
        return f"{day.year}-{day.month:02d}"
    if cadence is Cadence.QUARTERLY:
        return f"{day.year}-Q{(day.month - 1) // 3 + 1}"
    if cadence is Cadence.HALF_YEARLY:
        return f"{day.year}-H{(day.month - 1) // 6 + 1}"
    return str(day.year)


def complete_periods(on: date, cadence: Cadence, count: int) -> list[str]:
    """The labels of the `count` periods before the one containing `on`, oldest first."""
    labels: list[str] = []
    start = period_bounds(period_of(on, cadence), cadence)[0]
    for _ in range(count):
        start = start - timedelta(days=1)
        label = period_of(start, cadence)
        labels.append(label)
        start = period_bounds(label, cadence)[0]
    return labels[::-1]


# --------------------------------------------------------------------------- report commitments


class ReportState(StrEnum):
    """Whether a report commitment was kept for a period."""

    MET = "met"
    LATE = "late"
    MISSED = "missed"
    PENDING = "pending"


@dataclass(frozen=True)
class ReportCheck:
    """One report commitment in one period: due when, logged when, and the verdict."""

    commitment: str
    period: str
    due_at: datetime
    logged_at: datetime | None
    state: ReportState

    @property
    def met(self) -> bool:
        """Logged on time."""
        return self.state is ReportState.MET


def report_due_at(commitment: ReportCommitment, period: str, timezone: str = "UTC") -> datetime:
    """When the report for `period` is due: `due_within` after the period's end (UTC).

    The period ends at local midnight at the start of the next period, in `timezone` (the
    provider's calendar); `due_within` is elapsed time.

    Example:
        >>> c = ReportCommitment(id="r", kind="report", provider="a", receiver="b",
        ...                      report="Friction", every="monthly", due_within="5d")
        >>> report_due_at(c, "2025-03", "Europe/Copenhagen").isoformat()
        '2025-04-05T22:00:00+00:00'
    """
    end = period_bounds(period, commitment.every)[1]
    local_end = datetime.combine(end, time(), tzinfo=ZoneInfo(timezone))
    return local_end.astimezone(UTC) + commitment.due_within


def check_report(
    commitment: ReportCommitment,
    period: str,
    logged_at: datetime | None,
    *,
    now: datetime,
    timezone: str = "UTC",
) -> ReportCheck:
    """Whether a report commitment was kept for a period.

    Met when logged at or before the due instant; late when logged after it; missed when not
    logged and the due instant has passed; pending when not logged and not yet due.
    """
    due = report_due_at(commitment, period, timezone)
    if logged_at is not None:
        state = ReportState.MET if logged_at <= due else ReportState.LATE
    else:
        state = ReportState.MISSED if now > due else ReportState.PENDING
    return ReportCheck(commitment.id, period, due, logged_at, state)
