"""When the alerts of an SLA clock fall due: the `Watch` of one clock, or of many at once.

A clock is watched while it runs, or once it stopped breached; a met clock never alerts. A
watch holds the instants at which the clock's alerts fall due, so the scheduler computes them
once per clock and afterwards only compares instants (docs/alerts.md):

- warning: the first instant less than `alerts.warn_before` of business time is left before
  the deadline (the clock's start when the whole clock is shorter); none for a zero
  `warn_before`;
- breach: just after the deadline (looked at exactly at it, a clock still runs); for a clock
  that stopped breached before its deadline (recycled), its stop;
- escalation and reassignment: `escalate_after` and `reassign_after` business time after the
  deadline (never at or before it), while the clock runs.

Business time is on the clock's calendar. `watch_many` gives what `watch` gives, for the
columns of `core.sla.evaluate_many`, with the deadlines in bulk per calendar. Pure.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import numpy.typing as npt

from leadpact.core.calendar import BusinessCalendar
from leadpact.core.pact import Pact
from leadpact.core.sla import SlaColumns, SlaResult, SlaStatus

__all__ = ["Watch", "watch", "watch_many"]

#: The smallest step of time: a clock is breached only *after* its deadline.
_TICK = timedelta(microseconds=1)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Watch:
    """A clock the scheduler watches, with the instants its alerts fall due.

    Attributes:
        clock: the clock as last evaluated (running, or stopped breached).
        team: the lead's team (from the lead, not the pact), if any.
        warn_at: running clocks: the first instant it is at risk (None: never warned).
        breach_at: the first instant it counts as breached.
        escalate_at: running clocks: when it escalates to the manager (None: never).
        reassign_at: running clocks: when a reassignment is proposed (None: never).
    """

    clock: SlaResult
    team: str | None
    warn_at: datetime | None
    breach_at: datetime
    escalate_at: datetime | None
    reassign_at: datetime | None

    @property
    def running(self) -> bool:
        """Whether the clock still runs."""
        return self.clock.stopped_at is None


def watch(result: SlaResult, pact: Pact, team: str | None = None) -> Watch | None:
    """The alert instants of one clock, or None for a clock that can never alert (met).

    Args:
        result: the clock, evaluated at any instant (`core.sla.evaluate`).
        pact: the agreement (its `alerts` section and the clock's calendar).
        team: the lead's team.

    Example:
        >>> w = watch(clock_due_friday_1500, pact)  # sales-dk, warn_before 30m, escalate 2h
        >>> w.warn_at, w.escalate_at  # 14:30:00.000001 Friday, 09:00 Monday + 1h
    """
    calendar = pact.calendar(result.calendar)
    due = result.due_at
    if result.stopped_at is not None:
        if result.status is not SlaStatus.BREACHED:
            return None
        # Stopped late: breached at the deadline; stopped early (a recycle): at the stop.
        breach = due + _TICK if result.stopped_at > due else result.stopped_at
        return Watch(result, team, None, breach, None, None)
    rules = pact.alerts
    return Watch(
        clock=result,
        team=team,
        warn_at=_warn_at(calendar, result.started_at, due, rules.warn_before),
        breach_at=due + _TICK,
        escalate_at=_after_deadline(calendar, due, rules.escalate_after),
        reassign_at=_after_deadline(calendar, due, rules.reassign_after),
    )


def watch_many(
    clocks: SlaColumns, pact: Pact, teams: Sequence[str | None] | npt.NDArray[Any]
) -> list[Watch]:
    """`watch` for many clocks at once: the same watches, deadlines in bulk per calendar.

    Args:
        clocks: clocks of many leads (`core.sla.evaluate_many`).
        pact: the agreement.
        teams: the team of each lead, by the lead positions of `clocks.lead`.

    Returns:
        The watches of the clocks that can still alert, in the order of `clocks`.
    """
    running = np.isnat(clocks.stopped_at)
    keep = np.flatnonzero(running | (clocks.status == SlaStatus.BREACHED.value))
    sub = SlaColumns(*(getattr(clocks, f.name)[keep] for f in fields(SlaColumns)))
    running = running[keep]
    tick = np.timedelta64(1000, "ns")
    due = sub.due_at.astype("datetime64[ns]")
    started = sub.started_at.astype("datetime64[ns]")
    stopped = sub.stopped_at.astype("datetime64[ns]")
    late = running | (stopped > due)
    breach = np.where(late, due + tick, stopped)
    missing = np.full(len(keep), np.datetime64("NaT"), dtype="datetime64[ns]")
    warn, escalate, reassign = missing.copy(), missing.copy(), missing.copy()
    rules = pact.alerts
    for name in dict.fromkeys(sub.calendar.tolist()):
        calendar = pact.calendar(name)
        rows = np.flatnonzero(running & (sub.calendar == name))
        begin, end = started[rows], due[rows]
        if rules.warn_before > timedelta(0):
            allowed = _ns(rules.warn_before)
            span = calendar.between_many_ns(begin, end)
            short = span < allowed
            room = np.where(short, 0, span - allowed).astype("timedelta64[ns]")
            edge = calendar.deadline_many(begin, room)
            warn[rows] = np.where(short, begin, calendar.deadline_many(edge, 0) + tick)
        for out, delay in ((escalate, rules.escalate_after), (reassign, rules.reassign_after)):
            if delay is not None:
                after = np.timedelta64(_ns(delay), "ns")
                out[rows] = np.maximum(calendar.deadline_many(end, after), end + tick)
    lanes = [a.view(np.int64).tolist() for a in (warn, breach, escalate, reassign)]
    positions = sub.lead.tolist()
    return [
        Watch(
            clock=result,
            team=teams[positions[i]],
            warn_at=_maybe(lanes[0][i]),
            breach_at=_at(lanes[1][i]),
            escalate_at=_maybe(lanes[2][i]),
            reassign_at=_maybe(lanes[3][i]),
        )
        for i, result in enumerate(sub.results())
    ]


_NAT = int(np.iinfo(np.int64).min)


def _ns(value: timedelta) -> int:
    return value // timedelta(microseconds=1) * 1000


def _at(ns: int) -> datetime:
    return _EPOCH + timedelta(microseconds=ns // 1000)


def _maybe(ns: int) -> datetime | None:
    return None if ns == _NAT else _at(ns)


def _warn_at(
    calendar: BusinessCalendar, started: datetime, due: datetime, warn: timedelta
) -> datetime | None:
    """The first instant at which less than `warn` business time is left before `due`."""
    if warn <= timedelta(0):
        return None
    span = calendar.between(started, due)
    if span < warn:
        return started
    # Exactly `warn` left at `edge`; less only once business time runs again after it.
    edge = calendar.deadline(started, span - warn)
    return calendar.next_open(edge) + _TICK


def _after_deadline(
    calendar: BusinessCalendar, due: datetime, delay: timedelta | None
) -> datetime | None:
    if delay is None:
        return None
    return max(calendar.deadline(due, delay), due + _TICK)
