"""Request dependencies: the app state and workspace, who is asking, permissions, CSRF, `as_of`.

Who is asking: a bearer token (`Authorization: Bearer ...`, `services.users.verify_token`) or
the logged-in user of the session cookie (looked up on every request, so a disabled user is out
at once). `require(permission)` is the dependency routes declare; state-changing routes with a
session also declare `csrf_protect`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Annotated, cast

from fastapi import Depends, Query, Request
from starlette.concurrency import run_in_threadpool

from leadpact.errors import LeadPactError, NotFoundError
from leadpact.services.users import get_user, verify_token
from leadpact.services.workspace import Workspace
from leadpact.web.security import (
    NotAuthenticatedError,
    Permission,
    Principal,
    check_csrf,
    new_csrf_token,
)
from leadpact.web.state import AppState

__all__ = [
    "AsOf",
    "CurrentPrincipal",
    "app_state",
    "csrf_protect",
    "csrf_token",
    "current_principal",
    "optional_principal",
    "parse_as_of",
    "require",
    "workspace",
]


_UNSET = object()


def app_state(request: Request) -> AppState:
    """The running app's state."""
    state: AppState = request.app.state.leadpact
    return state


def workspace(request: Request) -> Workspace:
    """The open workspace."""
    return app_state(request).workspace


def csrf_token(request: Request) -> str:
    """The session's CSRF token, created on first use."""
    token = request.session.get("csrf")
    if not isinstance(token, str) or not token:
        token = new_csrf_token()
        request.session["csrf"] = token
    return token


def optional_principal(request: Request) -> Principal | None:
    """Who is asking, or None (no token, no session, or a disabled user)."""
    cached = getattr(request.state, "principal", _UNSET)
    if cached is not _UNSET:
        return cast("Principal | None", cached)
    ws = workspace(request)
    found: Principal | None = None
    header = request.headers.get("authorization", "")
    scheme, _, credentials = header.partition(" ")
    if header:
        if scheme.lower() != "bearer" or not credentials.strip():
            raise NotAuthenticatedError("expected the header Authorization: Bearer TOKEN")
        token = verify_token(ws, credentials)
        if token is None:
            raise NotAuthenticatedError("this token is unknown or was revoked")
        found = Principal(token.name, token.role, "token")
    else:
        user_id = request.session.get("uid")
        if isinstance(user_id, int):
            try:
                user = get_user(ws, user_id)
            except NotFoundError:
                user = None
            if user is not None and user.disabled_at is None:
                found = Principal(user.display_name, user.role, "session", user.id, user.username)
            else:
                request.session.clear()
    request.state.principal = found
    return found


def current_principal(request: Request) -> Principal:
    """Who is asking; 401 (pages: a redirect to the login) when nobody is."""
    found = optional_principal(request)
    if found is None:
        raise NotAuthenticatedError("log in first, or send Authorization: Bearer TOKEN")
    return found


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]


def require(permission: Permission) -> Callable[[Request], Principal]:
    """A dependency: the principal, if its role allows `permission` (else 401 or 403)."""

    def dependency(request: Request) -> Principal:
        principal = current_principal(request)
        principal.require(permission)
        return principal

    return dependency


async def csrf_protect(request: Request) -> None:
    """Refuse a state-changing request made with the session cookie but without its CSRF token.

    Requests authenticated by a bearer token are exempt (a browser never adds one by itself).
    """
    await run_in_threadpool(current_principal, request)  # 401 before 403
    if request.headers.get("authorization"):
        return
    given = request.headers.get("x-csrf-token")
    if given is None:
        content_type = request.headers.get("content-type", "")
        if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
            form = await request.form()
            value = form.get("csrf_token")
            given = value if isinstance(value, str) else None
    await run_in_threadpool(check_csrf, request.session.get("csrf"), given)


def parse_as_of(value: str | None) -> datetime | None:
    """An `as_of` query value (ISO 8601 with a time zone) as UTC.

    Raises:
        LeadPactError: not ISO 8601, or no time zone.
    """
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        instant = datetime.fromisoformat(text.replace(" ", "+"))
    except ValueError:
        raise LeadPactError(
            f"as_of: {value!r} is not an ISO 8601 instant (e.g. 2025-03-07T14:30:00Z)"
        ) from None
    if instant.tzinfo is None:
        raise LeadPactError(f"as_of: {value!r} has no time zone; add one, e.g. {text}Z")
    return instant.astimezone(UTC)


def _as_of(
    as_of: Annotated[
        str | None,
        Query(description="Answer as if now were this instant (ISO 8601 with a time zone)."),
    ] = None,
) -> datetime | None:
    return parse_as_of(as_of)


AsOf = Annotated[datetime | None, Depends(_as_of)]

#: Type of the async CSRF dependency (for routers that list it).
CsrfCheck = Callable[[Request], Awaitable[None]]
