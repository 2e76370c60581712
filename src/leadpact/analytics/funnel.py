"""Funnel metrics as Ibis expressions: stage reach, conversion pairs, time in stage, cycle.

Definitions (docs/report.md states them for users):

- A lead *reaches* a stage as `Frames.reached` says (on the ladder: that stage or a later one).
- A *pair* (A, B) says a lead reached ladder stage A and, by `as_of`, also B: B = A (the
  base), B a later ladder stage, or B off the ladder (lost, recycled, disqualified) entered at
  or after reaching A. Conversion from A to B in a period = leads that reached A in the period
  and B by `as_of`, divided by the leads that reached A in the period (a stage-entry cohort;
  A = the first stage makes it a cohort of new leads).
- *Time in stage*: from a lead's first entry into a stage to its next entry into any other
  stage (first entries only, ordered by time, ties by the pact's stage order); a lead still in
  the stage at `as_of` is not counted. *Days to win*: from creation to reaching the won stage.
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from leadpact.analytics.frames import Frames, ladder
from leadpact.core.pact import Outcome, Pact

__all__ = [
    "DIMENSIONS",
    "conversion_pairs",
    "duration_rows",
    "pairs",
    "pairs_by_dimension",
    "pairs_daily",
]

#: The lead columns the funnel is broken down by.
DIMENSIONS = ("source", "persona", "priority", "owner", "team")


def pairs(frames: Frames) -> ir.Table:
    """(lead_id, from_stage, to_stage, from_s): every pair of the module docstring, cached."""
    st = frames.stages
    a = frames.reached.join(st.select("stage", a_rank=st.rank), "stage")
    a = a.filter(a.a_rank.notnull()).select(
        "lead_id", from_stage=a.stage, from_s=a.at_s, a_rank=a.a_rank
    )
    b = frames.reached.join(st.select("stage", b_rank=st.rank), "stage")
    b = b.select(b_lead=b.lead_id, to_stage=b.stage, to_s=b.at_s, b_rank=b.b_rank)
    joined = a.join(b, a.lead_id == b.b_lead)
    later = ibis.ifelse(
        joined.b_rank.isnull(), joined.to_s >= joined.from_s, joined.b_rank >= joined.a_rank
    )
    kept = joined.filter(later)
    return frames.source.cache(kept.select("lead_id", "from_stage", "to_stage", "from_s"))


def pairs_daily(frames: Frames, pair_table: ir.Table) -> ir.Table:
    """(day_on, from_stage, to_stage, leads): pairs by the UTC day A was reached."""
    dated = frames.with_days(pair_table, "from_s")
    return dated.group_by(["day_on", "from_stage", "to_stage"]).aggregate(
        leads=dated.lead_id.count()
    )


def conversion_pairs(pact: Pact) -> list[tuple[str, str]]:
    """The conversions the report shows: each ladder stage A before won to the next ladder
    stage and to the won stage."""
    steps = ladder(pact)
    won = next((s.id for s in pact.stages if s.outcome is Outcome.WON), None)
    out = []
    for i, a in enumerate(steps[:-1]):
        out.append((a, steps[i + 1]))
        if won is not None and steps[i + 1] != won:
            out.append((a, won))
    return out


def pairs_by_dimension(frames: Frames, pair_table: ir.Table) -> ir.Table:
    """(dimension, value, in_period, from_stage, to_stage, leads) for each of `DIMENSIONS`,
    for the bases (A, A) and the `conversion_pairs`.

    `in_period` says whether A was reached in the report period; `value` is text (NULL when
    the lead has none).
    """
    wanted = [f"{a}>{b}" for a, b in conversion_pairs(frames.pact)]
    p = pair_table
    shown = p.filter(
        (p.from_stage == p.to_stage) | (p.from_stage.concat(">", p.to_stage)).isin(wanted)
    )
    facts = frames.leads.select("lead_id", *DIMENSIONS)
    joined = shown.join(facts, "lead_id")
    # One join, cached: SQLite would redo it for each of the five groupings.
    flagged = frames.source.cache(joined.mutate(in_period=frames.scope.within(joined.from_s)))
    parts = []
    for dimension in DIMENSIONS:
        grouped = flagged.group_by(
            [
                flagged[dimension].cast("string").name("value"),
                "in_period",
                "from_stage",
                "to_stage",
            ]
        ).aggregate(leads=flagged.lead_id.count())
        parts.append(
            grouped.select(
                dimension=ibis.literal(dimension),
                value=grouped.value,
                in_period=grouped.in_period,
                from_stage=grouped.from_stage,
                to_stage=grouped.to_stage,
                leads=grouped.leads,
            )
        )
    return ibis.union(*parts)


def duration_rows(frames: Frames, won_stage: str | None, plan_start_s: int) -> ir.Table:
    """(metric, scope, key, value) rows for `stats.distribution`.

    ``time_in_stage`` (key: the stage; scope ``all``, and ``period`` for entries in the
    report period) and ``days_to_win`` in seconds (scope ``all``, ``period`` for wins in the
    report period, ``plan`` for wins since `plan_start_s`).
    """
    e = frames.entries.join(frames.stages.select("stage", "position"), "stage")
    order = ibis.window(group_by="lead_id", order_by=[e.at_s, e.position])
    e = e.mutate(next_s=e.at_s.lead().over(order))
    spans = e.filter(e.next_s.notnull()).select(
        "stage", "at_s", value=(e.next_s - e.at_s).cast("int64")
    )
    scope = frames.scope
    parts = [
        _rows(spans, "time_in_stage", "all", spans.stage),
        _rows(spans.filter(scope.within(spans.at_s)), "time_in_stage", "period", None),
    ]
    if won_stage is not None:
        won = frames.reach_of(won_stage, "won_s").join(
            frames.leads.select("lead_id", "created_s"), "lead_id"
        )
        cycle = won.select("won_s", stage=ibis.literal(""), value=won.won_s - won.created_s)
        parts += [
            _rows(cycle, "days_to_win", "all", None),
            _rows(cycle.filter(scope.within(cycle.won_s)), "days_to_win", "period", None),
            _rows(
                cycle.filter((cycle.won_s >= plan_start_s) & (cycle.won_s <= scope.as_of_s)),
                "days_to_win",
                "plan",
                None,
            ),
        ]
    return ibis.union(*parts)


def _rows(table: ir.Table, metric: str, scope: str, key: ir.Value | None) -> ir.Table:
    return table.select(
        metric=ibis.literal(metric),
        scope=ibis.literal(scope),
        key=(table.stage if key is None else key).cast("string"),
        value=table.value.cast("int64"),
    )
