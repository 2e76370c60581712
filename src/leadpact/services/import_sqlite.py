"""Bulk writes into SQLite through the `sqlite3` driver: `executemany` over whole columns.

Rows go straight into the target table (`INSERT ... ON CONFLICT`), no SQLAlchemy and no row
objects on the way. Timestamps are bound as the text SQLAlchemy stores (checked once), and the
connection is tuned for the import: a big page cache, and no foreign-key lookups (the import
checks the leads of a chunk itself, inside the same write transaction).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from leadpact.services.import_readers import utc_text
from leadpact.services.import_store import BulkStore, Mask, Rows

if TYPE_CHECKING:
    from sqlalchemy import Connection, Table

#: Page cache of the import's connection (KiB): a big import touches many index pages.
_CACHE_KIB = 1 << 20


class SqliteStore(BulkStore):
    """SQLite through the `sqlite3` driver: `executemany` over zipped column lists."""

    def __init__(self, conn: Connection, *, bulk: bool) -> None:
        from leadpact.store.engine import BEGIN_MODE

        super().__init__(conn, bulk=bulk)
        raw = self.raw
        self._pragmas = {
            name: raw.execute(f"PRAGMA {name}").fetchone()[0] for name in ("cache_size",)
        }
        raw.execute(f"PRAGMA cache_size=-{_CACHE_KIB}")
        # Each chunk checks its lead ids (loaded in this connection, re-read when another
        # connection wrote: `stale`) and writes in one IMMEDIATE transaction, with no other
        # writer in between; the per-row foreign-key lookups would only repeat that check.
        raw.execute("PRAGMA foreign_keys=OFF")
        self.conn = conn.execution_options(**{BEGIN_MODE: "IMMEDIATE"})
        self._version: int | None = None
        self._check_time_text(conn)

    def _check_time_text(self, conn: Connection) -> None:
        """Timestamps are bound as the text SQLAlchemy stores; check the format once."""
        from leadpact.store.tables import leads

        column_type = leads.c.created_at.type
        bind = column_type.dialect_impl(conn.dialect).bind_processor(conn.dialect)
        sample = datetime(2025, 3, 1, 9, 30, 15, 123456, tzinfo=UTC)
        fast = utc_text(pa.array([sample], pa.timestamp("us", "UTC")))[0].as_py()
        expected = bind(sample) if bind else sample
        if fast != expected:  # pragma: no cover - a SQLAlchemy storage format change
            raise AssertionError(f"SQLite stores {expected!r}, the import would bind {fast!r}")

    def time_literal(self, at: datetime) -> str:
        naive = at.astimezone(UTC).replace(tzinfo=None)
        return f"'{naive.isoformat(sep=' ', timespec='microseconds')}'"

    def distinct(self, left: str, right: str) -> str:
        return f"{left} IS NOT {right}"  # IS DISTINCT FROM needs SQLite 3.39

    def stale(self) -> bool:
        version = int(self.raw.execute("PRAGMA data_version").fetchone()[0])
        changed, self._version = version != self._version, version
        return changed

    def _bound(self, rows: Rows, keep: Mask | None = None) -> Iterable[tuple[Any, ...]]:
        assert rows.lists is not None
        data: Iterable[tuple[Any, ...]] = zip(*rows.lists, strict=True)
        if keep is not None and not keep.all():
            data = itertools.compress(data, keep.tolist())
        return data

    def insert_new(
        self,
        table: Table,
        key: str,
        rows: Rows,
        keep: Mask | None = None,
        *,
        guard_lead: bool = False,
    ) -> int:
        names = rows.names
        sql = (
            f"INSERT INTO {table.name} ({', '.join(names)}) "
            f"VALUES ({', '.join('?' * len(names))}) ON CONFLICT ({key}) DO NOTHING"
        )
        before = self.raw.total_changes
        self.raw.executemany(sql, self._bound(rows, keep))
        return int(self.raw.total_changes - before)

    def upsert(
        self,
        table: Table,
        key: str,
        rows: Rows,
        update: dict[str, str],
        compare: Sequence[str],
    ) -> tuple[int, int]:
        names = rows.names
        changed = " OR ".join(self.distinct(f"{table.name}.{c}", f"excluded.{c}") for c in compare)
        sets = ", ".join(f"{c} = {expr}" for c, expr in update.items())
        sql = (
            f"INSERT INTO {table.name} ({', '.join(names)}) "
            f"VALUES ({', '.join('?' * len(names))}) "
            f"ON CONFLICT ({key}) DO UPDATE SET {sets} WHERE {changed}"
        )
        last = f"SELECT coalesce(max(rowid), 0) FROM {table.name}"
        top = self.raw.execute(last).fetchone()[0]
        before = self.raw.total_changes
        self.raw.executemany(sql, self._bound(rows))
        # New rows get rowids above the old maximum (nothing else writes in this transaction).
        inserted = int(self.raw.execute(last).fetchone()[0] - top)
        return inserted, int(self.raw.total_changes - before) - inserted

    def all_ids(self, table: Table) -> pa.Array:
        ids = self.raw.execute(f"SELECT id FROM {table.name}").fetchall()
        return pa.array([row[0] for row in ids], pa.string())

    def close(self) -> None:
        try:
            super().close()
        finally:
            raw = self.raw
            raw.execute("PRAGMA foreign_keys=ON")
            for name, value in self._pragmas.items():
                raw.execute(f"PRAGMA {name}={value}")
