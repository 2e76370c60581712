"""Bulk writes of Arrow columns into the workspace database, the fastest way each dialect has.

SQLite: the driver's `executemany` over whole columns (no SQLAlchemy, no row objects), an
upsert straight into the target table, one `BEGIN IMMEDIATE` transaction per chunk.
PostgreSQL: the chunk as CSV (written by pyarrow) through `COPY` into a temporary staging
table, then one `INSERT ... SELECT ... ON CONFLICT` into the target. Both count what they
inserted and updated exactly. For a big import into an empty table, its secondary indexes are
dropped and built once at the end (a sort, instead of millions of random index updates);
every import first re-creates indexes an interrupted one may have left out.
"""

from __future__ import annotations

import io
import itertools
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from leadpact.services.import_readers import utc_text

if TYPE_CHECKING:
    from sqlalchemy import Connection, Index, Table

#: Rows per transaction of a bulk import (SQLite holds the write lock for a few seconds).
COMMIT_ROWS = 1_000_000
#: Ids per `IN (...)` list when looking rows up by key.
LOOKUP_BATCH = 900
#: Page cache of the import's SQLite connection (KiB): a big import touches many index pages.
_SQLITE_CACHE_KIB = 1 << 20


Mask = np.ndarray[Any, np.dtype[np.bool_]]


class LeadsChangedError(Exception):
    """A lead checked for a chunk was removed by another connection before the chunk landed."""


@dataclass
class Rows:
    """A chunk's columns made ready for the driver, on any thread (no database needed).

    SQLite binds Python values (`lists`, one per column); PostgreSQL copies CSV (`csv`).
    """

    table: pa.Table
    lists: list[list[Any]] | None = None
    csv: bytes | None = None

    @property
    def names(self) -> list[str]:
        """The column names, in order."""
        return list(self.table.column_names)


def prepare_rows(dialect: str, columns: dict[str, pa.Array]) -> Rows:
    """`columns` as `Rows` for a database of this dialect ("sqlite" or "postgresql")."""
    table = pa.table(columns)
    if dialect == "sqlite":
        return Rows(table, lists=[_python(table.column(i)) for i in range(table.num_columns)])
    buffer = io.BytesIO()
    _write_csv(table, buffer)
    return Rows(table, csv=buffer.getvalue())


def open_store(conn: Connection, *, bulk: bool = False) -> BulkStore:
    """The bulk writer for the connection's dialect; `bulk` tunes it for a large file."""
    if conn.dialect.name == "sqlite":
        return SqliteStore(conn, bulk=bulk)
    return PostgresStore(conn, bulk=bulk)


