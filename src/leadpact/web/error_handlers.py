"""Errors as responses: one table from error class to HTTP status, one JSON shape, one page.

JSON (the API, `/api/...`, or a client that asks only for JSON) always has the shape
``{"ok": false, "error": str, "errors": [str], "status": int}`` (pinned by a test); pages render
`error.html` with the same message. A page that needs a login redirects to it instead. An
unexpected exception is logged with its traceback and answered with a 500 that shows nothing of
the internals.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from sqlalchemy.exc import OperationalError
from starlette.exceptions import HTTPException

from leadpact.errors import (
    CalendarError,
    ConflictError,
    CsrfError,
    ForbiddenError,
    GoalError,
    InvalidTransitionError,
    LeadPactError,
    NotAuthenticatedError,
    NotFoundError,
    PactError,
    WebhookSignatureError,
)

if TYPE_CHECKING:
    from starlette.templating import Jinja2Templates

__all__ = ["STATUS", "error_body", "install", "status_of", "wants_json"]

log = logging.getLogger("leadpact.web")

#: Error class → HTTP status; the first class in this order that matches wins.
STATUS: tuple[tuple[type[LeadPactError], int], ...] = (
    (NotAuthenticatedError, 401),
    (WebhookSignatureError, 401),
    (CsrfError, 403),
    (ForbiddenError, 403),
    (NotFoundError, 404),
    (InvalidTransitionError, 409),
    (ConflictError, 409),
    (PactError, 422),
    (CalendarError, 422),
    (GoalError, 422),
    (LeadPactError, 422),
)

_TITLES = {
    400: "Bad request",
    401: "Log in needed",
    403: "Not allowed",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    413: "Too large",
    422: "Cannot do that",
    500: "Something went wrong",
    503: "Busy",
}


def status_of(err: LeadPactError) -> int:
    """The HTTP status of a LeadPact error (`STATUS`)."""
    return next(code for cls, code in STATUS if isinstance(err, cls))


def error_body(message: str, status: int, errors: list[str] | None = None) -> dict[str, Any]:
    """The one JSON shape of every error response."""
    return {"ok": False, "error": message, "errors": errors or [message], "status": status}


def wants_json(request: Request) -> bool:
    """JSON for the API and webhooks, and for clients that accept JSON but not HTML."""
    if request.url.path.startswith("/api/") or request.url.path == "/api":
        return True
    accept = request.headers.get("accept", "")
    return "application/json" in accept and "text/html" not in accept


def _respond(
    request: Request, status: int, message: str, errors: list[str] | None = None
) -> Response:
    if wants_json(request):
        headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
        return JSONResponse(error_body(message, status, errors), status, headers=headers)
    templates: Jinja2Templates = request.app.state.templates
    return templates.TemplateResponse(
        request,
        "error.html",
        {
            "status": status,
            "title": _TITLES.get(status, "Error"),
            "message": message,
            "errors": errors if errors and errors != [message] else [],
        },
        status_code=status,
    )


async def _leadpact_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, LeadPactError)
    status = status_of(exc)
    if isinstance(exc, NotAuthenticatedError) and not wants_json(request):
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)
    errors = [str(p) for p in exc.problems] if isinstance(exc, PactError) else None
    return _respond(request, status, str(exc).splitlines()[0] if str(exc) else "error", errors)


async def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    errors = []
    for item in exc.errors():
        where = ".".join(str(part) for part in item.get("loc", ()) if part != "body") or "body"
        errors.append(f"{where}: {item.get('msg', 'invalid')}")
    message = errors[0] if len(errors) == 1 else f"{len(errors)} problems in the request"
    return _respond(request, 422, message, errors)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    message = str(exc.detail) if exc.detail else _TITLES.get(exc.status_code, "error")
    if exc.status_code == 404 and exc.detail == "Not Found":
        message = f"there is no page {request.url.path}"
    response = _respond(request, exc.status_code, message)
    if exc.headers:
        response.headers.update(exc.headers)
    return response


async def _busy(request: Request, exc: Exception) -> Response:
    """SQLite's single writer was busy for longer than the busy timeout (a long rescore or
    import): nothing was written, the client may retry."""
    if "locked" not in str(exc) and "busy" not in str(exc):
        return await _unexpected(request, exc)
    log.warning("database busy on %s %s; answered 503", request.method, request.url.path)
    response = _respond(request, 503, "the database is busy; retry in a moment")
    response.headers["Retry-After"] = "1"
    return response


async def _unexpected(request: Request, exc: Exception) -> Response:
    log.exception("unexpected error on %s %s", request.method, request.url.path, exc_info=exc)
    return _respond(request, 500, "internal error; the server log has the details")


def install(app: FastAPI) -> None:
    """Register the handlers on `app`."""
    app.add_exception_handler(LeadPactError, _leadpact_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(OperationalError, _busy)
    app.add_exception_handler(Exception, _unexpected)
