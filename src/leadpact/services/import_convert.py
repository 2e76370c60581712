"""From batches of source text to checked, typed canonical columns of one kind.

A `Converter` knows where each canonical column comes from (a source column or a constant),
reads every value by its column's type (`services.import_values`), sets aside the rows with an
unreadable or missing value (with the reason), notes odd but readable values, and derives the
stored columns the file does not give: defaults, event keys and lead row hashes
(`services.import_keys`), and the stage history of `became_<stage>_at` columns
(`services.import_history`). Everything is done on whole Arrow columns; only rejected rows
become Python objects.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from leadpact.core.pact import Outcome, Pact
from leadpact.errors import ImportFileError
from leadpact.services import import_keys as keys
from leadpact.services import import_values as read
from leadpact.services.import_columns import (
    BECAME,
    CANONICAL,
    Kind,
    column_for,
    columns_of,
    normalize,
    vocabulary,
)
from leadpact.services.import_history import stage_history
from leadpact.services.import_readers import Batch, Lines
from leadpact.services.import_report import Notes, Reject
from leadpact.services.import_store import Rows
from leadpact.services.presets import Source

if TYPE_CHECKING:
    from sqlalchemy import Table

    from leadpact.store.suppression import SuppressionList

_UTC_US = pa.timestamp("us", "UTC")


class Problems:
    """The first reason each row of a chunk is rejected, as Arrow columns."""

    def __init__(self, n: int) -> None:
        self.reason = pa.nulls(n, pa.string())
        self.code = pa.nulls(n, pa.string())

    def flag(self, bad: pa.Array, code: str, message: pa.Array | str | _Quoted) -> None:
        """Reject the rows in `bad` (unless already rejected) with this code and message."""
        bad = pc.fill_null(bad, False)
        if not pc.any(bad).as_py():
            return
        take = pc.and_(bad, pc.is_null(self.reason))
        if isinstance(message, _Quoted):
            message = message.texts()
        self.reason = pc.if_else(take, message, self.reason)
        self.code = pc.if_else(take, code, self.code)


@dataclass(frozen=True)
class _Quoted:
    """`name: 'value' tail` for each row, made only when a row is bad (it names the value)."""

    name: str
    values: pa.Array
    tail: str

    def texts(self) -> pa.Array:
        short = pc.utf8_slice_codeunits(self.values, 0, 80)
        return pc.binary_join_element_wise(f"{self.name}: '", short, f"' {self.tail}", "")


@dataclass
class Chunk:
    """The good rows of a batch as typed canonical columns, and the rows set aside.

    `history` holds the stage changes read from `became_<stage>_at` (and `stage_at`) columns
    of a leads file: key, lead_id, from_stage, to_stage, at, seconds_in_from, and the line.
    """

    values: dict[str, pa.Array]
    lines: Lines
    rejects: list[Reject]
    batch: Batch
    history: pa.Table | None = None
    #: Made by `import_writer.Writer.prepare`: the rows as the database driver takes them.
    rows: Rows | None = None
    history_rows: Rows | None = None
    lead_hashes: keys.Lanes | None = None
    #: The lanes the converter hashed into `values["key"]` (they give the key's order).
    key_hashes: keys.Lanes | None = None
    #: Which rows name a known lead, and the index of lead ids that said so.
    known: tuple[Any, np.ndarray[Any, np.dtype[np.bool_]]] | None = None
    #: Lines set aside because the person was erased earlier (`services.import_suppression`).
    suppressed: list[int] = field(default_factory=list)
    #: The suppression list the rows were last screened against.
    screened: SuppressionList | None = None

    def keep(self, mask: np.ndarray[Any, np.dtype[np.bool_]]) -> None:
        """Keep only the rows where `mask` is true (the writer sets rows aside too).

        Rows already prepared stay as they are: the writer passes them the same mask.
        """
        if mask.all():
            return
        selection = pa.array(mask)
        self.values = {k: v.filter(selection) for k, v in self.values.items()}
        self.lines = self.lines[mask]
        if self.lead_hashes is not None:
            self.lead_hashes = (self.lead_hashes[0][mask], self.lead_hashes[1][mask])
        if self.key_hashes is not None:
            self.key_hashes = (self.key_hashes[0][mask], self.key_hashes[1][mask])

    def reorder(self, order: pa.Array) -> None:
        """Put the rows in this order (indices)."""
        self.values = {k: v.take(order) for k, v in self.values.items()}
        at = order.to_numpy()
        self.lines = self.lines[at]
        if self.lead_hashes is not None:
            self.lead_hashes = (self.lead_hashes[0][at], self.lead_hashes[1][at])
        if self.key_hashes is not None:
            self.key_hashes = (self.key_hashes[0][at], self.key_hashes[1][at])


class Converter:
    """Turns batches of source text into canonical rows of one kind, checking every value."""

    def __init__(
        self, kind: Kind, source: Source, header: list[str], pact: Pact, path: Path, notes: Notes
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
            column = column_for(kind, name)
            allowed = vocabulary(column.type, pact) if column else None
            if allowed is not None:
                table: dict[str, str | None] = {normalize(v): v for v in allowed}
                extra = mapping.stages if column and column.type == "stage" else {}
                extra = {**extra, **mapping.values.get(name, {})}
                table.update({normalize(k): v if v in allowed else None for k, v in extra.items()})
                self.lookups[name] = table
        self.table: Table = getattr(tables, kind.value)
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
                    raise ImportFileError(
                        str(path),
                        f"{path.name} has no column {column!r}{where}; its columns are "
                        + ", ".join(header),
                    )
        else:
            known = columns_of(self.kind)
            ignored = []
            for column in header:
                name = column.strip().lower()
                if column_for(self.kind, name) is not None:
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
        missing = [c.name for c in CANONICAL[self.kind] if c.required and c.name not in plan]
        if missing:
            raise ImportFileError(
                str(path),
                f"{path.name} has no {', '.join(missing)} column, which {self.kind.value} need; "
                f"its columns are {', '.join(header)} (map them with --mapping, see "
                "docs/import.md)",
            )
        return plan

    def convert(self, batch: Batch) -> Chunk:
        """The batch's rows as typed canonical columns; unreadable rows become rejects."""
        n = batch.size
        problems = Problems(n)
        values: dict[str, pa.Array] = {}
        for name, (how, what) in self.plan.items():
            text = batch.columns[what] if how == "column" else pa.repeat(pa.scalar(what), n)
            if isinstance(text, pa.ChunkedArray):
                text = text.combine_chunks()
            values[name] = self._typed(name, read.clean_text(text), problems)
        for column in CANONICAL[self.kind]:
            if column.required:
                problems.flag(
                    pc.is_null(values[column.name]),
                    f"{column.name} is empty",
                    f"{column.name} is empty",
                )
        good = pc.is_null(problems.reason)
        rejects: list[Reject] = []
        kept = good.to_numpy(zero_copy_only=False)
        if not kept.all():
            bad = np.flatnonzero(~kept)
            reasons = problems.reason.take(pa.array(bad)).to_pylist()
            codes = problems.code.take(pa.array(bad)).to_pylist()
            lines_bad = batch.lines[bad].tolist()
            rejects = [
                Reject(line, str(r), raw, str(c))
                for line, r, c, raw in zip(
                    lines_bad, reasons, codes, batch.raws(lines_bad), strict=True
                )
            ]
            values = {k: v.filter(good) for k, v in values.items()}
        lines = batch.lines[kept]
        for code, message, mask in self._noticed:
            self.notes.add(code, message, batch.lines[mask & kept])
        self._noticed.clear()
        chunk = Chunk(values, lines, rejects, batch)
        self._derive(chunk)
        if self.dated and self.kind is Kind.LEADS:
            chunk.history = stage_history(
                values, lines, self.entered, stage_at="stage_at" in self.plan
            )
        return chunk

    def _typed(self, name: str, text: pa.Array, problems: Problems) -> pa.Array:
        column = column_for(self.kind, name)
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
            numbers, bad = read.parse_numbers(text, whole=whole)
            what = "is not a whole number" if whole else "is not a number"
            problems.flag(bad, f"{name} {what}", _Quoted(name, text, what))
            return numbers
        if column.type == "bool":
            flags, bad = read.parse_bools(text)
            problems.flag(
                bad, f"{name} is not true or false", _Quoted(name, text, "is not true or false")
            )
            return flags
        if column.type == "timestamp":
            return self._instants(name, text, problems)
        return self._vocabulary(name, column.type, text, problems)

    def _instants(self, name: str, text: pa.Array, problems: Problems) -> pa.Array:
        found = read.parse_instants(text, self.zone, self.formats)
        problems.flag(
            found.bad,
            f"{name} is not a date and time",
            _Quoted(
                name, text, "is not a date and time (ISO 8601, e.g. 2025-03-01T09:30:00+01:00)"
            ),
        )
        zone = self.zone or "UTC"
        read_ok = ~found.bad.to_numpy(zero_copy_only=False)
        date_only = found.date_only.to_numpy(zero_copy_only=False) & read_ok
        self._noticed.append(
            (
                f"date_only:{name}",
                f"{name}: dates without a time of day, read as midnight {zone}",
                date_only,
            )
        )
        if self.zone is None:
            naive = read_ok & pc.and_(found.naive, pc.invert(found.date_only)).to_numpy(
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

    def _vocabulary(self, name: str, kind: str, text: pa.Array, problems: Problems) -> pa.Array:
        mapped = read.map_values(text, self.lookups[name])
        unknown = pc.and_(pc.is_valid(text), pc.is_null(mapped))
        what = {
            "stage": "stage",
            "activity_type": "activity type",
            "channel": "channel",
            "outcome": "touch outcome",
        }[kind]
        expected = [v for v in dict.fromkeys(self.lookups[name].values()) if v]
        hint = "stages:" if kind == "stage" else f"values: {{{name}: ...}}"
        problems.flag(
            unknown,
            f"unknown {what}",
            _Quoted(
                name,
                text,
                f"is not a known {what}; expected one of {', '.join(expected)} (or map "
                f"it under `{hint}` in a mapping file)",
            ),
        )
        return mapped

    def _derive(self, chunk: Chunk) -> None:
        """Fill the stored columns the file does not give: defaults, keys, hashes."""
        values, n = chunk.values, len(chunk.lines)
        if self.kind is Kind.LEADS:
            first = self.stage_ids[0]
            stage = values.get("stage", pa.repeat(pa.scalar(first), n))
            values["stage"] = pc.fill_null(stage, first)
            became_now = pa.nulls(n, _UTC_US)
            for name, stage_id in self.entered.items():
                hit = pc.equal(values["stage"], stage_id)
                became_now = pc.if_else(hit, values[name], became_now)
            fallback = pc.coalesce(became_now, values["created_at"])
            values["stage_at"] = pc.coalesce(values.get("stage_at", fallback), fallback)
            values["opted_out"] = pc.fill_null(
                values.get("opted_out", pa.repeat(pa.scalar(False), n)), False
            )
            names = sorted(k for k in self.plan if k not in self.entered)
            lanes = [keys.constant_lanes(",".join(names), n)]
            lanes += [keys.column_lanes(values[k]) for k in names]
            values["row_hash"] = keys.key_text(keys.record_lanes(lanes))
        elif self.kind in (Kind.ACTIVITIES, Kind.TOUCHES):
            event, other = ("type", "url") if self.kind is Kind.ACTIVITIES else ("channel", "rep")
            chunk.lead_hashes = keys.text_lanes(values["lead_id"])
            lanes = [
                chunk.lead_hashes,
                keys.vocabulary_lanes(values[event]),
                keys.column_lanes(values["at"]),
                keys.text_lanes(values.get(other, pa.nulls(n, pa.string()))),
            ]
            chunk.key_hashes = keys.record_lanes(lanes)
            values["key"] = keys.key_text(chunk.key_hashes)
        else:
            won = [
                True if s.outcome is Outcome.WON else False if s.outcome is Outcome.LOST else None
                for s in self.pact.stages
            ]
            index = pc.index_in(values["stage"], pa.array(self.stage_ids))
            values["won"] = pc.take(pa.array(won, pa.bool_()), index)
