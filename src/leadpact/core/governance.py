"""Governance of the agreement (PRODUCT.md part 7): which version is in force, and is it kept.

Rules (docs/governance.md states them for users):

- A version takes effect once the owner of every party *of that version* has approved it. Its
  effective date is the later of the (UTC) date of the last approval and the effective date
  asked for when it was recorded, if any. A version never takes effect before it is approved.
- On a date, the version in force is the highest-numbered version whose effective date is on
  or before that date: a newer version supersedes an older one for good, and an older version
  approved late never displaces a newer one. Until a new version takes effect the previous one
  governs, so reports for a past period use the version in force then.
- Before the first version takes effect there is no earlier agreement; that first version also
  governs earlier dates (imported history is measured against it).
- The next review is the last review plus the cadence (1, 3 or 6 months, the day clamped to
  the month's end).
- A consequence or cancellation condition "missed N periods running" is met when each of the
  last N complete months missed its target (actual below target).
- A report commitment for a period is met when it is logged no later than `due_within` after
  the period's end (midnight at the start of the next period, in the provider's time zone).

Pure: `now` and every figure are parameters; nothing here reads a clock, a file or a database.
"""

from __future__ import annotations

import calendar as month_calendar
import json
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import Any, Literal
from zoneinfo import ZoneInfo

from leadpact.core.goals import Period
from leadpact.core.pact import (
    Cadence,
    DeliveryCommitment,
    Governance,
    Pact,
    QualityCommitment,
    ReportCommitment,
    Review,
)
from leadpact.errors import CalendarError, ConflictError, NotFoundError

__all__ = [
    "Approval",
    "Change",
    "ConditionCheck",
    "PeriodFigure",
    "ReportCheck",
    "ReportState",
    "Target",
    "VersionRecord",
    "VersionState",
    "check_approval",
    "check_conditions",
    "check_report",
    "complete_periods",
    "diff_pacts",
    "goal_target",
    "next_review",
    "period_bounds",
    "period_of",
    "report_due_at",
    "validity",
    "version_in_force",
    "version_state",
]


# --------------------------------------------------------------------------- versions


@dataclass(frozen=True)
class Approval:
    """One party's approval of a version: who approved it and when (UTC)."""

    party: str
    by: str
    at: datetime


@dataclass(frozen=True)
class VersionRecord:
    """A recorded version as governance sees it: who must approve it, and who has."""

    number: int
    parties: tuple[str, ...]
    approvals: tuple[Approval, ...] = ()
    effective_on: date | None = None

    def pending(self) -> tuple[str, ...]:
        """The parties whose owner has not approved this version yet, in the pact's order."""
        done = {a.party for a in self.approvals}
        return tuple(p for p in self.parties if p not in done)

    def takes_effect_on(self) -> date | None:
        """The date this version takes effect, or None while an approval is missing.

        Example:
            >>> ann = Approval("a", "Ann", datetime(2025, 3, 15, tzinfo=UTC))
            >>> VersionRecord(2, ("a",), (ann,)).takes_effect_on()
            datetime.date(2025, 3, 15)
        """
        if self.pending() or not self.approvals:
            return None
        last = max(a.at for a in self.approvals).astimezone(UTC).date()
        return last if self.effective_on is None else max(last, self.effective_on)


class VersionState(StrEnum):
    """Where a version stands on a date."""

    PENDING = "pending approval"
    SCHEDULED = "approved, not yet in force"
    IN_FORCE = "in force"
    SUPERSEDED = "superseded"


def version_in_force(versions: Sequence[VersionRecord], on: date) -> int | None:
    """The number of the version in force on a date, or None if none has been approved.

    Args:
        versions: every recorded version with its approvals.
        on: the day asked about.

    Returns:
        The highest-numbered version in effect on `on`; before the first version takes
        effect, that first version; None when no version is fully approved.

    Example:
        >>> def ok(day): return (Approval("a", "Ann", datetime(2025, 3, day, tzinfo=UTC)),)
        >>> versions = [VersionRecord(1, ("a",), ok(1)), VersionRecord(2, ("a",), ok(15))]
        >>> [version_in_force(versions, date(2025, 3, day)) for day in (14, 15)]
        [1, 2]
    """
    effective = sorted(
        (day, v.number) for v in versions if (day := v.takes_effect_on()) is not None
    )
    if not effective:
        return None
    in_effect = [number for day, number in effective if day <= on]
    return max(in_effect) if in_effect else effective[0][1]


