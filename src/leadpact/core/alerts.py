"""Alerts of the live service: which alerts are due at `now`, each under a key that never changes.

The rules (docs/alerts.md states them for users, with the keys and recipients):

- Clock alerts come from the watched clocks (`core.alert_watch`): a **warning** to the owner
  while the clock is at risk, until its deadline; a **breach** to the owner after it; an
  **escalation** to the manager of the owner's team, and a **reassignment** proposal to that
  manager naming the least loaded member of the team (`core.alert_people`). Warnings are moot
  once the deadline passes (the breach follows); the other clock alerts `max_age` after they
  fell due (a scheduler that was down for a week does not flood anyone with old news). A lead
  without an owner alerts the manager instead.
- **digest**: one per rep (a member of a team) per business day of the team's calendar, at
  `alerts.digest_at` local time, until the end of that local day: the rep's running clocks,
  overdue first.
- **review**: the pact's next review date (governance) `review_notice` ahead (from 00:00 UTC,
  until the review date), and once more when it is overdue (from the day after): to the
  document owner and to each party's owner.
- Every alert has a deterministic key: the same clock, rep-day or review gives the same key
  on every evaluation, in every process; storing alerts by key makes sending idempotent.

Also the retry back-off of deliveries (`retry_at`). Pure: `now` is a parameter.
"""

from __future__ import annotations

from collections.abc import Container, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import Any

from leadpact.core.alert_people import Directory, Recipient
from leadpact.core.alert_watch import Watch, watch, watch_many
from leadpact.core.calendar import wall_ns  # one DST rule for every local wall time
from leadpact.core.durations import format_duration
from leadpact.core.governance_dates import next_review
from leadpact.core.pact import Pact, Person
from leadpact.core.sla import SlaResult, timed_commitments

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


# --------------------------------------------------------------------------- who is who


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
    people = Directory.of(pact)
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
    people: Directory,
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
            proposal = people.reassign_to(clock.owner, team, counts)
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


def _local(at: datetime, zone: Any) -> str:
    return f"{at.astimezone(zone):%Y-%m-%d %H:%M} {zone}"


def _instant(wall: datetime, zone: Any) -> datetime:
    return _EPOCH + timedelta(microseconds=wall_ns(wall, zone) // 1000)


def _digests(
    running: list[Watch],
    pact: Pact,
    people: Directory,
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
            mine = [w for w in running if people.owns(w.clock.owner, rep)]
            found.append(_digest(key, rep, day, at, end, mine, pact, now))
    return found


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
    people: Directory,
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
