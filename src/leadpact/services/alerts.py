"""Alerts of a workspace: plan the due ones into the `alerts` table once, deliver them with retries.

**Planning** (`plan_alerts`, or a long-lived `Planner` in the scheduler) evaluates the SLA
clocks of the open leads, keeps the clocks that can still alert as `core.alerts.Watch`es, and
inserts every due alert as one row per channel with `INSERT ... ON CONFLICT (key) DO NOTHING`:
a restart, a second scheduler or a second cycle never stores an alert twice. Evaluating 100,000
open leads takes seconds, so a `Planner` does it once and then, each cycle, re-evaluates only
the leads with new stage changes or touches (by the ids of those rows) and compares the
watched instants with `now`; a full evaluation runs again every `REFRESH` in a background
thread, which also picks up changes no event reveals (a new owner, a rescore).

**Delivery** (`deliver_due`) claims due rows atomically (`UPDATE ... WHERE status = 'pending'
AND next_attempt_at <= now ... RETURNING`, in batches), so two schedulers never send the same
row; a claim is a lease of `LEASE`: a sender that dies mid-batch leaves rows that another
scheduler retries once the lease ends (logged as an interrupted attempt). Every attempt is a
`deliveries` row; a failure is retried after the back-off of `core.alerts.retry_at`, and the
last failure leaves the alert `failed`. An alert no channel can reach is stored `skipped`.

`run_scheduler` loops plan + deliver every `LEADPACT_SCHEDULER_INTERVAL` until told to stop
(the web server's background thread and `leadpact alerts run`).
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from sqlalchemy import ColumnElement, Connection, func, insert, select, union, update

from leadpact.core.alerts import MAX_ATTEMPTS, Alert, Watch, due_alerts, retry_at, watch_many
from leadpact.core.pact import Outcome, Pact
from leadpact.errors import LeadPactError
from leadpact.services.channels import Channel, Sent, channels_from_settings
from leadpact.services.sla import _evaluate
from leadpact.store.tables import alerts, deliveries, leads, stage_changes, touches

if TYPE_CHECKING:
    from leadpact.services.workspace import Workspace

__all__ = [
    "BATCH",
    "LEASE",
    "REFRESH",
    "AlertRecord",
    "AlertStatus",
    "Cycle",
    "DeliveryRecord",
    "DeliveryResult",
    "PlanResult",
    "Planner",
    "deliver_due",
    "delivery_log",
    "list_alerts",
    "plan_alerts",
    "run_cycle",
    "run_scheduler",
]

log = logging.getLogger("leadpact.alerts")

#: How long a claimed alert belongs to the scheduler that claimed it.
LEASE = timedelta(minutes=5)
#: Alerts claimed at a time (each sent with a timeout of 10 s: well inside the lease).
BATCH = 20
#: How often a `Planner` evaluates every open lead again (in the background).
REFRESH = timedelta(minutes=5)
#: The `channel` of an alert that no configured channel can deliver.
NO_CHANNEL = "none"
#: Leads re-evaluated per query (well below the bound-parameter limits of both databases).
_CHUNK = 2000
#: New events beyond which a cycle evaluates everything at once instead of lead by lead.
_MANY = 20_000
_KEY_LENGTH = 300  # alerts.key


class AlertStatus(StrEnum):
    """Where an alert row stands."""

    PENDING = "pending"  # waiting for its (next) attempt
    SENDING = "sending"  # claimed by a scheduler, being sent
    SENT = "sent"
    FAILED = "failed"  # every attempt failed
    SKIPPED = "skipped"  # no channel reaches the recipient


@dataclass(frozen=True, slots=True)
class AlertRecord:
    """A stored alert (one per channel)."""

    id: int
    key: str
    kind: str
    lead_id: str | None
    commitment_id: str | None
    recipient: str
    channel: str
    due_at: datetime | None
    created_at: datetime
    status: str
    attempts: int
    next_attempt_at: datetime | None
    sent_at: datetime | None
    last_error: str | None
    payload: dict[str, Any]


@dataclass(frozen=True, slots=True)
class DeliveryRecord:
    """One delivery attempt of an alert (the delivery log)."""

    id: int
    alert_id: int
    key: str
    kind: str
    channel: str
    recipient: str
    attempt: int
    at: datetime
    ok: bool
    detail: str | None


@dataclass(frozen=True, slots=True)
class PlanResult:
    """What one planning pass found: alerts due, and rows newly stored."""

    due: int
    stored: int
    skipped: int


@dataclass(slots=True)
class DeliveryResult:
    """What one delivery pass did."""

    sent: int = 0
    retrying: int = 0
    failed: int = 0
    interrupted: int = 0

    @property
    def attempts(self) -> int:
        """Attempts made in this pass."""
        return self.sent + self.retrying + self.failed


@dataclass(frozen=True, slots=True)
class Cycle:
    """One scheduler cycle: its `now`, what was planned and what was delivered."""

    now: datetime
    planned: PlanResult
    delivered: DeliveryResult


# --------------------------------------------------------------------------- planning


@dataclass
class _Snapshot:
    """The watched clocks of a workspace as of the events up to `marks`."""

    marks: tuple[int, int]  # the highest stage_changes.id and touches.id seen
    watches: dict[str, list[Watch]]  # by lead id
    open_leads: dict[str, int]  # by owner
    recheck: dict[str, datetime] = field(default_factory=dict)  # leads with future events


class Planner:
    """Plans the due alerts of one workspace cycle after cycle, keeping the watched clocks.

    Args:
        workspace: the open workspace.
        channels: where alerts go; default: the channels the workspace settings configure.
        refresh: how often every open lead is evaluated again.
        background: run those refreshes in a background thread (the first one always runs
            in the caller's thread); off, they run inside `plan`.
        max_age: clock alerts older than this are not sent; default: the setting.
        full_after: more leads with new events than this in one cycle are not re-evaluated
            one by one: everything is evaluated again at once.

    Attributes:
        evaluations: full evaluations of every open lead completed so far.
    """

    def __init__(
        self,
        workspace: Workspace,
        channels: Sequence[Channel] | None = None,
        *,
        refresh: timedelta = REFRESH,
        background: bool = True,
        max_age: timedelta | None = None,
        full_after: int = _MANY,
    ) -> None:
        self.workspace = workspace
        self.channels = (
            list(channels) if channels is not None else channels_from_settings(workspace.settings)
        )
        self.refresh = refresh
        self.background = background
        self.max_age = max_age if max_age is not None else workspace.settings.alert_max_age
        self._snapshot: _Snapshot | None = None
        self._built_at = 0.0  # time.monotonic() of the last full evaluation's start
        self._known: set[str] = set()  # alert keys stored (or found stored) by this planner
        self._lock = threading.Lock()
        self._worker: threading.Thread | None = None
        self._fresh: _Snapshot | None = None
        self.full_after = full_after
        self.evaluations = 0

    def plan(self, now: datetime) -> PlanResult:
        """Store every alert due at `now` that is not stored yet.

        Returns:
            How many alerts were due, how many rows were stored, how many of them skipped.
        """
        snapshot = self._current(now)
        self._update(snapshot, now)
        watches = [w for each in snapshot.watches.values() for w in each]
        found = due_alerts(
            watches,
            self.workspace.pact,
            now=now,
            open_leads=snapshot.open_leads,
            max_age=self.max_age,
            known=self._known,
        )
        stored, skipped = _store(self.workspace, found, self.channels, now)
        self._known.update(a.key for a in found)
        return PlanResult(due=len(found), stored=stored, skipped=skipped)

    def close(self) -> None:
        """Wait for a background refresh to finish."""
        worker = self._worker
        if worker is not None:
            worker.join()

    # -- snapshots

    def _current(self, now: datetime) -> _Snapshot:
        with self._lock:
            if self._fresh is not None:
                self._snapshot, self._fresh = self._fresh, None
                self._known.clear()
            snapshot = self._snapshot
        stale = time.monotonic() - self._built_at >= self.refresh.total_seconds()
        if snapshot is None or (stale and not self.background):
            self._built_at = time.monotonic()
            snapshot = self._snapshot = _build(self.workspace, now)
            self.evaluations += 1
            self._known.clear()
        elif stale and (self._worker is None or not self._worker.is_alive()):
            self._built_at = time.monotonic()
            self._worker = threading.Thread(
                target=self._rebuild, args=(now,), name="leadpact-alerts-refresh", daemon=True
            )
            self._worker.start()
        return snapshot

    def _rebuild(self, now: datetime) -> None:
        try:
            fresh = _build(self.workspace, now)
        except Exception:  # a failed refresh keeps the old snapshot; the next one retries
            log.exception("refreshing the watched SLA clocks failed")
            return
        with self._lock:
            self._fresh = fresh
            self.evaluations += 1

    def _update(self, snapshot: _Snapshot, now: datetime) -> None:
        """Re-evaluate the leads with events newer than the snapshot (or now past due)."""
        engine = self.workspace.engine
        with engine.connect() as conn:
            marks = _marks(conn)
            changed = _changed_leads(conn, snapshot.marks, marks)
        for lead_id, at in changed.items():
            if at > now:
                snapshot.recheck[lead_id] = max(at, snapshot.recheck.get(lead_id, at))
        ready = [lead for lead, at in snapshot.recheck.items() if at <= now]
        for lead in ready:
            del snapshot.recheck[lead]
        leads_now = sorted(set(changed) | set(ready))
        if len(leads_now) > self.full_after:
            fresh = _build(self.workspace, now)
            self.evaluations += 1
            snapshot.marks, snapshot.watches = fresh.marks, fresh.watches
            snapshot.open_leads, snapshot.recheck = fresh.open_leads, fresh.recheck
            return
        pact = self.workspace.pact
        for start in range(0, len(leads_now), _CHUNK):
            chunk = leads_now[start : start + _CHUNK]
            with engine.connect() as conn:
                found = _watches(conn, pact, now, [leads.c.id.in_(chunk)])[0]
            for lead_id in chunk:
                snapshot.watches.pop(lead_id, None)
            snapshot.watches.update(found)
        snapshot.marks = marks


def _open_filter(pact: Pact) -> list[ColumnElement[bool]]:
    closed = [s.id for s in pact.stages if s.outcome is not Outcome.OPEN]
    return [leads.c.stage.not_in(closed)] if closed else []


def _marks(conn: Connection) -> tuple[int, int]:
    """The highest ids of stage changes and touches: events beyond them are new."""
    changes = conn.execute(select(func.coalesce(func.max(stage_changes.c.id), 0))).scalar_one()
    made = conn.execute(select(func.coalesce(func.max(touches.c.id), 0))).scalar_one()
    return int(changes), int(made)


def _changed_leads(
    conn: Connection, since: tuple[int, int], until: tuple[int, int]
) -> dict[str, datetime]:
    """Leads with stage changes or touches in the id ranges (since, until], latest event time."""
    if since == until:
        return {}
    query = union(
        select(stage_changes.c.lead_id, stage_changes.c.at).where(
            stage_changes.c.id > since[0], stage_changes.c.id <= until[0]
        ),
        select(touches.c.lead_id, touches.c.at).where(
            touches.c.id > since[1], touches.c.id <= until[1]
        ),
    ).subquery()
    rows = conn.execute(
        select(query.c.lead_id, func.max(query.c.at)).group_by(query.c.lead_id)
    ).all()
    return {lead_id: _aware(at) for lead_id, at in rows}


def _aware(value: Any) -> datetime:
    """A timestamp from an aggregate (SQLite gives naive UTC text): tz-aware UTC."""
    at = datetime.fromisoformat(value) if isinstance(value, str) else value
    assert isinstance(at, datetime)
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


def _build(workspace: Workspace, now: datetime) -> _Snapshot:
    """Evaluate every open lead at `now`: the watched clocks and open leads per owner."""
    with workspace.engine.connect() as conn:
        marks = _marks(conn)  # read first: events after it are re-evaluated later
        found, owners = _watches(conn, workspace.pact, now, [])
        future = _future_events(conn, now)
    return _Snapshot(marks, found, dict(owners), future)


def _future_events(conn: Connection, now: datetime) -> dict[str, datetime]:
    """Leads with events dated after `now` (ignored by an evaluation at `now`)."""
    query = union(
        select(stage_changes.c.lead_id, stage_changes.c.at).where(stage_changes.c.at > now),
        select(touches.c.lead_id, touches.c.at).where(touches.c.at > now),
    ).subquery()
    rows = conn.execute(
        select(query.c.lead_id, func.max(query.c.at)).group_by(query.c.lead_id)
    ).all()
    return {lead_id: _aware(at) for lead_id, at in rows}


def _watches(
    conn: Connection, pact: Pact, now: datetime, filters: list[ColumnElement[bool]]
) -> tuple[dict[str, list[Watch]], Counter[str]]:
    """The watched clocks of the open leads matching `filters`, and open leads per owner."""
    columns, clocks = _evaluate(conn, pact, now, [*_open_filter(pact), *filters])
    owners = Counter(o for o in columns["owner"].tolist() if o is not None)
    found: dict[str, list[Watch]] = {}
    for watched in watch_many(clocks, pact, columns["team"]):
        found.setdefault(watched.clock.lead_id, []).append(watched)
    return found, owners


def _row_key(alert_key: str, channel: str) -> str:
    """The stored key: the alert's key and the channel, hashed when too long for the column."""
    key = f"{alert_key}|{channel}"
    if len(key) <= _KEY_LENGTH:
        return key
    digest = hashlib.sha256(key.encode()).hexdigest()
    return f"{key[: _KEY_LENGTH - len(digest) - 1]}~{digest}"


def _recipient(alert: Alert) -> str:
    who = alert.recipient
    text = f"{who.name} <{who.email}>" if who.email else who.name
    return text[:320]


def _rows(
    alerts_due: Iterable[Alert], channels: Sequence[Channel], now: datetime
) -> list[dict[str, Any]]:
    rows = []
    for alert in alerts_due:
        names = [c.name for c in channels if c.reaches(alert.recipient.email)]
        common = {
            "kind": alert.kind.value,
            "lead_id": alert.lead_id,
            "commitment_id": alert.commitment_id,
            "recipient": _recipient(alert),
            "due_at": alert.due_at,
            "created_at": now,
            "payload": alert.as_dict(),
            "attempts": 0,
        }
        if not names:
            why = (
                f"no channel reaches {alert.recipient.name}: configure email "
                "(LEADPACT_SMTP_HOST, and an email for them in pact.yaml) or a webhook "
                "(LEADPACT_SLACK_WEBHOOK_URL, LEADPACT_ALERT_WEBHOOK_URL)"
            )
            rows.append(
                common
                | {
                    "key": _row_key(alert.key, NO_CHANNEL),
                    "channel": NO_CHANNEL,
                    "status": AlertStatus.SKIPPED.value,
                    "next_attempt_at": None,
                    "last_error": why,
                }
            )
        for name in names:
            rows.append(
                common
                | {
                    "key": _row_key(alert.key, name),
                    "channel": name,
                    "status": AlertStatus.PENDING.value,
                    "next_attempt_at": now,
                    "last_error": None,
                }
            )
    return rows


def _store(
    workspace: Workspace, found: list[Alert], channels: Sequence[Channel], now: datetime
) -> tuple[int, int]:
    """Insert the rows of `found` whose keys are new; (rows stored, of which skipped)."""
    rows = _rows(found, channels, now)
    if not rows:
        return 0, 0
    from sqlalchemy.dialects import postgresql, sqlite

    dialect = postgresql if workspace.engine.dialect.name == "postgresql" else sqlite
    statement = (
        dialect.insert(alerts)
        .on_conflict_do_nothing(index_elements=["key"])
        .returning(alerts.c.status)
    )
    stored: list[str] = []
    with workspace.transaction() as conn:
        for start in range(0, len(rows), 500):
            # RETURNING names only the rows inserted: a stored key returns nothing.
            result = conn.execute(statement.values(rows[start : start + 500]))
            stored += [status for (status,) in result]
    return len(stored), stored.count(AlertStatus.SKIPPED.value)


def plan_alerts(
    workspace: Workspace, now: datetime, channels: Sequence[Channel] | None = None
) -> PlanResult:
    """Evaluate every open lead at `now` and store the alerts due then (once per key).

    Args:
        workspace: the open workspace.
        now: the instant (timezone-aware).
        channels: where alerts go; default: the channels the settings configure.

    Returns:
        How many alerts were due and how many rows were newly stored (and skipped).

    Raises:
        LeadPactError: a webhook URL setting is invalid.
    """
    return Planner(workspace, channels, background=False).plan(now)


# --------------------------------------------------------------------------- delivery


def deliver_due(
    workspace: Workspace,
    now: datetime,
    channels: Sequence[Channel] | None = None,
    *,
    stop: threading.Event | None = None,
) -> DeliveryResult:
    """Send every stored alert whose (next) attempt is due at `now`, each by one sender only.

    Claims batches of `BATCH` rows atomically, sends each on its channel, and records every
    attempt in `deliveries`: sent; or pending again at `core.alerts.retry_at`; or failed
    after `MAX_ATTEMPTS`. Rows whose lease ran out (their sender stopped) are released first.

    Args:
        workspace: the open workspace.
        now: the instant attempts are made and logged at.
        channels: the channels by name; default: the channels the settings configure. A row
            for a channel not given fails its attempt with a message saying what to set.
        stop: checked between batches: a set event ends the pass early.

    Returns:
        Counts of sent, retrying, failed and interrupted alerts.
    """
    chosen = channels if channels is not None else channels_from_settings(workspace.settings)
    by_name = {c.name: c for c in chosen}
    result = DeliveryResult()
    result.interrupted = _release_expired(workspace, now)
    while stop is None or not stop.is_set():
        claimed = _claim(workspace, now)
        if not claimed:
            break
        for row in claimed:
            channel = by_name.get(row["channel"])
            if channel is None:
                sent = Sent(False, f"channel {row['channel']} is not configured (docs/alerts.md)")
            else:
                sent = channel.send(row["payload"])
            outcome = _record(workspace, row, sent, now)
            if outcome is AlertStatus.SENT:
                result.sent += 1
            elif outcome is AlertStatus.PENDING:
                result.retrying += 1
            else:
                result.failed += 1
    return result


def _claim(workspace: Workspace, now: datetime) -> list[dict[str, Any]]:
    """Take up to `BATCH` due pending rows: they are ours until `now + LEASE`."""
    due = (
        select(alerts.c.id)
        .where(alerts.c.status == AlertStatus.PENDING.value, alerts.c.next_attempt_at <= now)
        .order_by(alerts.c.next_attempt_at, alerts.c.id)
        .limit(BATCH)
    )
    if workspace.engine.dialect.name == "postgresql":
        due = due.with_for_update(skip_locked=True)
    statement = (
        update(alerts)
        # The status and time are tested again: a row another scheduler claimed in between
        # (PostgreSQL re-checks them on the new row version) is left alone.
        .where(
            alerts.c.id.in_(due.scalar_subquery()),
            alerts.c.status == AlertStatus.PENDING.value,
            alerts.c.next_attempt_at <= now,
        )
        .values(
            status=AlertStatus.SENDING.value,
            attempts=alerts.c.attempts + 1,
            next_attempt_at=now + LEASE,
        )
        .returning(alerts.c.id, alerts.c.channel, alerts.c.payload, alerts.c.attempts)
    )
    with workspace.transaction() as conn:
        rows = [dict(row._mapping) for row in conn.execute(statement)]
    return sorted(rows, key=lambda r: r["id"])


def _record(workspace: Workspace, row: dict[str, Any], sent: Sent, now: datetime) -> AlertStatus:
    """Log one attempt and move the alert on: sent, pending at the back-off, or failed."""
    attempts = int(row["attempts"])
    values: dict[str, Any]
    if sent.ok:
        status = AlertStatus.SENT
        values = {"sent_at": now, "next_attempt_at": None, "last_error": None}
    else:
        again = retry_at(attempts, now)
        status = AlertStatus.PENDING if again is not None else AlertStatus.FAILED
        values = {"next_attempt_at": again, "last_error": sent.detail}
    with workspace.transaction() as conn:
        conn.execute(
            update(alerts)
            .where(alerts.c.id == row["id"], alerts.c.status == AlertStatus.SENDING.value)
            .values(status=status.value, **values)
        )
        conn.execute(
            insert(deliveries).values(
                alert_id=row["id"], at=now, attempt=attempts, ok=sent.ok, detail=sent.detail
            )
        )
    return status


def _release_expired(workspace: Workspace, now: datetime) -> int:
    """Rows still `sending` after their lease: log the lost attempt, make them due again."""
    with workspace.transaction() as conn:
        stuck = conn.execute(
            select(alerts.c.id, alerts.c.attempts).where(
                alerts.c.status == AlertStatus.SENDING.value, alerts.c.next_attempt_at <= now
            )
        ).all()
        for alert_id, attempts in stuck:
            done = attempts >= MAX_ATTEMPTS
            detail = (
                "interrupted: the sender stopped before recording a result (it may have been sent)"
            )
            conn.execute(
                update(alerts)
                .where(alerts.c.id == alert_id, alerts.c.status == AlertStatus.SENDING.value)
                .values(
                    status=(AlertStatus.FAILED if done else AlertStatus.PENDING).value,
                    next_attempt_at=None if done else now,
                    last_error=detail,
                )
            )
            conn.execute(
                insert(deliveries).values(
                    alert_id=alert_id, at=now, attempt=attempts, ok=False, detail=detail
                )
            )
    return len(stuck)


# --------------------------------------------------------------------------- reading


def list_alerts(
    workspace: Workspace,
    *,
    status: str | None = None,
    kind: str | None = None,
    limit: int = 100,
) -> list[AlertRecord]:
    """Stored alerts, newest first.

    Raises:
        LeadPactError: an unknown status or kind (the message lists the known ones).
    """
    from leadpact.core.alerts import AlertKind

    query = select(alerts).order_by(alerts.c.created_at.desc(), alerts.c.id.desc()).limit(limit)
    if status is not None:
        query = query.where(alerts.c.status == _known("status", status, AlertStatus))
    if kind is not None:
        query = query.where(alerts.c.kind == _known("kind", kind, AlertKind))
    with workspace.engine.connect() as conn:
        return [AlertRecord(**row._mapping) for row in conn.execute(query)]


def _known(what: str, value: str, enum: Any) -> str:
    names = [member.value for member in enum]
    if value not in names:
        raise LeadPactError(f"unknown alert {what} {value!r}; expected one of {', '.join(names)}")
    return value


def delivery_log(
    workspace: Workspace, *, alert_id: int | None = None, limit: int = 100
) -> list[DeliveryRecord]:
    """Delivery attempts, newest first, with the alert each one was for."""
    query = (
        select(
            deliveries.c.id,
            deliveries.c.alert_id,
            alerts.c.key,
            alerts.c.kind,
            alerts.c.channel,
            alerts.c.recipient,
            deliveries.c.attempt,
            deliveries.c.at,
            deliveries.c.ok,
            deliveries.c.detail,
        )
        .join(alerts, alerts.c.id == deliveries.c.alert_id)
        .order_by(deliveries.c.at.desc(), deliveries.c.id.desc())
        .limit(limit)
    )
    if alert_id is not None:
        query = query.where(deliveries.c.alert_id == alert_id)
    with workspace.engine.connect() as conn:
        return [DeliveryRecord(**row._mapping) for row in conn.execute(query)]


# --------------------------------------------------------------------------- the loop


def run_cycle(planner: Planner, now: datetime, stop: threading.Event | None = None) -> Cycle:
    """Plan and deliver once at `now` with the planner's workspace and channels."""
    planned = planner.plan(now)
    delivered = deliver_due(planner.workspace, now, planner.channels, stop=stop)
    return Cycle(now, planned, delivered)


def run_scheduler(
    workspace: Workspace,
    stop: threading.Event,
    *,
    interval: timedelta | None = None,
    channels: Sequence[Channel] | None = None,
    on_cycle: Callable[[Cycle], None] | None = None,
    planner: Planner | None = None,
) -> None:
    """Run cycles at `workspace.clock.now()` every `interval` until `stop` is set.

    A cycle that fails (the database busy, a bug) is logged and the next one runs as usual:
    the scheduler of a web server must not die of one bad cycle.

    Args:
        workspace: the open workspace (its clock says what "now" is).
        stop: set it to end the loop (checked between cycles and between batches).
        interval: time from the start of one cycle to the next; default: the setting.
        channels: where alerts go; default: the channels the settings configure.
        on_cycle: called after each cycle (progress output).
        planner: the planner to use; default: a new one for `workspace` and `channels`.
    """
    every = (interval or workspace.settings.scheduler_interval).total_seconds()
    planner = planner or Planner(workspace, channels)
    try:
        while not stop.is_set():
            started = time.monotonic()
            try:
                cycle = run_cycle(planner, workspace.clock.now(), stop)
            except Exception:  # logged with its traceback; the next cycle tries again
                log.exception("alert scheduler cycle failed")
            else:
                if on_cycle is not None:
                    on_cycle(cycle)
            stop.wait(max(0.0, every - (time.monotonic() - started)))
    finally:
        planner.close()
