"""Rendering helpers shared by the page routers: a template response and flash messages."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import RedirectResponse, Response
from starlette.templating import Jinja2Templates

__all__ = ["flash", "redirect", "render"]


def render(request: Request, template: str, context: dict[str, Any], status: int = 200) -> Response:
    """The page `template` with `context` (plus the layout's: user, CSRF token, flash)."""
    templates: Jinja2Templates = request.app.state.templates
    return templates.TemplateResponse(request, template, context, status_code=status)


def flash(request: Request, text: str, kind: str = "ok") -> None:
    """A one-time message shown on the next page (kind: ok or error)."""
    request.session["flash"] = {"kind": kind, "text": text}


def redirect(url: str) -> RedirectResponse:
    """See-other: after a form post, the browser loads `url` with GET."""
    return RedirectResponse(url, status_code=303)
