"""Alerts of the live service: which alerts are due at `now`, each under a key that never changes.

The rules (docs/alerts.md states them for users, with the keys and recipients):

- A clock is *watched* (`watch`) while it runs, or once it stopped breached; a met clock never
  alerts. A watch holds the instants at which the clock's alerts fall due, so the scheduler
  computes them once per clock and only compares instants on each cycle.
- **warning**: to the owner, from the instant the business time left drops below the pact's
  `alerts.warn_before` (the clock turns `at_risk`) until the deadline; none when `warn_before`
  is zero. **breach**: to the owner, once the deadline has passed (looked at exactly at the
  deadline a clock still runs), or at the stop of a clock that stopped breached before its
  deadline (recycled before the agreed attempts). **escalation**: to the manager of the
  owner's team, `escalate_after` business time after the deadline, while the clock still
  runs. **reassignment**: a proposal to that manager, `reassign_after` business time after
  the deadline, while the clock still runs: the member of the owner's team (the owner left
  out) with the fewest open leads, ties broken by the order of `members` in the pact.
  Business time is on the clock's calendar. Warnings are moot once the deadline passes (the
  breach follows); the other clock alerts `max_age` after they fell due (a scheduler that
  was down for a week does not flood anyone with old news).
- **digest**: one per rep (a member of a team) per business day of the team's calendar, at
  `alerts.digest_at` local time, until the end of that local day: the rep's running clocks,
  overdue first.
- **review**: the pact's next review date (governance) `review_notice` ahead (from 00:00 UTC,
  until the review date), and once more when it is overdue (from the day after): to the
  document owner and to each party's owner.
- The owner of a lead is looked up among the members of the pact's teams by name or email
  (case-insensitive); the owner's team is the team that lists them, else the lead's team.
  A lead without an owner alerts the manager instead. A manager is the owner's team's, else
  the first manager of a team of the commitment's provider party.
- Every alert has a deterministic key: the same clock, rep-day or review gives the same key
  on every evaluation, in every process; storing alerts by key makes sending idempotent.

Also the retry back-off of deliveries (`retry_at`). Pure: `now` is a parameter.
"""

from __future__ import annotations

from collections.abc import Container, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import Any

import numpy as np
import numpy.typing as npt

from leadpact.core.calendar import BusinessCalendar
from leadpact.core.calendar import _wall_ns as wall_ns  # one DST rule for every local wall time
from leadpact.core.durations import format_duration
from leadpact.core.governance import next_review
from leadpact.core.pact import Pact, Person
from leadpact.core.sla import SlaColumns, SlaResult, SlaStatus, timed_commitments

__all__ = [
    "DEFAULT_MAX_AGE",
    "MAX_ATTEMPTS",
    "RETRY_DELAYS",
    "REVIEW_NOTICE",
    "Alert",
    "AlertKind",
    "Recipient",
    "Watch",
    "due_alerts",
    "retry_at",
    "watch",
    "watch_many",
]

#: Clock alerts that fell due longer ago than this are not sent any more.
DEFAULT_MAX_AGE = timedelta(days=1)
#: How long before the next pact review the first reminder is due.
REVIEW_NOTICE = timedelta(days=7)
#: Wait after the 1st, 2nd, 3rd and 4th failed delivery attempt; the 5th failure is final.
RETRY_DELAYS = (
    timedelta(minutes=1),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
)
#: Delivery attempts before an alert is given up (status `failed`).
MAX_ATTEMPTS = len(RETRY_DELAYS) + 1

#: The smallest step of time: a clock is breached only *after* its deadline.
_TICK = timedelta(microseconds=1)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
#: Clocks listed in a digest's text (the details carry the same list).
_DIGEST_LINES = 20


class AlertKind(StrEnum):
    """What an alert is about."""

    WARNING = "warning"
    BREACH = "breach"
    ESCALATION = "escalation"
    REASSIGNMENT = "reassignment"
    DIGEST = "digest"
    REVIEW = "review"


