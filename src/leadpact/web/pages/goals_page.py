"""The goal calculator and the re-forecast, interactive (twin: /api/goals)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from leadpact.errors import GoalError
from leadpact.web import planner
from leadpact.web.api.goals import report_actuals
from leadpact.web.deps import app_state, require
from leadpact.web.pages._render import render
from leadpact.web.security import Permission, Principal

router = APIRouter(include_in_schema=False)


@router.get("/goals")
def goals(
    request: Request, _who: Annotated[Principal, Depends(require(Permission.READ))]
) -> Response:
    """The calculator: the form is a GET, so a what-if is a link to share."""
    pact = app_state(request).workspace.pact
    actuals = report_actuals(request)
    given = {k: v for k, v in request.query_params.items() if k in planner.ALL_FIELDS}
    error = None
    try:
        found = planner.plan(pact, given, actuals)
    except GoalError as err:
        error = str(err)
        found = planner.plan(pact, {}, actuals)
        found.values.update(given)
    return render(
        request,
        "goals.html",
        {
            "plan": found,
            "result": found.result,
            "values": found.values,
            "error": error,
            "changed": sorted(given),
            "currency": pact.currency,
        },
        status=422 if error else 200,
    )
