"""Reps' queues as JSON: who has open leads, and one rep's queue (twins of /queue)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request

from leadpact.services.lead_views import MAX_PAGE, list_owners, rep_queue
from leadpact.web.deps import AsOf, CurrentPrincipal, workspace
from leadpact.web.schemas import QueueItemRead, QueueRead, RepRead, clock_read

router = APIRouter(prefix="/api/queue", tags=["queue"])


@router.get("", response_model=list[RepRead])
def reps(request: Request, _who: CurrentPrincipal) -> list[RepRead]:
    """The reps who own open leads, with how many each has."""
    return [RepRead(owner=o, open_leads=n) for o, n in list_owners(workspace(request))]


@router.get("/{owner}", response_model=QueueRead)
def rep(
    request: Request,
    owner: str,
    _who: CurrentPrincipal,
    as_of: AsOf = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> QueueRead:
    """A rep's open leads in priority order, each with its most urgent running clock."""
    found = rep_queue(workspace(request), owner, as_of, limit=limit, offset=offset)
    return QueueRead(
        owner=found.owner,
        as_of=found.as_of,
        total=found.total,
        limit=found.limit,
        offset=found.offset,
        items=[
            QueueItemRead(
                lead_id=e.lead.id,
                name=" ".join(p for p in (e.lead.first_name, e.lead.last_name) if p) or None,
                company=e.lead.company,
                owner=e.lead.owner,
                team=e.lead.team,
                stage=e.lead.stage,
                priority=e.lead.priority,
                clock=None if e.clock is None else clock_read(e.clock.result, e.clock),
            )
            for e in found.entries
        ],
    )
