"""The web app: `create_app` wires the workspace, routers, templates, static files and errors.

One process serves the pages, their JSON twins and the API, and (unless told not to) runs the
SLA alert scheduler: the lifespan hook calls `leadpact.web.scheduler.start(state)` and
`stop(state)` with the app's `AppState` when that module is installed. `leadpact serve` runs
`serve_app` under uvicorn (the CLI names it by import string: `cli` and `web` are independent
layers). The Vega JavaScript is served from the installed vl-convert package (`/vendor/vega.js`):
no CDN, the dashboard works offline.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from types import ModuleType
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import Response
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, FileSystemLoader
from starlette.middleware.sessions import SessionMiddleware
from starlette.templating import Jinja2Templates

from leadpact import __version__
from leadpact.clock import Clock
from leadpact.services.events import rescore_workspace
from leadpact.services.workspace import open_workspace
from leadpact.settings import Settings, load_settings
from leadpact.web import error_handlers, formatting
from leadpact.web.deps import csrf_token, optional_principal
from leadpact.web.security import session_key
from leadpact.web.state import AppState, Rescorer

__all__ = ["create_app", "serve_app"]

log = logging.getLogger("leadpact.web")

HERE = Path(__file__).resolve().parent
#: How long a login session lasts without a new login.
SESSION_AGE = 12 * 3600


def create_app(
    settings: Settings | None = None,
    workspace_dir: Path | None = None,
    *,
    start_scheduler: bool = True,
    clock: Clock | None = None,
    rescore_interval: float = 60.0,
    background_rescore: bool = True,
) -> FastAPI:
    """Build the web app over the workspace in `workspace_dir`.

    Args:
        settings: runtime settings; default: `LEADPACT_*` variables and `.env` files.
        workspace_dir: the workspace folder; default: `settings.workspace`.
        start_scheduler: run the SLA alert scheduler in the app's lifespan (when the
            `leadpact.web.scheduler` module is installed and `settings.scheduler` is on).
        clock: what "now" is (tests); default: the system clock.
        rescore_interval: least seconds between two background rescores after events.
        background_rescore: rescore in a background thread after events changed leads or
            activities (off: scores change only when something else rescores).

    Raises:
        LeadPactError: the workspace cannot be opened (no pact.yaml, a bad database URL...).
        PactError: the workspace's pact.yaml is invalid.
    """
    directory = (
        workspace_dir if workspace_dir is not None else (settings or load_settings()).workspace
    )
    settings = settings if settings is not None else load_settings(directory)
    workspace = open_workspace(directory, settings=settings, clock=clock)
    state = AppState(settings=settings, workspace=workspace)
    if background_rescore:
        state.rescorer = Rescorer(lambda ids: _rescore(state, ids), rescore_interval)
    scheduler = _scheduler() if start_scheduler and settings.scheduler else None

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if state.rescorer is not None:
            state.rescorer.start()
        if scheduler is not None:
            scheduler.start(state)
        try:
            yield
        finally:
            if scheduler is not None:
                scheduler.stop(state)
            if state.rescorer is not None:
                state.rescorer.stop()
            workspace.close()

    app = FastAPI(
        title="LeadPact",
        version=__version__,
        description=(
            "The sales & marketing SLA, run as software: events in, SLA clocks, queues, "
            "reports and the agreement out. Every page has a JSON twin under /api. "
            "Authenticate with `Authorization: Bearer TOKEN` (`leadpact token create`)."
        ),
        lifespan=lifespan,
        docs_url="/api/docs",
        redoc_url=None,
        openapi_url="/openapi.json",
    )
    app.state.leadpact = state
    app.state.templates = _templates()
    app.add_middleware(
        SessionMiddleware,
        secret_key=session_key(settings.session_secret, directory),
        session_cookie="leadpact_session",
        max_age=SESSION_AGE,
        same_site="lax",
    )
    error_handlers.install(app)
    _routes(app)
    _openapi(app)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    return app


def serve_app() -> FastAPI:
    """The app `leadpact serve` runs (a uvicorn factory): settings from the environment."""
    settings = load_settings()
    settings = load_settings(settings.workspace)
    return create_app(settings, settings.workspace)


def _scheduler() -> ModuleType | None:
    """`leadpact.web.scheduler` if it is installed (it is written beside this app)."""
    try:
        return importlib.import_module("leadpact.web.scheduler")
    except ModuleNotFoundError as err:
        if err.name == "leadpact.web.scheduler":
            return None
        raise


def _rescore(state: AppState, lead_ids: set[str] | None) -> None:
    summary = rescore_workspace(state.workspace, lead_ids)
    state.reports.clear()
    log.info("rescored %d leads (%d moved)", summary.leads, summary.moved)


def _templates() -> Jinja2Templates:
    env = Environment(
        loader=FileSystemLoader(HERE / "templates"),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(formatting.FILTERS)
    templates = Jinja2Templates(env=env)
    templates.env.globals["version"] = __version__
    templates.context_processors.append(_page_context)
    return templates


def _page_context(request: Request) -> dict[str, Any]:
    """What every page's layout needs: who is logged in, the CSRF token, the company name."""
    state: AppState = request.app.state.leadpact
    try:
        principal = optional_principal(request)
    except Exception:  # a bad token on an error page: show the page without a user
        principal = None
    flash = request.session.pop("flash", None) if "session" in request.scope else None
    return {
        "principal": principal,
        "csrf_token": csrf_token(request) if "session" in request.scope else "",
        "company": state.workspace.pact.company,
        "flash": flash,
        "now": state.workspace.clock.now(),
    }