class BulkStore:
    """Writes columns of one chunk at a time, inside `transaction()`; `close()` when done."""

    def __init__(self, conn: Connection, *, bulk: bool) -> None:
        self.conn, self.bulk = conn, bulk
        self._deferred: list[Index] = []
        self._read = False
        self._pending = 0
        self.raw: Any = conn.connection.driver_connection

    @contextmanager
    def transaction(self, rows: int) -> Iterator[None]:
        """The transaction of a chunk of `rows` rows (it holds the write lock on SQLite).

        In bulk mode it goes on through the next chunks until about `COMMIT_ROWS` rows are
        written: each commit rewrites the index pages its rows touched, so few big ones are
        cheaper than many small ones. `flush` commits the rest.
        """
        if not self.conn.in_transaction():
            self.conn.begin()
        try:
            yield
        except BaseException:
            self.conn.rollback()
            self._pending = 0
            raise
        self._pending += rows
        if not self.bulk or self._pending >= COMMIT_ROWS:
            self.flush()

    def flush(self) -> None:
        """Commit what is written."""
        if self.conn.in_transaction():
            self.conn.commit()
        self._pending = 0

    def rows(self, columns: dict[str, pa.Array]) -> Rows:
        """`columns` made ready for this database (safe on another thread)."""
        return prepare_rows(self.conn.dialect.name, columns)

    def insert_new(
        self,
        table: Table,
        key: str,
        rows: Rows,
        keep: Mask | None = None,
        *,
        guard_lead: bool = False,
    ) -> int:
        """Insert the rows (those `keep` marks) whose `key` is not stored yet.

        Returns how many rows were inserted.

        Raises:
            LeadsChangedError: (`guard_lead`) a row's lead is gone: checked just before, it
                was removed by another connection since; nothing was inserted.
        """
        raise NotImplementedError

    def upsert(
        self,
        table: Table,
        key: str,
        rows: Rows,
        update: dict[str, str],
        compare: Sequence[str],
    ) -> tuple[int, int]:
        """Insert new rows; update stored ones where a `compare` column differs.

        `update` maps a column to its new value as SQL, over `excluded.<col>` (the row from
        the file) and `<table>.<col>` (the stored one). Returns (inserted, updated).
        """
        raise NotImplementedError

    def time_literal(self, at: datetime) -> str:
        """`at` as an SQL literal of the timestamp columns."""
        raise NotImplementedError

    def distinct(self, left: str, right: str) -> str:
        """SQL: the two values differ (nulls compare as values)."""
        return f"{left} IS DISTINCT FROM {right}"

    def all_ids(self, table: Table) -> pa.Array:
        """Every `id` of `table`."""
        from sqlalchemy import select

        found = self.conn.execute(select(table.c.id)).scalars().all()
        return pa.array(found, pa.string())

    def stale(self) -> bool:
        """Whether ids read before may be out of date (another connection wrote since).

        On PostgreSQL only the first call says so: rows of a lead that disappears meanwhile
        are skipped by `insert_new(guard_lead=True)`.
        """
        first, self._read = not self._read, True
        return first

    def lookup(self, table: Table, column: str, values: pa.Array, names: Sequence[str]) -> pa.Table:
        """The rows of `table` whose `column` is one of `values`: that column and `names`."""
        from sqlalchemy import bindparam, select

        wanted = [table.c[column], *(table.c[n] for n in names)]
        query = select(*wanted).where(table.c[column].in_(bindparam("values", expanding=True)))
        unique = pc.unique(values.drop_null()).to_pylist()
        rows: list[Any] = []
        for start in range(0, len(unique), LOOKUP_BATCH):
            batch = unique[start : start + LOOKUP_BATCH]
            rows += self.conn.execute(query, {"values": batch}).all()
        found = list(zip(*rows, strict=True)) if rows else [() for _ in wanted]
        return pa.table(
            {c.name: pa.array(list(v), _arrow_type(c)) for c, v in zip(wanted, found, strict=True)}
        )

    def defer_indexes(self, tables: Sequence[Table]) -> None:
        """On a big import, drop the secondary indexes of `tables` that are still empty.

        Every listed table's indexes are first re-created if missing (an import killed while
        they were dropped leaves them out; this puts them back).
        """
        from sqlalchemy import literal, select

        with self.conn.begin():
            for table in tables:
                for index in table.indexes:
                    index.create(self.conn, checkfirst=True)
            if not self.bulk:
                return
            for table in tables:
                if self.conn.execute(select(literal(1)).select_from(table).limit(1)).first():
                    continue
                for index in table.indexes:
                    if not index.unique:  # unique ones keep the import idempotent
                        index.drop(self.conn)
                        self._deferred.append(index)

    def close(self) -> None:
        """Build the deferred indexes and drop temporary tables; what is not flushed yet is
        rolled back (an error stopped the import)."""
        if self.conn.in_transaction():
            self.conn.rollback()
        if self._deferred:
            with self.conn.begin():
                for index in self._deferred:
                    index.create(self.conn, checkfirst=True)
            self._deferred = []


class SqliteStore(BulkStore):
    """SQLite through the `sqlite3` driver: `executemany` over zipped column lists."""

    def __init__(self, conn: Connection, *, bulk: bool) -> None:
        from leadpact.store.engine import BEGIN_MODE

        super().__init__(conn, bulk=bulk)
        raw = self.raw
        self._pragmas = {
            name: raw.execute(f"PRAGMA {name}").fetchone()[0] for name in ("cache_size",)
        }
        raw.execute(f"PRAGMA cache_size=-{_SQLITE_CACHE_KIB}")
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


