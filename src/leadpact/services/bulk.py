"""Bulk transfer between the store and numpy columns, on SQLite and PostgreSQL alike.

Rows are fetched in chunks (`fetch_chunks`), instants travel in the form each backend converts
fastest (`instant_expression` in SQL, `utc_datetimes` back in numpy, `db_instants` the other
way), and many rows go into the database through a temporary table filled in one go
(`temporary_table`, `load_rows`: COPY on PostgreSQL, executemany on SQLite). Used by the
services that read or write whole workspaces at once (`scoring`, `sla`).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from itertools import islice
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    MetaData,
    String,
    Table,
    cast,
    extract,
    type_coerce,
)
from sqlalchemy.sql.elements import ColumnElement

#: Rows fetched from (or loaded into) the database at a time (bounds the Python objects alive
#: at once).
CHUNK = 500_000


def fetch_chunks(conn: Connection, query: Any) -> Iterator[list[Any]]:
    """The query's rows, `CHUNK` at a time."""
    result = conn.execute(query, execution_options={"yield_per": CHUNK})
    for part in result.partitions():
        yield list(part)


def instant_expression(conn: Connection, column: Any) -> ColumnElement[Any]:
    """An instant column in the form `utc_datetimes` converts fastest, per backend."""
    if conn.dialect.name == "postgresql":
        return cast(extract("epoch", column) * 1_000_000, BigInteger)
    return type_coerce(column, String)  # SQLite stores UTC as ISO text: numpy parses it


def utc_datetimes(conn: Connection, values: tuple[Any, ...]) -> npt.NDArray[np.datetime64]:
    """Values read through `instant_expression` as UTC `datetime64[us]`."""
    if conn.dialect.name == "postgresql":
        return np.array(values, dtype=np.int64).astype("datetime64[us]")
    return np.array(values, dtype="datetime64[us]")


def db_instants(conn: Connection, values: npt.NDArray[np.datetime64]) -> list[str]:
    """UTC instants as text a temporary `UtcDateTime` column takes as stored values.

    SQLite keeps SQLAlchemy's naive text ("2025-03-01 09:30:15.123456"), compared as text:
    the microseconds must always be there; PostgreSQL parses the same text with an offset.
    """
    text = np.char.replace(np.datetime_as_string(values.astype("datetime64[us]")), "T", " ")
    suffix = "+00:00" if conn.dialect.name == "postgresql" else ""
    return [f"{value}{suffix}" for value in text.tolist()]


def temporary_table(conn: Connection, name: str, *columns: Column[Any]) -> Table:
    """Create an empty temporary table (dropping one a failed run left on this connection)."""
    table = Table(name, MetaData(), *columns, prefixes=["TEMPORARY"])
    table.drop(conn, checkfirst=True)
    table.create(conn)
    return table


def load_rows(conn: Connection, table: Table, rows: Iterable[tuple[Any, ...]]) -> None:
    """Bulk-load rows into a (temporary) table: COPY on PostgreSQL, executemany on SQLite.

    Measured: COPY loads 100,000 rows into PostgreSQL in 0.19 s against 3.6 s for batched
    INSERTs; on SQLite, plain tuples through the driver cost 3.6 CPU seconds per million
    rows (load and update) against 8.8 through SQLAlchemy's per-row dictionaries.
    """
    names = ", ".join(c.name for c in table.columns)
    if conn.dialect.name == "postgresql":
        cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        with cursor, cursor.copy(f"COPY {table.name} ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        return
    marks = ", ".join("?" for _ in table.columns)
    statement = f"INSERT INTO {table.name} ({names}) VALUES ({marks})"
    remaining = iter(rows)
    while batch := list(islice(remaining, CHUNK)):
        conn.exec_driver_sql(statement, batch)
