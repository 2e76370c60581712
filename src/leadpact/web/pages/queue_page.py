"""Reps' queues: who has open leads, and one rep's leads with a live countdown (twin:
/api/queue)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from leadpact.services.lead_views import MAX_PAGE, list_owners, rep_queue
from leadpact.web.deps import AsOf, require, workspace
from leadpact.web.pages._render import render
from leadpact.web.security import Permission, Principal

router = APIRouter(include_in_schema=False)
Reader = Annotated[Principal, Depends(require(Permission.READ))]


@router.get("/queue")
def reps(request: Request, who: Reader) -> Response:
    """The reps with open leads."""
    owners = list_owners(workspace(request))
    mine = next((o for o, _ in owners if o in (who.name, who.username)), None)
    return render(request, "queue_index.html", {"owners": owners, "mine": mine})


@router.get("/queue/{owner}")
def rep(
    request: Request,
    owner: str,
    _who: Reader,
    as_of: AsOf = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> Response:
    """One rep's queue, most urgent first."""
    found = rep_queue(workspace(request), owner, as_of, limit=limit, offset=offset)
    return render(request, "queue.html", {"queue": found})
