"""Roll the engine's records up into the report's sections: the JSON contract's content.

The engines return small aggregates (per UTC day, per group); everything here is arithmetic on
those records in plain Python, the same for every engine: summing days into report buckets
and calendar periods, rates (a rate with a zero denominator is NULL, never 0), goal lines from
`core.goals.daily_pace`, the re-forecast from `core.goals.reforecast`. docs/report.md defines
every field.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date, timedelta
from typing import Any

from leadpact.analytics.commitments_section import commitment_records, quality_records
from leadpact.analytics.frames import ReportScope, clock_commitments, ladder
from leadpact.analytics.funnel import conversion_pairs
from leadpact.analytics.goals_section import goals_section, metric_series, period_goal
from leadpact.analytics.kpis_section import STATUSES, kpi_records, rep_records
from leadpact.analytics.metrics import Record, won_stage
from leadpact.analytics.rollup import bucket_of, rate
from leadpact.analytics.sla_metrics import AGING_BUCKETS
from leadpact.core.goals import daily_pace
from leadpact.core.pact import (
    AcceptanceCommitment,
    FollowUpCommitment,
    Pact,
    ResponseCommitment,
)

__all__ = ["Context", "build_sections"]

_DAY = 86_400


def _iso(on: date) -> str:
    return on.isoformat()


def build_sections(
    pact: Pact, scope: ReportScope, records: dict[str, list[Record]]
) -> dict[str, Any]:
    """The report's sections from the records of `metrics.run_queries`."""
    context = Context(pact, scope, records)
    return {
        "meta": context.meta(),
        "funnel": context.funnel(),
        "waterfall": context.waterfall(),
        "speed": context.speed(),
        "depth": context.depth(),
        "aging": context.aging(),
        "kpis": context.kpis(),
        "commitments": context.commitments(),
        "goals": goals_section(pact, scope, context.series, records),
        "reps": context.reps(),
        "data_quality": context.data_quality(),
    }


