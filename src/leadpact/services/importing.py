"""The import use-case: read a CSV, Parquet or XLSX file in chunks and land its rows.

Each chunk is converted to canonical columns (`services.presets`), bad rows are set aside with
their line number and reason, and the good rows are copied into a temporary staging table and
upserted from there in one statement, so that checks that need the database (does the lead
exist?) and the upsert itself run inside the database, on SQLite and PostgreSQL alike. Every
record has a stable key (the source's id, or a content hash), so importing a file twice
changes nothing. Each chunk is its own transaction: an interrupted import keeps the chunks
that landed, and running it again completes it.
"""

from __future__ import annotations

import csv
import hashlib
import importlib
import io
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from leadpact.core.pact import Outcome, Pact
from leadpact.errors import LeadPactError
from leadpact.services import presets
from leadpact.services.presets import BECAME, Kind, Mapping, Source

if TYPE_CHECKING:
    from sqlalchemy import Connection, Table

    from leadpact.services.workspace import Workspace

#: Rows per chunk (one transaction each); CSV blocks are sized to give about this many.
CHUNK_ROWS = 100_000
_CSV_BLOCK = 8 << 20
_EXAMPLES = 10
_FORMATS = {".csv": "csv", ".txt": "csv", ".tsv": "csv", ".parquet": "parquet", ".pq": "parquet"}
_FORMATS |= {".xlsx": "xlsx", ".xlsm": "xlsx"}

#: Called with (bytes or rows done, total) as the import advances.
Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class Reject:
    """A row set aside: its line in the file, why, and the row as it was."""

    line: int
    reason: str
    raw: str
    code: str = ""


@dataclass
class Note:
    """A data problem that did not stop rows from landing (shown in the summary)."""

    code: str
    message: str
    count: int = 0
    lines: list[int] = field(default_factory=list)


