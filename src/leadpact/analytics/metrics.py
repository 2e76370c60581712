"""Run every metric query of a report on one engine and return plain, sorted records.

`run_queries` is the single place where the Ibis expressions of `funnel`, `sla_metrics`,
`revenue` and `quality` meet an engine: each result becomes a list of dicts with Python
values, sorted the same way whatever the engine, so that results from different engines can
be compared record by record (tests/analytics/test_engines.py) and rolled up into the
report's sections (`analytics.sections`).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

import ibis
import ibis.expr.types as ir

from leadpact.analytics import funnel, quality, revenue, sla_metrics
from leadpact.analytics.connection import Analytics
from leadpact.analytics.frames import Frames, ReportScope, ladder
from leadpact.analytics.stats import distribution
from leadpact.core.pact import Outcome, Pact, ResponseCommitment

__all__ = ["Record", "plan_start", "run_queries", "won_stage"]

Record = dict[str, Any]


def won_stage(pact: Pact) -> str | None:
    """The pact's (first) won stage, or None."""
    return next((s.id for s in pact.stages if s.outcome is Outcome.WON), None)


def plan_start(pact: Pact) -> date:
    """The first day of the goal plan: the day the agreement is valid from."""
    return pact.governance.valid_from


def _plain(value: Any) -> Any:
    """A result cell as a plain Python value (NaN → None, numpy/arrow scalars unwrapped)."""
    if value is None:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def _sort_key(record: Record) -> tuple[Any, ...]:
    # None sorts first on every engine's output: (is-not-None, value).
    return tuple((v is not None, v if not isinstance(v, bool) else int(v)) for v in record.values())


def _records(source: Analytics, expr: ir.Table) -> list[Record]:
    table = source.to_pyarrow(expr)
    rows = [{k: _plain(v) for k, v in row.items()} for row in table.to_pylist()]
    return sorted(rows, key=_sort_key)


def run_queries(
    source: Analytics,
    pact: Pact,
    scope: ReportScope,
    *,
    timings: dict[str, float] | None = None,
) -> dict[str, list[Record]]:
    """Run every metric query for a report; return the records of each, sorted.

    Args:
        source: the open engine.
        pact: the agreement (stages, commitments, goals' value table).
        scope: as_of, period and start of the report.
        timings: when given, filled with the seconds each query took.

    Returns:
        Records by query name: ``pairs_daily``, ``pairs_by_dimension``, ``distributions``,
        ``clock_counts``, ``rep_clocks``, ``depth_daily``, ``depth_spread``, ``aging``,
        ``deals_daily``, ``value_daily``, ``rep_activity``, ``meetings``, ``quality``.
    """
    frames = Frames.build(source, pact, scope)
    won = won_stage(pact)
    plan_s = int(datetime.combine(plan_start(pact), datetime.min.time(), UTC).timestamp())
    out: dict[str, list[Record]] = {}

    def run(
        name: str,
        build: Callable[[], ir.Table | None],
        reshape: Callable[[list[Record]], list[Record]] | None = None,
    ) -> None:
        began = time.perf_counter()
        expr = build()
        rows = [] if expr is None else _records(source, expr)
        out[name] = rows if reshape is None else sorted(reshape(rows), key=_sort_key)
        if timings is not None:
            timings[name] = time.perf_counter() - began

    run(
        "pairs_daily",
        lambda: funnel.pairs_daily(frames),
        lambda rows: funnel.pair_records(pact, rows),
    )
    run(
        "pairs_by_dimension",
        lambda: funnel.pairs_by_dimension(frames),
        lambda rows: funnel.dimension_records(pact, rows),
    )
    clock_table = sla_metrics.clocks(frames)
    response_ids = [c.id for c in pact.commitments if isinstance(c, ResponseCommitment)]

    def distributions() -> ir.Table:
        # One summary per metric, scope and key, ranked apart: cheaper than one ranking of
        # all rows by their text labels.
        by = ("metric", "scope", "key")
        parts = [
            distribution(rows, by, "value", constant=by)
            for rows in funnel.duration_rows(frames, won, plan_s)
        ]
        if clock_table is not None:
            for rows, varying in sla_metrics.clock_rows(frames, clock_table, response_ids):
                fixed = [c for c in by if c != varying]
                parts.append(distribution(rows, by, "value", constant=fixed))
        return ibis.union(*parts)

    run("distributions", distributions)
    run("clock_counts", lambda: _maybe(clock_table, lambda c: sla_metrics.clock_counts(frames, c)))
    run(
        "rep_clocks", lambda: _maybe(clock_table, lambda c: sla_metrics.rep_clock_counts(frames, c))
    )
    follow_up = sla_metrics.depth(frames)
    run("depth_daily", lambda: None if follow_up is None else follow_up[0])
    run("depth_spread", lambda: None if follow_up is None else follow_up[1])
    run("aging", lambda: sla_metrics.aging(frames))
    run("meetings", lambda: sla_metrics.meeting_touches(frames))
    run("deals_daily", lambda: revenue.deals_daily(frames))
    values = pact.goals.values if pact.goals is not None else None
    run(
        "value_daily",
        lambda: (
            None
            if values is None
            else revenue.value_daily(frames, values.personas, values.activities)
        ),
    )
    run("rep_activity", lambda: revenue.rep_activity(frames))
    run("quality", lambda: quality.quality_checks(frames, won))
    out["_meta"] = [
        {
            "first_day": frames.first_day.isoformat(),
            "ladder": ",".join(ladder(pact)),
            "handover": frames.handover,
        }
    ]
    return out


def _maybe(table: ir.Table | None, build: Callable[[ir.Table], ir.Table]) -> ir.Table | None:
    return None if table is None else build(table)
