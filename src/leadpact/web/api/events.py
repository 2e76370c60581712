"""`POST /api/events` (one event or a batch) and the signed HubSpot-style webhook."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from leadpact.errors import LeadPactError
from leadpact.services.events import IngestResult, hubspot_events, ingest
from leadpact.web.deps import app_state, require
from leadpact.web.schemas import EVENT_BODY_SCHEMA, EVENT_MODELS, ErrorRead, IngestRead
from leadpact.web.security import Permission, Principal, verify_webhook

router = APIRouter(prefix="/api", tags=["events"])

_RESPONSES: dict[int | str, dict[str, Any]] = {
    207: {"model": IngestRead, "description": "Some events were set aside; the rest landed."},
    401: {"model": ErrorRead},
    403: {"model": ErrorRead},
    422: {"model": IngestRead, "description": "No event landed (or the body is not events)."},
}
_EVENT_SCHEMA = {
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": EVENT_BODY_SCHEMA}},
    }
}


def _response(result: IngestResult) -> JSONResponse:
    """200 when every event landed, 207 when some did, 422 when none did."""
    data = result.as_dict()
    if not result.errors:
        status, error = 200, None
    elif result.landed:
        status, error = 207, f"{result.rejected} of {result.received} events were set aside"
    else:
        status, error = 422, "no event landed: every one was set aside"
    body = {
        "ok": not result.errors,
        "error": error,
        "errors": [str(e) for e in sorted(result.errors, key=lambda e: e.index)],
        "status": status,
        **data,
    }
    return JSONResponse(body, status_code=status)


@router.post(
    "/events",
    response_model=IngestRead,
    responses=_RESPONSES,
    openapi_extra=_EVENT_SCHEMA,
    summary="Send one event or a batch",
)
def post_events(
    request: Request,
    payload: Annotated[Any, Body()],
    principal: Annotated[Principal, Depends(require(Permission.INGEST))],
) -> JSONResponse:
    """Land canonical records: leads, activities, touches, deals, stage changes, opt-outs.

    The body is one event (an object with a `kind`) or a JSON array of up to 10,000. Each bad
    event is set aside with its index and reason while the good ones land; sending the same
    events again stores nothing twice (see docs/api.md, "Idempotency"). Authenticate with
    `Authorization: Bearer TOKEN`.
    """
    state = app_state(request)
    result = ingest(state.workspace, payload, actor=principal.name)
    _after(request, result)
    return _response(result)


@router.post(
    "/webhooks/hubspot",
    response_model=IngestRead,
    responses={**_RESPONSES, 401: {"model": ErrorRead, "description": "Bad or stale signature"}},
    summary="HubSpot-style signed webhook",
)
async def hubspot_webhook(request: Request) -> JSONResponse:
    """Contact events signed HubSpot's v3 way (`X-HubSpot-Signature-v3`, base64 HMAC-SHA256 of
    method + URI + body + `X-HubSpot-Request-Timestamp` with `LEADPACT_WEBHOOK_SECRET`).

    Deliveries older than five minutes are refused; re-delivered events (same `eventId`) are
    skipped. See docs/web.md, "Webhooks".
    """
    state = app_state(request)
    body = await request.body()
    verify_webhook(
        state.settings.webhook_secret,
        method=request.method,
        uri=str(request.url),
        body=body,
        timestamp=request.headers.get("x-hubspot-request-timestamp"),
        signature=request.headers.get("x-hubspot-signature-v3"),
        now=state.workspace.clock.now(),
    )
    try:
        payload = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise LeadPactError("the body is not JSON: expected an array of HubSpot events") from None
    result = await run_in_threadpool(hubspot_events, state.workspace, payload)
    _after(request, result)
    return _response(result)


def _after(request: Request, result: IngestResult) -> None:
    """Ask for a background rescore when leads or activities changed."""
    state = app_state(request)
    if result.needs_rescore and state.rescorer is not None:
        state.rescorer.request(result.lead_ids)


#: Keep the event models in the OpenAPI components (the request body refers to them).
EVENT_MODEL_NAMES = [model.__name__ for model in EVENT_MODELS]
