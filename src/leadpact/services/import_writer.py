"""Landing converted chunks: the checks that need the database, then the writes of each kind.

Per chunk, inside a transaction (`import_store`; one per chunk, or per million rows or so in
bulk mode):

- rows of people erased earlier are set aside, not rejected (`import_suppression`): leads by
  their id or email, events and deals whose unknown lead is an erased one;
- rows whose lead is not in the workspace are set aside: lead ids are checked in Arrow,
  against the chunk's ids looked up in the database or, for a big file, against every lead id
  read once (read again on SQLite when another connection has written since; ids not found
  are looked up again, in case their lead was added meanwhile);
- an id repeated in the chunk keeps its last line (noted);
- leads and deals are upserted by id, a lead only when the hash of its imported values
  changed; activities and touches are inserted unless their key is stored; the stage history
  of a leads file is upserted by key;
- a won or lost deal moves its lead, when that lead is in an earlier open stage, to the
  deal's stage at the deal's `closed_at` (`core.lifecycle.transition` decides), recording the
  stage change under the key every recorder of moves uses (`import_deal_moves`).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from leadpact.services import import_keys as keys
from leadpact.services.import_columns import Kind
from leadpact.services.import_convert import Chunk, Converter
from leadpact.services.import_deal_moves import move_leads
from leadpact.services.import_report import Notes, Reject
from leadpact.services.import_store import LeadsChangedError, open_store
from leadpact.services.import_suppression import Screen

if TYPE_CHECKING:
    from sqlalchemy import Connection, Table

#: Tries to land a chunk of events whose leads other connections keep removing.
_ATTEMPTS = 3
#: Distinct lead ids in one chunk above which every lead id of the workspace is read once.
_READ_ALL_IDS = 20_000
_EVENT_COLUMNS = {
    Kind.ACTIVITIES: ("key", "lead_id", "type", "at", "url", "content"),
    Kind.TOUCHES: ("key", "lead_id", "rep", "channel", "at", "outcome", "note"),
}
_DEAL_COLUMNS = ("id", "lead_id", "stage", "amount", "created_at", "closed_at", "won")
_HISTORY_UPDATE = {
    "from_stage": "excluded.from_stage",
    "seconds_in_from": "excluded.seconds_in_from",
}


class Writer:
    """Lands the converted chunks of one kind; `close()` it when the file is done.

    Args:
        conn: a connection outside any transaction (each chunk is one).
        kind: what the chunks hold.
        converter: the converter that made them (its plan says which columns the file has).
        now: the import's time (a lead whose stage changes without a date enters it now).
        notes: where data problems are counted.
        bulk: a big file: one transaction per million rows or so; with `own_indexes`, the
            indexes of a table that was empty are built once at the end.
    """

    def __init__(
        self,
        conn: Connection,
        kind: Kind,
        converter: Converter,
        now: datetime,
        notes: Notes,
        *,
        bulk: bool = False,
    ) -> None:
        from leadpact.store import tables

        self.kind, self.converter, self.now, self.notes = kind, converter, now, notes
        self.tables = tables
        self.target: Table = getattr(tables, kind.value)
        self.screen = Screen(conn)  # before the store: a plain read, not a write transaction
        self.store = open_store(conn, bulk=bulk)
        self.landed = self.inserted = self.updated = self.stage_changes = 0
        self._ids: _IdIndex | None = None

    def own_indexes(self) -> None:
        """Before a file import: put back indexes an interrupted import left out, and in bulk
        mode drop the secondary indexes of tables that are empty until `close` (one sort at
        the end instead of an index update per row)."""
        history = self.converter.dated and self.kind is Kind.LEADS
        tables = [self.target, *([self.tables.stage_changes] if history else [])]
        self.store.defer_indexes(tables)

    def prepare(self, chunk: Chunk) -> Chunk:
        """The part of landing `chunk` that needs no database; safe on another thread.

        Sets aside leads of people erased earlier, drops repeated ids (leads, deals), sorts
        events by key and leads by id (the unique index then fills page by page: about twice
        as fast on SQLite) and makes the driver's rows. `write` calls it when nobody did.
        """
        if chunk.rows is not None or not len(chunk.lines):
            return chunk
        if self.kind is Kind.LEADS:
            self.screen.leads(chunk)
            if not len(chunk.lines):
                return chunk
        if self.kind in (Kind.LEADS, Kind.DEALS):
            self._drop_repeats(chunk)
        if self.kind is Kind.DEALS:  # few rows, written after the checks against their leads
            return chunk
        if self.kind is Kind.LEADS:
            chunk.reorder(pc.sort_indices(chunk.values["id"]))
            names = [c for c in chunk.values if c in self.target.c]
        else:
            hashes = chunk.key_hashes
            order = (
                pa.array(np.argsort(hashes[0], kind="stable"))  # the key's first 16 digits
                if hashes is not None
                else pc.sort_indices(chunk.values["key"])
            )
            chunk.reorder(order)
            names = [c for c in _EVENT_COLUMNS[self.kind] if c in chunk.values]
            if chunk.lead_hashes is None:
                chunk.lead_hashes = keys.text_lanes(chunk.values["lead_id"])
            ids = self._ids  # checked here when the ids are read; `_known` makes sure
            if ids is not None:
                chunk.known = (ids, ids.contains(chunk.lead_hashes))
        chunk.rows = self.store.rows({c: chunk.values[c] for c in names})
        if chunk.history is not None and chunk.history.num_rows:
            history = chunk.history
            chunk.history_rows = self.store.rows(
                {n: history.column(n).combine_chunks() for n in history.column_names if n != "line"}
            )
        return chunk

    def write(self, chunk: Chunk) -> list[Reject]:
        """Land the chunk's rows (in one transaction); returns the rows set aside."""
        if not len(chunk.lines):
            return []
        rejects: list[Reject] = []
        with self.store.transaction(len(chunk.lines)):
            self.screen.refresh(self.store.conn)
            if self.kind is Kind.LEADS and self.screen.leads(chunk):
                # Someone was erased since the rows were prepared: make them again.
                chunk.rows = chunk.history_rows = None
            if not len(chunk.lines):
                return rejects
            self.prepare(chunk)
            if self.kind is Kind.DEALS:
                leads = self.store.lookup(
                    self.tables.leads,
                    "id",
                    chunk.values["lead_id"],
                    ["created_at", "stage", "stage_at"],
                )
                known = _true(pc.is_in(chunk.values["lead_id"], leads.column("id")))
                rejects = self._reject_unknown(chunk, known)
                if len(chunk.lines):
                    self._write_deals(chunk, leads)
            elif self.kind is Kind.LEADS:
                self._write_leads(chunk)
            else:
                rejects = self._write_events(chunk)
            self.landed += len(chunk.lines)
        return rejects

    def flush(self) -> None:
        """Commit what is written (a bulk import commits every million rows or so)."""
        self.store.flush()

    def close(self) -> None:
        """Build deferred indexes, restore the connection's settings; roll back what is not
        flushed (call `flush` first unless an error stopped the import)."""
        self.store.close()

    # --- Checks ---------------------------------------------------------------------------

    def _known(self, chunk: Chunk) -> np.ndarray[Any, np.dtype[np.bool_]]:
        """Which rows name a lead of the workspace."""
        lead_ids = chunk.values["lead_id"]
        if self._ids is None:
            unique = pc.unique(lead_ids)
            if len(unique) <= _READ_ALL_IDS:
                found = self.store.lookup(self.tables.leads, "id", unique, []).column("id")
                return _true(pc.is_in(lead_ids, found))
        stale = self.store.stale()  # asked every time: the first answer sets its baseline
        if self._ids is None or stale:
            self._ids = _IdIndex(self.store.all_ids(self.tables.leads))
        ahead, chunk.known = chunk.known, None
        if ahead is not None and ahead[0] is self._ids:  # checked on the reading thread
            known = ahead[1]
        else:
            known = self._ids.contains(chunk.lead_hashes or keys.text_lanes(lead_ids))
        if not known.all():  # leads added since the ids were read are looked up
            missing = pc.unique(lead_ids.filter(pa.array(~known)))
            found = self.store.lookup(self.tables.leads, "id", missing, []).column("id")
            if len(found):
                known |= _true(pc.is_in(lead_ids, found))
        return known

    def _reject_unknown(
        self, chunk: Chunk, known: np.ndarray[Any, np.dtype[np.bool_]]
    ) -> list[Reject]:
        """Set aside the rows whose lead is not in the workspace (or was erased)."""
        if known.all():
            return []
        missing = np.flatnonzero(~known)
        erased = self.screen.lead_ids(chunk.values["lead_id"].take(pa.array(missing)))
        if erased.any():  # not rejects: their text is not kept anywhere
            chunk.suppressed.extend(chunk.lines[missing[erased]].tolist())
            missing = missing[~erased]
        lead_ids = chunk.values["lead_id"].take(pa.array(missing)).to_pylist()
        lines = chunk.lines[missing].tolist()
        raws = chunk.batch.raws(lines)
        rejects = [
            Reject(
                line,
                f"lead_id: no lead {lead_id!r} in the workspace (import the leads first)",
                raw,
                "lead_id: lead not in the workspace",
            )
            for line, lead_id, raw in zip(lines, lead_ids, raws, strict=True)
        ]
        chunk.keep(known)
        return rejects

    def _drop_repeats(self, chunk: Chunk) -> None:
        """Keep the last line of an id the chunk repeats (noted)."""
        ids = chunk.values["id"]
        if pc.count_distinct(ids).as_py() == len(ids):
            return
        lines = pa.array(chunk.lines)
        last = pa.table({"id": ids, "line": lines}).group_by("id").aggregate([("line", "max")])
        keep = _true(pc.is_in(lines, last.column("line_max")))
        self.notes.add(
            "duplicate_id",
            "the same id on several lines: the last line wins",
            np.sort(chunk.lines[~keep]),
        )
        chunk.keep(keep)
        if chunk.history is not None:  # the history of the lines that lost goes too
            history = chunk.history
            chunk.history = history.filter(pc.is_in(history.column("line"), pa.array(chunk.lines)))

    # --- Writes ---------------------------------------------------------------------------

    def _write_events(self, chunk: Chunk) -> list[Reject]:
        """Insert activities or touches of known leads; returns the rows set aside."""
        assert chunk.rows is not None
        keep = self._known(chunk)
        rejects = self._reject_unknown(chunk, keep)
        for attempt in range(_ATTEMPTS):
            try:
                self.inserted += self.store.insert_new(
                    self.target, "key", chunk.rows, keep, guard_lead=True
                )
                break
            except LeadsChangedError:  # PostgreSQL: a lead was removed meanwhile
                if attempt == _ATTEMPTS - 1:
                    raise
                self._ids = _IdIndex(self.store.all_ids(self.tables.leads))
                still = self._known(chunk)
                rejects += self._reject_unknown(chunk, still)
                keep = keep.copy()
                keep[keep] = still
        return rejects

    def _write_leads(self, chunk: Chunk) -> None:
        plan, store = self.converter.plan, self.store
        assert chunk.rows is not None
        given = [c for c in chunk.rows.names if c in plan and c not in ("stage", "stage_at")]
        update = {c: f"excluded.{c}" for c in [*given, "row_hash"]}
        if "stage" in plan:
            update["stage"] = "excluded.stage"
            update["stage_at"] = (
                "excluded.stage_at"
                if self.converter.dated
                else "CASE WHEN leads.stage = excluded.stage THEN leads.stage_at "
                f"ELSE {store.time_literal(self.now)} END"
            )
        inserted, updated = store.upsert(self.target, "id", chunk.rows, update, ["row_hash"])
        self.inserted += inserted
        self.updated += updated
        if chunk.history_rows is not None:
            written = store.upsert(
                self.tables.stage_changes,
                "key",
                chunk.history_rows,
                _HISTORY_UPDATE,
                list(_HISTORY_UPDATE),
            )
            self.stage_changes += sum(written)

    def _write_deals(self, chunk: Chunk, leads: pa.Table) -> None:
        values = chunk.values
        # An optional column: without it every deal counts as not closed (and stays as
        # stored, since only the file's columns are updated).
        closed = values.get("closed_at", pa.nulls(len(chunk.lines), pa.timestamp("us", "UTC")))
        self.notes.add(
            "closed_before_created",
            "deals closed before they were created",
            chunk.lines[_true(pc.less(closed, values["created_at"]))],
        )
        at = pc.index_in(values["lead_id"], leads.column("id"))
        lead_created = pc.take(leads.column("created_at"), at)
        self.notes.add(
            "closed_before_lead",
            "deals closed before their lead was created (e.g. won before the first contact)",
            chunk.lines[_true(pc.less(closed, lead_created))],
        )
        rows = self.store.rows({c: values[c] for c in _DEAL_COLUMNS if c in values})
        update = {c: f"excluded.{c}" for c in rows.names if c != "id"}
        inserted, updated = self.store.upsert(self.target, "id", rows, update, list(update))
        self.inserted += inserted
        self.updated += updated
        self.stage_changes += move_leads(
            self.store, self.converter.pact, self.now, self.notes, chunk, closed, leads
        )


