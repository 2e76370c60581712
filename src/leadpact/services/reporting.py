"""The report use-case: compute every metric of a workspace on a chosen engine, as JSON data.

`build_report` returns the JSON contract for BI tools and the report renderers (docs/report.md,
docs/report.schema.json): top-level ``meta``, ``funnel``, ``waterfall``, ``speed``, ``depth``,
``aging``, ``kpis``, ``commitments``, ``goals``, ``reps`` and ``data_quality``, each made of
lists of flat records with explicit field names, targets included. `export_parquet` writes
the workspace's tables for the DuckDB and Spark engines (and for any BI tool), without
personal data. `report_csv` flattens a report into one CSV table.
"""

from __future__ import annotations

import csv
import io
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from leadpact.errors import LeadPactError

if TYPE_CHECKING:
    from leadpact.analytics.connection import Analytics
    from leadpact.services.workspace import Workspace

__all__ = [
    "REPORT_VERSION",
    "ExportResult",
    "build_report",
    "default_start",
    "export_parquet",
    "report_csv",
]

#: Version of the JSON contract; raised when a field changes meaning or disappears.
REPORT_VERSION = 1

_PERIODS = ("day", "week", "month", "quarter")


@dataclass(frozen=True)
class ExportResult:
    """What `export_parquet` wrote: the folder and the rows per table."""

    directory: Path
    rows: dict[str, int]


def _store_engine_name(workspace: Workspace) -> str:
    return "postgres" if workspace.engine.dialect.name == "postgresql" else "embedded"


def _store_url(workspace: Workspace) -> str:
    return workspace.engine.url.render_as_string(hide_password=False)


def export_parquet(workspace: Workspace, directory: Path) -> ExportResult:
    """Write the workspace's tables as Parquet files, one per table, into `directory`.

    The files hold the columns analytics reads (`analytics.connection.EXPORTED_TABLES`) in
    fixed types (timestamps in UTC, microseconds); no names, emails, company names or notes.

    Args:
        workspace: the open workspace.
        directory: the folder to write into (created when missing; files are replaced).

    Returns:
        The folder and the number of rows written per table.

    Raises:
        LeadPactError: the folder cannot be written.
    """
    import pyarrow.parquet as pq

    from leadpact.analytics.connection import EXPORTED_TABLES, export_schema, open_analytics

    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise LeadPactError(f"cannot write the export to {directory}: {err.strerror}") from None
    rows: dict[str, int] = {}
    with open_analytics(_store_engine_name(workspace), _store_url(workspace)) as source:
        for name in EXPORTED_TABLES:
            schema = export_schema(name)
            target = directory / f"{name}.parquet"
            partial = directory / f".{name}.parquet.partial"
            count = 0
            with pq.ParquetWriter(partial, schema) as writer:
                for batch in source.table(name).to_pyarrow_batches(chunk_size=500_000):
                    cast = batch.cast(schema) if batch.num_rows else None
                    if cast is not None:
                        writer.write_batch(cast)
                        count += cast.num_rows
            partial.replace(target)
            rows[name] = count
    return ExportResult(directory, rows)


def default_start(period: str, as_of: datetime) -> date:
    """The first day of the calendar `period` (day, ISO week, month, quarter) holding `as_of`
    (UTC)."""
    from datetime import timedelta

    day = as_of.astimezone(UTC).date()
    if period == "day":
        return day
    if period == "week":
        return day - timedelta(days=day.weekday())
    if period == "month":
        return day.replace(day=1)
    return date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


