"""The base relations every metric is written on: the stored tables cut at `as_of`, in seconds.

`Frames.build` reads the five exported tables through an `Analytics` engine and gives each
metric the same starting point:

- every timestamp is whole UTC epoch seconds (``*_s``), nothing after `as_of` is seen: leads
  created later, touches, activities and stage changes after it; a deal closed after it is
  still open;
- ``entries``: each lead's first entry into each stage of the pact, from sources that may
  overlap (creation = the first funnel stage, the stage history, the lead's current stage, and
  a won deal = the won stage at its close);
  stage names the pact does not define are ignored (the data-quality section counts them);
- ``reached``: when each lead reached each stage. On the funnel ladder (the pact's open and
  won stages, in order) a lead reaches a stage when it enters that stage *or any later one*
  (a lead that went straight to SQL was an MQL too), so counts fall monotonically down the
  funnel; recycled, disqualified and lost stages are reached only by entering them.

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
from leadpact.core.pact import Outcome, Pact

__all__ = ["CONNECTIONS", "Frames", "ReportScope"]

#: Touch outcomes that mean the rep reached the person (`TouchOutcome.is_connection`).
CONNECTIONS = sorted(o.value for o in TouchOutcome if o.is_connection)

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
    first_day: date

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
        first = source.to_pyarrow(leads.aggregate(first=leads.created_s.min()))
        first_s = first.column("first")[0].as_py()
        first_day = scope.start if first_s is None else _day_of(first_s)
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
            first_day=min(first_day, scope.start),
        )

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
    def last_day(self) -> date:
        """The last day the day table covers: the report period's end or as_of's day."""
        return max(self.scope.end, _day_of(self.scope.as_of_s))

    @cached_property
    def days(self) -> ir.Table:
        """The day table (`periods.day_table`) from the first lead to the report's end."""
        return self.source.memtable(day_table(self.first_day, self.last_day, self.scope.buckets))

    def with_days(self, table: ir.Table, seconds: str) -> ir.Table:
        """`table` with the period columns of the UTC day of its column `seconds`."""
        keyed = table.mutate(_day=table[seconds] // DAY_SECONDS)
        days = self.days
        joined = keyed.join(days, keyed._day == days.day)
        return joined.drop("_day", "day")

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

    # ------------------------------------------------------------------ entries

    @cached_property
    def entries(self) -> ir.Table:
        """Each lead's first entry into each pact stage: (lead_id, stage, at_s), cached."""
        e = self.entries_all
        return self.source.cache(e.group_by(["lead_id", "stage"]).aggregate(at_s=e.at_s.min()))

    @cached_property
    def entries_all(self) -> ir.Table:
        """Every distinct entry of a lead into a pact stage: (lead_id, stage, at_s), cached."""
        leads = self.leads
        current = leads.filter(leads.stage_s <= self.scope.as_of_s)
        changes = self.stage_changes
        sources = [
            _entry(leads, leads.lead_id, ibis.literal(self.ladder[0]), leads.created_s),
            _entry(current, current.lead_id, current.stage, current.stage_s),
            _entry(changes, changes.lead_id, changes.stage, changes.at_s),
        ]
        won = next((s.id for s in self.pact.stages if s.outcome is Outcome.WON), None)
        if won is not None:
            # A won deal is the lead's entry into the won stage, when it closed (data sets
            # such as Olist's record wins only as deals).
            d = self.deals.filter(self.deals.closed_s.notnull() & self.deals.won)
            sources.append(_entry(d, d.lead_id, ibis.literal(won), d.closed_s))
        every = ibis.union(*sources, distinct=True)
        known = every.join(self.stages.select("stage"), "stage")
        return self.source.cache(known.join(leads.select("lead_id"), "lead_id"))

    @cached_property
    def reached(self) -> ir.Table:
        """When each lead reached each stage (ladder: that stage or a later one), cached."""
        e = self.entries.join(self.stages.select("stage", "rank"), "stage")
        on_ladder = e.filter(e.rank.notnull())
        exits = e.filter(e.rank.isnull()).select("lead_id", "stage", "at_s")
        targets = self.stages.filter(self.stages.rank.notnull()).select(
            target=self.stages.stage, target_rank=self.stages.rank
        )
        spread = on_ladder.join(targets, on_ladder.rank >= targets.target_rank)
        ladder_reach = spread.group_by(["lead_id", "target"]).aggregate(at_s=spread.at_s.min())
        ladder_reach = ladder_reach.select(
            "lead_id", stage=ladder_reach.target.cast("string"), at_s=ladder_reach.at_s
        )
        return self.source.cache(ibis.union(ladder_reach, exits))

    def reach_of(self, stage: str, name: str = "at_s") -> ir.Table:
        """(lead_id, `name`) for the leads that reached `stage`."""
        r = self.reached
        return r.filter(r.stage == stage).select("lead_id", **{name: r.at_s})


def _entry(table: ir.Table, lead_id: ir.Value, stage: ir.Value, at_s: ir.Value) -> ir.Table:
    """One source of entries, with the exact column types every source shares."""
    return table.select(
        lead_id=lead_id.cast("string"), stage=stage.cast("string"), at_s=at_s.cast("int64")
    )


def ladder(pact: Pact) -> list[str]:
    """The funnel ladder of a pact: its open and won stages, in order."""
    return [s.id for s in pact.stages if s.outcome in (Outcome.OPEN, Outcome.WON)]


def stage_rows(pact: Pact) -> pa.Table:
    """The pact's stages: id, name, position, ladder rank (NULL off the ladder), outcome."""
    steps = ladder(pact)
    return pa.table(
        {
            "stage": [s.id for s in pact.stages],
            "position": pa.array(range(len(pact.stages)), pa.int64()),
            "rank": pa.array(
                [steps.index(s.id) if s.id in steps else None for s in pact.stages], pa.int64()
            ),
            "outcome": [s.outcome.value for s in pact.stages],
        }
    )


def _midnight_s(on: date) -> int:
    return int(datetime.combine(on, datetime.min.time(), UTC).timestamp())


def _day_of(seconds: int) -> date:
    return datetime.fromtimestamp(seconds, UTC).date()