class PostgresStore(BulkStore):
    """PostgreSQL: `COPY` of pyarrow-written CSV into a staging table, then one statement."""

    def __init__(self, conn: Connection, *, bulk: bool) -> None:
        super().__init__(conn, bulk=bulk)
        self._staging: dict[tuple[str, tuple[str, ...]], str] = {}
        if bulk:  # a crash loses at most the last chunks' commits (never corrupts)
            conn.exec_driver_sql("SET synchronous_commit TO off")
            conn.exec_driver_sql("SET work_mem TO '256MB'")  # sorts a chunk by key in memory
            conn.commit()

    def time_literal(self, at: datetime) -> str:
        return f"TIMESTAMPTZ '{at.astimezone(UTC).isoformat()}'"

    def _stage(self, table: Table, rows: Rows, keep: Mask | None = None) -> str:
        """Copy the rows into a temporary table shaped like `table`; returns its name."""
        from sqlalchemy import Column, MetaData
        from sqlalchemy import Table as SqlTable

        if keep is not None and not keep.all():
            rows = prepare_rows("postgresql", _columns(rows.table.filter(pa.array(keep))))
        names = tuple(rows.names)
        name = self._staging.get((table.name, names))
        if name is None:
            name = f"leadpact_import_{table.name}_{len(self._staging)}"
            staging = SqlTable(
                name,
                MetaData(),
                *(Column(c, table.c[c].type) for c in names),
                prefixes=["TEMPORARY"],
            )
            staging.create(self.conn)
            self._staging[(table.name, names)] = name
        else:
            self.conn.exec_driver_sql(f"TRUNCATE {name}")
        assert rows.csv is not None
        with (
            self.raw.cursor() as cursor,
            cursor.copy(f"COPY {name} ({', '.join(names)}) FROM STDIN WITH (FORMAT csv)") as copy,
        ):
            copy.write(rows.csv)
        return name

    def insert_new(
        self,
        table: Table,
        key: str,
        rows: Rows,
        keep: Mask | None = None,
        *,
        guard_lead: bool = False,
    ) -> int:
        from sqlalchemy.exc import IntegrityError

        staging = self._stage(table, rows, keep)
        names = ", ".join(rows.names)

        def insert(where: str = "") -> int:
            result = self.conn.exec_driver_sql(
                f"INSERT INTO {table.name} ({names}) SELECT {names} FROM {staging}{where} "
                f"ORDER BY {key} ON CONFLICT ({key}) DO NOTHING"
            )
            return int(result.rowcount)

        if not guard_lead:
            return insert()
        # The leads were checked just before (in Arrow, against ids read once): only a lead
        # that another connection removed since fails the foreign key.
        try:
            with self.conn.begin_nested():
                return insert()
        except IntegrityError:
            raise LeadsChangedError from None

    def upsert(
        self,
        table: Table,
        key: str,
        rows: Rows,
        update: dict[str, str],
        compare: Sequence[str],
    ) -> tuple[int, int]:
        staging = self._stage(table, rows)
        names = ", ".join(rows.names)
        changed = " OR ".join(self.distinct(f"{table.name}.{c}", f"excluded.{c}") for c in compare)
        sets = ", ".join(f"{c} = {expr}" for c, expr in update.items())
        # xmax is 0 on a row version this statement inserted, not on one it updated.
        inserted, changes = self.conn.exec_driver_sql(
            f"WITH written AS (INSERT INTO {table.name} ({names}) SELECT {names} FROM {staging} "
            f"ON CONFLICT ({key}) DO UPDATE SET {sets} WHERE {changed} "
            "RETURNING (xmax = 0) AS fresh) "
            "SELECT count(*) FILTER (WHERE fresh), count(*) FROM written"
        ).one()
        return int(inserted), int(changes) - int(inserted)

    def close(self) -> None:
        try:
            super().close()
        finally:
            with self.conn.begin():
                for name in self._staging.values():
                    self.conn.exec_driver_sql(f"DROP TABLE IF EXISTS {name}")
            self._staging = {}
            if self.bulk:
                self.conn.exec_driver_sql("RESET synchronous_commit")
                self.conn.exec_driver_sql("RESET work_mem")
                self.conn.commit()


def _python(values: pa.Array | pa.ChunkedArray) -> list[Any]:
    """A column as the Python values the SQLite driver binds (timestamps as stored text)."""
    if pa.types.is_timestamp(values.type):
        values = utc_text(values)
    return values.to_pylist()  # type: ignore[no-any-return]


def _columns(table: pa.Table) -> dict[str, pa.Array]:
    return {name: table.column(name).combine_chunks() for name in table.column_names}


def _write_csv(table: pa.Table, buffer: io.BytesIO) -> None:
    import pyarrow.csv as pcsv

    pcsv.write_csv(table, buffer, pcsv.WriteOptions(include_header=False))


def _arrow_type(column: Any) -> pa.DataType:
    from sqlalchemy import Boolean, Float, Integer

    kind = column.type
    if getattr(kind, "impl", None) is not None and "DateTime" in type(kind.impl).__name__:
        return pa.timestamp("us", "UTC")
    if isinstance(kind, Boolean):
        return pa.bool_()
    if isinstance(kind, Float):
        return pa.float64()
    if isinstance(kind, Integer):
        return pa.int64()
    return pa.string()