@dataclass(frozen=True, slots=True)
class Recipient:
    """Who an alert is for: a person of the pact (or a lead owner the pact does not list)."""

    name: str
    email: str | None
    role: str  # "owner", "manager", "rep" or "pact owner"


@dataclass(frozen=True)
class Alert:
    """One alert to send once.

    Attributes:
        key: unique for good: the same alert has the same key in every evaluation.
        kind: what it is about.
        at: the first instant it may be sent.
        until: the last instant it is worth sending (None: no end).
        recipient: who it is for.
        subject: one line (the email subject).
        text: the message in plain words.
        lead_id: the lead, for clock alerts.
        commitment_id: the commitment, for clock alerts.
        due_at: the clock's deadline (clock alerts), the digest instant, or 00:00 UTC of the
            review date.
        details: JSON-ready facts for webhooks (owner, calendar, proposed rep, digest rows).
    """

    key: str
    kind: AlertKind
    at: datetime
    until: datetime | None
    recipient: Recipient
    subject: str
    text: str
    lead_id: str | None = None
    commitment_id: str | None = None
    due_at: datetime | None = None
    details: Mapping[str, Any] = field(default_factory=dict)

    def is_due(self, now: datetime) -> bool:
        """Whether the alert may be sent at `now`: at or after `at`, not after `until`."""
        return self.at <= now and (self.until is None or now <= self.until)

    def as_dict(self) -> dict[str, Any]:
        """The alert as JSON-ready data (instants as ISO 8601 text): the webhook payload."""
        return {
            "key": self.key,
            "kind": self.kind.value,
            "at": self.at.isoformat(),
            "recipient": {
                "name": self.recipient.name,
                "email": self.recipient.email,
                "role": self.recipient.role,
            },
            "subject": self.subject,
            "text": self.text,
            "lead_id": self.lead_id,
            "commitment_id": self.commitment_id,
            "due_at": None if self.due_at is None else self.due_at.isoformat(),
            "details": dict(self.details),
        }


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


# --------------------------------------------------------------------------- who is who


@dataclass(frozen=True)
class _Directory:
    """The people of the pact: reps by name and email, their teams, managers, party owners."""

    pact: Pact
    reps: Mapping[str, tuple[Person, str]]  # casefolded name or email -> (person, team)

    @classmethod
    def of(cls, pact: Pact) -> _Directory:
        reps: dict[str, tuple[Person, str]] = {}
        for name, team in pact.teams.items():
            for person in team.members:
                for handle in (person.name, person.email):
                    if handle:
                        reps.setdefault(handle.casefold(), (person, name))
        return cls(pact, reps)

    def rep(self, owner: str) -> tuple[Person, str] | None:
        return self.reps.get(owner.casefold())

    def owner(self, owner: str) -> Recipient:
        found = self.rep(owner)
        if found is None:
            return Recipient(owner, None, "owner")
        return Recipient(found[0].name, found[0].email, "owner")

    def team_of(self, owner: str | None, lead_team: str | None) -> str | None:
        found = None if owner is None else self.rep(owner)
        return found[1] if found is not None else lead_team

    def manager(self, team: str | None, provider: str) -> Recipient | None:
        teams = self.pact.teams
        candidates = [teams[team]] if team in teams else []
        candidates += [t for t in teams.values() if t.party == provider]
        for each in candidates:
            if each.manager is not None:
                return Recipient(each.manager.name, each.manager.email, "manager")
        return None

    def everyone(self) -> list[Person]:
        """Every person the pact names, party owners first (for looking a name up)."""
        people = [p.owner for p in self.pact.parties.values()]
        people += [c for p in self.pact.parties.values() for c in p.contacts]
        people += [t.manager for t in self.pact.teams.values() if t.manager is not None]
        people += [m for t in self.pact.teams.values() for m in t.members]
        return people


# --------------------------------------------------------------------------- due alerts


