"""Import files read in batches of text columns, each row with its line number in the file.

CSV is read with pyarrow's streaming reader on all cores (`import_csv`); Parquet with pyarrow;
XLSX with openpyxl. Every value is read as text (converting is `import_convert`'s job). Rows a
reader cannot split into the header's columns are set aside as rejects with their line.
"""

from __future__ import annotations

import csv
import io
from abc import ABC, abstractmethod
from collections.abc import Iterator
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

#: Rows per Parquet and XLSX batch (CSV: `import_csv.BLOCK_BYTES`).
CHUNK_ROWS = 200_000
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


class Reader(ABC):
    """A source file read in batches; rows it cannot split are kept as rejects."""

    header: list[str]
    malformed: int = 0

    @abstractmethod
    def batches(self) -> Iterator[Batch]:
        """The rows, batch by batch, in file order."""

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
        from leadpact.services.import_csv import CsvReader

        return CsvReader(path, mapping)
    if fmt == "parquet":
        return ParquetReader(path)
    return XlsxReader(path, mapping)


def check_header(path: Path, header: list[str]) -> list[str]:
    """The header, unless it is empty or names a column twice.

    Raises:
        ImportFileError: it is.
    """
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


def first_line(err: Exception) -> str:
    """The first line of an error's message (pyarrow's go on for several)."""
    return str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__


class ParquetReader(Reader):
    """A Parquet file; row numbers count from 1; typed columns are read as text."""

    def __init__(self, path: Path) -> None:
        import pyarrow.parquet as pq

        try:
            self._file = pq.ParquetFile(path)
        except (pa.ArrowInvalid, OSError) as err:
            raise ImportFileError(
                str(path), f"{path}: not a Parquet file ({first_line(err)})"
            ) from None
        self.header = check_header(path, list(self._file.schema_arrow.names))
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
                str(path), f"{path}: not an XLSX workbook ({first_line(err)})"
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
        self.header = check_header(
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
