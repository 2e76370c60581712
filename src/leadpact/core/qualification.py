"""When a lead qualified for the move the pact's stage rules make at `now`: the move's date.

`core.lifecycle.decide_stages` decides, at `now`, which leads the pact moves and where to. A
move is dated at the instant the lead qualified for it, not at the instant it was decided (a
catch-up rescore after importing a year of history would otherwise date every move "today").

**Definition.** A lead *qualifies* at t when `decide_stages`, evaluated with the lead's scores
and facts as of t, moves it from its current stage to the target or past it in the funnel
(`reaches`). As of t means: activities at or before t (counts, engagement decayed to t, the
window ending at t), sales touches at or before t (``attempts``, ``connected``), and the
lead's own fields as they are now (their history is not kept). The move is dated at the start
of the latest uninterrupted run of qualification that lasts until `now`: the earliest
t >= `since` such that the lead qualifies at t, at every instant where its facts change
between t and `now`, and just before each of those instants. A lead that qualified in March,
lapsed in June (an activity left the window, or its score decayed below a threshold) and
qualified again in November is dated in November: the stored history never claims a
qualification the rules did not hold.

**Where the facts change.** Counts and fit change only when an activity happens or leaves the
window (``window`` after it, plus 1 µs: an activity exactly ``window`` old still counts),
touch facts when a touch happens; in between only decay acts. So qualification is evaluated
at those instants, at `since` (the lead's creation or its entry into its current stage,
whichever is later) and, when the rules read engagement or priority, 1 µs before each change
inside the run (a decaying score is lowest there; `_dips`). When the run starts between two
changes, decay made the rule hold (a score that fell below a disqualification threshold, for
example): the instant is found to the microsecond, first estimated from the closed form of
the decaying score, then confirmed, or bisected, with the exact arithmetic (`_refine`).

**Limits.** Both checks rest on a decaying score only falling, which needs points that are
not negative, and on the rule holding for one range of engagement given the other facts (as
``engagement: {gte: 40}``, ``{lt: 5}`` or a band ``{gte: 10, lt: 20}`` do). A rule true on two
separate ranges (``any: [{engagement: {lt: 5}}, {engagement: {gte: 40}}]``) can lapse between
two changes unseen, and its run may start at an earlier instant than the latest. Neither
occurs with the example pact.

**Bounds.** The date is never before `since` (a lead cannot enter a stage before it entered
the one it leaves) and never after `now`; if `since` lies after `now`, the date is `now`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import numpy.typing as npt

from leadpact.core.conditions import ACTIVITY_TYPES, walk
from leadpact.core.lifecycle import decide_stages, decision_conditions, decision_fields, funnel
from leadpact.core.pact import Pact
from leadpact.core.scoring import (
    ScoreColumns,
    engagement_many_at,
    fit_reads_activities,
    priorities,
    score_many_at,
)
from leadpact.errors import LeadPactError

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
InstantArray = npt.NDArray[np.datetime64]

#: Activities scored per batch while evaluating (bounds memory: about 100 bytes each).
PAIRS = 1_000_000

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
_NEVER = np.iinfo(np.int64).max


def reaches(decided: npt.NDArray[Any], targets: npt.NDArray[Any], pact: Pact) -> BoolArray:
    """Whether each decided stage is its target, or lies past a funnel target in the funnel.

    A lead the rules would have taken to ``sql`` when it is now taken to ``mql`` had qualified
    for ``mql`` too; a lead the rules would have disqualified had not.

    Args:
        decided: the stages the rules decide (object array of stage ids).
        targets: the stages the lead is moved to, element for element.
        pact: the agreement whose funnel orders the stages.

    Returns:
        A boolean array.
    """
    order = {stage.id: i for i, stage in enumerate(funnel(pact))}
    to = np.fromiter((order.get(s, -1) for s in targets.tolist()), np.int64, len(targets))
    got = np.fromiter((order.get(s, -1) for s in decided.tolist()), np.int64, len(decided))
    same = np.asarray(decided == targets, dtype=np.bool_)
    return same | ((to >= 0) & (got >= to))


def qualified_at(
    leads: Mapping[str, npt.NDArray[Any]],
    activities: Mapping[str, npt.NDArray[Any]],
    targets: npt.NDArray[Any],
    since: InstantArray,
    pact: Pact,
    *,
    now: datetime,
    touches: Mapping[str, npt.NDArray[Any]] | None = None,
) -> InstantArray:
    """The instant each lead qualified for the move the pact makes at `now` (module docstring).

    Args:
        leads: the moving leads' columns, as `core.scoring.score_many` reads them (``id``
            and the condition fields; ``stage`` is the stage the lead leaves).
        activities: ``lead`` (position in `leads`), ``type`` (`core.scoring.type_codes`) and
            ``at`` (``datetime64``, UTC): every activity of these leads that can count at an
            instant between `since` and `now` (at least those from ``since - window`` on).
        targets: the stage each lead moves to (object array).
        since: the earliest date per lead (``datetime64``, UTC): the later of its creation
            and its entry into its current stage.
        pact: the agreement.
        now: the instant the move was decided (timezone-aware).
        touches: ``lead``, ``at`` and ``connected`` (the touch reached the person) of the
            leads' touches, when the stage rules test ``attempts`` or ``connected``.

    Returns:
        ``datetime64[us]`` instants, element i the date of lead i's move.

    Raises:
        LeadPactError: `now` is naive.
    """
    if now.utcoffset() is None:
        raise LeadPactError(f"dating moves needs a timezone-aware 'now', found naive {now}")
    now_us = (now - _EPOCH) // _MICROSECOND
    judge = _Judge(leads, activities, touches, targets, pact, now_us)
    n = len(targets)
    start = np.minimum(np.asarray(since).astype("datetime64[us]").astype(np.int64), now_us)
    lead, at = judge.changes(start)
    if not len(lead):
        return np.zeros(0, dtype="datetime64[us]")
    holds = judge.holds(lead, at)

    # Per lead, the latest instant where it did not qualify; the run starts after it.
    first = np.searchsorted(lead, np.arange(n))  # every lead has its `since` instant
    end = np.append(first[1:], len(lead))
    failed = np.maximum.reduceat(np.where(holds, -1, np.arange(len(lead))), first)
    dipped = np.zeros(n, dtype=np.bool_)
    if judge.decays:
        failed, dipped = _dips(judge, lead, at, first, failed)
    date = start.copy()
    lapsed = np.flatnonzero(failed >= 0)
    after = failed[lapsed] + 1
    follows = after < end[lapsed]
    date[lapsed] = np.where(follows, at[np.minimum(after, len(at) - 1)], now_us)
    if judge.decays:
        lapsed = lapsed[~dipped[lapsed]]
        _refine(judge, lapsed, at[failed[lapsed]], date)
    return date.astype("datetime64[us]")


def _dips(
    judge: _Judge, lead: IntArray, at: IntArray, first: IntArray, failed: IntArray
) -> tuple[IntArray, BoolArray]:
    """Lapses by decay inside each lead's run of qualified change instants.

    Between two changes only decay acts, and a score only falls as it decays (points are not
    negative), so a rule that holds at both ends but lapsed in between (engagement >= 40 that
    decayed below 40 before a new activity lifted it again) fails just before the later
    change. Checks that instant for every change inside the run; the latest failure ends the
    run there.

    Returns:
        `failed` moved to the change before the latest lapse, and which leads lapsed so.
    """
    run = np.where(failed >= 0, failed + 1, first)
    inside = np.flatnonzero(np.arange(len(lead)) > run[lead])
    inside = inside[at[inside] - 1 > at[inside - 1]]
    ok = judge.holds(lead[inside], at[inside] - 1)
    latest = np.full(len(first), -1, dtype=np.int64)
    np.maximum.at(latest, lead[inside[~ok]], inside[~ok])
    dipped = latest >= 0
    return np.where(dipped, latest - 1, failed), dipped


def _refine(judge: _Judge, rows: IntArray, failed_at: IntArray, date: IntArray) -> None:
    """Move each date back to where decay made the rule hold, if it did (in place).

    Between `failed_at` (not qualified) and `date` (qualified) only decay acts, except at
    `date` itself, where an activity, a window exit or a touch may have made the difference.
    Each bracket (lo: not qualified, hi: qualified) is first narrowed by probing around where
    the score crosses a threshold of the rules (`_Judge.crossings`), then bisected to 1 µs.
    """
    room = date[rows] - 1 > failed_at
    rows, lo = rows[room], failed_at[room]
    hi = date[rows] - 1
    decayed = judge.holds(rows, hi)
    rows, lo, hi = rows[decayed], lo[decayed], hi[decayed]
    bracket, probe = judge.crossings(rows, lo, hi)
    inside = (probe > lo[bracket]) & (probe < hi[bracket])
    bracket, probe = bracket[inside], probe[inside]
    ok = judge.holds(rows[bracket], probe)
    np.minimum.at(hi, bracket[ok], probe[ok])
    below = ~ok & (probe < hi[bracket])
    np.maximum.at(lo, bracket[below], probe[below])
    while len(open_ := np.flatnonzero(hi - lo > 1)):
        mid = lo[open_] + (hi[open_] - lo[open_]) // 2
        ok = judge.holds(rows[open_], mid)
        hi[open_[ok]] = mid[ok]
        lo[open_[~ok]] = mid[~ok]
    date[rows] = hi


@dataclass(frozen=True)
class _Events:
    """Instants (µs) of one kind of event, sorted by lead then time; `first`/`end` bound each
    lead's events; `at` ends with a sentinel so every search position is a valid index."""

    at: IntArray
    order: IntArray
    first: IntArray
    end: IntArray

    @classmethod
    def of(cls, lead: npt.NDArray[Any], at: npt.NDArray[Any], n: int, now_us: int) -> _Events:
        lead = np.asarray(lead, dtype=np.int64)
        instants = np.asarray(at).astype("datetime64[us]")
        if len(lead) and (lead.min() < 0 or lead.max() >= n):
            raise ValueError(f"event lead positions must lie in 0..{n - 1}")
        kept = np.flatnonzero(~np.isnat(instants))
        us = instants.astype(np.int64)
        kept = kept[us[kept] <= now_us]
        order = kept[np.lexsort((us[kept], lead[kept]))]  # stable: input order at equal instants
        sorted_lead = lead[order]
        leads = np.arange(n)
        return cls(
            at=np.append(us[order], _NEVER),
            order=order,
            first=np.searchsorted(sorted_lead, leads, "left"),
            end=np.searchsorted(sorted_lead, leads, "right"),
        )

    @property
    def lead(self) -> IntArray:
        """The lead of each event, in sorted order."""
        counts = self.end - self.first
        return np.repeat(np.arange(len(counts)), counts)

    def search(self, lo: IntArray, hi: IntArray, t: IntArray, *, inclusive: bool) -> IntArray:
        """Per row, the first position in [lo, hi) whose instant is after t (`inclusive`) or at
        or after t (not `inclusive`); hi when there is none. A binary search per row."""
        lo, hi = lo.copy(), hi.copy()
        while (active := lo < hi).any():
            mid = (lo + hi) // 2
            below = self.at[mid] <= t if inclusive else self.at[mid] < t
            go = active & below
            lo = np.where(go, mid + 1, lo)
            hi = np.where(active & ~go, mid, hi)
        return lo


