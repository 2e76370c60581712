"""What one import did: counts, the rows set aside (and the rejects file), the data problems.

Rejected rows keep their line in the file and the reason; the summary shows the first ten,
the rejects file (CSV: line, reason, raw) holds all of them. Rows of people erased earlier
(suppressed) are counted apart, by line only: they are not errors, and their text is not
written anywhere. Notes are problems that did not
stop rows from landing (dates without a time, duplicate ids...), each with its count and first
lines.
"""

from __future__ import annotations

import csv
import io
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from leadpact.services.import_columns import Kind

#: How many rejects (and lines of each note) a report shows.
EXAMPLES = 10

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


class Notes:
    """Data problems noticed on the way, by code, with the first lines they were seen on.

    The converter (on the reading thread) and the writer add to the same notes.
    """

    def __init__(self) -> None:
        self._notes: dict[str, Note] = {}
        self._lock = threading.Lock()

    def add(self, code: str, message: str, lines: Sequence[int] | np.ndarray[Any, Any]) -> None:
        """Count `lines` under `code` (the first `EXAMPLES` lines are kept)."""
        if not len(lines):
            return
        with self._lock:
            note = self._notes.setdefault(code, Note(code, message))
            note.count += len(lines)
            room = EXAMPLES - len(note.lines)
            if room > 0:
                note.lines.extend(int(x) for x in lines[:room])

    def sorted(self) -> list[Note]:
        """The notes by code."""
        return sorted(self._notes.values(), key=lambda n: n.code)


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
    #: Rows of people erased earlier, set aside (not rejects), and the first of their lines.
    suppressed: int = 0
    suppressed_lines: list[int] = field(default_factory=list)

    def add_suppressed(self, lines: Sequence[int]) -> None:
        """Count rows set aside because the person was erased earlier."""
        self.suppressed += len(lines)
        self.suppressed_lines = sorted([*self.suppressed_lines, *lines])[:EXAMPLES]

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
            "suppressed": self.suppressed,
            "suppressed_lines": self.suppressed_lines,
            "notes": [
                {"code": n.code, "message": n.message, "count": n.count, "lines": n.lines}
                for n in self.notes
            ],
            "scored": self.scored,
            "import_id": self.import_id,
        }


class RejectSink:
    """The rejects file (line, reason, raw), written as rejects come; counts for the report."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._file: io.TextIOWrapper | None = None
        self._writer: Any = None

    def add(self, rejects: list[Reject], report: ImportReport) -> None:
        """Write `rejects` (in line order) and count them in `report`."""
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
            if len(report.examples) < EXAMPLES:
                report.examples.append(reject)
        report.rejected += len(rejects)

    def close(self) -> Path | None:
        """Close the file; remove a stale one when nothing was rejected. Returns its path."""
        if self._file is None:
            self.path.unlink(missing_ok=True)  # a stale file from an earlier run would mislead
            return None
        self._file.close()
        return self.path
