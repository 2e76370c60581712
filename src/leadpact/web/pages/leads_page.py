"""The lead list and the lead page, with its actions as forms (twin: /api/leads)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import Response

from leadpact.errors import LeadPactError
from leadpact.services import lead_actions
from leadpact.services.lead_views import MAX_PAGE, lead_page, search_leads
from leadpact.web.deps import AsOf, csrf_protect, require, workspace
from leadpact.web.pages._render import flash, redirect, render
from leadpact.web.security import Permission, Principal

router = APIRouter(include_in_schema=False)
Reader = Annotated[Principal, Depends(require(Permission.READ))]
Actor = Annotated[Principal, Depends(require(Permission.WORK_LEADS))]
Mover = Annotated[Principal, Depends(require(Permission.MOVE_LEADS))]
Csrf = [Depends(csrf_protect)]


@router.get("/leads")
def leads(
    request: Request,
    _who: Reader,
    q: str | None = None,
    stage: str | None = None,
    owner: str | None = None,
    priority: Annotated[str | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> Response:
    """The lead list with filters."""
    ws = workspace(request)
    level = int(priority) if priority and priority.isdigit() else None
    page = search_leads(
        ws,
        q=q,
        stage=stage or None,
        owner=owner or None,
        priority=level,
        limit=limit,
        offset=offset,
    )
    return render(
        request,
        "leads.html",
        {
            "page": page,
            "stages": ws.pact.stages,
            "q": q or "",
            "stage": stage or "",
            "owner": owner or "",
            "priority": priority or "",
        },
    )


@router.get("/leads/{lead_id}")
def lead(request: Request, lead_id: str, who: Reader, as_of: AsOf = None) -> Response:
    """One lead: facts, score explained, clocks, timeline, and what may be done."""
    page = lead_page(workspace(request), lead_id, as_of)
    return render(
        request,
        "lead.html",
        {
            "page": page,
            "lead": page.detail.lead,
            "can_work": who.can(Permission.WORK_LEADS),
            "can_move": who.can(Permission.MOVE_LEADS),
        },
    )


def _act(request: Request, lead_id: str, action: Callable[[], str]) -> Response:
    """Run an action; its message (or the error) is shown on the lead page."""
    try:
        flash(request, action())
    except LeadPactError as err:
        if isinstance(err, lead_actions_errors()):
            raise
        flash(request, str(err), "error")
    return redirect(f"/leads/{quote(lead_id, safe='')}")


def lead_actions_errors() -> tuple[type[LeadPactError], ...]:
    """Errors that are not the user's input on this page: shown as an error page."""
    from leadpact.errors import NotFoundError
    from leadpact.web.security import ForbiddenError

    return (NotFoundError, ForbiddenError)


@router.post("/leads/{lead_id}/touches", dependencies=Csrf)
def log_touch(
    request: Request,
    lead_id: str,
    who: Actor,
    channel: Annotated[str, Form()],
    outcome: Annotated[str, Form()],
    note: Annotated[str, Form()] = "",
) -> Response:
    """Log a touch from the lead page."""

    def action() -> str:
        stored = lead_actions.log_touch(
            workspace(request), lead_id, channel=channel, outcome=outcome, actor=who.name, note=note
        )
        return "Touch logged." if stored else "That touch was already logged."

    return _act(request, lead_id, action)


@router.post("/leads/{lead_id}/accept", dependencies=Csrf)
def accept(request: Request, lead_id: str, who: Actor) -> Response:
    """Accept the MQL."""

    def action() -> str:
        change = lead_actions.accept_mql(workspace(request), lead_id, actor=who.name)
        return f"Accepted: now {lead_actions.stage_name(workspace(request).pact, change.to_stage)}."

    return _act(request, lead_id, action)


@router.post("/leads/{lead_id}/reject", dependencies=Csrf)
def reject(
    request: Request, lead_id: str, who: Actor, reason: Annotated[str, Form()] = ""
) -> Response:
    """Reject the MQL with a reason."""

    def action() -> str:
        lead_actions.reject_mql(workspace(request), lead_id, actor=who.name, reason=reason)
        return "Rejected and sent back to marketing."

    return _act(request, lead_id, action)


@router.post("/leads/{lead_id}/recycle", dependencies=Csrf)
def recycle(
    request: Request, lead_id: str, who: Mover, reason: Annotated[str, Form()] = ""
) -> Response:
    """Recycle the lead to nurture."""

    def action() -> str:
        lead_actions.recycle(workspace(request), lead_id, actor=who.name, reason=reason)
        return "Recycled to nurture."

    return _act(request, lead_id, action)


@router.post("/leads/{lead_id}/disqualify", dependencies=Csrf)
def disqualify(
    request: Request, lead_id: str, who: Mover, reason: Annotated[str, Form()] = ""
) -> Response:
    """Disqualify the lead."""

    def action() -> str:
        lead_actions.disqualify(workspace(request), lead_id, actor=who.name, reason=reason)
        return "Disqualified."

    return _act(request, lead_id, action)
