"""Open an analytics engine (an Ibis backend) over a workspace's data, read-only.

Four engines run the same metric expressions (ARCHITECTURE.md, "Analytics: one definition,
many engines"; docs/decisions/0001-analytics-engines.md says why each is what it is):

- ``embedded``: Ibis on the workspace's SQLite file itself. DuckDB cannot read SQLite without
  its ``sqlite_scanner`` extension, which the duckdb wheel does not link statically and which
  must never be downloaded at run time.
- ``postgres``: Ibis on the workspace's PostgreSQL database (the URL's ``search_path`` option
  is honoured, so a schema per workspace works).
- ``duckdb``: an in-memory DuckDB over a Parquet export (`leadpact export --parquet DIR`).
- ``spark``: PySpark (``local[*]`` unless told otherwise) over the same Parquet export.

Every engine is seen through `Analytics`: its tables by name, and `seconds`, the one place
where a timestamp becomes whole UTC epoch seconds (each engine spells that differently; the
metrics only ever do integer arithmetic on seconds, so every engine gives the same answer).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from leadpact.errors import LeadPactError, NotFoundError

if TYPE_CHECKING:
    import ibis.expr.types as ir
    import pyarrow as pa
    from ibis.backends import BaseBackend

__all__ = ["ENGINES", "EXPORTED_TABLES", "Analytics", "export_schema", "open_analytics"]

#: The engine names `open_analytics` knows, the default first.
ENGINES = ("embedded", "postgres", "duckdb", "spark")

#: The tables (and columns) analytics reads and `leadpact export --parquet` writes. No
#: personal data: names, emails, company names and free-text notes stay in the store.
EXPORTED_TABLES: dict[str, tuple[str, ...]] = {
    "leads": (
        "id",
        "title",
        "employees",
        "annual_revenue",
        "industry",
        "country",
        "source",
        "owner",
        "team",
        "stage",
        "stage_at",
        "created_at",
        "opted_out",
        "erased_at",
        "persona",
        "fit",
        "fit_grade",
        "engagement",
        "priority",
    ),
    "activities": ("lead_id", "type", "at"),
    "touches": ("lead_id", "rep", "channel", "at", "outcome"),
    "deals": ("id", "lead_id", "stage", "amount", "created_at", "closed_at", "won"),
    "stage_changes": ("lead_id", "from_stage", "to_stage", "at"),
}


def export_schema(name: str) -> pa.Schema:
    """The Arrow schema of an exported table: fixed, so every engine sees the same types."""
    import pyarrow as pa

    timestamp = pa.timestamp("us", tz="UTC")
    types = {
        "employees": pa.int64(),
        "annual_revenue": pa.float64(),
        "fit": pa.float64(),
        "engagement": pa.float64(),
        "priority": pa.int64(),
        "amount": pa.float64(),
        "opted_out": pa.bool_(),
        "won": pa.bool_(),
    }
    fields = []
    for column in EXPORTED_TABLES[name]:
        if column == "at" or column.endswith("_at"):
            fields.append(pa.field(column, timestamp))
        else:
            fields.append(pa.field(column, types.get(column, pa.string())))
    return pa.schema(fields)


_SPARK_HINT = "Spark needs Java (e.g. apt-get install default-jre-headless) and pyspark"


@dataclass
class Analytics:
    """An open analytics engine: tables by name, timestamps as seconds, results as Arrow."""

    engine: str
    backend: BaseBackend
    _tables: dict[str, str] = field(default_factory=dict)
    _close: Callable[[], None] | None = None
    _prefix: str = ""
    _views: list[str] = field(default_factory=list)
    _cached: list[ir.Table] = field(default_factory=list)

    def table(self, name: str) -> ir.Table:
        """The table `name` (one of `EXPORTED_TABLES`), only its exported columns."""
        table = self.backend.table(self._tables.get(name, name))
        return table.select(*EXPORTED_TABLES[name])

    def seconds(self, column: ir.TimestampValue) -> ir.IntegerValue:
        """Whole seconds since 1970-01-01 UTC (sub-second parts dropped), as int64."""
        if self.engine == "embedded":
            # SQLite: STRFTIME('%s') of the stored UTC text, cut to whole seconds first
            # (SQLite rounds to milliseconds: 12:00:00.9996 would become 12:00:01).
            text = column.cast("string")
            return _sqlite_strftime()("%s", _sqlite_substr()(text, 1, 19)).cast("int64")
        if self.engine == "duckdb":
            # Ibis's epoch_seconds casts TIMESTAMPTZ to TIMESTAMP first, which DuckDB does
            # through ICU, row by row (hundreds of times slower than reading the integer).
            micros: ir.IntegerValue = _duckdb_epoch_us()(column)
            return micros // 1_000_000
        # DuckDB and PostgreSQL return fractional seconds: floor them, never round.
        return column.epoch_seconds().cast("float64").floor().cast("int64")

    def memtable(self, data: pa.Table) -> ir.Table:
        """A small in-memory table (stages, days, calendars) usable in this engine's queries."""
        import ibis

        if self.engine != "spark":
            return ibis.memtable(data)
        # Ibis's pyspark backend does not register memtables used inside cached tables:
        # register a temp view of our own.
        session = self.backend._session
        name = f"{self._prefix}mem_{uuid.uuid4().hex[:12]}"
        session.createDataFrame(data).createOrReplaceTempView(name)
        self._views.append(name)
        return self.backend.table(name)

    def cache(self, expr: ir.Table) -> ir.Table:
        """`expr` computed once and kept in the engine (a temp table) until `close`."""
        cached = expr.cache()
        self._cached.append(cached)
        return cached

    def split(self, expr: ir.Table) -> ir.Table:
        """`expr` cached on SQLite, whose parser overflows on very long queries; unchanged on
        the other engines, which run it inside the query that reads it."""
        return self.cache(expr) if self.engine == "embedded" else expr

    def to_pyarrow(self, expr: ir.Table) -> pa.Table:
        """Run `expr` on this engine and return the result."""
        return self.backend.to_pyarrow(expr)

    def close(self) -> None:
        """Release the connection (a Spark session is left running for reuse)."""
        # Release cached tables while the connection is open (Ibis would drop them when they
        # are garbage collected, after the connection has gone).
        while self._cached:
            self._cached.pop().release()
        if self._close is not None:
            self._close()
            self._close = None

    def __enter__(self) -> Analytics:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _duckdb_epoch_us() -> Any:
    """DuckDB's own `epoch_us(timestamptz) -> bigint`, as an Ibis function."""
    import ibis
    import ibis.expr.datatypes as dt

    def epoch_us(value: Any) -> Any:
        """Microseconds since 1970-01-01 UTC."""

    # Real types, not the strings `from __future__ import annotations` would leave.
    epoch_us.__annotations__ = {"value": dt.Timestamp(timezone="UTC"), "return": dt.int64}
    return ibis.udf.scalar.builtin(epoch_us, name="epoch_us")