def due_alerts(
    watches: Iterable[Watch],
    pact: Pact,
    *,
    now: datetime,
    open_leads: Mapping[str, int] | None = None,
    max_age: timedelta = DEFAULT_MAX_AGE,
    review_notice: timedelta = REVIEW_NOTICE,
    known: Container[str] = frozenset(),
) -> list[Alert]:
    """Every alert due at `now`: clock alerts of the watches, digests and review reminders.

    Args:
        watches: the watched clocks (`watch`), evaluated at or before `now` with no event
            since that would stop them.
        pact: the agreement: alert rules, teams, managers, calendars, governance.
        now: the instant (timezone-aware).
        open_leads: open leads per owner (name or email, any case), for choosing whom to
            propose a reassignment to.
        max_age: clock alerts are moot this long after they fell due.
        review_notice: how long before the next review date the first reminder is due.
        known: keys to leave out (already stored): saves building their text.

    Returns:
        The due alerts, ordered by `at`, then key; their keys are unique.
    """
    people = _Directory.of(pact)
    counts = open_leads or {}
    running: list[Watch] = []
    found: list[Alert] = []
    for each in watches:
        if each.running:
            running.append(each)
        found += _clock_alerts(each, pact, people, counts, now, max_age, known)
    found += _digests(running, pact, people, now, known)
    found += _reviews(pact, people, now, review_notice, known)
    return sorted(found, key=lambda a: (a.at, a.key))


def _key(kind: AlertKind, clock: SlaResult) -> str:
    return f"{kind.value}:{clock.lead_id}:{clock.commitment_id}:{clock.due_at.isoformat()}"


def _clock_alerts(
    each: Watch,
    pact: Pact,
    people: _Directory,
    counts: Mapping[str, int],
    now: datetime,
    max_age: timedelta,
    known: Container[str],
) -> list[Alert]:
    clock = each.clock
    steps = [
        (AlertKind.WARNING, each.warn_at, clock.due_at),
        (AlertKind.BREACH, each.breach_at, None),
        (AlertKind.ESCALATION, each.escalate_at, None),
        (AlertKind.REASSIGNMENT, each.reassign_at, None),
    ]
    due: list[tuple[AlertKind, datetime, datetime]] = []
    for kind, at, until in steps:
        if at is None:
            continue
        end = until if until is not None else at + max_age
        if at <= now <= end and _key(kind, clock) not in known:
            due.append((kind, at, end))
    if not due:
        return []
    commitment = next(c for c in timed_commitments(pact) if c.id == clock.commitment_id)
    team = people.team_of(clock.owner, each.team)
    manager = people.manager(team, commitment.provider)
    owner = manager if clock.owner is None else people.owner(clock.owner)
    zone = pact.calendar(clock.calendar).timezone
    deadline = _local(clock.due_at, zone)
    who = clock.owner or "nobody (unassigned)"
    what = f"lead {clock.lead_id} ({clock.commitment_id})"
    details: dict[str, Any] = {
        "owner": clock.owner,
        "team": team,
        "calendar": clock.calendar,
        "kind_of_clock": clock.kind,
        "started_at": clock.started_at.isoformat(),
    }
    found = []
    for kind, at, until in due:
        recipient: Recipient | None = owner
        extra: dict[str, Any] = {}
        if kind is AlertKind.WARNING:
            subject = f"SLA at risk: {what} due {deadline}"
            left = format_duration(pact.alerts.warn_before)
            text = (
                f"{what.capitalize()} is due at {deadline}: less than {left} of business time left."
            )
        elif kind is AlertKind.BREACH:
            subject = f"SLA breached: {what}"
            text = f"{what.capitalize()} was due at {deadline} and is overdue."
            if clock.stopped_at is not None:
                text = f"{what.capitalize()} was due at {deadline}; the clock stopped breached."
        elif kind is AlertKind.ESCALATION:
            recipient = manager
            subject = f"Escalation: {what} of {who} is overdue"
            after = format_duration(pact.alerts.escalate_after or timedelta(0))
            text = (
                f"{what.capitalize()}, owned by {who}, was due at {deadline} and is still "
                f"open {after} of business time later."
            )
        else:
            recipient = manager
            proposal = _reassign_to(pact, people, clock.owner, team, counts)
            if proposal is None:
                continue
            extra = {"reassign_to": proposal[0].name, "open_leads": proposal[1]}
            subject = f"Reassign {what}: proposed owner {proposal[0].name}"
            text = (
                f"{what.capitalize()}, owned by {who}, was due at {deadline} and is still open. "
                f"Proposal: reassign it to {proposal[0].name} ({proposal[1]} open leads)."
            )
        if recipient is None:
            continue
        found.append(
            Alert(
                key=_key(kind, clock),
                kind=kind,
                at=at,
                until=until,
                recipient=recipient,
                subject=subject,
                text=text,
                lead_id=clock.lead_id,
                commitment_id=clock.commitment_id,
                due_at=clock.due_at,
                details=details | extra,
            )
        )
    return found