def version_state(versions: Sequence[VersionRecord], number: int, on: date) -> VersionState:
    """The state of version `number` on a date (pending, scheduled, in force, superseded)."""
    record = next((v for v in versions if v.number == number), None)
    if record is None:
        raise NotFoundError(f"there is no version {number}")
    day = record.takes_effect_on()
    if day is None:
        return VersionState.PENDING
    current = version_in_force(versions, on)
    if current == number:
        return VersionState.IN_FORCE
    if current is not None and current > number:
        return VersionState.SUPERSEDED
    return VersionState.SCHEDULED


def check_approval(pact: Pact, record: VersionRecord, party: str, by: str) -> str:
    """Check that `by` may approve `record` for `party`; return the party's id.

    `party` may be the party's id or its name (case-insensitive); `by` must be that party's
    owner's name in this version (case and spacing ignored).

    Raises:
        NotFoundError: the version has no such party.
        ConflictError: `by` is not the party's owner, or the party has already approved.
    """
    wanted = _folded(party)
    party_id = next(
        (pid for pid, p in pact.parties.items() if wanted in (_folded(pid), _folded(p.name))),
        None,
    )
    if party_id is None:
        known = ", ".join(f"{pid} ({p.name})" for pid, p in pact.parties.items())
        raise NotFoundError(
            f"version {record.number} has no party {party!r}; its parties are: {known}"
        )
    owner = pact.parties[party_id].owner.name
    if _folded(by) != _folded(owner):
        raise ConflictError(
            f"{by!r} is not the owner of {party_id} in version {record.number}; "
            f"only its owner, {owner}, can approve it"
        )
    for approval in record.approvals:
        if approval.party == party_id:
            raise ConflictError(
                f"{party_id} already approved version {record.number} "
                f"({approval.by}, {approval.at:%Y-%m-%d %H:%M} UTC)"
            )
    return party_id


def _folded(text: str) -> str:
    return " ".join(text.split()).casefold()


# --------------------------------------------------------------------------- validity, reviews

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


# --------------------------------------------------------------------------- consequences


@dataclass(frozen=True)
class Target:
    """What a goal of the governance rules measures each month, and its monthly target."""

    metric: str
    value: float


_PER_MONTH: dict[str, float] = {
    Period.MONTH.value: 1.0,
    Period.QUARTER.value: 1 / 3,
    Period.YEAR.value: 1 / 12,
    Cadence.MONTHLY.value: 1.0,
    Cadence.QUARTERLY.value: 1 / 3,
    Cadence.HALF_YEARLY.value: 1 / 6,
    Cadence.YEARLY.value: 1 / 12,
}
_PER_DAY: dict[str, float] = {
    Period.DAY.value: 1.0,
    Period.WEEK.value: 1 / 7,
    Cadence.DAILY.value: 1.0,
    Cadence.WEEKLY.value: 1 / 7,
}


def _monthly(value: float, period: str, month: date) -> float:
    if period in _PER_MONTH:
        return value * _PER_MONTH[period]
    days = month_calendar.monthrange(month.year, month.month)[1]
    return value * _PER_DAY[period] * days


def goal_target(pact: Pact, goal: str, month: date) -> Target | None:
    """The monthly target that a governance rule's `goal` is measured against in a month.

    A goal metric (leads, mqls, ...) takes the pact's goal target for that metric whose
    deadline is not yet past on the month's first day (without a segment), else a delivery
    commitment of that metric; targets of other periods are converted to the month. A
    commitment id takes its own target: a delivery volume, a quality rate, or 1 for a report
    (logged on time = 1). Response, acceptance and follow-up commitments are measured by the
    SLA clocks, not here: None, like a metric with no target.
    """
    commitment = next((c for c in pact.commitments if c.id == goal), None)
    if commitment is not None:
        if isinstance(commitment, DeliveryCommitment):
            return Target(
                commitment.metric.value,
                _monthly(commitment.target, commitment.period.value, month),
            )
        if isinstance(commitment, QualityCommitment):
            return Target(commitment.metric, commitment.target)
        if isinstance(commitment, ReportCommitment):
            return Target("report", 1.0)
        return None
    if pact.goals is not None:
        targets = sorted(
            (t for t in pact.goals.targets if t.metric.value == goal and t.segment is None),
            key=lambda t: t.deadline,
        )
        for target in targets:
            if target.deadline >= month:
                period = (target.period or pact.goals.period).value
                return Target(goal, _monthly(float(target.target), period, month))
    for c in pact.commitments:
        if isinstance(c, DeliveryCommitment) and c.metric.value == goal:
            return Target(goal, _monthly(c.target, c.period.value, month))
    return None


