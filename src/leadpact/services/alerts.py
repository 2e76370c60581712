"""Alerts of a workspace: plan the due ones into the `alerts` table once; run the scheduler.

**Planning** (`plan_alerts`, or a long-lived `Planner` in the scheduler) evaluates the SLA
clocks of the open leads, keeps the clocks that can still alert as `core.alert_watch.Watch`es,
and inserts every due alert as one row per channel with `INSERT ... ON CONFLICT (key) DO
NOTHING`: a restart, a second scheduler or a second cycle never stores an alert twice; an alert
no channel can reach is stored `skipped`. Evaluating 100,000 open leads takes seconds, so a
`Planner` does it once and then, each cycle, re-evaluates only the leads with new stage changes
or touches (by the ids of those rows) and compares the watched instants with `now`; a full
evaluation runs again every `REFRESH` in a background thread, which also picks up changes no
event reveals (a new owner, a rescore).

**Delivery** is `services.alert_delivery` (re-exported here). `run_scheduler` loops plan +
deliver every `LEADPACT_SCHEDULER_INTERVAL` until told to stop (the web server's background
thread and `leadpact alerts run`).
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
from typing import TYPE_CHECKING, Any

from sqlalchemy import ColumnElement, Connection, func, select, union

from leadpact.core.alerts import Alert, Watch, due_alerts, watch_many
from leadpact.core.pact import Outcome, Pact
from leadpact.services.alert_delivery import (
    BATCH,
    LEASE,
    AlertRecord,
    AlertStatus,
    DeliveryRecord,
    DeliveryResult,
    deliver_due,
    delivery_log,
    list_alerts,
)
from leadpact.services.channels import Channel, channels_from_settings
from leadpact.services.sla import evaluate_clocks
from leadpact.store.tables import alerts, leads, stage_changes, touches

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

#: How often a `Planner` evaluates every open lead again (in the background).
REFRESH = timedelta(minutes=5)
#: The `channel` of an alert that no configured channel can deliver.
NO_CHANNEL = "none"
#: Leads re-evaluated per query (well below the bound-parameter limits of both databases).
_CHUNK = 2000
#: New events beyond which a cycle evaluates everything at once instead of lead by lead.
_MANY = 20_000
_KEY_LENGTH = 300  # alerts.key


@dataclass(frozen=True, slots=True)
class PlanResult:
    """What one planning pass found: alerts due, and rows newly stored."""

    due: int
    stored: int
    skipped: int


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
    columns, clocks = evaluate_clocks(conn, pact, now, [*_open_filter(pact), *filters])
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
