"""Attainment of every commitment per period, and the data-quality findings, as records.

Each commitment is measured on its own periods: response, acceptance and follow-up
commitments per report bucket; delivery and quality commitments per calendar period of their
cadence (weeks from Monday, months, quarters...). A record says what was measured (`measure`),
the `actual` and the `target`, `attained_rate` = actual / target, and `met`; a period that has
not ended by `as_of` is marked ``complete: false`` and, for volumes, `met` stays None until it
ends (unless the target is already reached). Report commitments are not measured from lead
data: one record says so.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from leadpact.analytics.metrics import Record
from leadpact.analytics.rollup import bucket_of, calendar_period, rate
from leadpact.core.pact import (
    AcceptanceCommitment,
    DeliveryCommitment,
    FollowUpCommitment,
    QualityCommitment,
    ReportCommitment,
    ResponseCommitment,
)

if TYPE_CHECKING:
    from leadpact.analytics.sections import Context

__all__ = ["commitment_records", "quality_records"]


def _base(c: Any, start: date, end: date, as_of_day: date, report_start: date) -> Record:
    return {
        "commitment": c.id,
        "kind": c.kind,
        "provider": c.provider,
        "receiver": c.receiver,
        "description": c.description,
        "period_start": start.isoformat(),
        "period_end": end.isoformat(),
        "current": start <= report_start <= end,
        "complete": end < as_of_day,
    }


def _periods(cadence: str, first: date, last: date) -> list[tuple[date, date]]:
    out = []
    on = first
    while on <= last:
        start, end = calendar_period(cadence, on)
        out.append((start, end))
        on = end + timedelta(days=1)
    return out


def commitment_records(ctx: Context) -> list[Record]:
    """One record per commitment and period (docstring above)."""
    as_of_day, report_start = ctx.as_of_day, ctx.scope.start
    last = max(as_of_day, report_start)
    clocks: dict[tuple[str, str], dict[str, int]] = {}
    for r in ctx.records["clock_counts"]:
        cell = clocks.setdefault((r["commitment"], bucket_of(ctx.buckets, r["day_on"])), {})
        cell[r["status"]] = cell.get(r["status"], 0) + r["clocks"]
    depth: dict[tuple[str, str], list[int]] = {}
    for r in ctx.records["depth_daily"]:
        cell2 = depth.setdefault((r["commitment"], bucket_of(ctx.buckets, r["day_on"])), [0, 0])
        cell2[0] += r["leads"]
        cell2[1] += r["at_target"]
    out: list[Record] = []
    for c in ctx.pact.commitments:
        if isinstance(c, ResponseCommitment | AcceptanceCommitment | FollowUpCommitment):
            for start, end in ctx.bucket_list():
                record = _base(c, start, end, as_of_day, report_start)
                if isinstance(c, FollowUpCommitment):
                    leads, at_target = depth.get((c.id, start.isoformat()), [0, 0])
                    actual = rate(at_target, leads)
                    record |= {"measure": "at_target_rate", "unit": "rate", "count": leads}
                else:
                    n = clocks.get((c.id, start.isoformat()), {})
                    decided = n.get("met", 0) + n.get("late", 0) + n.get("overdue", 0)
                    actual = rate(n.get("met", 0), decided)
                    record |= {"measure": "met_rate", "unit": "rate", "count": decided}
                record |= {
                    "actual": actual,
                    "target": 1.0,
                    "attained_rate": actual,
                    "met": None if actual is None else actual >= 1.0,
                }
                out.append(record)
        elif isinstance(c, DeliveryCommitment):
            daily = ctx.series.get(c.metric.value)
            for start, end in _periods(c.period.value, ctx.first_day, last):
                record = _base(c, start, end, as_of_day, report_start)
                actual = None
                if daily is not None:
                    actual = sum(
                        v for d, v in daily.items() if start.isoformat() <= d <= end.isoformat()
                    )
                met = None
                if actual is not None and (record["complete"] or actual >= c.target):
                    met = actual >= c.target
                record |= {
                    "measure": c.metric.value,
                    "unit": "money" if c.metric.value == "revenue" else "count",
                    "count": None,
                    "actual": actual,
                    "target": c.target,
                    "attained_rate": rate(actual, c.target),
                    "met": met,
                }
                out.append(record)
        elif isinstance(c, QualityCommitment):
            a, b = _quality_stages(ctx, c.metric)
            for start, end in _periods(c.period.value, ctx.first_day, last):
                record = _base(c, start, end, as_of_day, report_start)
                days = [(start + timedelta(n)).isoformat() for n in range((end - start).days + 1)]
                base = ctx.pair_sum(a, a, days) if a else 0
                actual = rate(ctx.pair_sum(a, b, days), base) if a and b else None
                record |= {
                    "measure": c.metric,
                    "unit": "rate",
                    "count": base,
                    "actual": actual,
                    "target": c.target,
                    "attained_rate": rate(actual, c.target),
                    "met": None if actual is None else actual >= c.target,
                }
                out.append(record)
        elif isinstance(c, ReportCommitment):
            record = _base(c, report_start, ctx.scope.end, as_of_day, report_start)
            record |= {
                "measure": "report",
                "unit": None,
                "count": None,
                "actual": None,
                "target": None,
                "attained_rate": None,
                "met": None,
                "note": f"{c.report!r} every {c.every.value}: not measured from lead data",
            }
            out.append(record)
    return out


def _quality_stages(ctx: Context, metric: str) -> tuple[str | None, str | None]:
    """The stage pair whose conversion a quality commitment's metric is."""
    if metric == "acceptance_rate":
        steps = ctx.ladder
        if ctx.handover in steps and steps.index(ctx.handover) + 1 < len(steps):
            return ctx.handover, steps[steps.index(ctx.handover) + 1]
        return None, None
    first, second = {
        "mql_to_sql_rate": ("mql", "sql"),
        "sql_to_won_rate": ("sql", ctx.won),
    }[metric]
    return ctx.stage_id(first), (ctx.stage_id(second) if second else None)


_MESSAGES = {
    "won_before_created": "{count} of {total} won leads reached {detail} before they were created",
    "stage_before_created": "{count} of {total} leads have a stage entry dated before they "
    "were created",
    "touch_before_created": "{count} of {total} touches are dated before the lead was created",
    "date_only": "{count} of {total} values of {detail} fall on one or two times of day: "
    "dates without a time, so business-hour metrics on them mean little",
    "unknown_stage": "{count} records name a stage the pact does not define ({detail}); ignored",
    "unknown_team": "{count} of {total} leads have a team the pact does not define; their SLA "
    "clocks use the providing party's calendar",
    "after_as_of": "{count} of {total} {detail} records are dated after as_of and left out",
}


def quality_records(rows: Sequence[Record]) -> list[Record]:
    """Data-quality rows with their share, a severity and a sentence."""
    out = []
    for r in rows:
        count, total = r["count"] or 0, r["total"] or 0
        share = rate(count, total)
        if r["check"] == "date_only":
            problem = total >= 10 and share is not None and share >= 0.9
        elif r["check"] == "after_as_of":
            problem = False
        else:
            problem = count > 0
        if count == 0 and r["check"] != "date_only":
            continue
        if r["check"] == "date_only" and not problem:
            continue
        out.append(
            {
                "check": r["check"],
                "detail": r["detail"],
                "count": count,
                "total": total,
                "share": share,
                "severity": "problem" if problem else "info",
                "message": _MESSAGES[r["check"]].format(
                    count=count, total=total, detail=r["detail"]
                ),
            }
        )
    return out
