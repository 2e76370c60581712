"""`leadpact pact render`: the agreement as a document to read and sign (md, html, pdf, docx)."""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from leadpact.cli._output import exit_with_error, handle_errors
from leadpact.cli._workspace import DEFAULT_WORKSPACE, WorkspaceOption, open_from_cli
from leadpact.cli.pact import app


class Format(StrEnum):
    """Document formats (mirrors `reports.document_writer.DocumentFormat`, kept light here)."""

    MD = "md"
    HTML = "html"
    PDF = "pdf"
    DOCX = "docx"
    JSON = "json"


class Language(StrEnum):
    """Document languages (mirrors `reports.i18n.LANGUAGES`)."""

    EN = "en"
    DA = "da"
    NL = "nl"
    IT = "it"


BINARY = {Format.PDF, Format.DOCX}


@app.command("render")
@handle_errors
def render(
    file: Annotated[
        Path | None,
        typer.Argument(help="The pact.yaml to render; default: the workspace's pact.yaml."),
    ] = None,
    fmt: Annotated[Format, typer.Option("--format", "-f", help="Document format.")] = Format.MD,
    lang: Annotated[
        Language, typer.Option("--lang", "-l", help="Language of the document.")
    ] = Language.EN,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            help="File to write. Default: standard output for md, html and json; "
            "<name>.<lang>.<format> in the current folder for pdf and docx.",
        ),
    ] = None,
    version: Annotated[
        int | None,
        typer.Option(
            "--version",
            help="Render this recorded version of the workspace, with its approvals, "
            "instead of a file.",
        ),
    ] = None,
    workspace: WorkspaceOption = DEFAULT_WORKSPACE,
) -> None:
    """Render the agreement as a document to read and sign, in English, Danish, Dutch or Italian."""
    from leadpact.pact_file import load_pact
    from leadpact.reports.document import VersionInfo, build_document
    from leadpact.reports.document_writer import DocumentFormat, write_document
    from leadpact.reports.i18n import get_lang

    language = get_lang(lang.value)
    info = None
    if version is not None:
        if file is not None:
            exit_with_error("give a FILE or --version, not both", code=2)
        from leadpact.services.pact_versions import get_version

        with open_from_cli(workspace) as ws:
            summary, pact = get_version(ws, version)
        owners = {a.party: f"{a.by}, {language.long_date(a.at.date())}" for a in summary.approvals}
        info = VersionInfo(version, summary.state.value, summary.takes_effect_on, owners)
        name = f"pact-v{version}"
    else:
        source = file if file is not None else workspace / "pact.yaml"
        pact = load_pact(source)
        name = source.stem
    data = write_document(build_document(pact, language, info), DocumentFormat(fmt.value))
    if output is None and fmt not in BINARY:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
        return
    target = output if output is not None else Path(f"{name}.{lang.value}.{fmt.value}")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data)
    typer.echo(f"wrote {target} ({len(data):,} bytes)")
