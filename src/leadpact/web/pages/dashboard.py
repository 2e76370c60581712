"""The overview: KPI tiles, the waterfall, speed and depth against targets, breaches now,
reviews due (twin: /api/reports)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from leadpact.services.pact_versions import pact_status
from leadpact.services.sla import overdue_by, sla_breaches
from leadpact.web.api.reports import cached_report
from leadpact.web.deps import app_state, require
from leadpact.web.pages._render import render
from leadpact.web.security import Permission, Principal
from leadpact.web.state import AppState

router = APIRouter(include_in_schema=False)

#: The charts the overview shows, in reading order (specs from `reports.charts`).
OVERVIEW_CHARTS = ("waterfall", "speed", "depth", "funnel")
#: Breaches listed on the overview (the SLA page lists them all).
BREACHES_SHOWN = 10


def chart_specs(state: AppState, period: str = "month") -> dict[str, Any]:
    """The overview's Vega-Lite specs, made once per cached report (none without
    `reports.charts`)."""
    try:
        from leadpact.reports.charts import chart
    except ModuleNotFoundError as err:  # pragma: no cover - reports.charts is being written
        if err.name != "leadpact.reports.charts":
            raise
        return {}

    def compute() -> dict[str, Any]:
        report = cached_report(state, period)
        return {name: chart(report, name) for name in OVERVIEW_CHARTS}

    specs: dict[str, Any] = state.reports.get(("charts", period), compute)
    return specs


@router.get("/")
def overview(
    request: Request, _who: Annotated[Principal, Depends(require(Permission.READ))]
) -> Response:
    """The overview page."""
    state = app_state(request)
    ws = state.workspace
    report = cached_report(state)
    now = ws.clock.now()
    breaches = sla_breaches(ws, now)
    status = pact_status(ws)
    return render(
        request,
        "overview.html",
        {
            "report": report,
            "kpis": report.get("kpis", []),
            "charts": chart_specs(state),
            "breaches": [(b, overdue_by(b, now)) for b in breaches[:BREACHES_SHOWN]],
            "breach_count": len(breaches),
            "status": status,
        },
    )
