"""Bulk writes of Arrow columns into the workspace database: what every dialect shares.

A `BulkStore` writes one chunk at a time (`import_sqlite`: the driver's `executemany` over
whole columns; `import_postgres`: `COPY` into a staging table, then one `INSERT ... SELECT`),
counts what it inserted and updated exactly, looks rows up by key, and runs the transactions:
one per chunk, or one per million rows or so in bulk mode. For a big import into an empty
table, its secondary indexes are dropped and built once at the end (a sort, instead of
millions of random index updates); a file import first re-creates indexes an interrupted one
left out.
"""

from __future__ import annotations

import io
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
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
        return Rows(table, lists=[python_values(table.column(i)) for i in range(table.num_columns)])
    buffer = io.BytesIO()
    write_csv(table, buffer)
    return Rows(table, csv=buffer.getvalue())


def open_store(conn: Connection, *, bulk: bool = False) -> BulkStore:
    """The bulk writer for the connection's dialect; `bulk` tunes it for a large file."""
    if conn.dialect.name == "sqlite":
        from leadpact.services.import_sqlite import SqliteStore

        return SqliteStore(conn, bulk=bulk)
    from leadpact.services.import_postgres import PostgresStore

    return PostgresStore(conn, bulk=bulk)


class BulkStore(ABC):
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

    @abstractmethod
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

    @abstractmethod
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

    @abstractmethod
    def time_literal(self, at: datetime) -> str:
        """`at` as an SQL literal of the timestamp columns."""

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

        Here only the first call says so (PostgreSQL): a lead removed meanwhile makes
        `insert_new(guard_lead=True)` raise `LeadsChangedError`, and the chunk is checked
        again.
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


def python_values(values: pa.Array | pa.ChunkedArray) -> list[Any]:
    """A column as the Python values the SQLite driver binds (timestamps as stored text)."""
    if pa.types.is_timestamp(values.type):
        values = utc_text(values)
    return values.to_pylist()  # type: ignore[no-any-return]


def table_columns(table: pa.Table) -> dict[str, pa.Array]:
    """The columns of `table` by name, each as one array."""
    return {name: table.column(name).combine_chunks() for name in table.column_names}


def write_csv(table: pa.Table, buffer: io.BytesIO) -> None:
    """`table` as CSV without a header (PostgreSQL's `COPY ... WITH (FORMAT csv)` reads it)."""
    import pyarrow.csv as pcsv

    pcsv.write_csv(table, buffer, pcsv.WriteOptions(include_header=False))


def _arrow_type(column: Any) -> pa.DataType:
    from sqlalchemy import Boolean, Float, Integer

    from leadpact.store.tables import UtcDateTime

    kind = column.type
    if isinstance(kind, UtcDateTime):
        return pa.timestamp("us", "UTC")
    if isinstance(kind, Boolean):
        return pa.bool_()
    if isinstance(kind, Float):
        return pa.float64()
    if isinstance(kind, Integer):
        return pa.int64()
    return pa.string()
