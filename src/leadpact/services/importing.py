"""The import use-case: land a CSV, Parquet or XLSX file of leads, activities, touches or deals.

The file is read in batches with the line number of every row (`import_readers`); each batch
is converted to checked canonical columns (`import_convert`, through a preset or mapping file:
`presets`) and landed by `import_writer` (one transaction per chunk, or per million rows or
so for a big file). Bad rows are set aside with their line and reason and never stop good
ones; odd but readable values are noted. Rows of people erased earlier are set aside too, but
counted apart and never written anywhere (`import_suppression`). Every record has a stable
key (the source's id, or a content hash), so importing a file twice changes nothing, and an
interrupted import keeps the transactions that landed: running it again completes it. While
one chunk is written, the next is read and converted on another thread.
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from queue import Empty, Full, Queue
from typing import TYPE_CHECKING, Any

from leadpact.errors import ImportFileError
from leadpact.services import presets
from leadpact.services.import_columns import Kind
from leadpact.services.import_convert import Chunk, Converter
from leadpact.services.import_readers import Batch, Reader, format_of, open_reader
from leadpact.services.import_report import (
    ImportReport,
    Note,
    Notes,
    Progress,
    Reject,
    RejectSink,
)
from leadpact.services.import_writer import Writer
from leadpact.services.presets import Mapping, Source

if TYPE_CHECKING:
    from datetime import datetime

    from sqlalchemy import Connection

    from leadpact.services.workspace import Workspace

__all__ = ["ImportReport", "Kind", "Note", "Progress", "Reject", "import_file"]

#: Files at least this big are imported in bulk mode (`import_writer.Writer`).
BULK_BYTES = 32 << 20


def import_file(
    workspace: Workspace,
    path: Path,
    *,
    kind: Kind | None = None,
    preset: str | None = None,
    mapping: Path | None = None,
    rejects: Path | None = None,
    score: bool = True,
    progress: Progress | None = None,
) -> ImportReport:
    """Import a file of leads, activities, touches or deals into the workspace.

    Args:
        workspace: the open workspace (its pact gives the stage ids, its clock "now").
        path: a .csv, .parquet or .xlsx file.
        kind: what the file holds; default: the mapping's or preset's kind, else guessed from
            the header.
        preset: a built-in mapping for a CRM export (`presets.PRESETS`).
        mapping: a mapping file (YAML), applied over the preset if both are given.
        rejects: where to write the rejected rows (CSV: line, reason, raw); default
            `<workspace>/rejects/<file stem>.rejects.csv`. Removed when nothing is rejected.
        score: re-score the leads afterwards (leads and activities imports).
        progress: called as the file is read.

    Returns:
        The counts, the reasons rows were rejected, the lines of people erased earlier
        (suppressed, not rejected), and the data problems noticed.

    Raises:
        ImportFileError: the file is missing or unreadable, its kind cannot be told, or a
            required column is missing.
        MappingError: the mapping file is invalid, or does not fit the file's kind or the pact
            (file, line and field of each problem).
        LeadPactError: an unknown preset.
    """
    fmt = format_of(path)
    user = presets.load_mapping(mapping) if mapping is not None else None
    reader = open_reader(fmt, path, user.mapping if user else Mapping())
    source = _source_for(reader.header, kind, preset, user)
    kind = kind or source.mapping.kind or _guess_kind(reader.header, source, path)
    presets.check_source(source, kind, workspace.pact)
    notes = Notes()
    converter = Converter(kind, source, reader.header, workspace.pact, path, notes)
    report = ImportReport(str(path), kind)
    sink = RejectSink(rejects or workspace.directory / "rejects" / f"{path.stem}.rejects.csv")
    now = workspace.clock.now()
    bulk = path.stat().st_size >= BULK_BYTES
    with workspace.engine.connect() as conn:
        writer = Writer(conn, kind, converter, now, notes, bulk=bulk)
        try:
            writer.own_indexes()
            for batch, malformed, chunk, position in _ahead(_converted(reader, converter, writer)):
                sink.add([*malformed, *chunk.rejects, *writer.write(chunk)], report)
                report.add_suppressed(chunk.suppressed)
                report.rows_read += batch.size
                if progress is not None:
                    progress(*position)
            sink.add(reader.take_malformed(), report)
            writer.flush()
        finally:
            writer.close()
        report.rows_read += reader.malformed
        report.landed, report.stage_changes = writer.landed, writer.stage_changes
        report.inserted, report.updated = writer.inserted, writer.updated
        report.notes = notes.sorted()
        report.import_id = _record(conn, path, kind, now, report)
    report.rejects_file = sink.close()
    if score and kind in (Kind.LEADS, Kind.ACTIVITIES) and report.inserted + report.updated:
        report.scored = _rescore(workspace)
    return report


Converted = tuple[Batch, list[Reject], Chunk, tuple[int, int]]


def _converted(reader: Reader, converter: Converter, writer: Writer) -> Iterator[Converted]:
    """Each batch with the malformed rows read before it, its prepared conversion, and the
    position in the file."""
    for batch in reader.batches():
        chunk = writer.prepare(converter.convert(batch))
        yield batch, reader.take_malformed(), chunk, reader.position()


def _ahead(items: Iterator[Converted]) -> Iterator[Converted]:
    """`items`, each made on a worker thread while the caller still uses the one before.

    Reading and converting are pyarrow and numpy work that releases the GIL, so they overlap
    the database writes. An error on the worker is raised here; leaving early stops it.
    """
    handoff: Queue[tuple[str, Any]] = Queue(maxsize=1)
    stop = threading.Event()

    def put(message: tuple[str, Any]) -> bool:
        while not stop.is_set():
            try:
                handoff.put(message, timeout=0.1)
            except Full:
                continue
            return True
        return False

    def work() -> None:
        try:
            for item in items:
                if not put(("item", item)):
                    return
            put(("end", None))
        except BaseException as err:  # handed to the caller, raised there
            put(("error", err))

    worker = threading.Thread(target=work, name="leadpact-import-reader", daemon=True)
    worker.start()
    try:
        while True:
            try:
                what, item = handoff.get(timeout=0.1)
            except Empty:
                if not worker.is_alive():  # pragma: no cover - the worker always says why
                    return
                continue
            if what == "end":
                return
            if what == "error":
                raise item
            yield item
    finally:
        stop.set()
        worker.join()


def _record(conn: Connection, path: Path, kind: Kind, now: datetime, report: ImportReport) -> int:
    """Record the run in the `imports` table; returns its id."""
    from leadpact.store.tables import imports

    with conn.begin():
        result = conn.execute(
            imports.insert().values(
                file=str(path.resolve()),
                kind=kind.value,
                at=now,
                rows_read=report.rows_read,
                rows_landed=report.landed,
                rows_rejected=report.rejected,
            )
        )
    key = result.inserted_primary_key
    return int(key[0]) if key else 0


def _source_for(
    header: list[str], kind: Kind | None, preset: str | None, user: Source | None
) -> Source:
    if preset is None:
        return user or Source(Mapping())
    base = presets.preset_source(preset, header, kind or (user.mapping.kind if user else None))
    if user is None:
        return base
    return Source(
        base.mapping.merged(user.mapping),
        base.optional - set(user.mapping.columns),
        user.path,
        user.lines,
    )


def _canonical_names(header: Sequence[str], source: Source) -> set[str]:
    mapping = source.mapping
    if mapping.columns or mapping.constants:
        return set(mapping.columns) | set(mapping.constants)
    return {name.strip().lower() for name in header}


def _guess_kind(header: Sequence[str], source: Source, path: Path) -> Kind:
    names = _canonical_names(header, source)
    if {"lead_id", "channel", "outcome"} <= names:
        return Kind.TOUCHES
    if {"lead_id", "type", "at"} <= names:
        return Kind.ACTIVITIES
    if {"id", "lead_id"} <= names:
        return Kind.DEALS
    if "id" in names:
        return Kind.LEADS
    raise ImportFileError(
        str(path),
        f"cannot tell what {path.name} holds from its columns ({', '.join(header[:8])}"
        f"{', ...' if len(header) > 8 else ''}); pass --kind leads|activities|touches|deals "
        "and a --mapping or --preset for its columns",
    )


def _rescore(workspace: Workspace) -> bool:
    """Re-score the workspace's leads, when the scoring service is installed."""
    try:
        scoring = importlib.import_module("leadpact.services.scoring")
    except ModuleNotFoundError as err:
        if err.name == "leadpact.services.scoring":
            return False
        raise
    with workspace.transaction() as conn:
        scoring.rescore(conn, workspace.pact, now=workspace.clock.now())
    return True
