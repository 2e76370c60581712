"""SLA clocks: compliance per commitment and the breaches (twins: /api/clocks, /api/breaches)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from leadpact.services.sla import overdue_by, sla_breaches, sla_compliance
from leadpact.web.deps import AsOf, require, workspace
from leadpact.web.pages._render import render
from leadpact.web.security import Permission, Principal

router = APIRouter(include_in_schema=False)


@router.get("/sla")
def sla(
    request: Request,
    _who: Annotated[Principal, Depends(require(Permission.READ))],
    as_of: AsOf = None,
    limit: Annotated[int, Query(ge=1, le=5000)] = 200,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> Response:
    """The SLA page."""
    ws = workspace(request)
    now = as_of or ws.clock.now()
    breaches = sla_breaches(ws, now)
    commitments = {c.id: c for c in ws.pact.commitments}
    return render(
        request,
        "sla.html",
        {
            "as_of": now,
            "compliance": sla_compliance(ws, now),
            "commitments": commitments,
            "breaches": [(b, overdue_by(b, now)) for b in breaches[offset : offset + limit]],
            "total": len(breaches),
            "limit": limit,
            "offset": offset,
        },
    )
