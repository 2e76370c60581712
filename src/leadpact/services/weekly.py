"""The weekly status use-case: gather the week's report and the agreement's governance status.

`weekly_data` runs the report for one week (`services.reporting.build_report`, period
``week``) and reads where the agreement stands (`services.pact_status.pact_status`: versions
waiting for approval, the next review, report commitments, consequences), both as plain data.
The edges (CLI, web) hand them to `reports.weekly.build_weekly`, which finds the bottleneck
and the improvement (docs/report-outputs.md, "Weekly status"); services never import reports.
"""

from __future__ import annotations

from dataclasses import asdict, replace
from datetime import UTC, date, datetime, timedelta
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Any

from leadpact.errors import LeadPactError

if TYPE_CHECKING:
    from leadpact.services.pact_status import PactStatus
    from leadpact.services.workspace import Workspace

__all__ = ["default_week", "governance_data", "weekly_data"]


def default_week(as_of: datetime) -> date:
    """The Monday of the last complete ISO week before `as_of` (UTC).

    The weekly meeting reviews a finished week: on a Monday morning the week that just began
    has no data yet, and on a Thursday the week before is the last one whose figures are final.

    Example:
        >>> default_week(datetime(2025, 12, 17, 12, 0, tzinfo=UTC))  # a Wednesday
        datetime.date(2025, 12, 8)
    """
    day = as_of.astimezone(UTC).date()
    return day - timedelta(days=day.weekday() + 7)


def weekly_data(
    workspace: Workspace,
    *,
    as_of: datetime | None = None,
    start: date | None = None,
    engine: str | None = None,
    parquet: Path | None = None,
) -> dict[str, Any]:
    """What the weekly status is made of: the report of one week and the governance status.

    Args:
        workspace: the open workspace.
        as_of: what "now" is (default: the workspace's clock); events after it are ignored.
        start: the first day of the week to review (default: `default_week`, the Monday of
            the last complete week).
        engine: as `services.reporting.build_report`.
        parquet: as `services.reporting.build_report`.

    Returns:
        ``{"report": the week's report (docs/report.md), "governance": governance_data(...)}``,
        plain JSON data for `reports.weekly.build_weekly`.

    Raises:
        LeadPactError: as `build_report`, or an `as_of` without a time zone.
    """
    from leadpact.clock import FixedClock
    from leadpact.services.pact_status import pact_status
    from leadpact.services.reporting import build_report

    moment = as_of if as_of is not None else workspace.clock.now()
    if moment.tzinfo is None:
        raise LeadPactError(f"as_of {moment.isoformat()} needs a time zone, e.g. ...Z")
    moment = moment.astimezone(UTC)
    first = start if start is not None else default_week(moment)
    report = build_report(
        workspace, engine=engine, as_of=moment, period="week", start=first, parquet=parquet
    )
    at_moment = replace(workspace, clock=FixedClock(moment))
    status = pact_status(at_moment)
    return {"report": report, "governance": governance_data(workspace, status)}


def governance_data(workspace: Workspace, status: PactStatus) -> dict[str, Any]:
    """The governance status as plain data, with the parties' names, owners and the weekly
    meeting the pact describes."""
    pact = workspace.pact
    data: dict[str, Any] = _plain(asdict(status))
    data["parties"] = {
        pid: {"name": p.name, "owner": p.owner.name} for pid, p in pact.parties.items()
    }
    data["weekly_meeting"] = pact.governance.weekly_status
    data["document_owner"] = pact.governance.document_owner
    return data


def _plain(value: Any) -> Any:
    """Dataclass dicts to JSON values: dates as ISO text, enums as their values."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    return value
