"""Bulk writes into PostgreSQL: each chunk as CSV through `COPY`, then one statement.

pyarrow writes the chunk as CSV (no Python per row); `COPY` loads it into a temporary table
shaped like the target; one `INSERT ... SELECT ... ON CONFLICT` lands it, counting inserted
and updated rows with `RETURNING (xmax = 0)`. Foreign keys stay on: a lead removed by another
connection after the import checked it fails the chunk, which is then checked again.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import pyarrow as pa

from leadpact.services.import_store import (
    BulkStore,
    LeadsChangedError,
    Mask,
    Rows,
    prepare_rows,
    table_columns,
)

if TYPE_CHECKING:
    from sqlalchemy import Connection, Table


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
            rows = prepare_rows("postgresql", table_columns(rows.table.filter(pa.array(keep))))
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