class Context:
    """The records of one report run with the helpers the sections share."""

    def __init__(self, pact: Pact, scope: ReportScope, records: dict[str, list[Record]]) -> None:
        self.pact = pact
        self.scope = scope
        self.records = records
        self.buckets = scope.buckets
        meta = records["_meta"][0]
        self.first_day = date.fromisoformat(meta["first_day"])
        self.handover = meta["handover"]
        self.ladder = ladder(pact)
        self.won = won_stage(pact)
        self.as_of_day = scope.as_of.date()
        self.period_start = _iso(scope.start)
        self.series = metric_series(pact, records, self.handover)
        self.pairs: dict[tuple[str, str, str], int] = defaultdict(int)
        for r in records["pairs_daily"]:
            self.pairs[(r["day_on"], r["from_stage"], r["to_stage"])] += r["leads"]
        self.dist = {(r["metric"], r["scope"], r["key"]): r for r in records["distributions"]}

    # ------------------------------------------------------------------ helpers

    def bucket_list(self) -> list[tuple[date, date]]:
        """Every report bucket from the first data to the one holding as_of (or the period)."""
        last = max(self.as_of_day, self.scope.start)
        k, end_k = self.buckets.index(self.first_day), self.buckets.index(last)
        return [self.buckets.bounds(i) for i in range(k, end_k + 1)]

    def in_period(self, day_on: str) -> bool:
        return self.scope.start <= date.fromisoformat(day_on) <= self.scope.end

    def pair_sum(self, a: str, b: str, days: Iterable[str] | None = None) -> int:
        if days is None:
            return sum(v for (d, x, y), v in self.pairs.items() if x == a and y == b)
        wanted = set(days)
        return sum(v for (d, x, y), v in self.pairs.items() if x == a and y == b and d in wanted)

    def period_pair(self, a: str, b: str) -> int:
        return sum(
            v for (d, x, y), v in self.pairs.items() if x == a and y == b and self.in_period(d)
        )

    def stage_id(self, wanted: str) -> str | None:
        known = [s.id for s in self.pact.stages]
        return wanted if wanted in known else None

    # ------------------------------------------------------------------ meta

    def meta(self) -> dict[str, Any]:
        return {
            "company": self.pact.company,
            "title": self.pact.title,
            "currency": self.pact.currency,
            "as_of": self.scope.as_of.isoformat(),
            "period": self.scope.period.value,
            "period_start": self.period_start,
            "period_end": _iso(self.scope.end),
            "first_day": _iso(self.first_day),
            "handover_stage": self.handover,
            "time_zone": "UTC",
            "percentiles": "nearest-rank",
        }

    # ------------------------------------------------------------------ funnel

    def funnel(self) -> dict[str, Any]:
        names = {s.id: s.name for s in self.pact.stages}
        stages = [
            {
                "stage": s.id,
                "name": s.name,
                "outcome": s.outcome.value,
                "order": i,
                "on_ladder": s.id in self.ladder,
            }
            for i, s in enumerate(self.pact.stages)
        ]
        by_day: dict[tuple[str, str], int] = defaultdict(int)
        for (d, a, b), v in self.pairs.items():
            if a == b:
                by_day[(d, a)] += v
        exits: dict[tuple[str, str], int] = defaultdict(int)
        first = self.ladder[0]
        for (d, a, b), v in self.pairs.items():
            if a == first and b not in self.ladder:
                exits[(d, b)] += v
        by_period, conversion = [], []
        for start, end in self.bucket_list():
            days = [_iso(start + timedelta(n)) for n in range((end - start).days + 1)]
            for s in self.pact.stages:
                source = by_day if s.id in self.ladder else exits
                entered = sum(source.get((d, s.id), 0) for d in days)
                by_period.append(
                    {
                        "period_start": _iso(start),
                        "period_end": _iso(end),
                        "stage": s.id,
                        "stage_name": names[s.id],
                        "leads": entered,
                    }
                )
            for a, b in self.conversion_pairs():
                base = self.pair_sum(a, a, days)
                to = self.pair_sum(a, b, days)
                conversion.append(
                    {
                        "period_start": _iso(start),
                        "period_end": _iso(end),
                        "from_stage": a,
                        "to_stage": b,
                        "from_leads": base,
                        "to_leads": to,
                        "rate": rate(to, base),
                    }
                )
        return {
            "stages": stages,
            "by_period": by_period,
            "conversion": conversion,
            "breakdown": self.breakdown(),
            "time_in_stage": self.time_in_stage(),
            "days_to_win": self.days_to_win(),
        }

    def conversion_pairs(self) -> list[tuple[str, str]]:
        """(A, next ladder stage) and (A, won) for every ladder stage A before won."""
        return conversion_pairs(self.pact)

    def breakdown(self) -> list[Record]:
        counts: dict[tuple[str, Any, bool, str, str], int] = {}
        for r in self.records["pairs_by_dimension"]:
            counts[
                (r["dimension"], r["value"], bool(r["in_period"]), r["from_stage"], r["to_stage"])
            ] = r["leads"]
        groups = sorted(
            {(d, v) for (d, v, _p, _a, _b) in counts},
            key=lambda g: (g[0], g[1] is not None, g[1] or ""),
        )
        out = []
        for scope_name in ("period", "all"):
            flags = (True,) if scope_name == "period" else (True, False)
            for dimension, value in groups:
                for a, b in self.conversion_pairs():
                    base = sum(counts.get((dimension, value, f, a, a), 0) for f in flags)
                    to = sum(counts.get((dimension, value, f, a, b), 0) for f in flags)
                    if base == 0:
                        continue
                    out.append(
                        {
                            "scope": scope_name,
                            "dimension": dimension,
                            "value": value,
                            "from_stage": a,
                            "to_stage": b,
                            "from_leads": base,
                            "to_leads": to,
                            "rate": rate(to, base),
                        }
                    )
        return out

    def stats(self, metric: str, scope_name: str, key: str, unit: float = 1.0) -> dict[str, Any]:
        r = self.dist.get((metric, scope_name, key))
        if r is None:
            return {"leads": 0, "mean": None, "median": None, "p90": None}
        return {
            "leads": r["n"],
            "mean": r["mean"] / unit,
            "median": r["median"] / unit,
            "p90": r["p90"] / unit,
        }

    def time_in_stage(self) -> list[Record]:
        out = []
        for scope_name in ("period", "all"):
            for s in self.pact.stages:
                st = self.stats("time_in_stage", scope_name, s.id)
                out.append(
                    {
                        "scope": scope_name,
                        "stage": s.id,
                        "leads": st["leads"],
                        "mean_seconds": st["mean"],
                        "median_seconds": st["median"],
                        "p90_seconds": st["p90"],
                    }
                )
        return out

    def days_to_win(self) -> list[Record]:
        out = []
        for scope_name in ("period", "all"):
            st = self.stats("days_to_win", scope_name, "", _DAY)
            out.append(
                {
                    "scope": scope_name,
                    "won_leads": st["leads"],
                    "mean_days": st["mean"],
                    "median_days": st["median"],
                    "p90_days": st["p90"],
                }
            )
        return out

    # ------------------------------------------------------------------ waterfall

    def waterfall(self) -> list[Record]:
        out = []
        days = (self.scope.end - self.scope.start).days + 1
        for metric, daily in self.series.items():
            goal, goal_source = period_goal(self.pact, metric, self.scope)
            pace = None if goal is None else daily_pace(goal, self.scope.period, self.scope.start)
            total = 0.0
            for n in range(days):
                on = self.scope.start + timedelta(n)
                known = on <= self.as_of_day
                value = daily.get(_iso(on), 0.0) if known else None
                if value is not None:
                    total += value
                out.append(
                    {
                        "metric": metric,
                        "day": n + 1,
                        "on": _iso(on),
                        "goal": None if goal is None else float(goal),
                        "goal_source": goal_source,
                        "goal_cumulative": None if pace is None else float(pace.line[n].cumulative),
                        "actual": value,
                        "actual_cumulative": total if known else None,
                    }
                )
        return out

    # ------------------------------------------------------------------ speed and depth

    def clock_commitments(self) -> list[ResponseCommitment | AcceptanceCommitment]:
        return clock_commitments(self.pact)

    def speed(self) -> list[Record]:
        counts: dict[tuple[str, str, str], int] = defaultdict(int)
        for r in self.records["clock_counts"]:
            counts[(r["commitment"], bucket_of(self.buckets, r["day_on"]), r["status"])] += r[
                "clocks"
            ]
        out = []
        for c in self.clock_commitments():
            for start, end in self.bucket_list():
                key = _iso(start)
                n = {s: counts.get((c.id, key, s), 0) for s in STATUSES}
                decided = n["met"] + n["late"] + n["overdue"]
                st = self.stats("speed", key, c.id)
                out.append(
                    {
                        "commitment": c.id,
                        "kind": c.kind,
                        "stage": c.stage,
                        "period_start": key,
                        "period_end": _iso(end),
                        "target_seconds": c.within.total_seconds(),
                        "clocks": sum(n.values()),
                        "answered": n["met"] + n["late"],
                        **n,
                        "breached": n["late"] + n["overdue"],
                        "met_rate": rate(n["met"], decided),
                        "mean_seconds": st["mean"],
                        "median_seconds": st["median"],
                        "p90_seconds": st["p90"],
                    }
                )
        return out

    def depth(self) -> dict[str, list[Record]]:
        sums: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0, 0])
        for r in self.records["depth_daily"]:
            cell = sums[(r["commitment"], bucket_of(self.buckets, r["day_on"]))]
            cell[0] += r["leads"]
            cell[1] += r["attempts"]
            cell[2] += r["at_target"]
        by_period, attempts = [], []
        follow_ups = [c for c in self.pact.commitments if isinstance(c, FollowUpCommitment)]
        for c in follow_ups:
            for start, end in self.bucket_list():
                leads, tries, at_target = sums.get((c.id, _iso(start)), [0, 0, 0])
                by_period.append(
                    {
                        "commitment": c.id,
                        "stage": c.stage,
                        "period_start": _iso(start),
                        "period_end": _iso(end),
                        "target_attempts": c.attempts,
                        "leads": leads,
                        "mean_attempts": rate(tries, leads),
                        "at_target": at_target,
                        "at_target_rate": rate(at_target, leads),
                    }
                )
        for r in self.records["depth_spread"]:
            attempts.append(
                {"commitment": r["commitment"], "attempts": r["attempts"], "leads": r["leads"]}
            )
        return {"by_period": by_period, "attempts": attempts}

    # ------------------------------------------------------------------ aging

    def aging(self) -> list[Record]:
        totals: dict[tuple[str, str], int] = defaultdict(int)
        for r in self.records["aging"]:
            totals[(r["status"], r["bucket"])] += r["leads"]
        out = []
        for status in ("uncontacted", "not_connected"):
            for order, (name, low, high) in enumerate(AGING_BUCKETS):
                out.append(
                    {
                        "status": status,
                        "bucket": name,
                        "order": order,
                        "min_days": low,
                        "max_days": high,
                        "leads": totals.get((status, name), 0),
                    }
                )
        return out

    # ------------------------------------------------------------------ KPIs

    def kpis(self) -> list[Record]:
        return kpi_records(self)

    # ------------------------------------------------------------------ commitments

    def commitments(self) -> list[Record]:
        return commitment_records(self)

    # ------------------------------------------------------------------ reps

    def reps(self) -> list[Record]:
        return rep_records(self)

    # ------------------------------------------------------------------ data quality

    def data_quality(self) -> list[Record]:
        return quality_records(self.records["quality"])
