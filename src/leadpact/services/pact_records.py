"""The recorded versions of the agreement as the store holds them: their rows, approvals and
texts, read and parsed, and where each version stands today (`list_versions`).

A recorded version is the pact file's text with its SHA-256, a message and an optional
effective date (table `pact_versions`); approvals are one row per party (`approvals`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from leadpact.core.pact import Pact
from leadpact.core.versions import (
    Approval,
    VersionRecord,
    VersionState,
    version_state,
)
from leadpact.errors import NotFoundError

if TYPE_CHECKING:
    from sqlalchemy import Connection

    from leadpact.services.workspace import Workspace

__all__ = [
    "VersionSummary",
    "latest_version",
    "list_versions",
    "no_version_message",
    "none_in_force_message",
    "parse_version",
    "version_records",
    "version_text",
]


@dataclass(frozen=True)
class VersionSummary:
    """A recorded version with its approvals and where it stands today."""

    number: int
    recorded_at: datetime
    message: str
    sha256: str
    effective_on: date | None
    approvals: tuple[Approval, ...]
    pending: tuple[str, ...]
    takes_effect_on: date | None
    state: VersionState


def list_versions(workspace: Workspace) -> list[VersionSummary]:
    """Every recorded version, oldest first, with its approvals and state today."""
    with workspace.engine.connect() as conn:
        rows, records = version_records(conn)
    today = workspace.clock.now().date()
    return [
        VersionSummary(
            number=row["number"],
            recorded_at=row["recorded_at"],
            message=row["message"],
            sha256=row["sha256"],
            effective_on=record.effective_on,
            approvals=record.approvals,
            pending=record.pending(),
            takes_effect_on=record.takes_effect_on(),
            state=version_state(records, record.number, today),
        )
        for row, record in zip(rows, records, strict=True)
    ]


def latest_version(conn: Connection) -> dict[str, Any] | None:
    from sqlalchemy import select

    from leadpact.store import tables

    t = tables.pact_versions
    row = conn.execute(select(t).order_by(t.c.number.desc()).limit(1)).first()
    return None if row is None else dict(row._mapping)


def version_records(conn: Connection) -> tuple[list[dict[str, Any]], list[VersionRecord]]:
    from sqlalchemy import select

    from leadpact.store import tables

    v, a = tables.pact_versions, tables.approvals
    rows = [
        dict(r._mapping)
        for r in conn.execute(
            select(
                v.c.number, v.c.recorded_at, v.c.message, v.c.sha256, v.c.effective_on, v.c.text
            ).order_by(v.c.number)
        )
    ]
    approvals: dict[int, list[Approval]] = {}
    for version, party, by, at in conn.execute(
        select(a.c.version, a.c.party, a.c.by, a.c.at).order_by(a.c.at, a.c.id)
    ):
        approvals.setdefault(version, []).append(Approval(party, by, at))
    records = [
        VersionRecord(
            row["number"],
            tuple(parse_version(row["text"]).parties),
            tuple(approvals.get(row["number"], ())),
            date.fromisoformat(row["effective_on"]) if row["effective_on"] else None,
        )
        for row in rows
    ]
    return rows, records


def version_text(conn: Connection, number: int) -> str:
    from sqlalchemy import select

    from leadpact.store import tables

    t = tables.pact_versions
    text = conn.execute(select(t.c.text).where(t.c.number == number)).scalar_one_or_none()
    if text is None:
        numbers = list(conn.execute(select(t.c.number).order_by(t.c.number)).scalars())
        raise NotFoundError(no_version_message(number, numbers))
    return str(text)


@lru_cache(maxsize=32)
def parse_version(text: str) -> Pact:
    from leadpact.pact_file import parse_pact

    return parse_pact(text, "<recorded version>")


def no_version_message(number: int, known: list[int]) -> str:
    if not known:
        return f"there is no version {number}: no version is recorded yet (leadpact pact commit)"
    return f"there is no version {number}; versions recorded: {known[0]} to {known[-1]}"


def none_in_force_message(records: Sequence[VersionRecord]) -> str:
    if not records:
        return "no version of the pact is recorded yet; record one with leadpact pact commit"
    waiting = ", ".join(f"{r.number} (waiting for {', '.join(r.pending())})" for r in records)
    return f"no version of the pact is approved by every party yet; versions: {waiting}"
