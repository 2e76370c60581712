"""Report commitments' deliveries: log that a report was delivered for a period, and judge a
period's report against its commitment (on time, late, missed).

A delivery is a row of `audit` (action `report_logged`); the commitment is taken from the
version in force on the period's last day, and the rule from `core.governance_dates`.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from leadpact.core.governance_dates import (
    ReportCheck,
    ReportState,
    check_report,
    period_bounds,
)
from leadpact.core.pact import Cadence, Pact, ReportCommitment
from leadpact.core.versions import (
    version_in_force,
)
from leadpact.errors import ConflictError, LeadPactError, NotFoundError
from leadpact.services.pact_records import parse_version, version_records, version_text

if TYPE_CHECKING:
    from sqlalchemy import Connection

    from leadpact.services.workspace import Workspace

__all__ = [
    "REPORT_LOGGED",
    "log_report",
    "provider_zone",
    "report_check",
    "report_commitment",
    "report_logs",
]

REPORT_LOGGED = "report_logged"


def log_report(
    workspace: Workspace, commitment_id: str, period: str, at: datetime | None = None
) -> ReportCheck:
    """Record that a report commitment was delivered for a period (at `at`, default now).

    The commitment is looked up in the version in force on the period's last day (the
    workspace's pact file if no version is in force yet).

    Raises:
        NotFoundError: the pact has no report commitment with that id.
        CalendarError: the period label does not fit the commitment's cadence.
        ConflictError: the report for that period is already logged.
        LeadPactError: `at` is in the future.
    """
    from sqlalchemy import insert

    from leadpact.store import tables

    now = workspace.clock.now()
    logged_at = now if at is None else at.astimezone(UTC)
    if logged_at > now:
        raise LeadPactError(f"{logged_at:%Y-%m-%d %H:%M} UTC is in the future; log what happened")
    pact = _report_pact(workspace, commitment_id, period)
    commitment = report_commitment(pact, commitment_id)
    label = period.strip()
    period_bounds(label, commitment.every)  # raises CalendarError on a bad label
    with workspace.transaction() as conn:
        earlier = report_logs(conn, commitment_id).get(label)
        if earlier is not None:
            raise ConflictError(
                f"the {commitment.report} for {label} is already logged "
                f"({earlier:%Y-%m-%d %H:%M} UTC)"
            )
        conn.execute(
            insert(tables.audit).values(
                at=logged_at,
                action=REPORT_LOGGED,
                subject=commitment_id,
                details={"period": label, "recorded_at": now.isoformat()},
            )
        )
    return check_report(
        commitment, label, logged_at, now=now, timezone=provider_zone(pact, commitment)
    )


def report_check(
    conn: Connection, pact: Pact, c: ReportCommitment, label: str, now: datetime
) -> ReportCheck | None:
    """The report's verdict for a period; None while it is pending (not logged, not due)."""
    logged = report_logs(conn, c.id).get(label)
    check = check_report(c, label, logged, now=now, timezone=provider_zone(pact, c))
    return None if check.state is ReportState.PENDING else check


def report_logs(conn: Connection, commitment_id: str) -> dict[str, datetime]:
    """When each period's report was first logged."""
    from sqlalchemy import select

    from leadpact.store import tables

    t = tables.audit
    query = (
        select(t.c.at, t.c.details)
        .where(t.c.action == REPORT_LOGGED, t.c.subject == commitment_id)
        .order_by(t.c.at)
    )
    logs: dict[str, datetime] = {}
    for at, details in conn.execute(query):
        logs.setdefault(str((details or {}).get("period")), at)
    return logs


def _report_pact(workspace: Workspace, commitment_id: str, period: str) -> Pact:
    with workspace.engine.connect() as conn:
        _, records = version_records(conn)
        cadence = next(
            (
                c.every
                for c in workspace.pact.commitments
                if c.id == commitment_id and isinstance(c, ReportCommitment)
            ),
            Cadence.MONTHLY,
        )
        try:
            last_day = period_bounds(period.strip(), cadence)[1] - timedelta(days=1)
        except LeadPactError:
            last_day = workspace.clock.now().date()
        number = version_in_force(records, last_day)
        return workspace.pact if number is None else parse_version(version_text(conn, number))


def report_commitment(pact: Pact, commitment_id: str) -> ReportCommitment:
    found = next((c for c in pact.commitments if c.id == commitment_id), None)
    if isinstance(found, ReportCommitment):
        return found
    reports = [c.id for c in pact.commitments if isinstance(c, ReportCommitment)]
    known = ", ".join(reports) if reports else "none"
    raise NotFoundError(
        f"the pact has no report commitment {commitment_id!r}; its report commitments: {known}"
    )


def provider_zone(pact: Pact, c: ReportCommitment) -> str:
    for team in pact.teams.values():
        if team.party == c.provider:
            return pact.calendars[team.calendar].timezone
    return "UTC"
