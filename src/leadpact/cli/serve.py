"""`leadpact serve`: the web app, its API and the SLA scheduler, in one process (uvicorn).

`cli` and `web` are independent layers: the server is named by its import string
(`leadpact.web.app:serve_app`, a uvicorn factory) and configured through the environment
(`LEADPACT_WORKSPACE`, `LEADPACT_SCHEDULER`), the same settings a deployment would set.
"""

from __future__ import annotations

import os
from typing import Annotated

import typer

from leadpact.cli._output import handle_errors
from leadpact.cli._workspace import DEFAULT_WORKSPACE, WorkspaceOption

#: The app factory uvicorn imports.
APP = "leadpact.web.app:serve_app"


@handle_errors
def serve(
    workspace: WorkspaceOption = DEFAULT_WORKSPACE,
    host: Annotated[
        str | None,
        typer.Option("--host", help="Address to listen on (default: LEADPACT_HOST or 127.0.0.1)."),
    ] = None,
    port: Annotated[
        int | None,
        typer.Option(
            "--port", min=1, max=65535, help="Port to listen on (default: LEADPACT_PORT or 8000)."
        ),
    ] = None,
    no_scheduler: Annotated[
        bool,
        typer.Option(
            "--no-scheduler",
            help="Do not run the SLA alert scheduler in this process (run one per database).",
        ),
    ] = False,
) -> None:
    """Run the web app (dashboard, API, webhooks) and the SLA scheduler until stopped."""
    import uvicorn

    from leadpact.services.workspace import open_workspace
    from leadpact.settings import load_settings

    directory = workspace.resolve()
    os.environ["LEADPACT_WORKSPACE"] = str(directory)
    if no_scheduler:
        os.environ["LEADPACT_SCHEDULER"] = "false"
    settings = load_settings(directory)
    with open_workspace(directory, settings=settings):  # a bad workspace: one line, no traceback
        pass
    listen_host = host or settings.host
    listen_port = port or settings.port
    typer.echo(f"LeadPact on http://{listen_host}:{listen_port}/ (workspace {directory})")
    uvicorn.run(
        APP,
        factory=True,
        host=listen_host,
        port=listen_port,
        log_level=settings.log_level,
        access_log=settings.log_level == "debug",
    )
