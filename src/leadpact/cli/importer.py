"""`leadpact import FILE`: land a CSV, Parquet or XLSX file of leads, activities, touches, deals."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal

import typer

from leadpact.cli._output import handle_errors, print_json
from leadpact.cli._workspace import (
    DEFAULT_WORKSPACE,
    AsOfOption,
    JsonOption,
    WorkspaceOption,
    open_from_cli,
)

if TYPE_CHECKING:
    from rich.console import Console

    from leadpact.services.importing import ImportReport, Progress

KindName = Literal["leads", "activities", "touches", "deals"]
PresetName = Literal["hubspot", "salesforce", "pipedrive"]


@handle_errors
def import_file(
    file: Annotated[Path, typer.Argument(help="The .csv, .parquet or .xlsx file to import.")],
    kind: Annotated[
        KindName | None,
        typer.Option("--kind", help="What the file holds (default: from the mapping or header)."),
    ] = None,
    preset: Annotated[
        PresetName | None,
        typer.Option("--preset", help="Read a CRM export: hubspot, salesforce or pipedrive."),
    ] = None,
    mapping: Annotated[
        Path | None,
        typer.Option("--mapping", help="Mapping file (YAML) for other columns and values."),
    ] = None,
    rejects: Annotated[
        Path | None,
        typer.Option(
            "--rejects",
            help="Where to write rejected rows (default: WORKSPACE/rejects/FILE.rejects.csv).",
        ),
    ] = None,
    no_score: Annotated[
        bool, typer.Option("--no-score", help="Do not re-score the leads afterwards.")
    ] = False,
    workspace: WorkspaceOption = DEFAULT_WORKSPACE,
    as_of: AsOfOption = None,
    as_json: JsonOption = False,
) -> None:
    """Import leads, activities, touches or deals; bad rows are set aside (exit 1 if any)."""
    from rich.console import Console

    from leadpact.services.importing import Kind
    from leadpact.services.importing import import_file as run_import

    console = Console(stderr=True)
    with open_from_cli(workspace, as_of) as ws, _progress(console, file.name) as progress:
        report = run_import(
            ws,
            file,
            kind=Kind(kind) if kind else None,
            preset=preset,
            mapping=mapping,
            rejects=rejects,
            score=not no_score,
            progress=progress,
        )
    if as_json:
        print_json(report.as_dict())
    else:
        _summary(Console(soft_wrap=True), report)
    if report.rejected:
        raise typer.Exit(1)


class _progress:
    """A Rich progress bar on standard error; silent when it is not a terminal."""

    def __init__(self, console: Console, name: str) -> None:
        from rich.progress import BarColumn, DownloadColumn, Progress, TimeRemainingColumn

        self.bar = Progress(
            f"importing {name}",
            BarColumn(),
            DownloadColumn(),
            TimeRemainingColumn(),
            console=console,
            transient=True,
            disable=not console.is_terminal,
        )
        self.task = self.bar.add_task("import", total=None)

    def __enter__(self) -> Progress:
        self.bar.__enter__()

        def advance(done: int, total: int) -> None:
            self.bar.update(self.task, completed=done, total=total or None)

        return advance

    def __exit__(self, *exc: object) -> None:
        self.bar.__exit__(None, None, None)


def _summary(console: Console, report: ImportReport) -> None:
    from rich.table import Table

    outcome = "[red]" if report.rejected else "[green]"
    console.print(
        f"{outcome}Imported {report.kind.value}[/] from {report.file}: "
        f"{report.rows_read:,} rows read, {report.landed:,} landed "
        f"({report.inserted:,} new, {report.updated:,} updated, {report.unchanged:,} unchanged), "
        f"{report.rejected:,} rejected"
        + (f", {report.suppressed:,} suppressed (erased earlier)" if report.suppressed else ""),
        highlight=False,
    )
    if report.stage_changes:
        console.print(f"{report.stage_changes:,} stage changes recorded in the stage history")
    if report.rejected:
        reasons = Table("rejected because", "rows", show_edge=False, header_style="bold")
        for reason, count in sorted(report.reasons.items(), key=lambda kv: -kv[1]):
            reasons.add_row(reason, f"{count:,}")
        console.print(reasons)
        first = Table("line", "reason", show_edge=False, header_style="bold")
        for reject in report.examples:
            first.add_row(str(reject.line), reject.reason)
        console.print(first)
        console.print(f"All rejected rows: {report.rejects_file}", highlight=False)
    if report.suppressed:
        lines = ", ".join(str(n) for n in report.suppressed_lines)
        more = ", ..." if report.suppressed > len(report.suppressed_lines) else ""
        console.print(
            f"Suppressed (erased earlier, not stored): {report.suppressed:,} "
            f"row{'s' if report.suppressed != 1 else ''} "
            f"(line{'s' if report.suppressed != 1 else ''} {lines}{more})",
            highlight=False,
        )
    if report.notes:
        console.print("[yellow]Data problems (these rows landed):[/]")
        for note in report.notes:
            lines = ", ".join(str(n) for n in note.lines)
            more = ", ..." if note.count > len(note.lines) else ""
            console.print(
                f"  - {note.message}: {note.count:,} row{'s' if note.count != 1 else ''} "
                f"(line{'s' if note.count != 1 else ''} {lines}{more})",
                highlight=False,
            )
    if report.scored:
        console.print("Leads re-scored.")
