"""Users and API tokens (admins only): add a user, create or revoke a token."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response

from leadpact.errors import LeadPactError
from leadpact.services.users import (
    Role,
    create_token,
    create_user,
    list_tokens,
    list_users,
    revoke_token,
)
from leadpact.web.deps import csrf_protect, require, workspace
from leadpact.web.pages._render import flash, redirect, render
from leadpact.web.security import PERMISSIONS, Permission, Principal

router = APIRouter(include_in_schema=False)
Admin = Annotated[Principal, Depends(require(Permission.MANAGE_USERS))]
Csrf = [Depends(csrf_protect)]


@router.get("/users")
def users(request: Request, _who: Admin) -> Response:
    """The users page."""
    return _page(request)


def _page(request: Request, secret: dict[str, str] | None = None) -> Response:
    ws = workspace(request)
    return render(
        request,
        "users.html",
        {
            "users": list_users(ws),
            "tokens": list_tokens(ws),
            "roles": list(Role),
            "permissions": PERMISSIONS,
            "all_permissions": list(Permission),
            "new_token": secret,
        },
    )


@router.post("/users", dependencies=Csrf)
def add_user(
    request: Request,
    _who: Admin,
    username: Annotated[str, Form()],
    password: Annotated[str, Form()],
    role: Annotated[str, Form()],
    name: Annotated[str, Form()] = "",
) -> Response:
    """Add a user."""
    try:
        user = create_user(workspace(request), username, password, role, name=name)
        flash(request, f"User {user.username} added as {user.role.value}.")
    except LeadPactError as err:
        flash(request, str(err), "error")
    return redirect("/users")


@router.post("/users/tokens", dependencies=Csrf)
def add_token(
    request: Request,
    _who: Admin,
    name: Annotated[str, Form()],
    role: Annotated[str, Form()],
) -> Response:
    """Create an API token; its secret is shown once."""
    try:
        token, secret = create_token(workspace(request), name, role)
    except LeadPactError as err:
        flash(request, str(err), "error")
        return redirect("/users")
    # Shown in this response only: never kept in the (signed, readable) session cookie.
    return _page(request, {"name": token.name, "secret": secret})


@router.post("/users/tokens/{name}/revoke", dependencies=Csrf)
def revoke(request: Request, name: str, _who: Admin) -> Response:
    """Revoke a token."""
    try:
        revoke_token(workspace(request), name)
        flash(request, f"Token {name} revoked.")
    except LeadPactError as err:
        flash(request, str(err), "error")
    return redirect("/users")
