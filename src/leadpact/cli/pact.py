"""`leadpact init` and `leadpact pact check|schema`: write, validate and describe pact files."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from leadpact.cli._output import exit_with_error, handle_errors, print_json

app = typer.Typer(help="Check the agreement file and print its schema.", no_args_is_help=True)

EXAMPLE_NAME = "pact.yaml"


def example_pact_text() -> str:
    """The commented example agreement shipped with the package."""
    from importlib.resources import files

    return files("leadpact").joinpath("data", EXAMPLE_NAME).read_text(encoding="utf-8")


def init(
    directory: Annotated[Path, typer.Argument(help="Folder to write pact.yaml into.")] = Path("."),
    force: Annotated[
        bool, typer.Option("--force", help="Overwrite an existing pact.yaml.")
    ] = False,
) -> None:
    """Write a complete, commented example pact.yaml to start from."""
    target = directory / EXAMPLE_NAME
    if target.exists() and not force:
        exit_with_error(f"{target} exists; use --force to overwrite it")
    directory.mkdir(parents=True, exist_ok=True)
    target.write_text(example_pact_text(), encoding="utf-8")
    typer.echo(f"wrote {target}; check it with: leadpact pact check {target}")


@app.command("check")
def check(file: Annotated[Path, typer.Argument(help="The pact.yaml to validate.")]) -> None:
    """Validate a pact file; print every problem as FILE:LINE: field: message (exit 1)."""
    from leadpact.errors import PactError
    from leadpact.pact_file import load_pact

    try:
        pact = load_pact(file)
    except PactError as err:
        for problem in err.problems:
            typer.echo(str(problem))
        count = len(err.problems)
        typer.secho(
            f"{file}: {count} problem{'s' if count != 1 else ''}", fg=typer.colors.RED, err=True
        )
        raise typer.Exit(1) from None
    typer.echo(
        f"{file}: valid pact v{pact.version} for {pact.company}: {len(pact.parties)} parties, "
        f"{len(pact.stages)} stages, {len(pact.commitments)} commitments, "
        f"{len(pact.calendars)} calendars"
    )


@app.command("schema")
@handle_errors
def schema() -> None:
    """Print the JSON Schema of pact.yaml (for editors)."""
    from leadpact.pact_file import pact_schema

    print_json(pact_schema())
