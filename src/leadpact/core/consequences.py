"""Consequence and cancellation conditions (PRODUCT.md part 7): the monthly target a condition's
goal is measured against, and whether the figures meet each condition.

Rule (docs/governance.md states it for users):

- A consequence or cancellation condition "missed N periods running" is met when each of the
  last N complete months missed its target (actual below target).

Pure: `now` and every figure are parameters; nothing here reads a clock, a file or a database.
"""

from __future__ import annotations

import calendar as month_calendar
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Literal

from leadpact.core.goals import Period
from leadpact.core.pact import (
    Cadence,
    DeliveryCommitment,
    Governance,
    Pact,
    QualityCommitment,
    ReportCommitment,
)

__all__ = [
    "ConditionCheck",
    "PeriodFigure",
    "Target",
    "check_conditions",
    "goal_target",
]


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
        >>> from leadpact.core.pact import Cancellation, MissedGoal, Review
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
