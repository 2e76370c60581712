"""Funnel metrics as Ibis expressions: stage reach, conversion pairs, time in stage, cycle.

Definitions (docs/report.md states them for users):

- A lead *reaches* a stage as `Frames.facts` says (on the ladder: that stage or a later one).
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

from typing import Any

import ibis
import ibis.expr.types as ir

from leadpact.analytics.calendar_table import DAY_SECONDS
from leadpact.analytics.frames import Frames, ladder
from leadpact.core.pact import Outcome, Pact

__all__ = [
    "DIMENSIONS",
    "bit_masks",
    "conversion_pairs",
    "dimension_records",
    "duration_rows",
    "pair_records",
    "pairs_by_dimension",
    "pairs_daily",
    "set_bits",
]

#: The lead columns the funnel is broken down by.
DIMENSIONS = ("source", "persona", "priority", "owner", "team")


def _pair_test(frames: Frames, a: str, b: str) -> ir.BooleanValue:
    """Whether a lead that reached ladder stage `a` makes the pair (a, b)."""
    f, steps = frames.facts, frames.ladder
    reach_a = f[frames.column("reach", a)]
    if b in steps:
        if steps.index(b) < steps.index(a):
            return ibis.literal(False)
        return f[frames.column("reach", b)].notnull()
    entered = f[frames.column("first", b)]
    return entered.notnull() & (entered >= reach_a)


#: Tests per mask column: bits of a signed 64-bit integer every engine has.
_BITS = 62


def bit_masks(tests: list[ir.BooleanValue]) -> dict[str, ir.IntegerValue]:
    """The tests as the bits of integer columns ``mask0``, ``mask1``, … (test i is bit
    i % 62 of column i // 62): leads group by them and `set_bits` reads the counts back
    per test, so one plain count serves every test."""
    out = {}
    for start in range(0, len(tests), _BITS):
        bits = [
            ibis.ifelse(test, ibis.literal(1 << i, "int64"), ibis.literal(0, "int64"))
            for i, test in enumerate(tests[start : start + _BITS])
        ]
        out[f"mask{start // _BITS}"] = sum(bits[1:], bits[0])
    return out


def set_bits(row: dict[str, Any]) -> list[int]:
    """The indexes of the tests that hold in a row grouped by `bit_masks` columns."""
    out = []
    for column, mask in row.items():
        if column.startswith("mask"):
            base = int(column[4:]) * _BITS
            out += [base + i for i in range(mask.bit_length()) if mask >> i & 1]
    return out


def pairs_daily(frames: Frames) -> ir.Table:
    """(day_on, from_stage, mask0, leads): the leads that reached ladder stage A on a UTC
    day, grouped by which pairs (A, B) they make (test = B's position in the pact);
    `pair_records` turns them into (day_on, from_stage, to_stage, leads)."""
    f = frames.facts
    parts = []
    for a in frames.ladder:
        reach_a = f[frames.column("reach", a)]
        masks = bit_masks([_pair_test(frames, a, b.id) for b in frames.pact.stages])
        made = f.filter(reach_a.notnull()).mutate(_day=reach_a // DAY_SECONDS, **masks)
        grouped = made.group_by(["_day", *masks]).aggregate(leads=made.lead_id.count())
        parts.append(grouped.mutate(from_stage=ibis.literal(a)))
    dated = frames.dated(ibis.union(*parts), "_day")
    return dated.select("day_on", "from_stage", *masks, "leads")


def pair_records(pact: Pact, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """`pairs_daily` rows as one record per pair with at least one lead: day_on,
    from_stage, to_stage, leads."""
    stages = [s.id for s in pact.stages]
    counts: dict[tuple[str, str, str], int] = {}
    for row in rows:
        for bit in set_bits(row):
            key = (row["day_on"], row["from_stage"], stages[bit])
            counts[key] = counts.get(key, 0) + row["leads"]
    return [
        {"day_on": day, "from_stage": a, "to_stage": b, "leads": n}
        for (day, a, b), n in counts.items()
    ]


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


def _shown(pact: Pact) -> list[tuple[str, str]]:
    """The pairs broken down by dimension: the bases (A, A) and the `conversion_pairs`."""
    return [(a, a) for a in ladder(pact)] + conversion_pairs(pact)


def pairs_by_dimension(frames: Frames) -> ir.Table:
    """(dimension, value, mask0…, leads) for each of `DIMENSIONS` (value: text, NULL when
    the lead has none): leads grouped by which shown pairs (`_shown`) they make, and whether
    A was reached in the report period (test 2i: pair i with A in the period, 2i + 1: before
    or after it); `dimension_records` reads them."""
    f = frames.facts
    tests = []
    for a, b in _shown(frames.pact):
        reach_a = f[frames.column("reach", a)]
        made = reach_a.notnull() & _pair_test(frames, a, b)
        inside = frames.scope.within(reach_a)
        tests += [made & inside, made & ~inside]
    masks = bit_masks(tests)
    keyed = f.mutate(**masks)
    parts = []
    for dimension in DIMENSIONS:
        grouped = keyed.group_by([keyed[dimension].cast("string").name("value"), *masks]).aggregate(
            leads=keyed.lead_id.count()
        )
        parts.append(grouped.mutate(dimension=ibis.literal(dimension)))
    return ibis.union(*parts)


def dimension_records(pact: Pact, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """`pairs_by_dimension` rows as (dimension, value, in_period, from_stage, to_stage,
    leads) records, one per pair and period flag with at least one lead."""
    shown = _shown(pact)
    counts: dict[tuple[Any, ...], int] = {}
    for row in rows:
        for bit in set_bits(row):
            a, b = shown[bit // 2]
            key = (row["dimension"], row["value"], bit % 2 == 0, a, b)
            counts[key] = counts.get(key, 0) + row["leads"]
    names = ("dimension", "value", "in_period", "from_stage", "to_stage")
    return [dict(zip(names, key, strict=True)) | {"leads": n} for key, n in counts.items()]


def duration_rows(frames: Frames, won_stage: str | None, plan_start_s: int) -> list[ir.Table]:
    """Tables of (metric, scope, key, value) rows for `stats.distribution`, each with one
    metric, scope and key.

    ``time_in_stage`` (key: the stage; scope ``all``, and ``period`` for entries in the
    report period) and ``days_to_win`` in seconds (scope ``all``, ``period`` for wins in the
    report period, ``plan`` for wins since `plan_start_s`).
    """
    f = frames.facts
    stages = frames.pact.stages
    scope = frames.scope
    parts = []
    for p, s in enumerate(stages):
        at, following = f[f"first_{p}"], f[f"next_{p}"]
        spans = f.filter(following.notnull()).select(
            at_s=at, value=following - at, stage=ibis.literal(s.id)
        )
        parts += [
            _rows(spans, "time_in_stage", "all", spans.stage),
            _rows(spans.filter(scope.within(spans.at_s)), "time_in_stage", "period", None),
        ]
    if won_stage is not None:
        won_s = f[frames.column("reach", won_stage)]
        cycle = f.filter(won_s.notnull()).select(
            won_s=won_s, stage=ibis.literal(""), value=won_s - f.created_s
        )
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
    return parts


def _rows(table: ir.Table, metric: str, scope: str, key: ir.Value | None) -> ir.Table:
    return table.select(
        metric=ibis.literal(metric),
        scope=ibis.literal(scope),
        key=(table.stage if key is None else key).cast("string"),
        value=table.value.cast("int64"),
    )