class _Judge:
    """Evaluates, for (lead, instant) rows, whether the lead qualifies at the instant."""

    def __init__(
        self,
        leads: Mapping[str, npt.NDArray[Any]],
        activities: Mapping[str, npt.NDArray[Any]],
        touches: Mapping[str, npt.NDArray[Any]] | None,
        targets: npt.NDArray[Any],
        pact: Pact,
        now_us: int,
    ) -> None:
        n = len(targets)
        self.now_us = now_us
        self.leads = leads
        self.targets = np.asarray(targets, dtype=object)
        self.pact = pact
        self.acts = _Events.of(activities["lead"], activities["at"], n, now_us)
        self.codes = np.asarray(activities["type"], dtype=np.int16)[self.acts.order]
        window = pact.scoring.engagement.window
        self.window_us = None if window is None else window // _MICROSECOND
        self.touches: _Events | None = None
        self.connected_at = np.full(n, _NEVER, dtype=np.int64)
        fields = decision_fields(pact)
        if touches is not None and fields & {"attempts", "connected"}:
            self.touches = _Events.of(touches["lead"], touches["at"], n, now_us)
            made = self.touches.order
            reached = np.asarray(touches["connected"], dtype=np.bool_)[made]
            at = self.touches.at[:-1]
            np.minimum.at(self.connected_at, self.touches.lead[reached], at[reached])
        self.changing = _changing_types(pact)
        self.decays = pact.scoring.engagement.half_life is not None and bool(
            fields & {"engagement", "priority"}
        )
        self.thresholds = _thresholds(pact)
        # Fit, grade and persona are scored once per lead when no criterion reads activities.
        self.fixed: ScoreColumns | None = None
        if not fit_reads_activities(pact):
            none: dict[str, npt.NDArray[Any]] = {
                "lead": np.zeros(0, np.int64),
                "type": np.zeros(0, np.int16),
                "at": np.zeros(0, dtype="datetime64[us]"),
            }
            anytime = np.zeros(n, dtype="datetime64[us]")
            self.fixed = score_many_at(leads, none, pact, at=anytime)
            # Then the rows need only the lead's own facts the stage rules test.
            self.leads = {f: c for f, c in leads.items() if f in fields | {"id", "stage"}}

    def changes(self, start: IntArray) -> tuple[IntArray, IntArray]:
        """(lead, instant) of each lead's `start` and of every instant in (start, now] where
        its facts change, sorted by lead then instant, without repeats."""
        leads, instants = [np.arange(len(start))], [start]
        # Activities of types that neither earn points nor are counted change nothing.
        known = (self.codes >= 0) & (self.codes < len(ACTIVITY_TYPES))
        changing = self.changing[np.where(known, self.codes, -1)]
        kinds: list[tuple[_Events, int, BoolArray | bool]] = [(self.acts, 0, changing)]
        if self.window_us is not None:
            kinds.append((self.acts, self.window_us + 1, changing))  # leaves the window
        if self.touches is not None:
            kinds.append((self.touches, 0, True))
        for events, shift, relevant in kinds:
            lead, at = events.lead, events.at[:-1] + shift
            new = relevant & (at > start[lead]) & (at <= self.now_us)
            leads.append(lead[new])
            instants.append(at[new])
        return _unique(np.concatenate(leads), np.concatenate(instants))

    def counting(self, rows: IntArray, t: IntArray) -> tuple[IntArray, IntArray]:
        """Per row, the positions [lo, hi) of the lead's activities that count at t."""
        acts = self.acts
        hi = acts.search(acts.first[rows], acts.end[rows], t, inclusive=True)
        lo = acts.first[rows]
        if self.window_us is not None:
            lo = acts.search(lo, hi, t - self.window_us, inclusive=False)
        return lo, hi

    def holds(self, rows: IntArray, t: IntArray) -> BoolArray:
        """Whether lead `rows[i]` qualifies at instant `t[i]` (µs), for every i."""
        lo, hi = self.counting(rows, t)
        result = np.zeros(len(rows), dtype=np.bool_)
        for part in _batches(hi - lo):
            result[part] = self._holds(rows[part], t[part], lo[part], hi[part])
        return result

    def crossings(
        self, rows: IntArray, start: IntArray, stop: IntArray
    ) -> tuple[IntArray, IntArray]:
        """Probes (row index, instant) where each lead's engagement, decaying from `start`
        with no activity added or leaving, falls below a threshold the rules test.

        An estimate from the closed form (each type's sum at `start` times 0.5 ** (Δ /
        half-life), capped), so the probes are a few microseconds around it; `_refine` uses
        them only to narrow brackets it still checks with the exact arithmetic.
        """
        rules = self.pact.scoring.engagement
        assert rules.half_life is not None  # only called when scores decay
        half_life = rules.half_life // _MICROSECOND
        lo, hi = self.counting(rows, start)
        count = hi - lo
        picked = _picked(lo, count)
        row = np.repeat(np.arange(len(rows)), count)
        code = self.codes[picked].astype(np.int64)
        known = (code >= 0) & (code < len(ACTIVITY_TYPES))
        row, code, at = row[known], code[known], self.acts.at[picked][known]
        points = np.array([rules.points.get(t, 0.0) for t in ACTIVITY_TYPES])
        value = points[code] * np.power(0.5, (start[row] - at) / half_life)
        kinds = len(ACTIVITY_TYPES)
        cell = row * kinds + code
        sums = np.bincount(cell, weights=value, minlength=len(rows) * kinds).astype(np.float64)
        sums = sums.reshape(len(rows), kinds)
        caps = np.array([rules.caps.get(t, np.inf) for t in ACTIVITY_TYPES])

        span = stop - start
        brackets, probes = [np.zeros(0, np.int64)], [np.zeros(0, np.int64)]
        for threshold in self.thresholds:
            # The first Δ in (0, span] at which the score is below the threshold.
            first = _closed_form(sums, caps, rules.cap, np.zeros_like(span), half_life)
            last = _closed_form(sums, caps, rules.cap, span, half_life)
            crossing = np.flatnonzero((first >= threshold) & (last < threshold))
            low, high = np.zeros(len(crossing), np.int64), span[crossing]
            while len(step := np.flatnonzero(high - low > 1)):
                mid = low[step] + (high[step] - low[step]) // 2
                which = sums[crossing[step]]
                below = _closed_form(which, caps, rules.cap, mid, half_life) < threshold
                high[step[below]] = mid[below]
                low[step[~below]] = mid[~below]
            for offset in (-2, -1, 0, 1):
                brackets.append(crossing)
                probes.append(start[crossing] + high + offset)
        return np.concatenate(brackets), np.concatenate(probes)

    def _holds(self, rows: IntArray, t: IntArray, lo: IntArray, hi: IntArray) -> BoolArray:
        count = hi - lo
        picked = _picked(lo, count)
        columns = {name: values[rows] for name, values in self.leads.items()}
        history: dict[str, npt.NDArray[Any]] = {
            "lead": np.repeat(np.arange(len(rows)), count),
            "type": self.codes[picked],
            "at": self.acts.at[picked].astype("datetime64[us]"),
        }
        instants = t.astype("datetime64[us]")
        if self.fixed is None:
            facts = columns | score_many_at(columns, history, self.pact, at=instants).facts()
        else:
            engagement, counts = engagement_many_at(history, len(rows), self.pact, at=instants)
            fit = self.fixed.fit[rows]
            facts = columns | {
                "persona": self.fixed.persona[rows],
                "fit": fit,
                "fit_grade": self.fixed.fit_grade[rows],
                "engagement": engagement,
                "priority": priorities(fit, engagement, self.pact),
            }
            facts |= {f"activities.{kind}": count for kind, count in counts.items()}
        if self.touches is not None:
            made = self.touches
            facts["attempts"] = made.search(made.first[rows], made.end[rows], t, inclusive=True)
            facts["attempts"] -= made.first[rows]
            facts["connected"] = self.connected_at[rows] <= t
        decided = decide_stages(facts, columns["stage"], self.pact)
        return reaches(decided, self.targets[rows], self.pact)


