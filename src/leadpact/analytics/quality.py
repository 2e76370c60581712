"""Data-quality checks as Ibis expressions: problems in the data are reported, never hidden.

Each check is a row (check, detail, count, total): how many records have the problem among
how many looked at. `services.reporting` turns the rows into the report's ``data_quality``
section with a sentence each. The checks:

- ``won_before_created``: leads that reached the won stage before they were created (in the
  Olist data set: deals won before the first contact).
- ``stage_before_created``: leads with a stage entry dated before they were created.
- ``touch_before_created``: sales touches dated before the lead was created.
- ``date_only``: per table and column, how many timestamps fall on the two most common times
  of day (a column that nearly always does holds dates read at local midnight, which moves
  with daylight saving, not instants: business-hour metrics on it mean little).
- ``unknown_stage``: stage names in the data that the pact does not define (ignored).
- ``unknown_team``: leads whose team the pact does not define (their SLA clocks use the
  providing party's first team's calendar).
- ``after_as_of``: records dated after `as_of` (left out of this report).
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from leadpact.analytics.calendar_table import DAY_SECONDS
from leadpact.analytics.frames import Frames, least_present

__all__ = ["quality_checks"]


def _row(
    check: str, detail: str, count: ir.IntegerValue, total: ir.IntegerValue
) -> dict[str, ir.Value]:
    return {
        "check": ibis.literal(check),
        "detail": ibis.literal(detail),
        "count": count.cast("int64"),
        "total": total.cast("int64"),
    }


def _date_only(name: str, per: ir.Table) -> ir.Table:
    """Dates without a time of day: nearly all values fall on the two most common times of day
    (local midnight, which is not midnight UTC, and moves with daylight saving). `per`: counts
    ``n`` per ``second`` of the UTC day."""
    per = per.filter(per.second.notnull())
    ranked = per.mutate(top=ibis.row_number().over(order_by=[ibis.desc(per.n), per.second]))
    return ranked.aggregate(
        check=ibis.literal("date_only"),
        detail=ibis.literal(name),
        count=ranked.n.sum(where=ranked.top < 2).fill_null(0).cast("int64"),
        total=ranked.n.sum().fill_null(0).cast("int64"),
    )


def quality_checks(frames: Frames, won_stage: str | None) -> ir.Table:
    """One row per check (and per column, stage name or table where the check says so)."""
    source, cut = frames.source, frames.scope.as_of_s
    leads = frames.leads
    created = leads.select(c_lead="lead_id", c_s="created_s")
    parts: list[ir.Table] = []

    f = frames.facts
    if won_stage is not None:
        won_s = f[frames.column("reach", won_stage)]
        parts.append(
            f.aggregate(
                **_row(
                    "won_before_created",
                    won_stage,
                    f.lead_id.count(where=won_s < f.created_s),
                    f.lead_id.count(where=won_s.notnull()),
                )
            )
        )
    # A lead's earliest stage entry (its first entry into each stage, the least of them).
    earliest = least_present([f[frames.column("first", s.id)] for s in frames.pact.stages])
    parts.append(
        f.aggregate(
            **_row(
                "stage_before_created",
                "",
                f.lead_id.count(where=earliest < f.created_s),
                f.lead_id.count(),
            )
        )
    )
    t = frames.touches.join(created, frames.touches.lead_id == created.c_lead)
    parts.append(
        t.aggregate(
            **_row(
                "touch_before_created", "", t.lead_id.count(where=t.at_s < t.c_s), t.lead_id.count()
            )
        )
    )
    # One pass over each stored table: its instants by second of the UTC day, before or
    # after as_of (`_date_only` over those not after it; `after_as_of` counts the others).
    for table, column in (
        ("leads", "created_at"),
        ("activities", "at"),
        ("touches", "at"),
        ("stage_changes", "at"),
    ):
        raw = source.table(table)
        at_s = source.seconds(raw[column])
        times = raw.select(second=at_s % DAY_SECONDS, late=at_s > cut)
        # Read twice below: engines compute it once (a common table expression).
        per = times.group_by(["second", "late"]).aggregate(n=times.count())
        parts.append(_date_only(f"{table}.{column}", per.filter(~per.late)))
        parts.append(
            per.aggregate(
                **_row("after_as_of", table, per.n.sum(where=per.late).fill_null(0), per.n.sum())
            )
        )
    deals = frames.deals.filter(frames.deals.closed_s.notnull())
    times = deals.select(second=deals.closed_s % DAY_SECONDS)
    parts.append(_date_only("deals.closed_at", times.group_by("second").aggregate(n=times.count())))
    raw_leads = source.table("leads")
    changes = source.table("stage_changes")
    known = [stage.id for stage in frames.pact.stages]
    for name, table, column in (
        ("leads.stage", raw_leads, "stage"),
        ("stage_changes.to_stage", changes, "to_stage"),
    ):
        odd = table.filter(~table[column].isin(known))
        odd = odd.group_by(odd[column].name("stage")).aggregate(n=odd[column].count())
        parts.append(
            odd.select(
                check=ibis.literal("unknown_stage"),
                detail=(ibis.literal(name + "=") + odd.stage.cast("string")),
                count=odd.n.cast("int64"),
                total=odd.n.cast("int64"),
            )
        )
    teams = list(frames.pact.teams)
    parts.append(
        leads.aggregate(
            **_row(
                "unknown_team",
                "",
                leads.lead_id.count(where=~leads.team.isin(teams).fill_null(False)),
                leads.lead_id.count(),
            )
        )
    )
    return ibis.union(*parts)
