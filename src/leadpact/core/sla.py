"""SLA clocks: when each timed commitment of the pact starts, is due and stops, for each lead.

One lead at a time (`evaluate`) or many at once (`evaluate_many`, numpy columns, deadlines in
bulk per calendar); the two paths follow the same rules and a property test holds them to it.
The rules (docs/sla.md states them with examples):

- A clock starts at the lead's **latest** entry into the commitment's `stage` (stage changes
  at or before `as_of`, in time order, ties in input order), if the commitment's `when` holds
  for the lead's facts. One clock per lead and commitment.
- **response**: due `within` business time after the start; stopped by the first touch at or
  after the start. **acceptance**: due likewise; stopped by the first stage change after the
  entry (accepted, rejected, recycled, disqualified: any decision). **follow_up**: due at the
  end of the `over_days`-th business day (`follow_up_due`); stopped when `attempts` touches
  have been made, each at least `spacing` business time after the previous counted one, or
  by the first touch that connects (`unless_connected`).
- A stage change into a closing stage (outcome won, lost, recycled, disqualified) after the
  start stops a response or follow-up clock too. Won, lost and disqualified are decisions and
  count like the event the clock waits for; **recycled is not**: sending a lead back to
  nurture before the response or the agreed attempts breaks the commitment. A touch at the
  same instant as the closing change comes first.
- Status at `as_of`: met when stopped at or before the due instant (and not by a recycle);
  breached when stopped later, or not stopped and `as_of` is past due; otherwise pending,
  or at risk when the business time left is below `pact.alerts.warn_before`. Looked at
  exactly at the due instant, an unstopped clock is still open.
- The calendar: the commitment's own, else the calendar of the lead's team, else (no team,
  or a team the pact does not define) that of the provider party's first team.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import Any

import numpy as np
import numpy.typing as npt

from leadpact.core.calendar import BusinessCalendar
from leadpact.core.conditions import evaluate_many as evaluate_condition_many
from leadpact.core.models import LeadFacts, StageChange, Touch, TouchOutcome
from leadpact.core.pact import (
    AcceptanceCommitment,
    FollowUpCommitment,
    Outcome,
    Pact,
    ResponseCommitment,
)
from leadpact.errors import LeadPactError

__all__ = [
    "SlaColumns",
    "SlaResult",
    "SlaStatus",
    "Stop",
    "TimedCommitment",
    "calendar_name",
    "evaluate",
    "evaluate_many",
    "follow_up_due",
    "timed_commitments",
]

TimedCommitment = ResponseCommitment | AcceptanceCommitment | FollowUpCommitment

Int64Array = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]
ObjectArray = npt.NDArray[np.object_]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_US = timedelta(microseconds=1)
_DAY = timedelta(days=1)
_NEVER = int(np.iinfo(np.int64).max)  # "no such event" in the batch path: later than any instant
_NAT = int(np.iinfo(np.int64).min)
_LAST = datetime.max.replace(tzinfo=UTC)  # "no such event" in the scalar path
_CONNECTIONS = [outcome.value for outcome in TouchOutcome if outcome.is_connection]


class SlaStatus(StrEnum):
    """Where a clock stands at `as_of`."""

    PENDING = "pending"
    AT_RISK = "at_risk"
    MET = "met"
    BREACHED = "breached"


class Stop(StrEnum):
    """What stopped a clock."""

    TOUCH = "touch"  # response: the first touch
    DECISION = "decision"  # acceptance: the first stage change out of the stage
    CONNECTION = "connection"  # follow-up: a touch that connected
    ATTEMPTS = "attempts"  # follow-up: the last required attempt
    CLOSED = "closed"  # a change into a won, lost, recycled or disqualified stage


_STATUS = list(SlaStatus)
_STOPS = list(Stop)


@dataclass(frozen=True, slots=True)
class SlaResult:
    """One SLA clock of one lead, as it stands at `as_of`.

    Attributes:
        lead_id: the lead.
        commitment_id: the commitment the clock measures.
        kind: "response", "acceptance" or "follow_up".
        owner: the lead's owner (who must act), if any.
        calendar: the name of the business calendar the clock runs on.
        started_at: the lead's latest entry into the commitment's stage.
        due_at: the deadline instant (UTC).
        stopped_at: when the clock stopped, or None while it runs.
        stopped_by: what stopped it, or None while it runs.
        status: pending, at risk, met or breached at `as_of`.
        time_left: business time from `as_of` to `due_at` while the clock runs (negative once
            overdue); None when stopped.
        business_time_used: business time from the start to the stop (or to `as_of`).
        attempts: follow-up only: attempts counted (at or before the stop, or `as_of`).
        next_attempt_at: follow-up only, while running: the earliest instant the next attempt
            counts (the start when none was made; else `spacing` after the last counted one).
    """

    lead_id: str
    commitment_id: str
    kind: str
    owner: str | None
    calendar: str
    started_at: datetime
    due_at: datetime
    stopped_at: datetime | None
    stopped_by: Stop | None
    status: SlaStatus
    time_left: timedelta | None
    business_time_used: timedelta
    attempts: int | None = None
    next_attempt_at: datetime | None = None


def timed_commitments(pact: Pact) -> list[TimedCommitment]:
    """The commitments that run a clock per lead (response, acceptance, follow-up), in order."""
    return [
        c
        for c in pact.commitments
        if isinstance(c, ResponseCommitment | AcceptanceCommitment | FollowUpCommitment)
    ]


def calendar_name(pact: Pact, commitment: TimedCommitment, team: str | None) -> str:
    """The calendar a commitment's clock runs on for a lead of `team`.

    The commitment's own calendar; else the calendar of the lead's team; else (no team, or a
    team the pact does not define) that of the first team of the provider party in the pact
    file, else of the pact's first team.
    """
    if commitment.calendar is not None:
        return commitment.calendar
    if team is not None and team in pact.teams:
        return pact.teams[team].calendar
    teams = list(pact.teams.values())
    providers = [t for t in teams if t.party == commitment.provider]
    return (providers or teams)[0].calendar


def follow_up_due(calendar: BusinessCalendar, started_at: datetime, over_days: int) -> datetime:
    """The end of the `over_days`-th business day of a clock that starts at `started_at`.

    A business day is a local calendar date (midnight to midnight in the calendar's time zone)
    with open time. Day 1 is the date of the instant the clock starts counting (the start
    itself when open, else the next opening): a clock that starts before a day's last closing
    counts that day. The end of a day is the instant its open time runs out: its last closing,
    or midnight when open through midnight.

    Example:
        >>> thursday_1000 = datetime(2025, 3, 6, 10, tzinfo=ZoneInfo("Europe/Copenhagen"))
        >>> follow_up_due(sales_dk, thursday_1000, 2)  # Friday 16:00 local
        datetime.datetime(2025, 3, 7, 15, 0, tzinfo=datetime.timezone.utc)
    """
    zone = calendar.timezone
    day = calendar.next_open(started_at).astimezone(zone).date()
    seen = 0
    while True:
        begin = _midnight(day, zone)
        length = calendar.between(begin, _midnight(day + _DAY, zone))
        seen += length > timedelta(0)
        if seen == over_days:
            return calendar.deadline(begin, length)
        day += _DAY


def _midnight(day: date, zone: Any) -> datetime:
    return datetime.combine(day, time(), tzinfo=zone)


def _require_aware(as_of: datetime) -> None:
    if as_of.utcoffset() is None:
        raise LeadPactError(f"as_of must be a timezone-aware datetime, found naive {as_of}")


def _status(
    due_at: datetime,
    stop: tuple[datetime, Stop, bool] | None,
    as_of: datetime,
    left: timedelta,
    warn: timedelta,
) -> SlaStatus:
    if stop is not None:
        at, _, kept = stop
        return SlaStatus.MET if kept and at <= due_at else SlaStatus.BREACHED
    if as_of > due_at:
        return SlaStatus.BREACHED
    return SlaStatus.AT_RISK if left < warn else SlaStatus.PENDING


# --------------------------------------------------------------------------- one lead


def evaluate(
    lead: LeadFacts,
    stage_changes: Sequence[StageChange],
    touches: Sequence[Touch],
    pact: Pact,
    *,
    as_of: datetime,
    facts: Mapping[str, Any] | None = None,
) -> list[SlaResult]:
    """Every SLA clock of one lead at `as_of`, in the order of the pact's commitments.

    Args:
        lead: the lead (its id, owner and team).
        stage_changes: the lead's stage changes; those after `as_of` are ignored.
        touches: the lead's sales touches; those after `as_of` are ignored.
        pact: the agreement whose timed commitments run the clocks.
        as_of: the instant to evaluate at (timezone-aware).
        facts: what the commitments' `when` conditions test (the lead's facts and scores,
            under the names of `core.conditions.LEAD_FIELDS`); default `lead.facts()`.

    Returns:
        One result per commitment that applies to the lead and whose stage it entered.

    Raises:
        LeadPactError: `as_of` is naive.
        CalendarError: an instant outside the calendars' range.
    """
    _require_aware(as_of)
    known = lead.facts() if facts is None else facts
    changes = sorted((c for c in stage_changes if c.at <= as_of), key=lambda c: c.at)
    events = sorted((t for t in touches if t.at <= as_of), key=lambda t: t.at)
    closing = {s.id: s.outcome for s in pact.stages if s.outcome is not Outcome.OPEN}
    results = []
    for commitment in timed_commitments(pact):
        if commitment.when is not None and not commitment.when.matches(known):
            continue
        entries = [i for i, c in enumerate(changes) if c.to_stage == commitment.stage]
        if not entries:
            continue
        start, after = changes[entries[-1]].at, changes[entries[-1] + 1 :]
        name = calendar_name(pact, commitment, lead.team)
        calendar = pact.calendar(name)
        closed = next(((c.at, closing[c.to_stage]) for c in after if c.to_stage in closing), None)
        attempts: int | None = None
        last: datetime | None = None
        # Candidates for the stop, in order of precedence at equal instants.
        candidates: list[tuple[datetime, Stop, bool]] = []
        if isinstance(commitment, FollowUpCommitment):
            due = follow_up_due(calendar, start, commitment.over_days)
            attempts, last, candidates = _follow_up(commitment, calendar, start, events, closed)
        else:
            due = calendar.deadline(start, commitment.within)
            if isinstance(commitment, AcceptanceCommitment):
                candidates = [(c.at, Stop.DECISION, True) for c in after[:1]]
            else:
                candidates = [(t.at, Stop.TOUCH, True) for t in events if t.at >= start][:1]
        if closed is not None and not isinstance(commitment, AcceptanceCommitment):
            candidates.append((closed[0], Stop.CLOSED, closed[1] is not Outcome.RECYCLED))
        stop = min(candidates, key=lambda c: c[0]) if candidates else None
        left = calendar.between(as_of, due)
        next_attempt = None
        if stop is None and isinstance(commitment, FollowUpCommitment):
            next_attempt = start if last is None else _after(calendar, last, commitment.spacing)
        results.append(
            SlaResult(
                lead_id=lead.id,
                commitment_id=commitment.id,
                kind=commitment.kind,
                owner=lead.owner,
                calendar=name,
                started_at=start.astimezone(UTC),
                due_at=due,
                stopped_at=None if stop is None else stop[0].astimezone(UTC),
                stopped_by=None if stop is None else stop[1],
                status=_status(due, stop, as_of, left, pact.alerts.warn_before),
                time_left=left if stop is None else None,
                business_time_used=calendar.between(start, as_of if stop is None else stop[0]),
                attempts=attempts,
                next_attempt_at=None if next_attempt is None else next_attempt.astimezone(UTC),
            )
        )
    return results


def _follow_up(
    commitment: FollowUpCommitment,
    calendar: BusinessCalendar,
    start: datetime,
    touches: list[Touch],
    closed: tuple[datetime, Outcome] | None,
) -> tuple[int, datetime | None, list[tuple[datetime, Stop, bool]]]:
    """Attempts counted, the last counted one, and the stops a follow-up clock may have."""
    ours = [t for t in touches if t.at >= start]
    connected = next(
        (t.at for t in ours if commitment.unless_connected and t.outcome.is_connection), None
    )
    # Touches after the connection or the closing change come too late to count.
    limit = min(
        a for a in (connected, None if closed is None else closed[0], _LAST) if a is not None
    )
    spacing = commitment.spacing or timedelta(0)
    count, last, done = 0, None, None
    for touch in ours:
        if count == commitment.attempts or touch.at > limit:
            break
        if last is None or calendar.between(last, touch.at) >= spacing:
            count, last = count + 1, touch.at
            done = touch.at if count == commitment.attempts else None
    stops = [(connected, Stop.CONNECTION, True), (done, Stop.ATTEMPTS, True)]
    return count, last, [(at, stop, kept) for at, stop, kept in stops if at is not None]


def _after(calendar: BusinessCalendar, last: datetime, spacing: timedelta | None) -> datetime:
    """The earliest instant at least `spacing` business time after `last`."""
    return last if not spacing else calendar.deadline(last, spacing)


# --------------------------------------------------------------------------- many leads


@dataclass(frozen=True)
class SlaColumns:
    """Clocks of many leads as columns, one element per clock, ordered by lead then commitment.

    Instants are UTC `datetime64[ns]` (NaT for none), durations `timedelta64[ns]` (NaT for
    none), `attempts` is -1 where it does not apply; the other fields hold what `SlaResult`
    holds, as object arrays.
    """

    lead: Int64Array  # position of the lead in the lead columns
    lead_id: ObjectArray
    owner: ObjectArray
    commitment_id: ObjectArray
    kind: ObjectArray
    calendar: ObjectArray
    started_at: npt.NDArray[np.datetime64]
    due_at: npt.NDArray[np.datetime64]
    stopped_at: npt.NDArray[np.datetime64]
    stopped_by: ObjectArray
    status: ObjectArray
    time_left: npt.NDArray[np.timedelta64]
    business_time_used: npt.NDArray[np.timedelta64]
    attempts: Int64Array
    next_attempt_at: npt.NDArray[np.datetime64]

    def __len__(self) -> int:
        return len(self.lead)

    def results(self) -> list[SlaResult]:
        """The clocks as `SlaResult` values (what `evaluate` returns per lead)."""
        started, due, stopped, following = (
            a.view(np.int64).tolist()
            for a in (self.started_at, self.due_at, self.stopped_at, self.next_attempt_at)
        )
        left, used = (a.view(np.int64).tolist() for a in (self.time_left, self.business_time_used))
        attempts = self.attempts.tolist()
        return [
            SlaResult(
                lead_id=self.lead_id[i],
                commitment_id=self.commitment_id[i],
                kind=self.kind[i],
                owner=self.owner[i],
                calendar=self.calendar[i],
                started_at=_instant(started[i]),
                due_at=_instant(due[i]),
                stopped_at=None if stopped[i] == _NAT else _instant(stopped[i]),
                stopped_by=self.stopped_by[i],
                status=self.status[i],
                time_left=None if left[i] == _NAT else _duration(left[i]),
                business_time_used=_duration(used[i]),
                attempts=None if attempts[i] < 0 else attempts[i],
                next_attempt_at=None if following[i] == _NAT else _instant(following[i]),
            )
            for i in range(len(self))
        ]


def _instant(ns: int) -> datetime:
    return _EPOCH + timedelta(microseconds=ns // 1000)


def _duration(ns: int) -> timedelta:
    return timedelta(microseconds=ns // 1000)


def _ns(value: datetime | timedelta) -> int:
    return ((value - _EPOCH) if isinstance(value, datetime) else value) // _US * 1000


@dataclass(frozen=True)
class _Events:
    """Stage changes or touches sorted by lead, then time, then input order; `as_of` applied.

    A sentinel row closes the arrays (lead = number of leads, at = _NEVER): every position
    from a search is a valid index, and the sentinel belongs to no lead.
    """

    lead: Int64Array
    at: Int64Array
    what: ObjectArray  # to_stage, or the touch outcome

    @classmethod
    def load(cls, columns: Mapping[str, Any], what: str, n: int, now: int) -> _Events:
        lead = np.asarray(columns["lead"], dtype=np.int64)
        if len(lead) and (lead.min() < 0 or lead.max() >= n):
            raise ValueError(f"event lead positions must lie in 0..{n - 1}")
        at = np.asarray(columns["at"]).astype("datetime64[ns]").view(np.int64)
        kept = np.flatnonzero((at != _NAT) & (at <= now))
        order = kept[np.lexsort((kept, at[kept], lead[kept]))]
        return cls(
            np.append(lead[order], n),
            np.append(at[order], _NEVER),
            np.append(np.asarray(columns[what], dtype=object)[order], [None]),
        )

    def subset(self, mask: BoolArray) -> _Events:
        """The events where `mask` holds, sentinel kept."""
        keep = mask.copy()
        keep[-1] = True
        return _Events(self.lead[keep], self.at[keep], self.what[keep])

    def bounds(self, rows: Int64Array) -> tuple[Int64Array, Int64Array]:
        """Each lead's events as positions [lo, hi)."""
        return np.searchsorted(self.lead, rows, "left"), np.searchsorted(self.lead, rows, "right")

    def first_at_or_after(self, rows: Int64Array, target: Int64Array) -> Int64Array:
        """Per lead: the position of its first event at or after `target` (else past its last)."""
        lo, hi = self.bounds(rows)
        while (active := lo < hi).any():
            mid = (lo + hi) // 2
            below = active & (self.at[mid] < target)
            lo = np.where(below, mid + 1, lo)
            hi = np.where(active & ~below, mid, hi)
        return lo

    def at_position(self, pos: Int64Array, rows: Int64Array) -> Int64Array:
        """The instant of the event at `pos` if it belongs to the lead of its row, else _NEVER."""
        return np.where(self.lead[pos] == rows, self.at[pos], _NEVER)