def _sqlite_substr() -> Any:
    """SQLite's `substr(text, start, length)` (1-based), as an Ibis function."""
    import ibis
    import ibis.expr.datatypes as dt

    def substr(value: Any, start: Any, length: Any) -> Any:
        """Part of a text."""

    substr.__annotations__ = {
        "value": dt.string,
        "start": dt.int64,
        "length": dt.int64,
        "return": dt.string,
    }
    return ibis.udf.scalar.builtin(substr, name="substr")


def _sqlite_strftime() -> Any:
    """SQLite's `strftime(format, text)`, as an Ibis function."""
    import ibis
    import ibis.expr.datatypes as dt

    def strftime(fmt: Any, value: Any) -> Any:
        """An instant's text formatted."""

    strftime.__annotations__ = {"fmt": dt.string, "value": dt.string, "return": dt.string}
    return ibis.udf.scalar.builtin(strftime, name="strftime")


def open_analytics(engine: str, source: str | Path, *, spark_master: str = "local[*]") -> Analytics:
    """Open an analytics engine over a workspace's data.

    Args:
        engine: ``embedded`` (source: the workspace's SQLite URL or file), ``postgres``
            (source: a PostgreSQL URL), ``duckdb`` or ``spark`` (source: a folder written by
            `leadpact export --parquet`).
        source: where the data is, as above.
        spark_master: the Spark master URL for ``spark``.

    Returns:
        The open engine; close it when done.

    Raises:
        LeadPactError: an unknown engine, a source of the wrong kind, a missing driver.
        NotFoundError: the SQLite file or a Parquet file does not exist.
    """
    if engine == "embedded":
        return _open_sqlite(source)
    if engine == "postgres":
        return _open_postgres(str(source))
    if engine in ("duckdb", "spark"):
        directory = _parquet_dir(source)
        return (
            _open_duckdb(directory) if engine == "duckdb" else _open_spark(directory, spark_master)
        )
    raise LeadPactError(
        f"unknown analytics engine {engine!r}; expected one of {', '.join(ENGINES)}"
    )


