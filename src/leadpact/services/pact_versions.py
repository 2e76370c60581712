"""Versions of the agreement and their approvals: record a version, list, diff and approve them.

A recorded version is the pact file's text with its SHA-256, a message and an optional
effective date (table `pact_versions`); approvals are one row per party (`approvals`). The rules
of which version is in force live in `core.versions`; this module writes the rows and takes
"now" from the workspace clock. The versions as stored are read by `services.pact_records`;
where the agreement stands is `services.pact_status`, and report deliveries are
`services.pact_reports` (both re-exported here).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from leadpact.core.pact import Pact
from leadpact.core.pact_diff import Change, diff_pacts
from leadpact.core.versions import (
    Approval,
    VersionRecord,
    check_approval,
    version_in_force,
)
from leadpact.errors import ConflictError, LeadPactError, NotFoundError
from leadpact.services.pact_records import (
    VersionSummary,
    latest_version,
    list_versions,
    no_version_message,
    none_in_force_message,
    parse_version,
    version_records,
    version_text,
)
from leadpact.services.pact_reports import REPORT_LOGGED, log_report
from leadpact.services.pact_status import STATUS_MONTHS, PactStatus, pact_status

if TYPE_CHECKING:
    from leadpact.services.workspace import Workspace

__all__ = [
    "REPORT_LOGGED",
    "STATUS_MONTHS",
    "ApprovalResult",
    "CommitResult",
    "PactStatus",
    "VersionSummary",
    "approve_version",
    "commit_pact",
    "diff_versions",
    "get_version",
    "list_versions",
    "log_report",
    "pact_in_force",
    "pact_status",
]


@dataclass(frozen=True)
class CommitResult:
    """What `commit_pact` did: a new version, or nothing because the text is unchanged."""

    number: int
    created: bool
    changes: tuple[Change, ...] = ()


@dataclass(frozen=True)
class ApprovalResult:
    """An approval recorded, and what is still missing for the version to take effect."""

    version: int
    party: str
    by: str
    at: datetime
    pending: tuple[str, ...]
    takes_effect_on: date | None


def commit_pact(
    workspace: Workspace,
    message: str,
    *,
    file: Path | None = None,
    effective_on: date | None = None,
) -> CommitResult:
    """Record the pact file as a new version, unless it is unchanged since the last one.

    Args:
        workspace: the open workspace.
        message: why the agreement changed (required).
        file: the pact file; default: the workspace's `pact.yaml`.
        effective_on: the earliest date the version may take effect (it still needs every
            party's approval; see `core.governance`).

    Returns:
        The version number and whether it was created, with what changed from the last one.

    Raises:
        PactError: the file is missing or invalid (an invalid pact cannot be recorded).
        LeadPactError: the message is empty.
        ConflictError: another process recorded a version at the same time.
    """
    from sqlalchemy import insert
    from sqlalchemy.exc import IntegrityError

    from leadpact.pact_file import load_pact
    from leadpact.store import tables

    if not message.strip():
        raise LeadPactError("say what changed: leadpact pact commit FILE -m 'what and why'")
    path = file if file is not None else workspace.directory / "pact.yaml"
    pact = load_pact(path)  # raises PactError with every problem
    text = path.read_text(encoding="utf-8")
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    try:
        with workspace.transaction() as conn:
            latest = latest_version(conn)
            if latest is not None and latest["sha256"] == digest:
                return CommitResult(latest["number"], created=False)
            number = 1 if latest is None else latest["number"] + 1
            conn.execute(
                insert(tables.pact_versions).values(
                    number=number,
                    recorded_at=workspace.clock.now(),
                    message=message.strip(),
                    text=text,
                    sha256=digest,
                    effective_on=effective_on.isoformat() if effective_on else None,
                )
            )
    except IntegrityError:
        raise ConflictError(
            "another version was recorded at the same time; run the commit again"
        ) from None
    changes = () if latest is None else tuple(diff_pacts(parse_version(latest["text"]), pact))
    return CommitResult(number, created=True, changes=changes)


def get_version(workspace: Workspace, number: int) -> tuple[VersionSummary, Pact]:
    """One recorded version and its agreement.

    Raises:
        NotFoundError: there is no such version.
    """
    summaries = {v.number: v for v in list_versions(workspace)}
    if number not in summaries:
        raise NotFoundError(no_version_message(number, list(summaries)))
    with workspace.engine.connect() as conn:
        return summaries[number], parse_version(version_text(conn, number))


def diff_versions(workspace: Workspace, old: int, new: int) -> list[Change]:
    """What changed in the agreement from version `old` to version `new`.

    Raises:
        NotFoundError: either version does not exist.
    """
    with workspace.engine.connect() as conn:
        return diff_pacts(
            parse_version(version_text(conn, old)), parse_version(version_text(conn, new))
        )


def approve_version(workspace: Workspace, number: int, party: str, by: str) -> ApprovalResult:
    """Record that `by`, the owner of `party`, approves version `number`, now.

    Raises:
        NotFoundError: no such version, or the version has no such party.
        ConflictError: `by` is not that party's owner in this version, the party already
            approved it, or a newer version is already approved by every party.
    """
    from sqlalchemy import insert
    from sqlalchemy.exc import IntegrityError

    from leadpact.store import tables

    now = workspace.clock.now()
    try:
        with workspace.transaction() as conn:
            _, records = version_records(conn)
            record = next((r for r in records if r.number == number), None)
            if record is None:
                raise NotFoundError(no_version_message(number, [r.number for r in records]))
            newer = [r.number for r in records if r.number > number and r.takes_effect_on()]
            if newer:
                raise ConflictError(
                    f"version {number} is superseded: version {max(newer)} is already approved "
                    "by every party"
                )
            party_id = check_approval(parse_version(version_text(conn, number)), record, party, by)
            conn.execute(
                insert(tables.approvals).values(version=number, party=party_id, by=by, at=now)
            )
    except IntegrityError:
        raise ConflictError(f"{party} approved version {number} at the same time") from None
    done = VersionRecord(
        record.number,
        record.parties,
        (*record.approvals, Approval(party_id, by, now)),
        record.effective_on,
    )
    return ApprovalResult(number, party_id, by, now, done.pending(), done.takes_effect_on())


def pact_in_force(workspace: Workspace, on: date) -> tuple[int, Pact]:
    """The version in force on a date and its agreement (for clocks and reports).

    Raises:
        NotFoundError: no version has been approved by every party yet.
    """
    with workspace.engine.connect() as conn:
        _, records = version_records(conn)
        number = version_in_force(records, on)
        if number is None:
            raise NotFoundError(none_in_force_message(records))
        return number, parse_version(version_text(conn, number))