@contextmanager
def _analytics(
    workspace: Workspace, engine: str | None, parquet: Path | None
) -> Iterator[Analytics]:
    from leadpact.analytics.connection import ENGINES, open_analytics

    store = _store_engine_name(workspace)
    name = engine or store
    if name not in ENGINES:
        raise LeadPactError(f"unknown engine {name!r}; expected one of {', '.join(ENGINES)}")
    if name in ("embedded", "postgres"):
        if name != store:
            kind = "PostgreSQL" if store == "postgres" else "SQLite"
            raise LeadPactError(
                f"this workspace's database is {kind}: use --engine {store} "
                "(or duckdb/spark over a Parquet export)"
            )
        with open_analytics(name, _store_url(workspace)) as source:
            yield source
        return
    if parquet is not None:
        with open_analytics(name, parquet) as source:
            yield source
        return
    folder = Path(tempfile.mkdtemp(prefix="leadpact-export-"))
    try:
        export_parquet(workspace, folder)
        with open_analytics(name, folder) as source:
            yield source
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def build_report(
    workspace: Workspace,
    *,
    engine: str | None = None,
    as_of: datetime | None = None,
    period: str = "month",
    start: date | None = None,
    parquet: Path | None = None,
) -> dict[str, Any]:
    """Compute the report of a workspace: every metric, as the JSON contract.

    Args:
        workspace: the open workspace (its pact defines stages, commitments, KPIs, goals).
        engine: ``embedded``, ``postgres``, ``duckdb`` or ``spark``; default: the engine of the
            workspace's database (embedded for SQLite, postgres for PostgreSQL).
        as_of: what "now" is; events after it are ignored. Default: the workspace's clock.
        period: ``day``, ``week``, ``month`` or ``quarter``: the report period's length and
            the bucket of every trend.
        start: the report period's first day; default: the calendar period holding `as_of`.
        parquet: for duckdb and spark, an existing export folder; default: export now to a
            temporary folder.

    Returns:
        The report (see docs/report.md); plain JSON values only.

    Raises:
        LeadPactError: a bad period, engine, as_of or start, or an engine that cannot run.
    """
    from leadpact.analytics.frames import ReportScope
    from leadpact.analytics.metrics import run_queries
    from leadpact.analytics.sections import build_sections
    from leadpact.core.goals import Period

    if period not in _PERIODS:
        raise LeadPactError(f"unknown period {period!r}; expected one of {', '.join(_PERIODS)}")
    moment = as_of if as_of is not None else workspace.clock.now()
    if moment.tzinfo is None:
        raise LeadPactError(f"as_of {moment.isoformat()} needs a time zone, e.g. ...Z")
    moment = moment.astimezone(UTC)
    first = start if start is not None else default_start(period, moment)
    if first > moment.date():
        raise LeadPactError(
            f"the report period starts {first.isoformat()}, after as_of {moment.isoformat()}; "
            "pick an earlier --start or a later --as-of"
        )
    scope = ReportScope(moment, Period(period), first)
    timings: dict[str, float] = {}
    began = time.perf_counter()
    with _analytics(workspace, engine, parquet) as source:
        records = run_queries(source, workspace.pact, scope, timings=timings)
        engine_name = source.engine
    report = build_sections(workspace.pact, scope, records)
    report["meta"] |= {
        "report_version": REPORT_VERSION,
        "engine": engine_name,
        "seconds": round(time.perf_counter() - began, 3),
    }
    return report


def report_csv(report: dict[str, Any]) -> str:
    """The report as one CSV table: ``section`` (e.g. ``funnel.by_period``), then the union
    of the records' fields, one row per record."""
    rows: list[dict[str, Any]] = []
    for section, records in _record_lists(report):
        rows.extend({"section": section} | record for record in records)
    fields: list[str] = ["section"]
    for row in rows:
        fields.extend(k for k in row if k not in fields)
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=fields, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: _cell(v) for k, v in row.items()})
    return buffer.getvalue()


def _record_lists(report: dict[str, Any]) -> Iterator[tuple[str, list[dict[str, Any]]]]:
    for key, value in report.items():
        if key == "meta":
            continue
        if isinstance(value, list):
            yield key, [v for v in value if isinstance(v, dict)]
        elif isinstance(value, dict):
            for sub, inner in value.items():
                if isinstance(inner, list) and all(isinstance(v, dict) for v in inner):
                    yield f"{key}.{sub}", inner
                elif isinstance(inner, dict):
                    yield f"{key}.{sub}", [_flat(inner)]


def _flat(record: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in record.items():
        if isinstance(value, dict):
            out |= _flat(value, f"{prefix}{key}.")
        elif not isinstance(value, list):
            out[prefix + key] = value
    return out


def _cell(value: Any) -> Any:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else value