Candidate = tuple[Int64Array, Stop, "BoolArray | bool"]


class _Clocks:
    """The clocks of one commitment, over the leads that have one (`rows`), as columns."""

    def __init__(
        self,
        pact: Pact,
        commitment: TimedCommitment,
        rows: Int64Array,
        teams: ObjectArray,
        start: Int64Array,
        now: int,
    ) -> None:
        self.pact = pact
        self.commitment = commitment
        self.rows = rows
        self.start = start
        self.now = now
        by_team = {t: calendar_name(pact, commitment, t) for t in dict.fromkeys(teams.tolist())}
        self.names = list(dict.fromkeys(by_team.values()))
        self.calendars = [pact.calendar(name) for name in self.names]
        number = {name: i for i, name in enumerate(self.names)}
        self.code = np.array([number[by_team[t]] for t in teams.tolist()], dtype=np.int64)
        self.every = np.arange(len(rows))
        if isinstance(commitment, FollowUpCommitment):
            days = commitment.over_days
            self.due = self._apply(self.every, lambda c, a: _follow_up_due_many(c, a, days), start)
        else:
            self.due = self._deadline(self.every, start, _ns(commitment.within))
        self.attempts = np.full(len(rows), -1, dtype=np.int64)
        self.following = np.full(len(rows), _NAT, dtype=np.int64)

    def _apply(self, subset: Int64Array, compute: Any, *arrays: Int64Array) -> Int64Array:
        """`compute(calendar, *arrays)` per calendar over the clocks `subset`."""
        out = np.empty(len(subset), dtype=np.int64)
        codes = self.code[subset]
        for number, calendar in enumerate(self.calendars):
            mask = codes == number
            out[mask] = compute(calendar, *(a[mask] for a in arrays))
        return out

    def _between(self, subset: Int64Array, starts: Int64Array, ends: Int64Array) -> Int64Array:
        return self._apply(
            subset, lambda cal, a, b: cal.between_many_ns(_dt(a), _dt(b)), starts, ends
        )

    def _deadline(self, subset: Int64Array, starts: Int64Array, within: int) -> Int64Array:
        return self._apply(
            subset,
            lambda cal, a: cal.deadline_many(_dt(a), np.timedelta64(within, "ns")).view(np.int64),
            starts,
        )

    def follow_up(
        self, commitment: FollowUpCommitment, touched: _Events, closed: Candidate
    ) -> None:
        """Count attempts (spaced, up to the first connection or closing), then stop."""
        rows, start = self.rows, self.start
        connected = np.full(len(rows), _NEVER, dtype=np.int64)
        if commitment.unless_connected:
            connecting = touched.subset(np.isin(touched.what, _CONNECTIONS))
            first = connecting.first_at_or_after(rows, start)
            connected = connecting.at_position(first, rows)
        limit = np.minimum(connected, closed[0])
        spacing = _ns(commitment.spacing or timedelta(0))
        wanted = commitment.attempts
        count = np.zeros(len(rows), dtype=np.int64)
        last = np.full(len(rows), _NAT, dtype=np.int64)
        offset = np.zeros(len(rows), dtype=np.int64)  # business ns from the start to `last`
        done = np.full(len(rows), _NEVER, dtype=np.int64)
        first = touched.first_at_or_after(rows, start)
        _, end = touched.bounds(rows)
        active = self.every
        step = 0
        # Each lead's touches in time order; a lead drops out once it has the attempts it
        # needs, no touches left, or a touch past its limit (the rest are later still).
        while len(
            active := active[(first[active] + step < end[active]) & (count[active] < wanted)]
        ):
            at = touched.at[first[active] + step]
            inside = at <= limit[active]
            active, at = active[inside], at[inside]
            here = self._between(active, start[active], at)
            spaced = (count[active] == 0) | (here - offset[active] >= spacing)
            clock, at, here = active[spaced], at[spaced], here[spaced]
            count[clock] += 1
            last[clock], offset[clock] = at, here
            complete = count[clock] == wanted
            done[clock[complete]] = at[complete]
            step += 1
        self.attempts = count
        self.run([(connected, Stop.CONNECTION, True), (done, Stop.ATTEMPTS, True), closed])
        waiting = np.flatnonzero(self.running & (count > 0))
        after = last.copy()
        if spacing:
            after[waiting] = self._deadline(waiting, last[waiting], spacing)
        self.following = np.where(self.running, np.where(count > 0, after, start), _NAT)

    def run(self, candidates: list[Candidate]) -> None:
        """Stop each clock at its earliest candidate (ties: the earlier in the list), rate it."""
        size = len(self.rows)
        self.stop_at = np.full(size, _NEVER, dtype=np.int64)
        self.stop_code = np.full(size, -1, dtype=np.int64)
        kept = np.ones(size, dtype=bool)
        for at, stop, ok in candidates:
            earlier = at < self.stop_at
            self.stop_at = np.where(earlier, at, self.stop_at)
            self.stop_code = np.where(earlier, _STOPS.index(stop), self.stop_code)
            kept = np.where(earlier, ok, kept)
        self.running = self.stop_at == _NEVER
        self.left = self._between(self.every, np.full(size, self.now), self.due)
        ends = np.where(self.running, self.now, self.stop_at)
        self.used = self._between(self.every, self.start, ends)
        warn = _ns(self.pact.alerts.warn_before)
        self.status = np.select(
            [
                ~self.running & kept & (self.stop_at <= self.due),
                ~self.running | (self.now > self.due),
                self.left < warn,
            ],
            [_STATUS.index(s) for s in (SlaStatus.MET, SlaStatus.BREACHED, SlaStatus.AT_RISK)],
            _STATUS.index(SlaStatus.PENDING),
        )

    def columns(
        self, number: int, ids: ObjectArray, owners: ObjectArray
    ) -> dict[str, npt.NDArray[Any]]:
        """The clocks as the columns of `SlaColumns` (plus `number`, the commitment's order)."""
        commitment, size = self.commitment, len(self.rows)
        return {
            "number": np.full(size, number, dtype=np.int64),
            "lead": self.rows,
            "lead_id": ids[self.rows],
            "owner": owners[self.rows],
            "commitment_id": np.full(size, commitment.id, dtype=object),
            "kind": np.full(size, commitment.kind, dtype=object),
            "calendar": np.array(self.names, dtype=object)[self.code],
            "started_at": _dt(self.start),
            "due_at": _dt(self.due),
            "stopped_at": _dt(np.where(self.running, _NAT, self.stop_at)),
            "stopped_by": np.array([*_STOPS, None], dtype=object)[self.stop_code],
            "status": np.array(_STATUS, dtype=object)[self.status],
            "time_left": np.where(self.running, self.left, _NAT).view("timedelta64[ns]"),
            "business_time_used": self.used.view("timedelta64[ns]"),
            "attempts": self.attempts,
            "next_attempt_at": _dt(self.following),
        }


