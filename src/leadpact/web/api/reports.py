"""The report as JSON (twin of the overview page), computed once a minute per period."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request

from leadpact.services.reporting import build_report
from leadpact.web.deps import CurrentPrincipal, app_state
from leadpact.web.state import AppState

router = APIRouter(prefix="/api", tags=["reports"])

Period = Literal["day", "week", "month", "quarter"]


def cached_report(
    state: AppState, period: str = "month", start: date | None = None
) -> dict[str, Any]:
    """The workspace's report for (period, start), at most `REPORT_TTL` seconds old."""
    report: dict[str, Any] = state.reports.get(
        (period, start), lambda: build_report(state.workspace, period=period, start=start)
    )
    return report


@router.get("/reports")
def report(
    request: Request,
    _who: CurrentPrincipal,
    period: Annotated[Period, Query(description="Report period and trend bucket")] = "month",
    start: Annotated[date | None, Query(description="First day of the report period")] = None,
) -> dict[str, Any]:
    """Every metric of the workspace: funnel, waterfall, speed, depth, aging, KPIs,
    commitments, goals, reps and data quality (docs/report.md has the contract)."""
    return cached_report(app_state(request), period, start)
