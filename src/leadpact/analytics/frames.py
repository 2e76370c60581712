"""The base relations every metric is written on: the stored tables cut at `as_of`, in seconds.

`Frames.build` reads the five exported tables through an `Analytics` engine and gives each
metric the same starting point:

- every timestamp is whole UTC epoch seconds (``*_s``), nothing after `as_of` is seen: leads
  created later, touches, activities and stage changes after it; a deal closed after it is
  still open;
- ``facts``: one row per lead, the relation most metrics aggregate. Per pact stage it holds
  the lead's first entry, from sources that may overlap (creation = the first funnel stage,
  the stage history, the lead's current stage, and a won deal = the won stage at its close;
  stage names the pact does not define are ignored, the data-quality section counts them),
  and when it *reached* the stage. On the funnel ladder (the pact's open and won stages, in
  order) a lead reaches a stage when it enters that stage *or any later one* (a lead that
  went straight to SQL was an MQL too), so counts fall monotonically down the funnel;
  recycled, disqualified and lost stages are reached only by entering them. It also holds
  where SLA clocks start and the stage the lead is in at `as_of`.

Aggregating one row per lead instead of one row per stage entry is what keeps a report on a
million leads in seconds: a metric that needs several tests per lead (the funnel's pairs)
counts leads grouped by the tests' outcomes packed into integer masks, then reads the counts
per test back in Python.

Small tables the metrics join (stages, days, calendars) are Ibis memtables; the big shared
intermediates are cached in the engine (`Table.cache`) so each query does not redo them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import cached_property

import ibis
import ibis.expr.types as ir
import pyarrow as pa

from leadpact.analytics.calendar_table import DAY_SECONDS, lookup_table
from leadpact.analytics.connection import Analytics
from leadpact.analytics.periods import Buckets, day_table
from leadpact.core.calendar import BusinessCalendar
from leadpact.core.goals import Period
from leadpact.core.lifecycle import handover_stage
from leadpact.core.models import TouchOutcome
from leadpact.core.pact import AcceptanceCommitment, Outcome, Pact, ResponseCommitment

__all__ = [
    "CONNECTIONS",
    "FACT_COLUMNS",
    "Frames",
    "ReportScope",
    "clock_commitments",
    "greatest_present",
    "least_present",
]

#: Touch outcomes that mean the rep reached the person (`TouchOutcome.is_connection`).
CONNECTIONS = sorted(o.value for o in TouchOutcome if o.is_connection)

#: The lead columns `Frames.facts` carries (the funnel's dimensions and the creation time).
FACT_COLUMNS = ("lead_id", "source", "persona", "priority", "owner", "team", "created_s")

#: Deal stages that mean won when the store's `won` flag is empty (case-insensitive).
_WON_NAMES = ("won", "closed won", "closed_won", "closedwon")


@dataclass(frozen=True)
class ReportScope:
    """What a report looks at: the instant it is as of, and its period (a bucket of `period`
    starting on `start`); trends run from the first data up to `as_of` in buckets of `period`."""

    as_of: datetime
    period: Period
    start: date

    @property
    def as_of_s(self) -> int:
        """`as_of` in whole epoch seconds (floored)."""
        return int(self.as_of.timestamp() // 1)

    @property
    def start_s(self) -> int:
        """The report period's first instant (midnight UTC of `start`), in epoch seconds."""
        return _midnight_s(self.start)

    @property
    def end_s(self) -> int:
        """The instant after the report period (midnight UTC after `end`), in epoch seconds."""
        return _midnight_s(self.end + timedelta(days=1))

    def within(self, seconds: ir.IntegerValue) -> ir.BooleanValue:
        """Whether an instant (epoch seconds) lies in the report period."""
        return (seconds >= self.start_s) & (seconds < self.end_s)

    @property
    def buckets(self) -> Buckets:
        """The report's buckets, anchored at `start`."""
        return Buckets(self.period, self.start)

    @property
    def end(self) -> date:
        """The last day (inclusive) of the report period."""
        return self.buckets.bounds(0)[1]


