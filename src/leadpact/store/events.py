"""What happens to leads, in the store: activities, sales touches, stage changes, audit entries.

Writes are idempotent: every event has a `key`, by default a content hash of the fields that
identify it (`content_key`), so re-importing a file or re-delivering a webhook stores nothing
twice. Functions take a `Connection` inside the caller's transaction and return frozen rows.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, insert, select

from leadpact.core.models import Activity, Channel, StageChange, Touch, TouchOutcome
from leadpact.store._writes import insert_new
from leadpact.store.tables import activities, audit, stage_changes, touches


@dataclass(frozen=True, slots=True)
class ActivityRow:
    """One thing a lead did: a page view, a download, a form, a webinar, a demo request."""

    id: int
    key: str
    lead_id: str
    type: str
    at: datetime
    url: str | None
    content: str | None

    def activity(self) -> Activity:
        """The core value object."""
        return Activity(self.lead_id, self.type, self.at, self.url, self.content)


@dataclass(frozen=True, slots=True)
class TouchRow:
    """One sales attempt on a lead (call, email, meeting, social) and its outcome."""

    id: int
    key: str
    lead_id: str
    rep: str | None
    channel: str
    at: datetime
    outcome: str
    note: str | None

    def touch(self) -> Touch:
        """The core value object."""
        return Touch(
            self.lead_id, self.rep, Channel(self.channel), self.at, TouchOutcome(self.outcome)
        )


@dataclass(frozen=True, slots=True)
class StageChangeRow:
    """One move of a lead between funnel stages, with the time spent in the stage it left."""

    id: int
    key: str
    lead_id: str
    from_stage: str | None
    to_stage: str
    at: datetime
    reason: str | None
    actor: str | None
    seconds_in_from: float | None

    def change(self) -> StageChange:
        """The core value object."""
        return StageChange(
            self.lead_id, self.from_stage, self.to_stage, self.at, self.reason, self.actor
        )


@dataclass(frozen=True, slots=True)
class AuditRow:
    """Who did what, when and why."""

    id: int
    at: datetime
    action: str
    subject: str | None
    reason: str | None
    details: dict[str, Any] | None


def content_key(kind: str, *parts: object) -> str:
    """A stable key for an event: SHA-256 of its kind and identifying fields.

    Datetimes count by their UTC instant, so the same moment written in two time zones gives
    the same key.
    """
    canonical = [kind, *(_canonical(part) for part in parts)]
    text = json.dumps(canonical, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _canonical(part: object) -> object:
    if isinstance(part, datetime):
        if part.tzinfo is None:
            raise ValueError(f"naive datetime {part.isoformat()}: keys need tz-aware instants")
        return part.astimezone(UTC).isoformat()
    return part


def list_activities(conn: Connection, lead_id: str) -> list[ActivityRow]:
    """The activities of one lead, oldest first."""
    query = (
        select(activities)
        .where(activities.c.lead_id == lead_id)
        .order_by(activities.c.at, activities.c.id)
    )
    return [ActivityRow(**row) for row in conn.execute(query).mappings()]


def activity_key(activity: Activity) -> str:
    """The default key of an activity: a content hash of lead, type, instant and url."""
    return content_key("activity", activity.lead_id, activity.type, activity.at, activity.url)


def add_activity(conn: Connection, activity: Activity, *, key: str | None = None) -> bool:
    """Store an activity unless its key is stored; True when stored.

    Args:
        conn: a connection inside a transaction.
        activity: what the lead did.
        key: the source's stable id for it; default `activity_key(activity)`.

    Raises:
        NotFoundError: `activity.lead_id` names no lead.
    """
    values = {
        "key": key or activity_key(activity),
        "lead_id": activity.lead_id,
        "type": activity.type,
        "at": activity.at,
        "url": activity.url,
        "content": activity.content,
    }
    return insert_new(conn, activities, "key", values)


def list_touches(conn: Connection, lead_id: str) -> list[TouchRow]:
    """The sales touches of one lead, oldest first."""
    query = select(touches).where(touches.c.lead_id == lead_id).order_by(touches.c.at, touches.c.id)
    return [TouchRow(**row) for row in conn.execute(query).mappings()]


def touch_key(touch: Touch) -> str:
    """The default key of a touch: a content hash of lead, channel, instant, outcome and rep.

    The note is left out: sending a touch again with a corrected note adds no second attempt.
    """
    return content_key(
        "touch", touch.lead_id, touch.channel.value, touch.at, touch.outcome.value, touch.rep
    )


def add_touch(
    conn: Connection, touch: Touch, *, note: str | None = None, key: str | None = None
) -> bool:
    """Store a sales touch unless its key is stored; True when stored.

    Args:
        conn: a connection inside a transaction.
        touch: the attempt.
        note: the rep's free-text note (personal data: erasure removes it).
        key: the source's stable id for it; default `touch_key(touch)`.

    Raises:
        NotFoundError: `touch.lead_id` names no lead.
    """
    values = {
        "key": key or touch_key(touch),
        "lead_id": touch.lead_id,
        "rep": touch.rep,
        "channel": touch.channel.value,
        "at": touch.at,
        "outcome": touch.outcome.value,
        "note": note,
    }
    return insert_new(conn, touches, "key", values)


def list_stage_changes(conn: Connection, lead_id: str) -> list[StageChangeRow]:
    """The stage history of one lead, oldest first."""
    query = (
        select(stage_changes)
        .where(stage_changes.c.lead_id == lead_id)
        .order_by(stage_changes.c.at, stage_changes.c.id)
    )
    return [StageChangeRow(**row) for row in conn.execute(query).mappings()]


def add_stage_change(
    conn: Connection, change: StageChange, *, seconds_in_from: float | None = None
) -> bool:
    """Record a stage change (made by `core.lifecycle`) unless its key is stored; True if stored.

    The key is `change.key` (lead, target stage, instant). This only records the change:
    updating `leads.stage` is the caller's job, in the same transaction.

    Args:
        conn: a connection inside a transaction.
        change: the move.
        seconds_in_from: time the lead spent in the stage it left.

    Raises:
        NotFoundError: `change.lead_id` names no lead.
    """
    values = {
        "key": change.key,
        "lead_id": change.lead_id,
        "from_stage": change.from_stage,
        "to_stage": change.to_stage,
        "at": change.at,
        "reason": change.reason,
        "actor": change.actor,
        "seconds_in_from": seconds_in_from,
    }
    return insert_new(conn, stage_changes, "key", values)


def add_audit(
    conn: Connection,
    at: datetime,
    action: str,
    subject: str | None,
    reason: str | None,
    details: dict[str, Any] | None = None,
) -> int:
    """Append an audit entry and return its id.

    Never put personal data in `reason` or `details`: erasure rewrites `subject` when it is a
    lead id, nothing else.
    """
    values = {"at": at, "action": action, "subject": subject, "reason": reason, "details": details}
    entry_id = conn.execute(insert(audit).values(values).returning(audit.c.id)).scalar_one()
    return int(entry_id)


def list_audit(
    conn: Connection, *, subject: str | None = None, action: str | None = None
) -> list[AuditRow]:
    """Audit entries, oldest first, optionally about one subject or of one action."""
    query = select(audit)
    if subject is not None:
        query = query.where(audit.c.subject == subject)
    if action is not None:
        query = query.where(audit.c.action == action)
    query = query.order_by(audit.c.at, audit.c.id)
    return [AuditRow(**row) for row in conn.execute(query).mappings()]