@dataclass
class ImportReport:
    """What one import did."""

    file: str
    kind: Kind
    rows_read: int = 0
    landed: int = 0
    inserted: int = 0
    updated: int = 0
    stage_changes: int = 0
    rejected: int = 0
    reasons: dict[str, int] = field(default_factory=dict)
    examples: list[Reject] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)
    rejects_file: Path | None = None
    scored: bool = False
    import_id: int | None = None

    @property
    def unchanged(self) -> int:
        """Rows that were already stored exactly as in the file."""
        return self.landed - self.inserted - self.updated

    def as_dict(self) -> dict[str, Any]:
        """The report as JSON-ready data."""
        return {
            "file": self.file,
            "kind": self.kind.value,
            "rows_read": self.rows_read,
            "landed": self.landed,
            "inserted": self.inserted,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "stage_changes": self.stage_changes,
            "rejected": self.rejected,
            "reject_reasons": self.reasons,
            "rejects": [{"line": r.line, "reason": r.reason} for r in self.examples],
            "rejects_file": None if self.rejects_file is None else str(self.rejects_file),
            "notes": [
                {"code": n.code, "message": n.message, "count": n.count, "lines": n.lines}
                for n in self.notes
            ],
            "scored": self.scored,
            "import_id": self.import_id,
        }


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
        The counts, the reasons rows were rejected, and the data problems noticed.

    Raises:
        LeadPactError: the file is missing or unreadable, its kind cannot be told, or a
            required column is missing.
        PactError: the mapping file is invalid (file, line and field of each problem).
    """
    fmt = _format_of(path)
    user = presets.load_mapping(mapping) if mapping is not None else None
    reader = _open_reader(fmt, path, user.mapping if user else Mapping())
    source = _source_for(reader.header, kind, preset, user)
    kind = kind or source.mapping.kind or _guess_kind(reader.header, source, path)
    presets.check_source(source, kind, workspace.pact)
    notes = _Notes()
    converter = _Converter(kind, source, reader.header, workspace.pact, path, notes)
    report = ImportReport(str(path), kind)
    sink = _RejectSink(rejects or workspace.directory / "rejects" / f"{path.stem}.rejects.csv")
    with workspace.engine.connect() as conn:
        writer = _Writer(conn, kind, converter, workspace.clock.now(), notes)
        try:
            for batch in reader.batches():
                chunk = converter.convert(batch)
                set_aside = [*reader.take_malformed(), *chunk.rejects, *writer.write(chunk)]
                sink.add(set_aside, report)
                report.rows_read += batch.size
                if progress is not None:
                    progress(*reader.position())
            sink.add(list(reader.take_malformed()), report)
            report.rows_read += reader.malformed
            report.landed, report.stage_changes = writer.landed, writer.stage_changes
            report.inserted, report.updated = writer.inserted, writer.updated
            report.notes = notes.sorted()
            report.import_id = writer.record(path, report)
        finally:
            writer.close()
    report.rejects_file = sink.close()
    if score and kind in (Kind.LEADS, Kind.ACTIVITIES) and report.inserted + report.updated:
        report.scored = _rescore(workspace)
    return report


# --- Files ----------------------------------------------------------------------------------


def _format_of(path: Path) -> str:
    if not path.exists():
        raise LeadPactError(f"{path}: no such file")
    if not path.is_file():
        raise LeadPactError(f"{path} is not a file")
    fmt = _FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise LeadPactError(
            f"{path}: cannot import {path.suffix or 'a file without a suffix'}; "
            "expected .csv, .parquet or .xlsx"
        )
    return fmt


@dataclass
class _Batch:
    """Rows of the source file as text columns, with the line (or row) number of each."""

    columns: dict[str, pa.Array]
    lines: np.ndarray[Any, np.dtype[np.int64]]
    delimiter: str = ","

    @property
    def size(self) -> int:
        return len(self.lines)

    def raw(self, line: int) -> str:
        """The row on `line` as a line of CSV (for the rejects file)."""
        index = int(np.searchsorted(self.lines, line))
        cells = [
            "" if c[index].as_py() is None else str(c[index].as_py()) for c in self.columns.values()
        ]
        out = io.StringIO()
        csv.writer(out, delimiter=self.delimiter, lineterminator="\r\n").writerow(cells)
        return out.getvalue().removesuffix("\r\n")


class _Reader:
    """A source file read in batches; rows it cannot split are kept as rejects."""

    header: list[str]
    malformed: int = 0

    def batches(self) -> Iterator[_Batch]:
        raise NotImplementedError

    def take_malformed(self) -> list[Reject]:
        return []

    def position(self) -> tuple[int, int]:
        return (0, 0)


def _open_reader(fmt: str, path: Path, mapping: Mapping) -> _Reader:
    if fmt == "csv":
        return _CsvReader(path, mapping)
    if fmt == "parquet":
        return _ParquetReader(path)
    return _XlsxReader(path, mapping)


def _check_header(path: Path, header: list[str]) -> list[str]:
    seen: set[str] = set()
    for name in header:
        if name in seen:
            raise LeadPactError(f"{path}: column {name!r} appears twice in the header")
        seen.add(name)
    if not header or header == [""]:
        raise LeadPactError(f"{path}: the file is empty; expected a header line of column names")
    return header


class _CsvReader(_Reader):
    """A CSV file read with pyarrow's streaming reader; every value is read as text.

    Line numbers are physical lines of the file (the header is line 1), also when a quoted
    value spans lines. pyarrow numbers rows only when it reads on one thread; that costs
    little, since the conversion that follows dominates.
    """

    def __init__(self, path: Path, mapping: Mapping) -> None:
        self.path = path
        self.encoding = mapping.encoding
        with path.open("rb") as file:
            head = file.read(1 << 16)
        try:
            text = head.decode(self.encoding if self.encoding != "utf-8" else "utf-8-sig")
        except UnicodeDecodeError:
            text = head.decode(self.encoding, errors="replace")
        except LookupError:
            raise LeadPactError(f"unknown encoding {self.encoding!r} in the mapping") from None
        first = text.splitlines()[0] if text.strip() else ""
        self.delimiter = mapping.delimiter or max(",;\t|", key=first.count)
        row = next(csv.reader([first], delimiter=self.delimiter), [])
        self.header = _check_header(path, [name.strip() for name in row])
        self.size = path.stat().st_size
        self._numbers: list[int] = []
        self._unsettled: list[tuple[int, str]] = []
        self._done: list[Reject] = []
        self._rows = 0
        self._extra = 0
        self._file: io.BufferedReader | None = None

    def _on_invalid(self, row: Any) -> str:
        number = int(row.number) if row.number is not None else 0
        self._numbers.append(number)
        self._unsettled.append((number, str(row.text)))
        return "skip"

    def batches(self) -> Iterator[_Batch]:
        import pyarrow.csv as pcsv

        types = {name: pa.string() for name in self.header}
        self._file = self.path.open("rb")
        try:
            reader = pcsv.open_csv(
                self._file,
                read_options=pcsv.ReadOptions(
                    use_threads=False, block_size=_CSV_BLOCK, encoding=self.encoding
                ),
                parse_options=pcsv.ParseOptions(
                    delimiter=self.delimiter,
                    newlines_in_values=True,
                    ignore_empty_lines=False,
                    invalid_row_handler=self._on_invalid,
                ),
                convert_options=pcsv.ConvertOptions(
                    column_types=types,
                    strings_can_be_null=True,
                    null_values=[""],
                    quoted_strings_can_be_null=True,
                ),
            )
            while True:
                try:
                    batch = reader.read_next_batch()
                except StopIteration:
                    break
                found = self._number(batch)
                if found is not None:
                    yield found
        except pa.ArrowInvalid as err:
            raise LeadPactError(
                f"{self.path}: cannot read the file: {_first_line(err)}; "
                "set `encoding:` or `delimiter:` in a mapping file"
            ) from None
        finally:
            self._file.close()
        self._settle(np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64), final=True)

    def _number(self, batch: pa.RecordBatch) -> _Batch | None:
        n = batch.num_rows
        # The k-th row pyarrow returns is the k-th logical row that was not malformed.
        invalid = np.array(sorted(self._numbers), dtype=np.int64)
        base = 2 + self._rows + np.arange(n, dtype=np.int64)
        logical = base + np.searchsorted(invalid - np.arange(len(invalid)), base, side="right")
        self._rows += n
        columns = {name: batch.column(i) for i, name in enumerate(batch.schema.names)}
        breaks = np.zeros(n, dtype=np.int64)
        for values in columns.values():
            if pc.any(pc.match_substring(values, "\n")).as_py():
                breaks += pc.fill_null(pc.count_substring(values, "\n"), 0).to_numpy()
        lines = self._settle(logical, breaks)
        blank = np.ones(n, dtype=bool)
        for values in columns.values():
            blank &= values.is_null().to_numpy(zero_copy_only=False)
        if blank.any():
            keep = pa.array(~blank)
            columns = {k: v.filter(keep) for k, v in columns.items()}
            lines = lines[~blank]
        return _Batch(columns, lines, self.delimiter) if len(lines) else None

    def _settle(
        self,
        logical: np.ndarray[Any, np.dtype[np.int64]],
        breaks: np.ndarray[Any, np.dtype[np.int64]],
        *,
        final: bool = False,
    ) -> np.ndarray[Any, np.dtype[np.int64]]:
        """Physical lines of these rows, settling the malformed rows that came before them.

        A physical line is the logical row number plus the line breaks inside quoted values
        (of good and malformed rows) above it.
        """
        last = int(logical[-1]) if len(logical) else 0
        now = [(num, text) for num, text in self._unsettled if final or num < last]
        self._unsettled = [
            (num, text) for num, text in self._unsettled if not (final or num < last)
        ]
        out = logical + self._extra
        if not now and not breaks.any():
            return out
        events = sorted(
            [(int(num), i, int(breaks[i])) for i, num in enumerate(logical)]
            + [(num, -1 - j, text.count("\n")) for j, (num, text) in enumerate(now)]
        )
        for num, i, count in events:
            if i >= 0:
                out[i] = num + self._extra
            else:
                self._reject_malformed(num + self._extra, now[-1 - i][1])
            self._extra += count
        return out

    def _reject_malformed(self, line: int, text: str) -> None:
        self.malformed += 1
        fields = next(csv.reader([text], delimiter=self.delimiter), [])
        self._done.append(
            Reject(
                line,
                f"malformed line: {len(fields)} fields, the header has {len(self.header)}",
                text,
                "malformed line",
            )
        )

    def take_malformed(self) -> list[Reject]:
        done, self._done = self._done, []
        return done

    def position(self) -> tuple[int, int]:
        at = self._file.tell() if self._file is not None and not self._file.closed else 0
        return (min(at, self.size), self.size)


def _first_line(err: Exception) -> str:
    return str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__


class _ParquetReader(_Reader):
    """A Parquet file; row numbers count from 1; typed columns are read as text."""

    def __init__(self, path: Path) -> None:
        import pyarrow.parquet as pq

        try:
            self._file = pq.ParquetFile(path)
        except (pa.ArrowInvalid, OSError) as err:
            raise LeadPactError(f"{path}: not a Parquet file ({_first_line(err)})") from None
        self.header = _check_header(path, list(self._file.schema_arrow.names))
        self._done = 0
        self._total = self._file.metadata.num_rows

    def batches(self) -> Iterator[_Batch]:
        for batch in self._file.iter_batches(batch_size=CHUNK_ROWS):
            columns = {name: _as_text(batch.column(i)) for i, name in enumerate(self.header)}
            lines = np.arange(self._done + 1, self._done + batch.num_rows + 1, dtype=np.int64)
            self._done += batch.num_rows
            yield _Batch(columns, lines)

    def position(self) -> tuple[int, int]:
        return (self._done, self._total)


def _utc_text(values: pa.Array) -> pa.Array:
    """Instants as "2025-03-01 09:30:15.123456" in UTC (a cast: much faster than strftime)."""
    naive = pc.cast(pc.cast(values, pa.timestamp("us", "UTC")), pa.timestamp("us"))
    return pc.cast(naive, pa.string())


def _as_text(values: pa.Array) -> pa.Array:
    if pa.types.is_timestamp(values.type) and values.type.tz is not None:
        return pc.binary_join_element_wise(_utc_text(values), "Z", "")
    if pa.types.is_dictionary(values.type):
        values = values.dictionary_decode()
    return pc.cast(values, pa.string())


class _XlsxReader(_Reader):
    """An Excel workbook (the mapping's `sheet`, or the first); row numbers are Excel's."""

    def __init__(self, path: Path, mapping: Mapping) -> None:
        from openpyxl import load_workbook

        try:
            self._book = load_workbook(path, read_only=True, data_only=True)
        except Exception as err:  # openpyxl raises many types for a file that is not XLSX
            raise LeadPactError(f"{path}: not an XLSX workbook ({_first_line(err)})") from None
        if mapping.sheet is not None and mapping.sheet not in self._book.sheetnames:
            raise LeadPactError(
                f"{path} has no sheet {mapping.sheet!r}; it has " + ", ".join(self._book.sheetnames)
            )
        sheet = self._book[mapping.sheet] if mapping.sheet else self._book.worksheets[0]
        self._rows = sheet.iter_rows(values_only=True)
        first = next(self._rows, ())
        names = [_cell(v) for v in first]
        while names and names[-1] is None:  # Excel reports formatted but empty cells
            names.pop()
        self.header = _check_header(
            path, [name or f"column {i + 1}" for i, name in enumerate(names)]
        )
        self._done = 1
        self._bad: list[Reject] = []

    def batches(self) -> Iterator[_Batch]:
        width = len(self.header)
        cells: list[list[str | None]] = []
        lines: list[int] = []
        for row in self._rows:
            self._done += 1
            texts = [_cell(v) for v in row]
            if all(t is None for t in texts):
                continue
            if any(t is not None for t in texts[width:]):
                self.malformed += 1
                raw = ",".join(t or "" for t in texts)
                self._bad.append(
                    Reject(
                        self._done,
                        f"malformed row: values beyond the {width} named columns",
                        raw,
                        "malformed row",
                    )
                )
                continue
            cells.append(texts[:width] + [None] * (width - len(texts)))
            lines.append(self._done)
            if len(lines) == CHUNK_ROWS:
                yield self._batch(cells, lines)
                cells, lines = [], []
        if lines:
            yield self._batch(cells, lines)
        self._book.close()

    def _batch(self, cells: list[list[str | None]], lines: list[int]) -> _Batch:
        columns = {
            name: pa.array([row[i] for row in cells], pa.string())
            for i, name in enumerate(self.header)
        }
        return _Batch(columns, np.array(lines, dtype=np.int64))

    def take_malformed(self) -> list[Reject]:
        done, self._bad = self._bad, []
        return done

    def position(self) -> tuple[int, int]:
        return (self._done, 0)


def _cell(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if hasattr(value, "isoformat"):
        return str(value.isoformat())
    text = str(value).strip()
    return text or None


# --- Meaning: from source columns to canonical rows -------------------------------------------


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
    raise LeadPactError(
        f"cannot tell what {path.name} holds from its columns ({', '.join(header[:8])}"
        f"{', ...' if len(header) > 8 else ''}); pass --kind leads|activities|touches|deals "
        "and a --mapping or --preset for its columns"
    )


class _Notes:
    """Data problems noticed on the way, by code, with the first lines they were seen on."""

    def __init__(self) -> None:
        self._notes: dict[str, Note] = {}

    def add(self, code: str, message: str, lines: Sequence[int] | np.ndarray[Any, Any]) -> None:
        if not len(lines):
            return
        note = self._notes.setdefault(code, Note(code, message))
        note.count += len(lines)
        room = _EXAMPLES - len(note.lines)
        if room > 0:
            note.lines.extend(int(x) for x in lines[:room])

    def sorted(self) -> list[Note]:
        return sorted(self._notes.values(), key=lambda n: n.code)


class _Problems:
    """The first reason each row of a chunk is rejected, as Arrow columns."""

    def __init__(self, n: int) -> None:
        self.reason = pa.nulls(n, pa.string())
        self.code = pa.nulls(n, pa.string())

    def flag(self, bad: pa.Array, code: str, message: pa.Array | str) -> None:
        bad = pc.fill_null(bad, False)
        if not pc.any(bad).as_py():
            return
        take = pc.and_(bad, pc.is_null(self.reason))
        self.reason = pc.if_else(take, message, self.reason)
        self.code = pc.if_else(take, code, self.code)


def _quoted(name: str, values: pa.Array, tail: str) -> pa.Array:
    """`name: 'value' tail` for each row (messages name the bad value)."""
    short = pc.utf8_slice_codeunits(values, 0, 80)
    return pc.binary_join_element_wise(f"{name}: '", short, f"' {tail}", "")


@dataclass
class _Chunk:
    """The good rows of a batch as typed canonical columns, and the rows set aside."""

    values: dict[str, pa.Array]
    lines: np.ndarray[Any, np.dtype[np.int64]]
    rejects: list[Reject]
    batch: _Batch
    history: list[tuple[Any, ...]] = field(default_factory=list)


class _Converter:
    """Turns batches of source text into canonical rows of one kind, checking every value."""

    def __init__(
        self, kind: Kind, source: Source, header: list[str], pact: Pact, path: Path, notes: _Notes
    ) -> None:
        from leadpact.store import tables

        self.kind, self.pact, self.notes = kind, pact, notes
        mapping = source.mapping
        self.zone, self.formats = mapping.timezone, mapping.date_formats
        self.plan = self._plan(source, header, path)
        self.stage_ids = [s.id for s in pact.stages]
        self.entered: dict[str, str] = {}
        for name in list(self.plan):
            match = BECAME.match(name)
            if match and kind is Kind.LEADS:
                if match.group(1) in self.stage_ids:
                    self.entered[name] = match.group(1)
                else:  # a lifecycle column for a stage this pact does not have
                    del self.plan[name]
                    notes.add(
                        f"no_stage:{name}",
                        f"column {name} ignored: the pact has no stage {match.group(1)!r}",
                        [1],
                    )
        self.lookups: dict[str, dict[str, str | None]] = {}
        for name in self.plan:
            column = presets.column_for(kind, name)
            vocabulary = presets.vocabulary(column.type, pact) if column else None
            if vocabulary is not None:
                table: dict[str, str | None] = {presets.normalize(v): v for v in vocabulary}
                extra = mapping.stages if column and column.type == "stage" else {}
                extra = {**extra, **mapping.values.get(name, {})}
                table.update(
                    {presets.normalize(k): v if v in vocabulary else None for k, v in extra.items()}
                )
                self.lookups[name] = table
        self.table: Table = getattr(tables, kind.value)
        self.stage_changes: Table = tables.stage_changes
        self.dated = "stage_at" in self.plan or bool(self.entered)
        self._noticed: list[tuple[str, str, np.ndarray[Any, Any]]] = []

    def _plan(self, source: Source, header: list[str], path: Path) -> dict[str, tuple[str, str]]:
        """Where each canonical column comes from: ("column", source name) or ("constant", v)."""
        mapping = source.mapping
        plan: dict[str, tuple[str, str]] = {}
        if mapping.columns or mapping.constants:
            for name, column in mapping.columns.items():
                if column in header:
                    plan[name] = ("column", column)
                elif name not in source.optional:
                    where = f" (mapped to {name} in {source.path})" if source.path else ""
                    raise LeadPactError(
                        f"{path.name} has no column {column!r}{where}; its columns are "
                        + ", ".join(header)
                    )
        else:
            known = presets.columns_of(self.kind)
            ignored = []
            for column in header:
                name = column.strip().lower()
                if presets.column_for(self.kind, name) is not None:
                    plan[name] = ("column", column)
                else:
                    ignored.append(column)
            if ignored:
                self.notes.add(
                    "ignored_columns",
                    f"columns that are not {self.kind.value} "
                    f"columns were ignored: {', '.join(ignored[:10])} (expected "
                    f"{', '.join(known)})",
                    [1],
                )
        for name, value in mapping.constants.items():
            text = ("true" if value else "false") if isinstance(value, bool) else str(value)
            plan[name] = ("constant", text)
        missing = [
            c.name for c in presets.CANONICAL[self.kind] if c.required and c.name not in plan
        ]
        if missing:
            raise LeadPactError(
                f"{path.name} has no {', '.join(missing)} column, which {self.kind.value} need; "
                f"its columns are {', '.join(header)} (map them with --mapping, see docs/import.md)"
            )
        return plan

    def convert(self, batch: _Batch) -> _Chunk:
        n = batch.size
        problems = _Problems(n)
        values: dict[str, pa.Array] = {}
        for name, (how, what) in self.plan.items():
            text = batch.columns[what] if how == "column" else pa.repeat(pa.scalar(what), n)
            values[name] = self._typed(name, presets.clean_text(text), problems, batch.lines)
        for column in presets.CANONICAL[self.kind]:
            if column.required:
                problems.flag(
                    pc.is_null(values[column.name]),
                    f"{column.name} is empty",
                    f"{column.name} is empty",
                )
        self._derive(values, n)
        good = pc.is_null(problems.reason)
        rejects: list[Reject] = []
        if not pc.all(good).as_py():
            bad = np.flatnonzero(~good.to_numpy(zero_copy_only=False))
            reasons = problems.reason.take(pa.array(bad)).to_pylist()
            codes = problems.code.take(pa.array(bad)).to_pylist()
            rejects = [
                Reject(int(batch.lines[i]), str(r), batch.raw(int(batch.lines[i])), str(c))
                for i, r, c in zip(bad, reasons, codes, strict=True)
            ]
            values = {k: v.filter(good) for k, v in values.items()}
        kept = good.to_numpy(zero_copy_only=False)
        lines = batch.lines[kept]
        for code, message, mask in self._noticed:
            self.notes.add(code, message, batch.lines[mask & kept])
        self._noticed.clear()
        chunk = _Chunk(values, lines, rejects, batch)
        if self.dated and self.kind is Kind.LEADS:
            chunk.history = self._history(values)
        return chunk

    def _typed(
        self, name: str, text: pa.Array, problems: _Problems, lines: np.ndarray[Any, Any]
    ) -> pa.Array:
        column = presets.column_for(self.kind, name)
        assert column is not None
        if column.type == "text":
            target = self.table.c.get(name)
            limit = getattr(target.type, "length", None) if target is not None else None
            if limit:
                long = pc.greater(pc.utf8_length(text), limit)
                problems.flag(
                    long, f"{name} is too long", f"{name}: longer than {limit} characters"
                )
            return text
        if column.type in ("int", "number"):
            whole = column.type == "int"
            numbers, bad = presets.parse_numbers(text, whole=whole)
            what = "is not a whole number" if whole else "is not a number"
            problems.flag(bad, f"{name} {what}", _quoted(name, text, what))
            return numbers
        if column.type == "bool":
            flags, bad = presets.parse_bools(text)
            problems.flag(
                bad, f"{name} is not true or false", _quoted(name, text, "is not true or false")
            )
            return flags
        if column.type == "timestamp":
            found = presets.parse_instants(text, self.zone, self.formats)
            problems.flag(
                found.bad,
                f"{name} is not a date and time",
                _quoted(
                    name, text, "is not a date and time (ISO 8601, e.g. 2025-03-01T09:30:00+01:00)"
                ),
            )
            zone = self.zone or "UTC"
            read = ~found.bad.to_numpy(zero_copy_only=False)
            date_only = found.date_only.to_numpy(zero_copy_only=False) & read
            self._noticed.append(
                (
                    f"date_only:{name}",
                    f"{name}: dates without a time of day, read as midnight {zone}",
                    date_only,
                )
            )
            if self.zone is None:
                naive = read & pc.and_(found.naive, pc.invert(found.date_only)).to_numpy(
                    zero_copy_only=False
                )
                self._noticed.append(
                    (
                        f"naive:{name}",
                        f"{name}: times without a time zone, read as UTC "
                        "(set `timezone:` in a mapping file)",
                        naive,
                    )
                )
            return found.values
        mapped = presets.map_values(text, self.lookups[name])
        unknown = pc.and_(pc.is_valid(text), pc.is_null(mapped))
        what = {
            "stage": "stage",
            "activity_type": "activity type",
            "channel": "channel",
            "outcome": "touch outcome",
        }[column.type]
        expected = [v for v in dict.fromkeys(self.lookups[name].values()) if v]
        hint = "stages:" if column.type == "stage" else f"values: {{{name}: ...}}"
        problems.flag(
            unknown,
            f"unknown {what}",
            _quoted(
                name,
                text,
                f"is not a known {what}; expected one of {', '.join(expected)} (or map "
                f"it under `{hint}` in a mapping file)",
            ),
        )
        return mapped

    def _derive(self, values: dict[str, pa.Array], n: int) -> None:
        """Fill the stored columns the file does not give: defaults, keys, hashes."""
        if self.kind is Kind.LEADS:
            first = self.stage_ids[0]
            stage = values.get("stage", pa.repeat(pa.scalar(first), n))
            values["stage"] = pc.fill_null(stage, first)
            became_now = pa.nulls(n, pa.timestamp("us", "UTC"))
            for name, stage_id in self.entered.items():
                hit = pc.equal(values["stage"], stage_id)
                became_now = pc.if_else(hit, values[name], became_now)
            fallback = pc.coalesce(became_now, values["created_at"])
            values["stage_at"] = pc.coalesce(values.get("stage_at", fallback), fallback)
            values["opted_out"] = pc.fill_null(
                values.get("opted_out", pa.repeat(pa.scalar(False), n)), False
            )
            names = sorted(k for k in self.plan if k not in self.entered)
            values["row_hash"] = _hashes([values[k] for k in names], prefix=",".join(names))
        elif self.kind is Kind.ACTIVITIES:
            values["key"] = _hashes(
                [
                    values["lead_id"],
                    values["type"],
                    values["at"],
                    values.get("url", pa.nulls(n, pa.string())),
                ]
            )
        elif self.kind is Kind.TOUCHES:
            values["key"] = _hashes(
                [
                    values["lead_id"],
                    values["channel"],
                    values["at"],
                    values.get("rep", pa.nulls(n, pa.string())),
                ]
            )
        else:
            outcomes = {s.id: s.outcome for s in self.pact.stages}
            won = {
                k: True if o is Outcome.WON else False if o is Outcome.LOST else None
                for k, o in outcomes.items()
            }
            values["won"] = pa.array([won.get(s) for s in values["stage"].to_pylist()], pa.bool_())

    def _history(self, values: dict[str, pa.Array]) -> list[tuple[Any, ...]]:
        """Stage-change rows from the lifecycle dates of each lead (`became_<stage>_at`)."""
        dated = [(stage, values[name].to_pylist()) for name, stage in self.entered.items()]
        if "stage_at" in self.plan:
            dated.append(("", values["stage_at"].to_pylist()))
        stages = values["stage"].to_pylist()
        rows: list[tuple[Any, ...]] = []
        for i, lead_id in enumerate(values["id"].to_pylist()):
            steps = sorted({(at[i], stage or stages[i]) for stage, at in dated if at[i]})
            previous: tuple[datetime, str] | None = None
            for at, stage in steps:
                key = hashlib.sha256(f"{lead_id}\x1f{stage}\x1f{at.isoformat()}".encode())
                seconds = (at - previous[0]).total_seconds() if previous else None
                rows.append(
                    (
                        key.hexdigest(),
                        lead_id,
                        previous[1] if previous else None,
                        stage,
                        at,
                        seconds,
                    )
                )
                previous = (at, stage)
        return rows


def _hashes(columns: list[pa.Array], prefix: str = "") -> pa.Array:
    """A SHA-256 per row of the values (the stable key of an event or a row's content)."""
    texts = [
        _utc_text(c) if pa.types.is_timestamp(c.type) else pc.cast(c, pa.string()) for c in columns
    ]
    joined = pc.binary_join_element_wise(
        *texts, "\x1f", null_handling="replace", null_replacement="\x00"
    )
    seed = prefix.encode()
    return pa.array(
        [
            hashlib.sha256(seed + s.encode()).hexdigest()
            for s in joined.to_numpy(zero_copy_only=False)
        ],
        pa.string(),
    )


# --- The store: stage, check, upsert ------------------------------------------------------------

_STAGED: dict[Kind, tuple[str, ...]] = {
    Kind.LEADS: (
        "id",
        "email",
        "first_name",
        "last_name",
        "title",
        "company",
        "employees",
        "annual_revenue",
        "industry",
        "country",
        "source",
        "owner",
        "team",
        "stage",
        "stage_at",
        "created_at",
        "opted_out",
        "row_hash",
    ),
    Kind.ACTIVITIES: ("key", "lead_id", "type", "at", "url", "content"),
    Kind.TOUCHES: ("key", "lead_id", "rep", "channel", "at", "outcome", "note"),
    Kind.DEALS: ("id", "lead_id", "stage", "amount", "created_at", "closed_at", "won"),
}
_HISTORY = ("key", "lead_id", "from_stage", "to_stage", "at", "seconds_in_from")


class _Staging:
    """A temporary table on the import's connection, filled through the driver in bulk."""

    def __init__(self, conn: Connection, name: str, target: Table, columns: Sequence[str]) -> None:
        from sqlalchemy import BigInteger, Column, MetaData, Table, text

        self.conn, self.columns = conn, list(columns)
        self.table = Table(
            name,
            MetaData(),
            Column("line", BigInteger),
            *(Column(c, target.c[c].type) for c in columns),
            prefixes=["TEMPORARY"],
        )
        self.sqlite = conn.dialect.name == "sqlite"
        with conn.begin():
            conn.execute(text(f"DROP TABLE IF EXISTS {name}"))
            self.table.create(conn)

    def load(self, rows: list[tuple[Any, ...]]) -> None:
        raw = self.conn.connection.driver_connection
        assert raw is not None
        names = ", ".join(["line", *self.columns])
        if self.sqlite:
            marks = ", ".join("?" * (len(self.columns) + 1))
            raw.executemany(f"INSERT INTO {self.table.name} ({names}) VALUES ({marks})", rows)
        else:
            with (
                raw.cursor() as cursor,
                cursor.copy(f"COPY {self.table.name} ({names}) FROM STDIN") as copy,
            ):
                for row in rows:
                    copy.write_row(row)

    def drop(self) -> None:
        from sqlalchemy import text

        with self.conn.begin():
            self.conn.execute(text(f"DROP TABLE IF EXISTS {self.table.name}"))


class _Writer:
    """Lands converted chunks: stage, reject what the database knows is wrong, upsert."""

    def __init__(
        self, conn: Connection, kind: Kind, converter: _Converter, now: datetime, notes: _Notes
    ) -> None:
        from leadpact.store import tables
        from leadpact.store.engine import BEGIN_MODE

        self.kind, self.converter, self.now, self.notes = kind, converter, now, notes
        if conn.dialect.name == "sqlite":
            raw = conn.connection.driver_connection
            assert raw is not None
            # Big chunks touch many index pages; the staging tables need no disk.
            raw.execute("PRAGMA cache_size=-262144")
            raw.execute("PRAGMA temp_store=MEMORY")
            # Each chunk checks its lead ids against `leads` and upserts in one IMMEDIATE
            # transaction (no other writer in between), so the per-row foreign-key lookups
            # would only repeat that check; they are switched back on in `close`.
            raw.execute("PRAGMA foreign_keys=OFF")
            conn = conn.execution_options(**{BEGIN_MODE: "IMMEDIATE"})
        self.conn = conn
        self.tables = tables
        self.target: Table = getattr(tables, kind.value)
        self.stage = _Staging(conn, "leadpact_import_rows", self.target, _STAGED[kind])
        self.history = (
            _Staging(conn, "leadpact_import_history", tables.stage_changes, _HISTORY)
            if converter.dated and kind is Kind.LEADS
            else None
        )
        self.landed = self.inserted = self.updated = self.stage_changes = 0
        self._times = _TimeText(conn)

    def write(self, chunk: _Chunk) -> list[Reject]:
        if not len(chunk.lines):
            return []
        n = len(chunk.lines)
        columns: list[list[Any]] = [chunk.lines.tolist()]
        for name in _STAGED[self.kind]:
            values = chunk.values.get(name)
            if values is None:
                columns.append([None] * n)
            elif pa.types.is_timestamp(values.type):
                columns.append(self._times.texts(values))
            else:
                columns.append(values.to_pylist())
        rows = list(zip(*columns, strict=True))
        with self.conn.begin():
            self.stage.load(rows)
            rejects = self._check(chunk)
            self._upsert()
            if self.history is not None and chunk.history:
                self.history.load([(0, *r[:4], self._times.one(r[4]), r[5]) for r in chunk.history])
                self._upsert_history()
            self._clear()
        return rejects

    def _check(self, chunk: _Chunk) -> list[Reject]:
        """Set aside rows whose lead is unknown; note duplicates and impossible dates."""
        from sqlalchemy import delete, exists, func, select

        st = self.stage.table.c
        leads = self.tables.leads
        rejects: list[Reject] = []
        if "lead_id" in st:
            orphan = ~exists().where(leads.c.id == st.lead_id)
            found = self.conn.execute(select(st.line, st.lead_id).where(orphan)).all()
            for line, lead_id in sorted(found):
                rejects.append(
                    Reject(
                        line,
                        f"lead_id: no lead {lead_id!r} in the workspace (import the leads first)",
                        chunk.batch.raw(line),
                        "lead_id: lead not in the workspace",
                    )
                )
            if found:
                self.conn.execute(delete(self.stage.table).where(orphan))
        if "id" in st:
            latest = select(func.max(st.line)).group_by(st.id)
            dupes = self.conn.execute(select(st.line).where(st.line.not_in(latest))).scalars()
            lines = sorted(dupes)
            if lines:
                self.notes.add(
                    "duplicate_id", "the same id on several lines: the last line wins", lines
                )
                self.conn.execute(delete(self.stage.table).where(st.line.in_(lines)))
        if self.kind is Kind.DEALS:
            early = select(st.line).where(st.closed_at < st.created_at)
            self.notes.add(
                "closed_before_created",
                "deals closed before they were created",
                sorted(self.conn.execute(early).scalars()),
            )
            before = (
                select(st.line)
                .join(leads, leads.c.id == st.lead_id)
                .where(st.closed_at < leads.c.created_at)
            )
            self.notes.add(
                "closed_before_lead",
                "deals closed before their lead was created (e.g. won before the first contact)",
                sorted(self.conn.execute(before).scalars()),
            )
        return rejects

    def _upsert(self) -> None:
        from sqlalchemy import case, exists, func, literal, select, true

        st = self.stage.table
        target = self.target
        columns = list(_STAGED[self.kind])
        insert = _insert_for(self.conn)
        staged = self.conn.execute(select(func.count()).select_from(st)).scalar_one()
        stmt = insert(target).from_select(
            columns, select(*(st.c[c] for c in columns)).where(true())
        )
        if self.kind in (Kind.ACTIVITIES, Kind.TOUCHES):
            # In key order the unique index is filled page by page, not at random (measured:
            # about 25 % faster on SQLite).
            stmt = insert(target).from_select(
                columns, select(*(st.c[c] for c in columns)).where(true()).order_by(st.c.key)
            )
            inserted = _rows_changed(self.conn, stmt.on_conflict_do_nothing(index_elements=["key"]))
            self.landed += staged
            self.inserted += inserted
            return
        existing = self.conn.execute(
            select(func.count()).select_from(st).where(exists().where(target.c.id == st.c.id))
        ).scalar_one()
        plan = self.converter.plan
        if self.kind is Kind.LEADS:
            given = [c for c in columns if c in plan and c not in ("stage", "stage_at")]
            update = {c: stmt.excluded[c] for c in [*given, "row_hash"]}
            if "stage" in plan:
                update["stage"] = stmt.excluded.stage
                update["stage_at"] = (
                    stmt.excluded.stage_at
                    if self.converter.dated
                    else case(
                        (target.c.stage == stmt.excluded.stage, target.c.stage_at),
                        else_=literal(self.now, target.c.stage_at.type),
                    )
                )
            changed = target.c.row_hash.is_distinct_from(stmt.excluded.row_hash)
        else:
            update = {c: stmt.excluded[c] for c in columns if c != "id"}
            changed = _any_distinct([target.c[c] for c in update], list(update.values()))
        changes = _rows_changed(
            self.conn, stmt.on_conflict_do_update(index_elements=["id"], set_=update, where=changed)
        )
        self.landed += staged
        self.inserted += staged - existing
        self.updated += changes - (staged - existing)

    def _upsert_history(self) -> None:
        from sqlalchemy import select, true

        assert self.history is not None
        st = self.history.table
        target = self.tables.stage_changes
        insert = _insert_for(self.conn)
        stmt = insert(target).from_select(
            list(_HISTORY), select(*(st.c[c] for c in _HISTORY)).where(true())
        )
        update = {
            "from_stage": stmt.excluded.from_stage,
            "seconds_in_from": stmt.excluded.seconds_in_from,
        }
        changed = _any_distinct(
            [target.c.from_stage, target.c.seconds_in_from], list(update.values())
        )
        self.stage_changes += _rows_changed(
            self.conn,
            stmt.on_conflict_do_update(index_elements=["key"], set_=update, where=changed),
        )

    def _clear(self) -> None:
        from sqlalchemy import delete

        self.conn.execute(delete(self.stage.table))
        if self.history is not None:
            self.conn.execute(delete(self.history.table))

    def record(self, path: Path, report: ImportReport) -> int:
        """Record the run in the `imports` table; returns its id."""
        with self.conn.begin():
            result = self.conn.execute(
                self.tables.imports.insert().values(
                    file=str(path.resolve()),
                    kind=self.kind.value,
                    at=self.now,
                    rows_read=report.rows_read,
                    rows_landed=report.landed,
                    rows_rejected=report.rejected,
                )
            )
        key = result.inserted_primary_key
        return int(key[0]) if key else 0

    def close(self) -> None:
        if self.conn.in_transaction():
            self.conn.rollback()
        self.stage.drop()
        if self.history is not None:
            self.history.drop()
        if self.conn.dialect.name == "sqlite":
            raw = self.conn.connection.driver_connection
            assert raw is not None
            raw.execute("PRAGMA foreign_keys=ON")


def _rows_changed(conn: Connection, statement: Any) -> int:
    """Run an upsert and return the rows it inserted or updated (the driver's row count)."""
    result = conn.execute(statement, execution_options={"preserve_rowcount": True})
    return int(result.rowcount)


def _insert_for(conn: Connection) -> Any:
    if conn.dialect.name == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        return sqlite_insert
    from sqlalchemy.dialects.postgresql import insert as pg_insert

    return pg_insert


def _any_distinct(left: list[Any], right: list[Any]) -> Any:
    from sqlalchemy import or_

    return or_(*(a.is_distinct_from(b) for a, b in zip(left, right, strict=True)))


class _TimeText:
    """Timestamps as the text the driver stores, built for whole columns at once.

    On SQLite the store keeps naive UTC text in SQLAlchemy's format; it is checked once
    against the column type's own bind processor, and the slow per-value path is used if
    they ever differ. PostgreSQL's COPY reads ISO 8601 with an offset.
    """

    def __init__(self, conn: Connection) -> None:
        from datetime import UTC

        from leadpact.store.tables import leads

        self.sqlite = conn.dialect.name == "sqlite"
        column_type = leads.c.created_at.type
        self.bind = column_type.dialect_impl(conn.dialect).bind_processor(conn.dialect)
        sample = datetime(2025, 3, 1, 9, 30, 15, 123456, tzinfo=UTC)
        fast = self.texts(pa.array([sample], pa.timestamp("us", "UTC")), check=False)[0]
        expected = self.bind(sample) if self.bind else sample
        self.fast = not self.sqlite or fast == expected

    def texts(self, values: pa.Array, *, check: bool = True) -> list[Any]:
        if check and not self.fast:
            return [self.one(v) for v in values.to_pylist()]
        text = _utc_text(values)
        if not self.sqlite:
            text = pc.binary_join_element_wise(text, "+00:00", "")
        texts: list[Any] = text.to_pylist()
        return texts

    def one(self, value: datetime | None) -> Any:
        if value is None:
            return None
        if self.sqlite:
            return self.bind(value) if self.bind else value
        return value.isoformat()


class _RejectSink:
    """The rejects file (line, reason, raw), written as rejects come; counts for the report."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._file: io.TextIOWrapper | None = None
        self._writer: Any = None

    def add(self, rejects: list[Reject], report: ImportReport) -> None:
        if not rejects:
            return
        if self._file is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._file = self.path.open("w", encoding="utf-8", newline="")
            self._writer = csv.writer(self._file)
            self._writer.writerow(["line", "reason", "raw"])
        for reject in sorted(rejects, key=lambda r: r.line):
            self._writer.writerow([reject.line, reject.reason, reject.raw])
            code = reject.code or reject.reason
            report.reasons[code] = report.reasons.get(code, 0) + 1
            if len(report.examples) < _EXAMPLES:
                report.examples.append(reject)
        report.rejected += len(rejects)

    def close(self) -> Path | None:
        if self._file is None:
            self.path.unlink(missing_ok=True)  # a stale file from an earlier run would mislead
            return None
        self._file.close()
        return self.path


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
