"""CSV files read in batches on all cores, each row numbered by its physical line in the file.

pyarrow's streaming reader parses blocks of `BLOCK_BYTES` in parallel, every value as text.
Rows that do not split into the header's columns are set aside with their line. Line numbers
count the lines of quoted values that span lines, and the malformed rows between good ones.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Generator, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from leadpact.errors import ImportFileError
from leadpact.services.import_readers import Batch, Lines, Reader, check_header, first_line
from leadpact.services.import_report import Reject
from leadpact.services.presets import Mapping

#: Bytes per parsed block: a batch (and chunk) of a few hundred thousand rows.
BLOCK_BYTES = 16 << 20


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
        self.header = check_header(path, [name.strip() for name in row])
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
                    use_threads=threads, block_size=BLOCK_BYTES, encoding=self.encoding
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
                f"{self.path}: cannot read the file: {first_line(err)}; "
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