def _columns(blocks: list[dict[str, npt.NDArray[Any]]]) -> SlaColumns:
    """One `SlaColumns` from the blocks of every commitment, ordered by lead, then commitment."""
    names = [f.name for f in fields(SlaColumns)]
    if not blocks:
        return SlaColumns(*(np.empty(0, dtype=object) for _ in names))
    joined = {key: np.concatenate([b[key] for b in blocks]) for key in ["number", *names]}
    order = np.lexsort((joined["number"], joined["lead"]))
    return SlaColumns(*(joined[name][order] for name in names))


def _dt(ns: Int64Array) -> npt.NDArray[np.datetime64]:
    return ns.view("datetime64[ns]")


def _follow_up_due_many(
    calendar: BusinessCalendar, starts: Int64Array, over_days: int
) -> Int64Array:
    """`follow_up_due` for arrays: local midnights, open days counted by a cumulative sum."""
    zone = calendar.timezone
    first = calendar.deadline_many(_dt(starts), 0).view(np.int64)  # where each clock counts
    low = _instant(int(first.min())).date() - 2 * _DAY  # a local date is within a day of UTC's
    span = (_instant(int(first.max())).date() - low).days + 4 + 2 * over_days
    while True:
        midnights = np.array(
            [_ns(_midnight(low + k * _DAY, zone)) for k in range(span + 1)], dtype=np.int64
        )
        length = calendar.between_many_ns(_dt(midnights[:-1]), _dt(midnights[1:]))
        opened = np.cumsum(length > 0)
        target = opened[np.searchsorted(midnights, first, "right") - 1] + (over_days - 1)
        if int(target.max()) <= int(opened[-1]):
            break
        span *= 2
    day = np.searchsorted(opened, target, "left")
    due = calendar.deadline_many(_dt(midnights[day]), length[day].view("timedelta64[ns]"))
    return due.view(np.int64)


