"""Logging in and out: the login form, the session, and its CSRF token."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response

from leadpact.services.users import authenticate
from leadpact.web.deps import csrf_protect, csrf_token, optional_principal, workspace
from leadpact.web.pages._render import redirect, render
from leadpact.web.security import check_csrf, new_csrf_token

router = APIRouter(include_in_schema=False)


def _safe_next(target: str | None) -> str:
    """Only local paths: a login link must not send the user to another site."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/"


@router.get("/login")
def login_form(request: Request, next: str | None = None) -> Response:
    """The login page."""
    if optional_principal(request) is not None:
        return redirect(_safe_next(next))
    return render(request, "login.html", {"next": _safe_next(next), "error": None})


@router.post("/login")
def login(
    request: Request,
    username: Annotated[str, Form()],
    password: Annotated[str, Form()],
    csrf: Annotated[str, Form(alias="csrf_token")] = "",
    next: Annotated[str, Form()] = "/",
) -> Response:
    """Check the password, start a fresh session, go where the user was going."""
    check_csrf(request.session.get("csrf"), csrf)
    user = authenticate(workspace(request), username, password)
    if user is None:
        context = {
            "next": _safe_next(next),
            "error": "Wrong username or password.",
            "username": username,
        }
        return render(request, "login.html", context, status=401)
    request.session.clear()  # a new session: no fixation of an old one
    request.session["uid"] = user.id
    request.session["csrf"] = new_csrf_token()
    return redirect(_safe_next(next))


@router.post("/logout", dependencies=[Depends(csrf_protect)])
def logout(request: Request) -> Response:
    """End the session."""
    request.session.clear()
    csrf_token(request)
    return redirect("/login")