def _open_sqlite(source: str | Path) -> Analytics:
    import ibis

    text = str(source)
    if "://" in text:
        from sqlalchemy.engine import make_url

        url = make_url(text)
        if url.get_backend_name() != "sqlite":
            raise LeadPactError(
                f"the embedded engine reads an SQLite workspace; this one is on "
                f"{url.get_backend_name()} (use --engine postgres)"
            )
        text = url.database or ""
    path = Path(text)
    if not path.is_file():
        raise NotFoundError(f"no SQLite database at {path}")
    backend = ibis.sqlite.connect(str(path))
    return Analytics("embedded", backend, _close=backend.disconnect)


def _open_postgres(url_text: str) -> Analytics:
    import ibis
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        url = make_url(url_text)
    except ArgumentError:
        raise LeadPactError(f"{url_text!r} is not a database URL") from None
    if url.get_backend_name() != "postgresql":
        raise LeadPactError(
            "the postgres engine reads a PostgreSQL workspace; this one is on "
            f"{url.get_backend_name()} (use --engine embedded)"
        )
    options: dict[str, Any] = {k: v for k, v in url.query.items() if isinstance(v, str)}
    try:
        backend = ibis.postgres.connect(
            host=url.host,
            port=url.port or 5432,
            user=url.username,
            password=url.password,
            database=url.database,
            **options,
        )
    except Exception as err:  # psycopg.OperationalError: name the server, not the traceback
        where = url.render_as_string(hide_password=True)
        raise LeadPactError(f"cannot connect to {where}: {str(err).strip()}") from None
    return Analytics("postgres", backend, _close=backend.disconnect)


def _parquet_dir(source: str | Path) -> Path:
    directory = Path(source)
    if not directory.is_dir():
        raise NotFoundError(
            f"no Parquet export at {directory}; write one with "
            f"`leadpact export --parquet {directory}`"
        )
    missing = [n for n in EXPORTED_TABLES if not (directory / f"{n}.parquet").is_file()]
    if missing:
        raise NotFoundError(
            f"{directory} has no {missing[0]}.parquet; write the export with "
            f"`leadpact export --parquet {directory}`"
        )
    return directory


def _open_duckdb(directory: Path) -> Analytics:
    import ibis

    # Never download an extension at run time: parquet and icu are linked statically.
    backend = ibis.duckdb.connect(
        autoinstall_known_extensions=False, autoload_known_extensions=False
    )
    backend.raw_sql("SET TimeZone = 'UTC'")
    names = {}
    for name in EXPORTED_TABLES:
        names[name] = name
        backend.read_parquet(directory / f"{name}.parquet", table_name=name)
    return Analytics("duckdb", backend, names, _close=backend.disconnect)


def _open_spark(directory: Path, master: str) -> Analytics:
    try:
        import ibis
        from pyspark.sql import SparkSession
    except ImportError:
        raise LeadPactError(_SPARK_HINT) from None
    try:
        session = (
            SparkSession.builder.master(master)
            .appName("leadpact")
            .config("spark.sql.session.timeZone", "UTC")
            .config("spark.ui.enabled", "false")
            .config("spark.ui.showConsoleProgress", "false")
            .config("spark.sql.shuffle.partitions", "2")
            .getOrCreate()
        )
    except Exception as err:  # no Java: pyspark raises a bare RuntimeError/PySparkRuntimeError
        raise LeadPactError(f"cannot start Spark ({_SPARK_HINT}): {str(err).strip()}") from None
    session.sparkContext.setLogLevel("ERROR")
    backend = ibis.pyspark.connect(session)
    # Views live in the shared session: a unique prefix keeps two workspaces apart.
    prefix = f"lp_{uuid.uuid4().hex[:8]}_"
    names = {}
    for name in EXPORTED_TABLES:
        names[name] = prefix + name
        backend.read_parquet(str(directory / f"{name}.parquet"), table_name=prefix + name)

    def close() -> None:
        for view in [*names.values(), *analytics._views]:
            session.catalog.dropTempView(view)

    analytics = Analytics("spark", backend, names, _close=close, _prefix=prefix)
    return analytics
