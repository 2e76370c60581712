"""The `leadpact` command line: a thin Typer edge over the services.

Every command module keeps heavy imports inside its functions so `leadpact --help` stays fast.
"""

from __future__ import annotations

from typing import Annotated

import typer

from leadpact.cli import _output, pact_render, pact_versions  # noqa: F401 -- registers commands
from leadpact.cli.alerts import app as alerts_app
from leadpact.cli.calendar import app as calendar_app
from leadpact.cli.demo import demo
from leadpact.cli.goals import goals
from leadpact.cli.importer import import_file
from leadpact.cli.leads import app as leads_app
from leadpact.cli.pact import app as pact_app
from leadpact.cli.pact import init
from leadpact.cli.report import app as report_app
from leadpact.cli.report import export
from leadpact.cli.serve import serve
from leadpact.cli.sla import app as sla_app
from leadpact.cli.users import token_app, user_app

app = typer.Typer(
    name="leadpact",
    help="LeadPact: the sales & marketing SLA, run as software.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback()
def root(
    debug: Annotated[
        bool, typer.Option("--debug", help="Show tracebacks instead of one-line errors.")
    ] = False,
) -> None:
    """LeadPact: the sales & marketing SLA, run as software."""
    _output.DEBUG["enabled"] = debug


app.command("init")(init)
app.add_typer(pact_app, name="pact")
app.add_typer(calendar_app, name="calendar")
app.command("goals")(goals)
app.command("import")(import_file)
app.add_typer(leads_app, name="leads")
app.add_typer(sla_app, name="sla")
app.add_typer(alerts_app, name="alerts")
app.command("demo")(demo)
app.add_typer(report_app, name="report")
app.command("export")(export)
app.command("serve")(serve)
app.add_typer(user_app, name="user")
app.add_typer(token_app, name="token")


def main() -> None:
    """Run the CLI (console script `leadpact`)."""
    app()
