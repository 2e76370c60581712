"""Leads as JSON: the list, one lead's page, and the actions on a lead (twins of /leads)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request

from leadpact.core.models import StageChange
from leadpact.services import lead_actions
from leadpact.services.lead_views import MAX_PAGE, lead_page, search_leads
from leadpact.web.deps import AsOf, CurrentPrincipal, csrf_protect, require, workspace
from leadpact.web.schemas import (
    DecisionCreate,
    LeadDetailRead,
    LeadListRead,
    StageChangeRead,
    TouchCreate,
    TouchLoggedRead,
    clock_read,
    lead_detail_read,
    lead_read,
)
from leadpact.web.security import Permission, Principal

router = APIRouter(prefix="/api/leads", tags=["leads"])

Actor = Annotated[Principal, Depends(require(Permission.WORK_LEADS))]
Mover = Annotated[Principal, Depends(require(Permission.MOVE_LEADS))]
Csrf = Depends(csrf_protect)


@router.get("", response_model=LeadListRead)
def list_leads(
    request: Request,
    _who: CurrentPrincipal,
    q: Annotated[str | None, Query(description="Text in the id, email, names or company")] = None,
    stage: str | None = None,
    owner: str | None = None,
    priority: int | None = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> LeadListRead:
    """Leads matching the filters, newest first (the twin of /leads)."""
    page = search_leads(
        workspace(request),
        q=q,
        stage=stage,
        owner=owner,
        priority=priority,
        limit=limit,
        offset=offset,
    )
    return LeadListRead(
        leads=[lead_read(row) for row in page.leads],
        total=page.total,
        limit=page.limit,
        offset=page.offset,
    )


@router.get("/{lead_id}", response_model=LeadDetailRead)
def get_lead(
    request: Request, lead_id: str, _who: CurrentPrincipal, as_of: AsOf = None
) -> LeadDetailRead:
    """One lead: facts, score explained, clocks, timeline, deals, allowed actions."""
    return lead_detail_read(lead_page(workspace(request), lead_id, as_of))


@router.post("/{lead_id}/touches", response_model=TouchLoggedRead, dependencies=[Csrf])
def log_touch(
    request: Request, lead_id: str, body: TouchCreate, principal: Actor
) -> TouchLoggedRead:
    """Log a sales touch; the lead's clocks as they stand after it."""
    ws = workspace(request)
    stored = lead_actions.log_touch(
        ws,
        lead_id,
        channel=body.channel,
        outcome=body.outcome,
        actor=principal.name,
        rep=body.rep,
        note=body.note,
        at=body.at,
    )
    page = lead_page(ws, lead_id)
    return TouchLoggedRead(stored=stored, clocks=[clock_read(v.result, v) for v in page.clocks])


@router.post("/{lead_id}/accept", response_model=StageChangeRead, dependencies=[Csrf])
def accept(
    request: Request, lead_id: str, principal: Actor, body: DecisionCreate | None = None
) -> StageChangeRead:
    """Accept a handed-over lead (MQL → the next stage)."""
    reason = body.reason if body else None
    change = lead_actions.accept_mql(
        workspace(request), lead_id, actor=principal.name, reason=reason
    )
    return _change(change)


@router.post("/{lead_id}/reject", response_model=StageChangeRead, dependencies=[Csrf])
def reject(
    request: Request, lead_id: str, body: DecisionCreate, principal: Actor
) -> StageChangeRead:
    """Reject a handed-over lead with one of the pact's reject reasons."""
    change = lead_actions.reject_mql(
        workspace(request), lead_id, actor=principal.name, reason=body.reason or ""
    )
    return _change(change)


@router.post("/{lead_id}/recycle", response_model=StageChangeRead, dependencies=[Csrf])
def recycle(
    request: Request, lead_id: str, body: DecisionCreate, principal: Mover
) -> StageChangeRead:
    """Send a lead back to nurture, with a reason."""
    change = lead_actions.recycle(
        workspace(request), lead_id, actor=principal.name, reason=body.reason or ""
    )
    return _change(change)


@router.post("/{lead_id}/disqualify", response_model=StageChangeRead, dependencies=[Csrf])
def disqualify(
    request: Request, lead_id: str, body: DecisionCreate, principal: Mover
) -> StageChangeRead:
    """Disqualify a lead with one of the pact's disqualify reasons."""
    change = lead_actions.disqualify(
        workspace(request), lead_id, actor=principal.name, reason=body.reason or ""
    )
    return _change(change)


def _change(change: StageChange) -> StageChangeRead:
    return StageChangeRead(
        lead_id=change.lead_id,
        from_stage=change.from_stage,
        to_stage=change.to_stage,
        at=change.at,
        reason=change.reason,
        actor=change.actor,
    )