@lru_cache(maxsize=1)
def vega_bundle() -> str:
    """Vega, Vega-Lite and vega-embed as one script (from vl-convert; about 0.9 MB)."""
    import vl_convert as vlc

    version = _vega_lite_version()
    snippet = "window.vegaEmbed = vegaEmbed; window.vega = vega; window.vegaLite = vegaLite;"
    return str(vlc.javascript_bundle(snippet, vl_version=version))


def _vega_lite_version() -> str | None:
    """The Vega-Lite version the chart specs are written for (Altair's), e.g. "5.20"."""
    try:
        import altair
    except ModuleNotFoundError:
        return None
    major, minor = str(altair.SCHEMA_VERSION).lstrip("v").split(".")[:2]
    return f"{major}.{minor}"


def _routes(app: FastAPI) -> None:
    from leadpact.web.api import events, goals, leads, pact, queue, reports, sla
    from leadpact.web.pages import (
        auth,
        dashboard,
        goals_page,
        leads_page,
        pact_page,
        queue_page,
        sla_page,
        users_page,
    )

    for module in (events, leads, queue, sla, reports, goals, pact):
        app.include_router(module.router)
    for page in (
        auth,
        dashboard,
        queue_page,
        leads_page,
        sla_page,
        goals_page,
        pact_page,
        users_page,
    ):
        app.include_router(page.router)

    @app.get("/vendor/vega.js", include_in_schema=False)
    def vega_js() -> Response:
        return Response(
            vega_bundle(),
            media_type="text/javascript",
            headers={"Cache-Control": "public, max-age=86400"},
        )

    @app.get("/healthz", include_in_schema=False)
    def health() -> dict[str, Any]:
        state: AppState = app.state.leadpact
        return {"ok": True, "version": __version__, "now": _iso(state.workspace.clock.now())}


def _openapi(app: FastAPI) -> None:
    """The generated schema, plus the event models the body of POST /api/events refers to."""
    from fastapi.openapi.utils import get_openapi
    from pydantic import TypeAdapter

    from leadpact.web.schemas import Event

    def schema() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        found = get_openapi(
            title=app.title, version=app.version, description=app.description, routes=app.routes
        )
        event = TypeAdapter(Event).json_schema(ref_template="#/components/schemas/{model}")
        components = found.setdefault("components", {}).setdefault("schemas", {})
        components.update(event.pop("$defs", {}))
        components["Event"] = event
        app.openapi_schema = found
        return found

    app.openapi = schema  # type: ignore[method-assign]


def _iso(at: datetime) -> str:
    return at.isoformat()
