"""Delivery of stored alerts: claim each due row once, send it, retry with back-off, log it.

`deliver_due` claims due rows atomically (`UPDATE ... WHERE status = 'pending' AND
next_attempt_at <= now ... RETURNING`, in batches of `BATCH`; on PostgreSQL the candidates are
locked with `FOR UPDATE SKIP LOCKED`), so two schedulers never send the same row. A claim is a
lease of `LEASE`: a sender that dies mid-batch leaves rows that another scheduler retries once
the lease ends, logged as an interrupted attempt. Every attempt is a `deliveries` row; a
failure is retried after the back-off of `core.alerts.retry_at`, and the last failure leaves
the alert `failed`. `list_alerts` and `delivery_log` read what is stored.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from sqlalchemy import insert, select, update

from leadpact.core.alerts import MAX_ATTEMPTS, AlertKind, retry_at
from leadpact.errors import LeadPactError
from leadpact.services.channels import Channel, Sent, channels_from_settings
from leadpact.store.tables import alerts, deliveries

if TYPE_CHECKING:
    from leadpact.services.workspace import Workspace

__all__ = [
    "BATCH",
    "LEASE",
    "AlertRecord",
    "AlertStatus",
    "DeliveryRecord",
    "DeliveryResult",
    "deliver_due",
    "delivery_log",
    "list_alerts",
]

#: How long a claimed alert belongs to the scheduler that claimed it.
LEASE = timedelta(minutes=5)
#: Alerts claimed at a time (each sent with a timeout of 10 s: well inside the lease).
BATCH = 20


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
