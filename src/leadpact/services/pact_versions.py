"""Versions of the agreement and their approvals: commit, log, diff, approve, in force, status.

A recorded version is the pact file's text with its SHA-256, a message and an optional
effective date (table `pact_versions`); approvals are one row per party (`approvals`); a
report commitment's delivery is logged in `audit` (action `report_logged`). The rules of which
version is in force live in `core.governance`; this module reads and writes the rows, takes
"now" from the workspace clock, and measures the monthly figures that consequences and
cancellation conditions are checked against (a small query here; months are UTC months).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from leadpact.core.governance import (
    Approval,
    Change,
    ConditionCheck,
    PeriodFigure,
    ReportCheck,
    ReportState,
    VersionRecord,
    VersionState,
    check_approval,
    check_conditions,
    check_report,
    complete_periods,
    diff_pacts,
    goal_target,
    next_review,
    period_bounds,
    validity,
    version_in_force,
    version_state,
)
from leadpact.core.pact import Cadence, Pact, ReportCommitment
from leadpact.errors import ConflictError, LeadPactError, NotFoundError

if TYPE_CHECKING:
    from sqlalchemy import Connection

    from leadpact.services.workspace import Workspace

REPORT_LOGGED = "report_logged"
#: Complete months of figures that `pact_status` shows (at least each rule's N).
STATUS_MONTHS = 3
#: Stage ids that goal metrics count entries into.
_METRIC_STAGES = {"mqls": "mql", "sqls": "sql", "meetings": "meeting"}


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


@dataclass(frozen=True)
class PactStatus:
    """The governance dashboard: version in force, approvals, validity, reviews, conditions."""

    on: date
    version: int | None
    in_force_since: date | None
    versions_pending: tuple[VersionSummary, ...]
    valid_from: date
    valid_until: date | None
    validity: str
    review_cadence: str
    last_review: date
    next_review: date
    review_overdue: bool
    conditions: tuple[ConditionCheck, ...]
    reports: tuple[ReportCheck, ...] = field(default_factory=tuple)


# --------------------------------------------------------------------------- versions


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
            latest = _latest(conn)
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
    changes = () if latest is None else tuple(diff_pacts(_parse(latest["text"]), pact))
    return CommitResult(number, created=True, changes=changes)


def list_versions(workspace: Workspace) -> list[VersionSummary]:
    """Every recorded version, oldest first, with its approvals and state today."""
    with workspace.engine.connect() as conn:
        rows, records = _records(conn)
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


def get_version(workspace: Workspace, number: int) -> tuple[VersionSummary, Pact]:
    """One recorded version and its agreement.

    Raises:
        NotFoundError: there is no such version.
    """
    summaries = {v.number: v for v in list_versions(workspace)}
    if number not in summaries:
        raise NotFoundError(_no_version(number, list(summaries)))
    with workspace.engine.connect() as conn:
        return summaries[number], _parse(_text(conn, number))


def diff_versions(workspace: Workspace, old: int, new: int) -> list[Change]:
    """What changed in the agreement from version `old` to version `new`.

    Raises:
        NotFoundError: either version does not exist.
    """
    with workspace.engine.connect() as conn:
        return diff_pacts(_parse(_text(conn, old)), _parse(_text(conn, new)))


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
            _, records = _records(conn)
            record = next((r for r in records if r.number == number), None)
            if record is None:
                raise NotFoundError(_no_version(number, [r.number for r in records]))
            newer = [r.number for r in records if r.number > number and r.takes_effect_on()]
            if newer:
                raise ConflictError(
                    f"version {number} is superseded: version {max(newer)} is already approved "
                    "by every party"
                )
            party_id = check_approval(_parse(_text(conn, number)), record, party, by)
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
        _, records = _records(conn)
        number = version_in_force(records, on)
        if number is None:
            raise NotFoundError(_none_in_force(records))
        return number, _parse(_text(conn, number))


# --------------------------------------------------------------------------- report commitments


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
    commitment = _report_commitment(pact, commitment_id)
    label = period.strip()
    period_bounds(label, commitment.every)  # raises CalendarError on a bad label
    with workspace.transaction() as conn:
        earlier = _report_logs(conn, commitment_id).get(label)
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
        commitment, label, logged_at, now=now, timezone=_provider_zone(pact, commitment)
    )


# --------------------------------------------------------------------------- status


def pact_status(workspace: Workspace) -> PactStatus:
    """Where the agreement stands today: version, approvals, validity, reviews, conditions.

    Conditions are checked on the complete months before today (at least as many as each
    rule needs), each month against the targets of the version in force on its last day.
    Report commitments show their last three periods.
    """
    now = workspace.clock.now()
    today = now.date()
    with workspace.engine.connect() as conn:
        _, records = _records(conn)
        number = version_in_force(records, today)
        pact = workspace.pact if number is None else _parse(_text(conn, number))
        needed = max(
            [STATUS_MONTHS]
            + [c.when.missed_periods for c in pact.governance.consequences]
            + [c.when.missed_periods for c in pact.governance.cancellation]
        )
        months = complete_periods(today, Cadence.MONTHLY, needed)
        figures = _monthly_figures(conn, workspace, records, pact, months, now)
        reports = _report_checks(conn, pact, now)
    summaries = {s.number: s for s in list_versions(workspace)}
    pending = tuple(
        summaries[r.number]
        for r in records
        if summaries[r.number].state in (VersionState.PENDING, VersionState.SCHEDULED)
        and (number is None or r.number > number)
    )
    since = None if number is None else summaries[number].takes_effect_on
    g = pact.governance
    following = next_review(g.review)
    return PactStatus(
        on=today,
        version=number,
        in_force_since=since,
        versions_pending=pending,
        valid_from=g.valid_from,
        valid_until=g.valid_until,
        validity=validity(g, today),
        review_cadence=g.review.cadence,
        last_review=g.review.last,
        next_review=following,
        review_overdue=following < today,
        conditions=tuple(check_conditions(g, figures)),
        reports=tuple(reports),
    )


def _monthly_figures(
    conn: Connection,
    workspace: Workspace,
    records: Sequence[VersionRecord],
    today_pact: Pact,
    months: list[str],
    now: datetime,
) -> dict[str, list[PeriodFigure]]:
    goals = {c.when.goal for c in today_pact.governance.consequences}
    goals |= {c.when.goal for c in today_pact.governance.cancellation}
    out: dict[str, list[PeriodFigure]] = {goal: [] for goal in sorted(goals)}
    for label in months:
        start, end = period_bounds(label, Cadence.MONTHLY)
        number = version_in_force(records, end - timedelta(days=1))
        pact = workspace.pact if number is None else _parse(_text(conn, number))
        for goal in out:
            target = goal_target(pact, goal, start)
            actual = None
            if target is not None:
                actual = _actual(conn, pact, goal, target.metric, label, start, end, now)
            out[goal].append(PeriodFigure(label, actual, None if target is None else target.value))
    return out


def _actual(
    conn: Connection,
    pact: Pact,
    goal: str,
    metric: str,
    label: str,
    start: date,
    end: date,
    now: datetime,
) -> float | None:
    if metric == "report":
        commitment = _report_commitment(pact, goal)
        check = _report_check(conn, pact, commitment, label, now)
        return None if check is None else float(check.met)
    if metric == "acceptance_rate":
        return _ratio(_entries(conn, "sal", start, end), _entries(conn, "mql", start, end))
    if metric == "mql_to_sql_rate":
        return _ratio(_entries(conn, "sql", start, end), _entries(conn, "mql", start, end))
    if metric == "sql_to_won_rate":
        return _ratio(_won(conn, start, end)[0], _entries(conn, "sql", start, end))
    if metric == "leads":
        return float(_created(conn, start, end))
    if metric == "customers":
        return float(_won(conn, start, end)[0])
    if metric == "revenue":
        return _won(conn, start, end)[1]
    stage = _METRIC_STAGES.get(metric)
    if stage is None or stage not in {s.id for s in pact.stages}:
        return None  # value goals are measured by the analytics layer, not here
    return float(_entries(conn, stage, start, end))


def _ratio(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def _bounds(start: date, end: date) -> tuple[datetime, datetime]:
    return datetime.combine(start, time(), tzinfo=UTC), datetime.combine(end, time(), tzinfo=UTC)


def _entries(conn: Connection, stage: str, start: date, end: date) -> int:
    from sqlalchemy import func, select

    from leadpact.store import tables

    t = tables.stage_changes
    low, high = _bounds(start, end)
    query = select(func.count(func.distinct(t.c.lead_id))).where(
        t.c.to_stage == stage, t.c.at >= low, t.c.at < high
    )
    return int(conn.execute(query).scalar_one())


def _created(conn: Connection, start: date, end: date) -> int:
    from sqlalchemy import func, select

    from leadpact.store import tables

    t = tables.leads
    low, high = _bounds(start, end)
    query = select(func.count()).where(t.c.created_at >= low, t.c.created_at < high)
    return int(conn.execute(query).scalar_one())


def _won(conn: Connection, start: date, end: date) -> tuple[int, float]:
    from sqlalchemy import func, select, true

    from leadpact.store import tables

    t = tables.deals
    low, high = _bounds(start, end)
    query = select(func.count(), func.coalesce(func.sum(t.c.amount), 0.0)).where(
        t.c.won == true(), t.c.closed_at >= low, t.c.closed_at < high
    )
    count, revenue = conn.execute(query).one()
    return int(count), float(revenue)


def _report_checks(conn: Connection, pact: Pact, now: datetime) -> list[ReportCheck]:
    checks = []
    for c in pact.commitments:
        if isinstance(c, ReportCommitment):
            for label in complete_periods(now.date(), c.every, STATUS_MONTHS):
                check = _report_check(conn, pact, c, label, now)
                if check is not None:
                    checks.append(check)
    return checks


def _report_check(
    conn: Connection, pact: Pact, c: ReportCommitment, label: str, now: datetime
) -> ReportCheck | None:
    """The report's verdict for a period; None while it is pending (not logged, not due)."""
    logged = _report_logs(conn, c.id).get(label)
    check = check_report(c, label, logged, now=now, timezone=_provider_zone(pact, c))
    return None if check.state is ReportState.PENDING else check