def evaluate_many(
    leads: Mapping[str, npt.NDArray[Any]],
    stage_changes: Mapping[str, npt.NDArray[Any]],
    touches: Mapping[str, npt.NDArray[Any]],
    pact: Pact,
    *,
    as_of: datetime,
) -> SlaColumns:
    """Every SLA clock of many leads at `as_of`: `evaluate` over columns, deadlines in bulk.

    Args:
        leads: lead columns of equal length: ``id`` (required), ``owner`` and ``team``
            (optional), and the columns the commitments' `when` conditions read, keyed by
            condition field name (``priority``, ``fit_grade``...; see
            `core.conditions.evaluate_many`).
        stage_changes: ``lead`` (position in `leads`), ``to_stage`` and ``at`` (UTC
            ``datetime64``), one element per change.
        touches: ``lead``, ``at`` and ``outcome`` (`TouchOutcome` values), one per touch.
        pact: the agreement whose timed commitments run the clocks.
        as_of: the instant to evaluate at (timezone-aware).

    Returns:
        The clocks as columns, ordered by lead position, then commitment.

    Raises:
        LeadPactError: `as_of` is naive.
        CalendarError: an instant outside the calendars' range.
        ValueError: an event points at no lead.
    """
    _require_aware(as_of)
    now = _ns(as_of)
    ids = np.asarray(leads["id"], dtype=object)
    n = len(ids)
    absent = np.full(n, None, dtype=object)
    owners = np.asarray(leads.get("owner", absent), dtype=object)
    teams = np.asarray(leads.get("team", absent), dtype=object)
    changes = _Events.load(stage_changes, "to_stage", n, now)
    touched = _Events.load(touches, "outcome", n, now)
    outcome = {s.id: s.outcome for s in pact.stages if s.outcome is not Outcome.OPEN}
    recycled = np.isin(changes.what, [k for k, v in outcome.items() if v is Outcome.RECYCLED])
    # next_closing[p]: the first closing change at or after position p (else the sentinel).
    last = len(changes.at) - 1
    positions = np.where(np.isin(changes.what, list(outcome)), np.arange(last + 1), last)
    next_closing = np.minimum.accumulate(positions[::-1])[::-1]
    blocks = []
    for number, commitment in enumerate(timed_commitments(pact)):
        applies = np.ones(n, dtype=bool)
        if commitment.when is not None:
            applies = evaluate_condition_many(commitment.when, leads, n)
        match = np.flatnonzero(changes.what == commitment.stage)
        latest = np.full(n, -1, dtype=np.int64)
        np.maximum.at(latest, changes.lead[match], match)
        rows = np.flatnonzero((latest >= 0) & applies)
        clocks = _Clocks(pact, commitment, rows, teams[rows], changes.at[latest[rows]], now)
        entry = latest[rows]
        close_pos = next_closing[entry + 1]
        closed = (changes.at_position(close_pos, rows), Stop.CLOSED, ~recycled[close_pos])
        if isinstance(commitment, AcceptanceCommitment):
            clocks.run([(changes.at_position(entry + 1, rows), Stop.DECISION, True)])
        elif isinstance(commitment, ResponseCommitment):
            first = touched.first_at_or_after(rows, clocks.start)
            clocks.run([(touched.at_position(first, rows), Stop.TOUCH, True), closed])
        else:
            clocks.follow_up(commitment, touched, closed)
        blocks.append(clocks.columns(number, ids, owners))
    return _columns(blocks)
