"""Import files read in batches of text columns, each row with its line number in the file.

CSV is read with pyarrow's streaming reader on all cores; Parquet with pyarrow; XLSX with
openpyxl. Every value is read as text (converting is `services.import_convert`'s job). Rows a
reader cannot split into the header's columns are set aside as rejects with their line.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from leadpact.errors import ImportFileError
from leadpact.services.import_report import Reject
from leadpact.services.presets import Mapping

#: Rows per Parquet and XLSX batch; CSV blocks are sized to give a few hundred thousand rows.
CHUNK_ROWS = 200_000
_CSV_BLOCK = 16 << 20
_FORMATS = {".csv": "csv", ".txt": "csv", ".tsv": "csv", ".parquet": "parquet", ".pq": "parquet"}
_FORMATS |= {".xlsx": "xlsx", ".xlsm": "xlsx"}

Lines = np.ndarray[Any, np.dtype[np.int64]]


@dataclass
class Batch:
    """Rows of the source file as text columns, with the line (or row) number of each."""

    columns: dict[str, pa.Array]
    lines: Lines
    delimiter: str = ","

    @property
    def size(self) -> int:
        """How many rows."""
        return len(self.lines)

    def raw(self, line: int) -> str:
        """The row on `line` as a line of CSV (for the rejects file)."""
        return self.raws([line])[0]

    def raws(self, lines: list[int]) -> list[str]:
        """The rows on these lines as lines of CSV."""
        at = pa.array(np.searchsorted(self.lines, lines))
        cells = zip(*(c.take(at).to_pylist() for c in self.columns.values()), strict=True)
        out = io.StringIO()
        writer = csv.writer(out, delimiter=self.delimiter, lineterminator="\r\n")
        texts = []
        for row in cells:
            out.seek(0)
            out.truncate()
            writer.writerow(["" if v is None else str(v) for v in row])
            texts.append(out.getvalue().removesuffix("\r\n"))
        return texts


class Reader:
    """A source file read in batches; rows it cannot split are kept as rejects."""

    header: list[str]
    malformed: int = 0

    def batches(self) -> Iterator[Batch]:
        """The rows, batch by batch, in file order."""
        raise NotImplementedError

    def take_malformed(self) -> list[Reject]:
        """The rows set aside since the last call."""
        return []

    def position(self) -> tuple[int, int]:
        """(done, total) for a progress bar: bytes of a CSV file, rows of the others."""
        return (0, 0)


def format_of(path: Path) -> str:
    """ "csv", "parquet" or "xlsx", from the file's suffix.

    Raises:
        ImportFileError: the file is missing, not a file, or of another format.
    """
    if not path.exists():
        raise ImportFileError(str(path), f"{path}: no such file")
    if not path.is_file():
        raise ImportFileError(str(path), f"{path} is not a file")
    fmt = _FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise ImportFileError(
            str(path),
            f"{path}: cannot import {path.suffix or 'a file without a suffix'}; "
            "expected .csv, .parquet or .xlsx",
        )
    return fmt


def open_reader(fmt: str, path: Path, mapping: Mapping) -> Reader:
    """A reader for `path` in format `fmt` (see `format_of`); its header is read at once.

    Raises:
        ImportFileError: the file is empty, unreadable, or its header names a column twice.
    """
    if fmt == "csv":
        return CsvReader(path, mapping)
    if fmt == "parquet":
        return ParquetReader(path)
    return XlsxReader(path, mapping)


def _check_header(path: Path, header: list[str]) -> list[str]:
    seen: set[str] = set()
    for name in header:
        if name in seen:
            raise ImportFileError(str(path), f"{path}: column {name!r} appears twice in the header")
        seen.add(name)
    if not header or header == [""]:
        raise ImportFileError(
            str(path), f"{path}: the file is empty; expected a header line of column names"
        )
    return header


def _first_line(err: Exception) -> str:
    return str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__


class CsvReader(Reader):
    """A CSV file read with pyarrow's streaming reader; every value is read as text.

    Line numbers are physical lines of the file (the header is line 1), also when a quoted
    value spans lines. The file is parsed on all cores; pyarrow numbers the rows it cannot
    split only when it reads on one thread, so at the first such row the reader starts again
    on one thread, passing over the rows it has already handed out (a clean file is read
    once).
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
            raise ImportFileError(
                str(path), f"unknown encoding {self.encoding!r} in the mapping"
            ) from None
        first = text.splitlines()[0] if text.strip() else ""
        self.delimiter = mapping.delimiter or max(",;\t|", key=first.count)
        row = next(csv.reader([first], delimiter=self.delimiter), [])
        self.header = _check_header(path, [name.strip() for name in row])
        self.size = path.stat().st_size
        self._file: io.BufferedReader | None = None
        self._handed = 0  # rows (as pyarrow counts them) already handed out
        self._unnumbered = False
        self._reset()

    def _reset(self) -> None:
        self._numbers: list[int] = []
        self._unsettled: list[tuple[int, str]] = []
        self._done: list[Reject] = []
        self._rows = 0
        self._extra = 0

    def _on_invalid(self, row: Any) -> str:
        if row.number is None:  # read on several threads: start again on one
            self._unnumbered = True
            return "skip"
        number = int(row.number)
        self._numbers.append(number)
        self._unsettled.append((number, str(row.text)))
        return "skip"

    def batches(self) -> Iterator[Batch]:
        threads = True
        while (yield from self._pass(threads=threads)):
            threads = False
        self._settle(np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64), final=True)

    def _pass(self, *, threads: bool) -> Generator[Batch, None, bool]:
        """Read the file once; returns True when it must be read again on one thread."""
        import pyarrow.csv as pcsv

        self._reset()
        types = {name: pa.string() for name in self.header}
        self._file = self.path.open("rb")
        try:
            reader = pcsv.open_csv(
                self._file,
                read_options=pcsv.ReadOptions(
                    use_threads=threads, block_size=_CSV_BLOCK, encoding=self.encoding
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
                    return False
                if self._unnumbered:
                    self._unnumbered = False
                    return True
                found = self._number(batch)
                if found is not None:
                    yield found
        except pa.ArrowInvalid as err:
            raise ImportFileError(
                str(self.path),
                f"{self.path}: cannot read the file: {_first_line(err)}; "
                "set `encoding:` or `delimiter:` in a mapping file",
            ) from None
        finally:
            self._file.close()

    def _number(self, batch: pa.RecordBatch) -> Batch | None:
        n = batch.num_rows
        first = self._rows
        # The k-th row pyarrow returns is the k-th logical row that was not malformed.
        invalid = np.array(sorted(self._numbers), dtype=np.int64)
        base = 2 + first + np.arange(n, dtype=np.int64)
        logical = base + np.searchsorted(invalid - np.arange(len(invalid)), base, side="right")
        self._rows += n
        columns = {name: batch.column(i) for i, name in enumerate(batch.schema.names)}
        breaks = np.zeros(n, dtype=np.int64)
        for values in columns.values():
            if pc.any(pc.match_substring(values, "\n")).as_py():
                breaks += pc.fill_null(pc.count_substring(values, "\n"), 0).to_numpy()
        lines = self._settle(logical, breaks)
        keep = np.ones(n, dtype=bool)
        for values in columns.values():
            if values.null_count == 0:
                break
        else:  # every column has nulls: some rows may be blank
            blank = np.ones(n, dtype=bool)
            for values in columns.values():
                blank &= values.is_null().to_numpy(zero_copy_only=False)
            keep &= ~blank
        if first < self._handed:  # read again after a malformed row: these went out already
            keep[: self._handed - first] = False
        self._handed = max(self._handed, self._rows)
        if not keep.all():
            mask = pa.array(keep)
            columns = {k: v.filter(mask) for k, v in columns.items()}
            lines = lines[keep]
        return Batch(columns, lines, self.delimiter) if len(lines) else None

    def _settle(self, logical: Lines, breaks: Lines, *, final: bool = False) -> Lines:
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


class ParquetReader(Reader):
    """A Parquet file; row numbers count from 1; typed columns are read as text."""

    def __init__(self, path: Path) -> None:
        import pyarrow.parquet as pq

        try:
            self._file = pq.ParquetFile(path)
        except (pa.ArrowInvalid, OSError) as err:
            raise ImportFileError(
                str(path), f"{path}: not a Parquet file ({_first_line(err)})"
            ) from None
        self.header = _check_header(path, list(self._file.schema_arrow.names))
        self._done = 0
        self._total = self._file.metadata.num_rows

    def batches(self) -> Iterator[Batch]:
        for batch in self._file.iter_batches(batch_size=CHUNK_ROWS):
            columns = {name: _as_text(batch.column(i)) for i, name in enumerate(self.header)}
            lines = np.arange(self._done + 1, self._done + batch.num_rows + 1, dtype=np.int64)
            self._done += batch.num_rows
            yield Batch(columns, lines)

    def position(self) -> tuple[int, int]:
        return (self._done, self._total)


def utc_text(values: pa.Array) -> pa.Array:
    """Instants as "2025-03-01 09:30:15.123456" in UTC (a cast: much faster than strftime)."""
    naive = pc.cast(pc.cast(values, pa.timestamp("us", "UTC")), pa.timestamp("us"))
    return pc.cast(naive, pa.string())


def _as_text(values: pa.Array) -> pa.Array:
    if pa.types.is_timestamp(values.type) and values.type.tz is not None:
        return pc.binary_join_element_wise(utc_text(values), "Z", "")
    if pa.types.is_dictionary(values.type):
        values = values.dictionary_decode()
    return pc.cast(values, pa.string())


class XlsxReader(Reader):
    """An Excel workbook (the mapping's `sheet`, or the first); row numbers are Excel's."""

    def __init__(self, path: Path, mapping: Mapping) -> None:
        from openpyxl import load_workbook

        try:
            self._book = load_workbook(path, read_only=True, data_only=True)
        except Exception as err:  # openpyxl raises many types for a file that is not XLSX
            raise ImportFileError(
                str(path), f"{path}: not an XLSX workbook ({_first_line(err)})"
            ) from None
        if mapping.sheet is not None and mapping.sheet not in self._book.sheetnames:
            raise ImportFileError(
                str(path),
                f"{path} has no sheet {mapping.sheet!r}; it has "
                + ", ".join(self._book.sheetnames),
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

    def batches(self) -> Iterator[Batch]:
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

    def _batch(self, cells: list[list[str | None]], lines: list[int]) -> Batch:
        columns = {
            name: pa.array([row[i] for row in cells], pa.string())
            for i, name in enumerate(self.header)
        }
        return Batch(columns, np.array(lines, dtype=np.int64))

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