@dataclass
class Frames:
    """The shared relations of one report run (see the module docstring)."""

    source: Analytics
    pact: Pact
    scope: ReportScope
    leads: ir.Table
    touches: ir.Table
    activities: ir.Table
    deals: ir.Table
    stage_changes: ir.Table
    stages: ir.Table

    @classmethod
    def build(cls, source: Analytics, pact: Pact, scope: ReportScope) -> Frames:
        """Read the tables of `source` as of `scope.as_of`."""
        cut = scope.as_of_s
        sec = source.seconds
        raw = source.table("leads")
        leads = raw.select(
            lead_id=raw.id,
            title=raw.title,
            employees=raw.employees,
            annual_revenue=raw.annual_revenue,
            industry=raw.industry,
            country=raw.country,
            source=raw.source,
            owner=raw.owner,
            team=raw.team,
            persona=raw.persona,
            fit=raw.fit,
            fit_grade=raw.fit_grade,
            engagement=raw.engagement,
            priority=raw.priority,
            opted_out=raw.opted_out,
            stage=raw.stage,
            stage_s=sec(raw.stage_at),
            created_s=sec(raw.created_at),
        )
        leads = leads.filter(leads.created_s <= cut)
        t = source.table("touches")
        touches = t.select(
            lead_id=t.lead_id,
            rep=t.rep,
            channel=t.channel,
            outcome=t.outcome,
            at_s=sec(t.at),
            connects=t.outcome.isin(CONNECTIONS).fill_null(False),
        )
        a = source.table("activities")
        activities = a.select(lead_id=a.lead_id, type=a.type, at_s=sec(a.at))
        s = source.table("stage_changes")
        changes = s.select(lead_id=s.lead_id, stage=s.to_stage, at_s=sec(s.at))
        d = source.table("deals")
        deals = d.select(
            deal_id=d.id,
            lead_id=d.lead_id,
            deal_stage=d.stage,
            amount=d.amount.cast("float64"),
            created_s=sec(d.created_at),
            closed_raw=sec(d.closed_at),
            won_flag=d.won,
        )
        deals = deals.filter(deals.created_s <= cut)
        closed = deals.closed_raw.notnull() & (deals.closed_raw <= cut)
        deals = deals.select(
            "deal_id",
            "lead_id",
            "deal_stage",
            "amount",
            "created_s",
            closed_s=ibis.ifelse(closed, deals.closed_raw, ibis.null("int64")),
            won=ibis.ifelse(
                closed,
                deals.won_flag.fill_null(deals.deal_stage.lower().isin(list(_WON_NAMES))),
                ibis.null("boolean"),
            ),
        )
        return cls(
            source=source,
            pact=pact,
            scope=scope,
            leads=leads,
            touches=touches.filter(touches.at_s <= cut),
            activities=activities.filter(activities.at_s <= cut),
            deals=deals,
            stage_changes=changes.filter(changes.at_s <= cut),
            stages=source.memtable(stage_rows(pact)),
        )

    def activities_of(self, types: list[str]) -> ir.Table:
        """`activities` of the given types only, chosen before the instants are converted."""
        a = self.source.table("activities")
        a = a.filter(a.type.isin(types or [""]))
        chosen = a.select(lead_id=a.lead_id, type=a.type, at_s=self.source.seconds(a.at))
        return chosen.filter(chosen.at_s <= self.scope.as_of_s)

    # ------------------------------------------------------------------ stages

    @property
    def ladder(self) -> list[str]:
        """The funnel ladder: the pact's open and won stages, in order."""
        return ladder(self.pact)

    @property
    def handover(self) -> str:
        """The stage at which leads are handed to sales (`core.lifecycle.handover_stage`)."""
        return handover_stage(self.pact) or self.ladder[min(1, len(self.ladder) - 1)]

    # ------------------------------------------------------------------ periods

    @cached_property
    def first_day(self) -> date:
        """The first day the report covers: the first lead's creation day, or the report
        period's start when that is earlier (or there are no leads)."""
        f = self.facts
        first_s = self.source.to_pyarrow(f.aggregate(first=f.created_s.min()))
        value = first_s.column("first")[0].as_py()
        return self.scope.start if value is None else min(_day_of(value), self.scope.start)

    @cached_property
    def last_day(self) -> date:
        """The last day the day table covers: the report period's end or as_of's day."""
        return max(self.scope.end, _day_of(self.scope.as_of_s))

    @cached_property
    def days(self) -> ir.Table:
        """The day table (`periods.day_table`) from the first lead to the report's end."""
        return self.source.memtable(day_table(self.first_day, self.last_day, self.scope.buckets))

    def with_days(self, table: ir.Table, seconds: str) -> ir.Table:
        """`table` with the period columns of the UTC day of its column `seconds`."""
        return self.dated(table.mutate(_day=table[seconds] // DAY_SECONDS), "_day")

    # ------------------------------------------------------------------ calendars

    @cached_property
    def calendar_names(self) -> list[str]:
        """Every calendar a commitment or a team uses."""
        names = {t.calendar for t in self.pact.teams.values()}
        names |= {c for c in (getattr(x, "calendar", None) for x in self.pact.commitments) if c}
        return sorted(names)

    @cached_property
    def lookup(self) -> ir.Table:
        """The calendars' lookup table (`calendar_table.lookup_table`), cached in the engine."""
        calendars: dict[str, BusinessCalendar] = {
            name: self.pact.calendar(name) for name in self.calendar_names
        }
        start = datetime.combine(self.first_day, datetime.min.time(), UTC) - timedelta(days=7)
        end = datetime.fromtimestamp(self.scope.as_of_s, UTC) + timedelta(days=2)
        return self.source.memtable(lookup_table(calendars, start, end))

    def business_at(self, table: ir.Table, seconds: str, prefix: str) -> ir.Table:
        """`table` plus B(t) of its column `seconds` on the calendar in its ``calendar``
        column, as ``{prefix}_b``, with the open/close of t's row (``{prefix}_open``,
        ``{prefix}_close``). Rows whose `seconds` is NULL get NULLs (a left join)."""
        lk = self.lookup
        keyed = table.mutate(_day=table[seconds] // DAY_SECONDS)
        joined = keyed.left_join(
            lk,
            [
                keyed.calendar == lk.calendar,
                keyed._day == lk.day,
                lk.open_s <= keyed[seconds],
                keyed[seconds] < lk.next_s,
            ],
        )
        t = joined[seconds]
        b = joined.before_s + ibis.least(t, joined.close_s) - joined.open_s
        return joined.select(
            *table.columns,
            **{
                f"{prefix}_b": b,
                f"{prefix}_open": joined.open_s,
                f"{prefix}_close": joined.close_s,
            },
        )

    # ------------------------------------------------------------------ lead facts

    def column(self, kind: str, stage: str) -> str:
        """The `facts` column of `kind` (``first``, ``into``, ``reach``) for `stage`."""
        p = self._positions[stage]
        if kind == "reach" and stage not in self.ladder:
            return f"first_{p}"  # off the ladder, a stage is reached only by entering it
        return f"{kind}_{p}"

    @cached_property
    def _positions(self) -> dict[str, int]:
        return {s.id: i for i, s in enumerate(self.pact.stages)}

    @cached_property
    def facts(self) -> ir.Table:
        """One row per lead: `FACT_COLUMNS`, and per pact stage (by position p) when the lead
        first entered it (``first_p``), reached it (``reach_p``, ladder stages, see the module
        docstring) and last moved into it by a recorded stage change (``into_p``, the stages
        of response and acceptance commitments: where their SLA clocks start) and its next
        first entry into another stage after entering it (``next_p``, for time in stage);
        and the position of the stage it is in at `as_of` (``now_pos``: its latest entry,
        ties to the later stage of the pact). NULL where there is no such entry. Cached."""
        steps = self.ladder
        stages = self.pact.stages
        count = len(stages)
        clocked = {c.stage for c in clock_commitments(self.pact)}
        changes = self.stage_changes
        # The stage's position, once per row: the aggregates compare integers, not text.
        sc = changes.select(
            "lead_id",
            "at_s",
            pos=ibis.cases(
                *[(changes.stage == s.id, p) for p, s in enumerate(stages)],
                else_=ibis.null("int64"),
            ),
        )
        pivot = sc.group_by(c_lead=sc.lead_id).aggregate(
            **{f"c_first_{p}": sc.at_s.min(where=sc.pos == p) for p in range(count)},
            **{
                f"into_{p}": sc.at_s.max(where=sc.pos == p)
                for p, s in enumerate(stages)
                if s.id in clocked
            },
            c_latest=_order_key(sc.at_s, sc.pos, count).max(),
        )
        leads = self.leads.left_join(pivot, self.leads.lead_id == pivot.c_lead)
        won = next((s.id for s in stages if s.outcome is Outcome.WON), None)
        if won is not None:
            # A won deal is the lead's entry into the won stage, when it closed (data sets
            # such as Olist's record wins only as deals).
            d = self.deals.filter(self.deals.closed_s.notnull() & self.deals.won)
            wins = d.group_by(w_lead=d.lead_id).aggregate(
                w_first=d.closed_s.min(), w_last=d.closed_s.max()
            )
            leads = leads.left_join(wins, leads.lead_id == wins.w_lead)
        current = leads.stage_s <= self.scope.as_of_s
        firsts: dict[str, ir.IntegerValue] = {}
        latest = [leads.c_latest, _order_key(leads.created_s, self._positions[steps[0]], count)]
        for p, s in enumerate(stages):
            now_in = ibis.ifelse(current & (leads.stage == s.id), leads.stage_s, ibis.null("int64"))
            low = [leads[f"c_first_{p}"], now_in]
            latest.append(_order_key(now_in, p, count))
            if s.id == steps[0]:
                low.append(leads.created_s)
            if s.id == won:
                low.append(leads.w_first)
                latest.append(_order_key(leads.w_last, p, count))
            firsts[f"first_{p}"] = least_present(low)
        reach = {
            f"reach_{self._positions[s]}": least_present(
                [firsts[f"first_{self._positions[t]}"] for t in steps[i:]]
            )
            for i, s in enumerate(steps)
        }
        facts = leads.select(
            *FACT_COLUMNS,
            **firsts,
            **reach,
            **{f"into_{p}": leads[f"into_{p}"] for p, s in enumerate(stages) if s.id in clocked},
            now_pos=greatest_present(latest) % count,
        )
        # SQLite would compute every `first_p` again inside each next entry: materialize first.
        facts = self.source.split(facts)
        return self.source.cache(facts.mutate(**_next_entries(facts, count)))

    def reach_of(self, stage: str, name: str = "at_s") -> ir.Table:
        """(lead_id, `name`) for the leads that reached `stage`."""
        f = self.facts
        at = f[self.column("reach", stage)]
        return f.filter(at.notnull()).select("lead_id", **{name: at})

    def dated(self, table: ir.Table, day: str) -> ir.Table:
        """`table` with the period columns of the day number in its column `day` (dropped)."""
        days = self.days.rename(_day_key="day")
        joined = table.join(days, table[day] == days._day_key)
        return joined.drop(day, "_day_key")


#: Added to epoch seconds to keep (time, position) keys positive (the calendars reach 1901).
_OFFSET = 2**33


def _next_entries(facts: ir.Table, count: int) -> dict[str, ir.IntegerValue]:
    """Per stage p, ``next_p``: the lead's next first entry into another stage after its first
    entry into p (later, or at the same instant and later in the pact); for time in stage."""
    out = {}
    for p in range(count):
        at = facts[f"first_{p}"]
        following = []
        for q in range(count):
            if q != p:
                other = facts[f"first_{q}"]
                after = other >= at if q > p else other > at
                following.append(ibis.ifelse(after, other, ibis.null("int64")))
        out[f"next_{p}"] = least_present(following)
    return out


def _order_key(at_s: ir.IntegerValue, position: ir.IntegerValue | int, count: int) -> ir.Value:
    """(instant, stage position) as one integer that orders like the pair; NULL with either.
    The largest key's remainder modulo `count` is the position of the latest entry."""
    return (at_s + _OFFSET) * count + position


#: "No such instant" for the NULL-safe least/greatest (every engine treats NULL differently).
_NEVER = 2**62


def least_present(values: list[ir.IntegerValue]) -> ir.IntegerValue:
    """The smallest non-NULL value, NULL when all are NULL."""
    if len(values) == 1:
        return values[0]
    low = ibis.least(*[v.fill_null(_NEVER) for v in values])
    return low.nullif(_NEVER)


def greatest_present(values: list[ir.IntegerValue]) -> ir.IntegerValue:
    """The largest non-NULL value, NULL when all are NULL."""
    if len(values) == 1:
        return values[0]
    high = ibis.greatest(*[v.fill_null(-_NEVER) for v in values])
    return high.nullif(-_NEVER)


def clock_commitments(pact: Pact) -> list[ResponseCommitment | AcceptanceCommitment]:
    """The pact's commitments that run an SLA clock per lead (response and acceptance)."""
    return [c for c in pact.commitments if isinstance(c, ResponseCommitment | AcceptanceCommitment)]


def ladder(pact: Pact) -> list[str]:
    """The funnel ladder of a pact: its open and won stages, in order."""
    return [s.id for s in pact.stages if s.outcome in (Outcome.OPEN, Outcome.WON)]


def stage_rows(pact: Pact) -> pa.Table:
    """The pact's stages: id and outcome."""
    return pa.table(
        {
            "stage": [s.id for s in pact.stages],
            "outcome": [s.outcome.value for s in pact.stages],
        }
    )


def _midnight_s(on: date) -> int:
    return int(datetime.combine(on, datetime.min.time(), UTC).timestamp())


def _day_of(seconds: int) -> date:
    return datetime.fromtimestamp(seconds, UTC).date()