def _reassign_to(
    pact: Pact,
    people: _Directory,
    owner: str | None,
    team: str | None,
    counts: Mapping[str, int],
) -> tuple[Person, int] | None:
    """The member of `team` other than the owner with the fewest open leads (pact order)."""
    if team not in pact.teams:
        return None
    current = None if owner is None else people.rep(owner)
    members = [m for m in pact.teams[team].members if current is None or m != current[0]]
    folded = {name.casefold(): count for name, count in counts.items()}

    def load(member: Person) -> int:
        handles = [member.name] + ([member.email] if member.email else [])
        return sum(folded.get(h.casefold(), 0) for h in handles)

    ranked = [(load(m), i, m) for i, m in enumerate(members)]
    if not ranked:
        return None
    count, _, person = min(ranked, key=lambda r: (r[0], r[1]))
    return person, count


def _local(at: datetime, zone: Any) -> str:
    return f"{at.astimezone(zone):%Y-%m-%d %H:%M} {zone}"


def _instant(wall: datetime, zone: Any) -> datetime:
    return _EPOCH + timedelta(microseconds=wall_ns(wall, zone) // 1000)


def _digests(
    running: list[Watch],
    pact: Pact,
    people: _Directory,
    now: datetime,
    known: Container[str],
) -> list[Alert]:
    if pact.alerts.digest_at is None:
        return []
    hour, minute = (int(part) for part in pact.alerts.digest_at.split(":"))
    found = []
    seen: set[str] = set()
    for team in pact.teams.values():
        calendar = pact.calendar(team.calendar)
        zone = calendar.timezone
        day = now.astimezone(zone).date()
        for rep in team.members:
            key = f"digest:{rep.name}:{day.isoformat()}"
            if rep.name.casefold() in seen or key in known:
                continue
            seen.add(rep.name.casefold())
            at = _instant(datetime.combine(day, time(hour, minute)), zone)
            end = _instant(datetime.combine(day + timedelta(days=1), time()), zone)
            start = _instant(datetime.combine(day, time()), zone)
            if now < at or calendar.between(start, end) <= timedelta(0):
                continue
            mine = [w for w in running if _owned_by(w.clock.owner, rep)]
            found.append(_digest(key, rep, day, at, end, mine, pact, now))
    return found


def _owned_by(owner: str | None, rep: Person) -> bool:
    if owner is None:
        return False
    handle = owner.casefold()
    return handle == rep.name.casefold() or (
        rep.email is not None and handle == rep.email.casefold()
    )


def _digest(
    key: str,
    rep: Person,
    day: date,
    at: datetime,
    end: datetime,
    mine: list[Watch],
    pact: Pact,
    now: datetime,
) -> Alert:
    def state(w: Watch) -> str:
        if now >= w.breach_at:
            return "overdue"
        return "at risk" if w.warn_at is not None and w.warn_at <= now else "running"

    order = {"overdue": 0, "at risk": 1, "running": 2}
    rows = sorted(mine, key=lambda w: (order[state(w)], w.clock.due_at, w.clock.lead_id))
    tally = {name: sum(state(w) == name for w in mine) for name in order}
    listed = [
        {
            "lead_id": w.clock.lead_id,
            "commitment_id": w.clock.commitment_id,
            "due_at": w.clock.due_at.isoformat(),
            "state": state(w),
        }
        for w in rows[:_DIGEST_LINES]
    ]
    summary = f"{tally['overdue']} overdue, {tally['at risk']} at risk, {tally['running']} running"
    lines = [f"Your SLA clocks on {day.isoformat()}: {summary}."]
    for w in rows[:_DIGEST_LINES]:
        zone = pact.calendar(w.clock.calendar).timezone
        lines.append(
            f"- {state(w)}: lead {w.clock.lead_id} ({w.clock.commitment_id}), "
            f"due {_local(w.clock.due_at, zone)}"
        )
    if len(rows) > _DIGEST_LINES:
        lines.append(f"... and {len(rows) - _DIGEST_LINES} more.")
    return Alert(
        key=key,
        kind=AlertKind.DIGEST,
        at=at,
        until=end,
        recipient=Recipient(rep.name, rep.email, "rep"),
        subject=f"SLA digest {day.isoformat()}: {summary}",
        text="\n".join(lines),
        due_at=at,
        details={"date": day.isoformat(), **{k.replace(" ", "_"): v for k, v in tally.items()}}
        | {"clocks": listed},
    )


def _reviews(
    pact: Pact,
    people: _Directory,
    now: datetime,
    notice: timedelta,
    known: Container[str],
) -> list[Alert]:
    governance = pact.governance
    review_on = next_review(governance.review)
    review_at = datetime.combine(review_on, time(), tzinfo=UTC)
    overdue_at = review_at + timedelta(days=1)
    if now >= overdue_at:
        state, at, until = "overdue", overdue_at, None
        text = f"The {governance.review.cadence} review of the pact was due on {review_on}."
    elif review_at - notice <= now <= review_at:
        state, at, until = "upcoming", review_at - notice, review_at
        text = f"The {governance.review.cadence} review of the pact is due on {review_on}."
    else:
        return []
    text += (
        f" Review '{pact.title}' with every party, then record the new review date "
        "(governance.review.last) in a new version of the pact."
    )
    everyone = people.everyone()
    wanted = [governance.document_owner, *(p.owner.name for p in pact.parties.values())]
    found = []
    seen: set[str] = set()
    for name in wanted:
        if name.casefold() in seen:
            continue
        seen.add(name.casefold())
        person = next((p for p in everyone if p.name.casefold() == name.casefold()), None)
        key = f"review:{state}:{review_on.isoformat()}:{name}"
        if key in known:
            continue
        found.append(
            Alert(
                key=key,
                kind=AlertKind.REVIEW,
                at=at,
                until=until,
                recipient=Recipient(name, None if person is None else person.email, "pact owner"),
                subject=f"Pact review {state}: {review_on}",
                text=text,
                due_at=review_at,
                details={"review_on": review_on.isoformat(), "state": state},
            )
        )
    return found


# --------------------------------------------------------------------------- back-off


def retry_at(attempts: int, failed_at: datetime) -> datetime | None:
    """When to try a delivery again after `attempts` failed attempts, or None to give up.

    The waits are `RETRY_DELAYS` (1 min, 5 min, 30 min, 2 h): at most `MAX_ATTEMPTS` (5)
    attempts over about 2 h 36 min.

    Raises:
        ValueError: `attempts` is below 1.

    Example:
        >>> retry_at(1, datetime(2025, 3, 7, 9, tzinfo=UTC))
        datetime.datetime(2025, 3, 7, 9, 1, tzinfo=datetime.timezone.utc)
        >>> retry_at(5, datetime(2025, 3, 7, 9, tzinfo=UTC)) is None
        True
    """
    if attempts < 1:
        raise ValueError(f"attempts counts failed attempts, 1 or more; found {attempts}")
    if attempts >= MAX_ATTEMPTS:
        return None
    return failed_at + RETRY_DELAYS[attempts - 1]
