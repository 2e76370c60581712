"""The goal calculator as JSON (twin of /goals): the pact's plan, or a what-if with changes."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from leadpact.web import planner
from leadpact.web.api.reports import cached_report
from leadpact.web.deps import CurrentPrincipal, app_state

router = APIRouter(prefix="/api", tags=["goals"])


def report_actuals(request: Request) -> dict[str, Any] | None:
    """The actuals the report measured for the re-forecast (None without a goals plan)."""
    goals = cached_report(app_state(request)).get("goals") or {}
    forecast = goals.get("reforecast") or {}
    actuals = forecast.get("actuals")
    return actuals if isinstance(actuals, dict) else None


@router.get("/goals")
def goals(request: Request, _who: CurrentPrincipal) -> dict[str, Any]:
    """The reverse funnel from the quota, capacity, value goal, re-forecast and targets.

    Any query parameter among the calculator's inputs (quota, marketing_share, deal_size,
    close_rate, lead_to_mql, mql_to_sql, sql_to_won, reps, hours_per_rep, minutes_per_lead,
    attempts, periods_elapsed, periods_remaining, revenue, actual_close_rate,
    actual_deal_size) replaces the pact's figure: "what if the close rate were 4 %?".
    """
    given = dict(request.query_params)
    found = planner.plan(app_state(request).workspace.pact, given, report_actuals(request))
    return {"inputs": found.values, **found.result}