@dataclass(frozen=True)
class PeriodFigure:
    """A goal's actual figure and target in one month (None = no figure or no target)."""

    period: str
    actual: float | None
    target: float | None

    @property
    def missed(self) -> bool | None:
        """True when the actual fell short of the target; None when either is unknown."""
        if self.actual is None or self.target is None:
            return None
        return self.actual < self.target


@dataclass(frozen=True)
class ConditionCheck:
    """A consequence or cancellation condition and whether the figures meet it."""

    kind: Literal["consequence", "cancellation"]
    goal: str
    missed_periods: int
    text: str
    met: bool
    streak: int
    figures: tuple[PeriodFigure, ...]


def check_conditions(
    governance: Governance, figures: Mapping[str, Sequence[PeriodFigure]]
) -> list[ConditionCheck]:
    """Evaluate every consequence and cancellation condition against monthly figures.

    Args:
        governance: the governance section of the pact in force.
        figures: per goal (metric or commitment id), complete months oldest first.

    Returns:
        One check per condition, consequences first; `streak` counts the months missed
        running at the end of the figures, `figures` holds the months that show it.

    Example:
        >>> from leadpact.core.pact import Cancellation, MissedGoal
        >>> g = Governance(document_owner="Ann", valid_from=date(2025, 1, 1),
        ...     review=Review(cadence="monthly", last=date(2025, 1, 1)),
        ...     cancellation=[Cancellation(when=MissedGoal(goal="mqls", missed_periods=2),
        ...                                description="Renegotiate")])
        >>> figs = [PeriodFigure("2025-01", 70, 80), PeriodFigure("2025-02", 60, 80)]
        >>> check_conditions(g, {"mqls": figs})[0].met
        True
    """
    rules: list[tuple[Literal["consequence", "cancellation"], str, int, str]] = [
        ("consequence", c.when.goal, c.when.missed_periods, c.action)
        for c in governance.consequences
    ]
    rules += [
        ("cancellation", c.when.goal, c.when.missed_periods, c.description)
        for c in governance.cancellation
    ]
    checks = []
    for kind, goal, needed, text in rules:
        series = tuple(figures.get(goal, ()))
        streak = 0
        for figure in reversed(series):
            if figure.missed is not True:
                break
            streak += 1
        shown = series[-max(needed, streak) :] if series else ()
        checks.append(ConditionCheck(kind, goal, needed, text, streak >= needed, streak, shown))
    return checks


# --------------------------------------------------------------------------- semantic diff


@dataclass(frozen=True)
class Change:
    """One change between two versions of the agreement, told as a sentence by `str()`."""

    kind: Literal["added", "removed", "changed"]
    where: str
    field: str = ""
    before: str | None = None
    after: str | None = None
    item: str | None = None

    def __str__(self) -> str:
        if not self.field:
            return f"{self.where} {self.kind}"
        if self.item is not None:
            way = "to" if self.kind == "added" else "from"
            return f"{self.where}: {self.item} {self.kind} {way} {self.field}"
        if self.kind == "added":
            return f"{self.where}: {self.field} set to {self.after}"
        if self.kind == "removed":
            return f"{self.where}: {self.field} removed (was {self.before})"
        return f"{self.where}: {self.field} changed from {self.before} to {self.after}"


KeyFn = Callable[[dict[str, Any]], str]