class _IdIndex:
    """Every lead id of the workspace as sorted 128-bit hashes: membership for whole columns."""

    def __init__(self, ids: pa.Array) -> None:
        a, b = keys.text_lanes(ids)
        order = np.lexsort((b, a))
        self.a, self.b = a[order], b[order]
        # Two ids whose first halves are equal (about one in 10^7 workspaces of a million
        # leads) need a look at every candidate.
        self.shared = bool(len(a)) and bool((self.a[1:] == self.a[:-1]).any())

    def contains(self, hashes: keys.Lanes) -> np.ndarray[Any, np.dtype[np.bool_]]:
        """Which values (given by their `keys.text_lanes`) are ids of the index."""
        a, b = hashes
        if not len(self.a):
            return np.zeros(len(a), dtype=bool)
        left = np.searchsorted(self.a, a, side="left")
        at = np.minimum(left, len(self.a) - 1)
        found: np.ndarray[Any, np.dtype[np.bool_]] = (self.a[at] == a) & (self.b[at] == b)
        if self.shared:
            right = np.searchsorted(self.a, a, side="right")
            for i in np.flatnonzero((right - left > 1) & ~found):
                found[i] = bool((self.b[left[i] : right[i]] == b[i]).any())
        return found


def _true(mask: pa.Array | pa.ChunkedArray) -> np.ndarray[Any, np.dtype[np.bool_]]:
    """A boolean column as numpy, null as false."""
    return pc.fill_null(mask, False).to_numpy(zero_copy_only=False)  # type: ignore[no-any-return]
