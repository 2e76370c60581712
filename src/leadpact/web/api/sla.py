"""SLA clocks as JSON: compliance per commitment and the breaches (twins of /sla)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request

from leadpact.services.sla import overdue_by, sla_breaches, sla_compliance
from leadpact.web.deps import AsOf, CurrentPrincipal, workspace
from leadpact.web.schemas import BreachesRead, BreachRead, ClocksRead, clock_read, compliance_read

router = APIRouter(prefix="/api", tags=["sla"])


@router.get("/clocks", response_model=ClocksRead)
def clocks(
    request: Request,
    _who: CurrentPrincipal,
    as_of: AsOf = None,
    commitment: str | None = None,
) -> ClocksRead:
    """Every timed commitment's clocks by status, attainment, median and p90 business time."""
    ws = workspace(request)
    now = as_of or ws.clock.now()
    found = sla_compliance(ws, now, commitment)
    return ClocksRead(as_of=now, commitments=[compliance_read(c) for c in found])


@router.get("/breaches", response_model=BreachesRead)
def breaches(
    request: Request,
    _who: CurrentPrincipal,
    as_of: AsOf = None,
    limit: Annotated[int, Query(ge=1, le=5000)] = 200,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> BreachesRead:
    """Breached clocks, the earliest due first."""
    ws = workspace(request)
    now = as_of or ws.clock.now()
    found = sla_breaches(ws, now)
    return BreachesRead(
        as_of=now,
        total=len(found),
        limit=limit,
        offset=offset,
        breaches=[
            BreachRead(
                **clock_read(r).model_dump(), overdue_seconds=overdue_by(r, now).total_seconds()
            )
            for r in found[offset : offset + limit]
        ],
    )