#: Lists whose items are matched by a key, with the label of one item.
_KEYED_LISTS: dict[tuple[str, ...], tuple[str, KeyFn]] = {
    ("reporting",): (
        "Reporting line",
        lambda i: f"{i['from']} → {i['to']}: {_show(i['report'])}",
    ),
    ("icp", "criteria"): ("ICP criterion", lambda i: str(i["id"])),
    ("icp", "personas"): ("Persona", lambda i: str(i["id"])),
    ("stages",): ("Stage", lambda i: str(i["id"])),
    ("commitments",): ("Commitment", lambda i: str(i["id"])),
    ("kpis",): ("KPI", lambda i: str(i["kpi"])),
    ("goals", "targets"): (
        "Goal",
        lambda i: str(i["metric"]) + (f" ({i['segment']})" if i.get("segment") else ""),
    ),
    ("governance", "consequences"): (
        "Consequence",
        lambda i: (
            f"when {i['when']['goal']} is missed {i['when']['missed_periods']} periods running"
        ),
    ),
    ("governance", "cancellation"): (
        "Cancellation condition",
        lambda i: (
            f"when {i['when']['goal']} is missed {i['when']['missed_periods']} periods running"
        ),
    ),
}
#: Mappings whose entries are named parts of the agreement.
_KEYED_DICTS = {
    ("parties",): "Party",
    ("calendars",): "Calendar",
    ("teams",): "Team",
}
#: Fields compared as one value: a condition changes as a whole.
_ATOMIC = {("when",), ("entry",)}
_SECTION_NAMES = {
    "icp": "Ideal customer",
    "scoring": "Scoring",
    "matrix": "Matrix",
    "goals": "Goals",
    "handling": "Lead handling",
    "alerts": "Alerts",
    "costs": "Costs",
    "governance": "Governance",
}


def diff_pacts(old: Pact, new: Pact) -> list[Change]:
    """What changed in the agreement from `old` to `new`, part by part, in pact order.

    Named parts (parties, criteria, personas, stages, commitments, calendars, teams, KPIs,
    goal targets, consequences) are matched by their id, so a reordered list is no change.

    Example:
        >>> [str(c) for c in diff_pacts(p1, p2)]  # doctest: +SKIP
        ['Commitment p1-response: within changed from 2h to 1h', "Persona 'Dan the director' added"]
    """
    a = old.model_dump(mode="json", by_alias=True)
    b = new.model_dump(mode="json", by_alias=True)
    return list(_diff_section(a, b))


def _diff_section(a: dict[str, Any], b: dict[str, Any]) -> Iterator[Change]:
    for key in _keys(a, b):
        path = (key,)
        where = _SECTION_NAMES.get(key, "Agreement")
        yield from _diff_node(
            path, where, (key,) if where == "Agreement" else (), a.get(key), b.get(key)
        )


def _diff_node(
    path: tuple[str, ...], where: str, field: tuple[str, ...], a: Any, b: Any
) -> Iterator[Change]:
    if a == b:
        return
    if path in _KEYED_DICTS and isinstance(a, dict) and isinstance(b, dict):
        yield from _diff_items(_KEYED_DICTS[path], a, b)
    elif path in _KEYED_LISTS and isinstance(a, list) and isinstance(b, list):
        label, key_of = _KEYED_LISTS[path]
        yield from _diff_items(label, {key_of(i): i for i in a}, {key_of(i): i for i in b})
    elif isinstance(a, dict) and isinstance(b, dict) and path[-1:] not in _ATOMIC:
        for key in _keys(a, b):
            yield from _diff_node((*path, key), where, (*field, key), a.get(key), b.get(key))
    elif isinstance(a, list) and isinstance(b, list) and _scalars(a) and _scalars(b):
        name = ".".join(field)
        for item in a:
            if item not in b:
                yield Change("removed", where, name, item=_show(item))
        for item in b:
            if item not in a:
                yield Change("added", where, name, item=_show(item))
    elif a is None:
        yield Change("added", where, ".".join(field), after=_show(b))
    elif b is None:
        yield Change("removed", where, ".".join(field), before=_show(a))
    else:
        yield Change("changed", where, ".".join(field), _show(a), _show(b))


def _diff_items(label: str, a: dict[str, Any], b: dict[str, Any]) -> Iterator[Change]:
    for key in _keys(a, b):
        if key not in b:
            yield Change("removed", _item_label(label, key, a[key]))
        elif key not in a:
            yield Change("added", _item_label(label, key, b[key]))
        else:
            yield from _diff_node((), f"{label} {key}", (), a[key], b[key])


def _item_label(label: str, key: str, item: Any) -> str:
    name = item.get("name") if isinstance(item, dict) else None
    return f"{label} {_show(name)}" if isinstance(name, str) else f"{label} {key}"


def _keys(a: dict[str, Any], b: dict[str, Any]) -> list[str]:
    return list(a) + [k for k in b if k not in a]


def _scalars(items: list[Any]) -> bool:
    return all(not isinstance(i, dict | list) for i in items)


def _show(value: Any) -> str:
    if isinstance(value, str):
        return f"'{value}'" if " " in value or not value else value
    return json.dumps(value, ensure_ascii=False, separators=(", ", ": "))
