"""Erase a person from the store: personal data removed from the database file, counts kept.

`erase_lead` replaces the lead's id by an anonymous token everywhere (foreign keys follow with
`ON UPDATE CASCADE`), sets the personal fields and free text to NULL, re-keys the lead's events
(their content hashes were computed from the old id) and writes an audit entry that names only
the token. Before any of that it puts salted hashes of the lead's id and email on the
suppression list (`store.suppression`), so that a later import or event cannot bring the
person back. SQLite runs with `secure_delete=ON`, so the old bytes are zeroed in the pages that
held them; `purge_erased` then checkpoints and truncates the write-ahead log, the last place a
copy lives. On PostgreSQL old row versions stay in the table files until VACUUM reuses the
space: that is the database administrator's job (docs/cli.md, leadpact leads erase).
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import Connection, Engine, Table, Update, delete, func, select, update

from leadpact.errors import ConflictError, LeadPactError
from leadpact.store.events import add_audit
from leadpact.store.leads import LeadRow, get_lead
from leadpact.store.suppression import suppress
from leadpact.store.tables import (
    activities,
    alerts,
    audit,
    deals,
    deliveries,
    leads,
    stage_changes,
    touches,
)

#: Prefix of the anonymous id an erased lead gets.
TOKEN_PREFIX = "erased-"

#: The audit action of an erasure.
ERASE_ACTION = "erase"


@dataclass(frozen=True, slots=True)
class ErasureResult:
    """What one erasure changed; `token` is the lead's anonymous id from now on."""

    token: str
    at: datetime
    activities: int
    touches: int
    stage_changes: int
    deals: int
    audit_entries: int
    alerts: int


class PurgeStatus(StrEnum):
    """Whether the bytes of erased data are gone from the database's files."""

    #: SQLite: write-ahead log checkpointed into the main file and truncated to zero bytes.
    COMPLETE = "complete"
    #: SQLite: another process is reading; the old bytes stay in the log until it is done.
    BLOCKED = "blocked"
    #: PostgreSQL: old row versions stay on disk until VACUUM reuses their space.
    LEFT_TO_VACUUM = "left_to_vacuum"


def erase_lead(conn: Connection, lead_id: str, *, at: datetime, reason: str) -> ErasureResult:
    """Remove a person's data, keep the anonymous facts that counts are made of.

    Nulls email, names, title, company and the import row hash; nulls activities' url and
    content and touches' note and rep; deletes the lead's unsent alerts and empties the payload
    and errors of sent ones; keeps stage, dates, source, industry, country, employees,
    revenue, owner and scores. The lead's id and email go on the suppression list first
    (`store.suppression.suppress`), so imports and events set the person aside from now on. Run
    it inside a transaction (`begin_write`) and call
    `purge_erased` after the commit.

    Args:
        conn: a connection inside a transaction.
        lead_id: the lead to erase.
        at: when the erasure happens (tz-aware).
        reason: why, kept in the audit log; it must not contain the person's email or names.

    Returns:
        The anonymous token and how many rows of each kind were anonymised.

    Raises:
        NotFoundError: there is no such lead.
        ConflictError: the lead was erased already.
        LeadPactError: the reason is empty or names the person.
    """
    lead = get_lead(conn, lead_id)
    if lead.erased_at is not None:
        raise ConflictError(f"lead {lead_id!r} was already erased on {lead.erased_at:%Y-%m-%d}")
    _check_reason(reason, lead)
    # First: on PostgreSQL this waits for import chunks in flight, before the lead is locked.
    suppress(conn, lead_id=lead_id, email=lead.email, at=at)
    token = TOKEN_PREFIX + secrets.token_hex(8)
    # The new id cascades to activities, touches, deals and stage_changes.
    conn.execute(
        update(leads)
        .where(leads.c.id == lead_id)
        .values(
            id=token,
            email=None,
            first_name=None,
            last_name=None,
            title=None,
            company=None,
            row_hash=None,
            opted_out=True,
            erased_at=at,
        )
    )
    activity_count = _rowcount(
        conn, update(activities).where(activities.c.lead_id == token).values(url=None, content=None)
    )
    touch_count = _rowcount(
        conn, update(touches).where(touches.c.lead_id == token).values(note=None, rep=None)
    )
    for table in (activities, touches, stage_changes):
        _rekey(conn, table, token)
    alert_count = _erase_alerts(conn, lead_id, token)
    audit_count = _rowcount(
        conn, update(audit).where(audit.c.subject == lead_id).values(subject=token)
    )
    result = ErasureResult(
        token=token,
        at=at,
        activities=activity_count,
        touches=touch_count,
        stage_changes=_count(conn, stage_changes, token),
        deals=_count(conn, deals, token),
        audit_entries=audit_count,
        alerts=alert_count,
    )
    add_audit(
        conn,
        at,
        ERASE_ACTION,
        token,
        reason.strip(),
        {
            "activities": result.activities,
            "touches": result.touches,
            "stage_changes": result.stage_changes,
            "deals": result.deals,
            "audit_entries": result.audit_entries,
            "alerts": result.alerts,
        },
    )
    return result