def _report_logs(conn: Connection, commitment_id: str) -> dict[str, datetime]:
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
        _, records = _records(conn)
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
        return workspace.pact if number is None else _parse(_text(conn, number))


def _report_commitment(pact: Pact, commitment_id: str) -> ReportCommitment:
    found = next((c for c in pact.commitments if c.id == commitment_id), None)
    if isinstance(found, ReportCommitment):
        return found
    reports = [c.id for c in pact.commitments if isinstance(c, ReportCommitment)]
    known = ", ".join(reports) if reports else "none"
    raise NotFoundError(
        f"the pact has no report commitment {commitment_id!r}; its report commitments: {known}"
    )


def _provider_zone(pact: Pact, c: ReportCommitment) -> str:
    for team in pact.teams.values():
        if team.party == c.provider:
            return pact.calendars[team.calendar].timezone
    return "UTC"


# --------------------------------------------------------------------------- rows


def _latest(conn: Connection) -> dict[str, Any] | None:
    from sqlalchemy import select

    from leadpact.store import tables

    t = tables.pact_versions
    row = conn.execute(select(t).order_by(t.c.number.desc()).limit(1)).first()
    return None if row is None else dict(row._mapping)


def _records(conn: Connection) -> tuple[list[dict[str, Any]], list[VersionRecord]]:
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
            tuple(_parse(row["text"]).parties),
            tuple(approvals.get(row["number"], ())),
            date.fromisoformat(row["effective_on"]) if row["effective_on"] else None,
        )
        for row in rows
    ]
    return rows, records


def _text(conn: Connection, number: int) -> str:
    from sqlalchemy import select

    from leadpact.store import tables

    t = tables.pact_versions
    text = conn.execute(select(t.c.text).where(t.c.number == number)).scalar_one_or_none()
    if text is None:
        numbers = list(conn.execute(select(t.c.number).order_by(t.c.number)).scalars())
        raise NotFoundError(_no_version(number, numbers))
    return str(text)


@lru_cache(maxsize=32)
def _parse(text: str) -> Pact:
    from leadpact.pact_file import parse_pact

    return parse_pact(text, "<recorded version>")


def _no_version(number: int, known: list[int]) -> str:
    if not known:
        return f"there is no version {number}: no version is recorded yet (leadpact pact commit)"
    return f"there is no version {number}; versions recorded: {known[0]} to {known[-1]}"


def _none_in_force(records: Sequence[VersionRecord]) -> str:
    if not records:
        return "no version of the pact is recorded yet; record one with leadpact pact commit"
    waiting = ", ".join(f"{r.number} (waiting for {', '.join(r.pending())})" for r in records)
    return f"no version of the pact is approved by every party yet; versions: {waiting}"
