"""Where the agreement stands today (`pact_status`): version in force, versions waiting for
approval, validity, reviews, and the consequence, cancellation and report checks of the last
complete months.

The monthly figures that conditions are checked against are measured here (a small query;
months are UTC months), each month against the targets of the version in force on its last day.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING

from leadpact.core.consequences import ConditionCheck, PeriodFigure, check_conditions, goal_target
from leadpact.core.governance_dates import (
    ReportCheck,
    complete_periods,
    next_review,
    period_bounds,
    validity,
)
from leadpact.core.pact import Cadence, Pact, ReportCommitment
from leadpact.core.versions import (
    VersionRecord,
    VersionState,
    version_in_force,
)
from leadpact.services.pact_records import (
    VersionSummary,
    list_versions,
    parse_version,
    version_records,
    version_text,
)
from leadpact.services.pact_reports import (
    report_check,
    report_commitment,
)

if TYPE_CHECKING:
    from sqlalchemy import Connection

    from leadpact.services.workspace import Workspace

__all__ = [
    "STATUS_MONTHS",
    "PactStatus",
    "pact_status",
]

#: Complete months of figures that `pact_status` shows (at least each rule's N).
STATUS_MONTHS = 3
#: Stage ids that goal metrics count entries into.
_METRIC_STAGES = {"mqls": "mql", "sqls": "sql", "meetings": "meeting"}


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


def pact_status(workspace: Workspace) -> PactStatus:
    """Where the agreement stands today: version, approvals, validity, reviews, conditions.

    Conditions are checked on the complete months before today (at least as many as each
    rule needs), each month against the targets of the version in force on its last day.
    Report commitments show their last three periods.
    """
    now = workspace.clock.now()
    today = now.date()
    with workspace.engine.connect() as conn:
        _, records = version_records(conn)
        number = version_in_force(records, today)
        pact = workspace.pact if number is None else parse_version(version_text(conn, number))
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
        pact = workspace.pact if number is None else parse_version(version_text(conn, number))
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
        commitment = report_commitment(pact, goal)
        check = report_check(conn, pact, commitment, label, now)
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
                check = report_check(conn, pact, c, label, now)
                if check is not None:
                    checks.append(check)
    return checks