def _picked(lo: IntArray, count: IntArray) -> IntArray:
    """Positions lo[i], lo[i] + 1, ... (count[i] of them) for every i, concatenated."""
    offset = np.cumsum(count) - count
    return np.arange(int(count.sum())) - np.repeat(offset - lo, count)


def _closed_form(
    sums: FloatArray, caps: FloatArray, cap: float, delta: IntArray, half_life: int
) -> FloatArray:
    """Engagement Δ µs after the instant each row's per-type sums were taken at (no activity
    added or leaving): each type's sum halves per half-life and is capped, and so is the total."""
    factor = np.power(0.5, delta / half_life)
    total = np.minimum(sums * factor[:, None], caps).sum(axis=1)
    return np.asarray(np.clip(total, 0.0, cap), dtype=np.float64)


def _changing_types(pact: Pact) -> BoolArray:
    """By type code (the last element for unknown codes, -1): whether an activity of the type
    changes a fact the rules may read (it earns points, or its count is tested)."""
    tested = decision_fields(pact)
    if fit_reads_activities(pact):
        tested |= {f"activities.{t}" for t in ACTIVITY_TYPES}
    return np.array(
        [t in pact.scoring.engagement.points or f"activities.{t}" in tested for t in ACTIVITY_TYPES]
        + [False]
    )


def _thresholds(pact: Pact) -> list[float]:
    """The engagement values the stage rules compare with (priority's included)."""
    found: set[float] = set()
    for condition in decision_conditions(pact):
        for test in walk(condition):
            if test.field == "engagement":
                values = test.value if isinstance(test.value, tuple) else (test.value,)
                found.update(float(v) for v in values if isinstance(v, int | float))
            elif test.field == "priority":
                found.add(pact.matrix.engagement_threshold)
    return sorted(found)


def _unique(lead: IntArray, at: IntArray) -> tuple[IntArray, IntArray]:
    order = np.lexsort((at, lead))
    lead, at = lead[order], at[order]
    new = np.ones(len(lead), dtype=np.bool_)
    new[1:] = (lead[1:] != lead[:-1]) | (at[1:] != at[:-1])
    return lead[new], at[new]


def _batches(count: IntArray) -> Iterator[slice]:
    """Consecutive row slices with at most about `PAIRS` activities each (at least one row)."""
    total = np.cumsum(count)
    start = 0
    while start < len(count):
        before = total[start - 1] if start else 0
        stop = int(np.searchsorted(total, before + PAIRS, "right"))
        stop = max(stop, start + 1)
        yield slice(start, stop)
        start = stop