def purge_erased(engine: Engine) -> PurgeStatus:
    """After an erasure has committed, make sure no copy of the old bytes is left in files.

    On SQLite: `PRAGMA wal_checkpoint(TRUNCATE)` copies the log into the main file (whose freed
    space `secure_delete` has zeroed) and truncates the log; it waits up to the busy timeout
    for other processes' reads to finish.
    """
    if engine.dialect.name != "sqlite":
        return PurgeStatus.LEFT_TO_VACUUM
    with engine.connect() as conn:
        # Outside any transaction: a checkpoint cannot run inside one.
        driver = conn.connection.driver_connection
        assert driver is not None
        busy, _log_frames, _checkpointed = driver.execute(
            "PRAGMA wal_checkpoint(TRUNCATE)"
        ).fetchone()
    return PurgeStatus.COMPLETE if busy == 0 else PurgeStatus.BLOCKED


def _check_reason(reason: str, lead: LeadRow) -> None:
    if not reason.strip():
        raise LeadPactError("give a reason for the erasure (it is kept in the audit log)")
    text = reason.casefold()
    named = [lead.email, lead.first_name, lead.last_name]
    for value in (v.strip().casefold() for v in named if v and v.strip()):
        if re.search(rf"(?<!\w){re.escape(value)}(?!\w)", text):
            raise LeadPactError(
                "the reason must not contain the person's email or name: it is kept in the "
                "audit log after the erasure"
            )


def _rekey(conn: Connection, table: Table, token: str) -> None:
    # Keys are content hashes of the old id (which may be the email): hash them again with the
    # token so they can no longer be recomputed from the person's data.
    rows = conn.execute(select(table.c.id, table.c.key).where(table.c.lead_id == token)).all()
    for row_id, key in rows:
        conn.execute(update(table).where(table.c.id == row_id).values(key=_rehash(token, key)))


def _rehash(token: str, key: str) -> str:
    return hashlib.sha256(f"{token}:{key}".encode()).hexdigest()


def _erase_alerts(conn: Connection, lead_id: str, token: str) -> int:
    # Alerts not sent yet are intentions about the person, not facts: they go (and their
    # delivery attempts with them). Sent ones are counted in reports: they stay, anonymised.
    conn.execute(delete(alerts).where(alerts.c.lead_id == lead_id, alerts.c.sent_at.is_(None)))
    rows = conn.execute(select(alerts.c.id, alerts.c.key).where(alerts.c.lead_id == lead_id)).all()
    for alert_id, key in rows:
        conn.execute(
            update(alerts)
            .where(alerts.c.id == alert_id)
            .values(lead_id=token, key=_rehash(token, key), payload={}, last_error=None)
        )
    ids = [alert_id for alert_id, _ in rows]
    if ids:
        conn.execute(update(deliveries).where(deliveries.c.alert_id.in_(ids)).values(detail=None))
    return len(ids)


def _rowcount(conn: Connection, statement: Update) -> int:
    return conn.execute(statement).rowcount


def _count(conn: Connection, table: Table, token: str) -> int:
    return int(
        conn.execute(
            select(func.count()).select_from(table).where(table.c.lead_id == token)
        ).scalar_one()
    )
