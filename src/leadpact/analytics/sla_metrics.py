"""Sales SLA metrics as Ibis expressions: SLA clocks (speed), follow-up depth, aging.

Clock rules (the same as the live SLA clocks, ARCHITECTURE.md "Business calendars"):

- A *response* commitment starts a clock when a lead reaches its stage and stops it at the
  lead's first touch at or after that instant; an *acceptance* commitment stops it at the
  lead's first entry into any other stage (accepted further down the funnel, or rejected).
  Only leads matching the commitment's ``when`` (evaluated on the lead's stored facts and its
  touches and activities up to `as_of`) get a clock.
- Time is business time on the commitment's calendar, else the lead's team's calendar, else
  the calendar of the providing party's first team.
- With W the allowed time and e = B(stop) - B(start): the clock is *met* when the stop comes
  at or before the deadline, i.e. e < W, or e = W and the stop lies in an open interval or on
  its closing instant (a stop at 17:30 on a deadline at the 17:00 closing is late although no
  business time passed after 17:00). Without a stop by `as_of` the clock is *overdue* when
  `as_of` is past the deadline (same test on B(as_of)) and *pending* otherwise; a stop after
  the deadline is *late*.

Depth: for a follow-up commitment, each matching lead that reached its stage and has no
connecting touch since (up to `as_of`) counts its touches since reaching the stage.
Aging: leads with sales (currently in an open funnel stage at or after the handover stage),
not connected, by time since their last touch (or since the handover when never touched).
"""

from __future__ import annotations

from collections.abc import Sequence

import ibis
import ibis.expr.types as ir
import pyarrow as pa

from leadpact.analytics.conditions import compile_condition, fields_read
from leadpact.analytics.frames import Frames, clock_commitments
from leadpact.core.conditions import Condition
from leadpact.core.pact import (
    FollowUpCommitment,
    Outcome,
    ResponseCommitment,
)

#: "No such event": later than any instant (clock stops are minima over optional events).
_NEVER = 2**62

__all__ = [
    "AGING_BUCKETS",
    "aging",
    "clock_counts",
    "clock_rows",
    "clocks",
    "depth",
    "lead_facts",
]

#: Aging buckets: (name, lower bound in days inclusive, upper bound exclusive or None).
AGING_BUCKETS = (
    ("under_1_week", 0, 7),
    ("1_to_2_weeks", 7, 14),
    ("2_weeks_to_1_month", 14, 30),
    ("over_1_month", 30, None),
)


def lead_facts(frames: Frames, fields: set[str]) -> ir.Table:
    """`Frames.facts` with the condition fields in `fields` (stored facts, plus ``attempts``,
    ``connected`` and ``activities.<type>`` counted up to `as_of`)."""
    leads = frames.facts
    out = leads
    stored = sorted((fields & set(frames.leads.columns)) - set(leads.columns))
    if stored:
        more = frames.leads.select(*stored, f_lead="lead_id")
        out = out.left_join(more, out.lead_id == more.f_lead).drop("f_lead")
    if fields & {"attempts", "connected"}:
        t = frames.touches
        per = t.group_by("lead_id").aggregate(
            attempts=t.lead_id.count(), connected=t.connects.any()
        )
        per = per.select(t_lead="lead_id", attempts="attempts", connected="connected")
        out = out.left_join(per, out.lead_id == per.t_lead).drop("t_lead")
        out = out.mutate(
            attempts=out.attempts.fill_null(0), connected=out.connected.fill_null(False)
        )
    kinds = sorted(f.split(".", 1)[1] for f in fields if f.startswith("activities."))
    if kinds:
        a = frames.activities
        per = a.group_by("lead_id").aggregate(
            **{f"n_{k}": a.lead_id.count(where=a.type == k) for k in kinds}
        )
        per = per.rename(a_lead="lead_id")
        out = out.left_join(per, out.lead_id == per.a_lead).drop("a_lead")
        out = out.mutate(**{f"n_{k}": out[f"n_{k}"].fill_null(0) for k in kinds})
    if out is leads:
        return out
    # Cached: the counts' joins inside the clock expression overflow SQLite's parser.
    return frames.source.cache(out)


def _matching(frames: Frames, when: Condition | None) -> ir.Table:
    """The rows of `Frames.facts` of the leads a commitment's ``when`` selects."""
    if when is None:
        return frames.facts
    fields = fields_read(when)
    facts = lead_facts(frames, fields)
    columns = {f: facts[f] for f in fields if f in facts.columns}
    columns |= {f: facts[f"n_{f.split('.', 1)[1]}"] for f in fields if f.startswith("activities.")}
    return facts.filter(compile_condition(when, columns))


def _default_calendar(frames: Frames, provider: str) -> str:
    for team in frames.pact.teams.values():
        if team.party == provider:
            return team.calendar
    return next(iter(frames.pact.teams.values())).calendar


def clocks(frames: Frames) -> ir.Table | None:
    """Every SLA clock of the response and acceptance commitments, cached.

    Columns: commitment, lead_id, owner, start_s, stop_s (NULL: no stop by `as_of`),
    within_s, elapsed_s (business seconds to the stop), status (met, late, overdue, pending).
    None when the pact has no such commitment.
    """
    pact = frames.pact
    teams = frames.source.memtable(
        pa.table(
            {
                "team_key": list(pact.teams),
                "team_calendar": [t.calendar for t in pact.teams.values()],
            }
        )
    )
    st = frames.stages
    closing = frames.stage_changes.join(st.filter(st.outcome != "open"), "stage")
    closing = closing.select(
        k_lead=closing.lead_id, k_at=closing.at_s, k_recycle=closing.outcome == "recycled"
    )
    parts = []
    for c in clock_commitments(pact):
        # A clock starts at the lead's latest recorded move into the stage.
        leads = _matching(frames, c.when)
        into = leads[frames.column("into", c.stage)]
        start = leads.filter(into.notnull()).select("lead_id", "owner", "team", start_s=into)
        if isinstance(c, ResponseCommitment):
            t = frames.touches.select(s_lead=frames.touches.lead_id, s_at=frames.touches.at_s)
        else:
            e = frames.stage_changes
            t = e.filter(e.stage != c.stage).select(s_lead=e.lead_id, s_at=e.at_s)
        cand = start.left_join(t, [start.lead_id == t.s_lead, t.s_at >= start.start_s])
        stops = cand.group_by(["lead_id", "owner", "team", "start_s"]).aggregate(
            answer_s=cand.s_at.min()
        )
        if isinstance(c, ResponseCommitment):
            # A closing change stops a response clock too: won, lost and disqualified count
            # as the answer, a recycle before the first touch breaks the commitment.
            k = stops.left_join(
                closing, [stops.lead_id == closing.k_lead, closing.k_at >= stops.start_s]
            )
            stops = k.group_by(["lead_id", "owner", "team", "start_s", "answer_s"]).aggregate(
                decided_s=k.k_at.min(where=~k.k_recycle),
                recycled_s=k.k_at.min(where=k.k_recycle),
            )
        else:
            stops = stops.mutate(decided_s=ibis.null("int64"), recycled_s=ibis.null("int64"))
        never = ibis.literal(_NEVER, "int64")
        answer = stops.answer_s.fill_null(never)
        decided = ibis.least(answer, stops.decided_s.fill_null(never))
        recycled = stops.recycled_s.fill_null(never)
        stops = stops.mutate(
            stop_s=ibis.ifelse(
                ibis.least(decided, recycled) == never,
                ibis.null("int64"),
                ibis.least(decided, recycled),
            ),
            broken=recycled < decided,
            answered=(answer <= recycled) & (answer < never),
        )
        with_team = stops.left_join(teams, stops.team == teams.team_key)
        fallback = c.calendar or _default_calendar(frames, c.provider)
        calendar = (
            ibis.literal(c.calendar) if c.calendar else with_team.team_calendar.fill_null(fallback)
        )
        parts.append(
            with_team.select(
                commitment=ibis.literal(c.id),
                lead_id=with_team.lead_id,
                owner=with_team.owner,
                calendar=calendar.cast("string"),
                start_s=with_team.start_s.cast("int64"),
                stop_s=with_team.stop_s.cast("int64"),
                broken=with_team.broken,
                answered=with_team.answered,
                within_s=ibis.literal(int(c.within.total_seconds()), "int64"),
            )
        )
    if not parts:
        return None
    # Split before the calendar lookups: SQLite's parser overflows on the whole expression.
    every = ibis.union(*parts).mutate(asof_s=ibis.literal(frames.scope.as_of_s, "int64"))
    every = frames.source.split(every)
    looked = frames.business_at(every, "start_s", "start")
    looked = frames.business_at(looked, "stop_s", "stop")
    looked = frames.business_at(looked, "asof_s", "asof")
    elapsed = looked.stop_b - looked.start_b
    waited = looked.asof_b - looked.start_b
    on_time = (elapsed < looked.within_s) | (
        (elapsed == looked.within_s)
        & (looked.stop_s > looked.stop_open)
        & (looked.stop_s <= looked.stop_close)
    )
    not_due = (waited < looked.within_s) | (
        (waited == looked.within_s)
        & (looked.asof_s > looked.asof_open)
        & (looked.asof_s <= looked.asof_close)
    )
    status = ibis.cases(
        (looked.stop_s.notnull() & looked.broken, "late"),
        (looked.stop_s.notnull() & on_time, "met"),
        (looked.stop_s.notnull(), "late"),
        (not_due, "pending"),
        else_="overdue",
    )
    result = looked.select(
        "commitment",
        "lead_id",
        "owner",
        "start_s",
        "stop_s",
        "within_s",
        elapsed_s=ibis.ifelse(
            looked.stop_s.notnull() & looked.answered, elapsed, ibis.null("int64")
        ),
        status=status,
    )
    return frames.source.cache(result)


def clock_counts(frames: Frames, clock_table: ir.Table) -> ir.Table:
    """(commitment, day_on, status, clocks): clocks by the UTC day they started."""
    dated = frames.with_days(clock_table, "start_s")
    return dated.group_by(["commitment", "day_on", "status"]).aggregate(
        clocks=dated.lead_id.count()
    )


def clock_rows(
    frames: Frames, clock_table: ir.Table, response_ids: Sequence[str]
) -> list[tuple[ir.Table, str | None]]:
    """(metric, scope, key, value) rows of answered clocks for `stats.distribution`, as
    tables with the one column that varies in each (None: none does): ``speed`` per
    commitment and report bucket (scope = the bucket's start), ``rep_speed`` per owner and
    ``first_response`` over the response commitments, both in the report period.
    """
    answered = clock_table.filter(clock_table.elapsed_s.notnull())
    out: list[tuple[ir.Table, str | None]] = []
    for commitment in sorted({c.id for c in clock_commitments(frames.pact)}):
        mine = answered.filter(answered.commitment == commitment)
        dated = frames.with_days(mine, "start_s")
        speed = dated.select(
            metric=ibis.literal("speed"),
            scope=dated.bucket,
            key=ibis.literal(commitment),
            value=dated.elapsed_s,
        )
        out.append((speed, "scope"))
    in_period = answered.filter(frames.scope.within(answered.start_s))
    responses = in_period.filter(in_period.commitment.isin(list(response_ids) or [""]))
    out.append(
        (
            in_period.select(
                metric=ibis.literal("rep_speed"),
                scope=ibis.literal("period"),
                key=in_period.owner.cast("string"),
                value=in_period.elapsed_s,
            ),
            "key",
        )
    )
    out.append(
        (
            responses.select(
                metric=ibis.literal("first_response"),
                scope=ibis.literal("period"),
                key=ibis.literal(""),
                value=responses.elapsed_s,
            ),
            None,
        )
    )
    return out


def rep_clock_counts(frames: Frames, clock_table: ir.Table) -> ir.Table:
    """(owner, status, clocks) of the clocks started in the report period."""
    c = clock_table.filter(frames.scope.within(clock_table.start_s))
    return c.group_by(["owner", "status"]).aggregate(clocks=c.lead_id.count())


def depth(frames: Frames) -> tuple[ir.Table, ir.Table] | None:
    """Follow-up depth of leads not connected, per follow-up commitment.

    Returns ``daily`` (commitment, day_on, leads, attempts, at_target) by the UTC day the lead
    reached the stage, and ``spread`` (commitment, attempts, leads) for the report period;
    None when the pact has no follow-up commitment.
    """
    daily_parts, spread_parts = [], []
    for c in frames.pact.commitments:
        if not isinstance(c, FollowUpCommitment):
            continue
        leads = _matching(frames, c.when)
        reach = leads[frames.column("reach", c.stage)]
        start = leads.filter(reach.notnull()).select("lead_id", start_s=reach)
        t = frames.touches.select(s_lead=frames.touches.lead_id, s_at="at_s", s_conn="connects")
        cand = start.left_join(t, [start.lead_id == t.s_lead, t.s_at >= start.start_s])
        per = cand.group_by(["lead_id", "start_s"]).aggregate(
            attempts=cand.s_lead.count(),
            connections=cand.lead_id.count(where=cand.s_conn),
        )
        open_ = per.filter(per.connections == 0) if c.unless_connected else per
        dated = frames.with_days(open_, "start_s")
        daily = dated.group_by("day_on").aggregate(
            leads=dated.lead_id.count(),
            attempts=dated.attempts.sum(),
            at_target=dated.lead_id.count(where=dated.attempts >= c.attempts),
        )
        daily_parts.append(daily.mutate(commitment=ibis.literal(c.id)))
        in_period = open_.filter(frames.scope.within(open_.start_s))
        spread = in_period.group_by("attempts").aggregate(leads=in_period.lead_id.count())
        spread_parts.append(spread.mutate(commitment=ibis.literal(c.id)))
    if not daily_parts:
        return None
    return ibis.union(*daily_parts), ibis.union(*spread_parts)


def aging(frames: Frames) -> ir.Table:
    """(owner, status, bucket, leads): not-connected leads with sales by time since the last
    approach (status ``uncontacted``: never touched, aged from the handover;
    ``not_connected``: touched, aged from the last touch)."""
    steps = frames.ladder
    threshold = steps.index(frames.handover) if frames.handover in steps else 0
    open_stages = [
        p
        for p, s in enumerate(frames.pact.stages)
        if s.outcome is Outcome.OPEN and s.id in steps and steps.index(s.id) >= threshold
    ]
    f = frames.facts
    with_sales = f.filter(f.now_pos.isin(open_stages)).select(
        "lead_id", "owner", handed_s=f[frames.column("reach", frames.handover)]
    )
    t = frames.touches
    per = t.group_by("lead_id").aggregate(
        last_s=t.at_s.max(), connections=t.lead_id.count(where=t.connects)
    )
    per = per.rename(t_lead="lead_id")
    joined = with_sales.left_join(per, with_sales.lead_id == per.t_lead).drop("t_lead")
    joined = joined.filter(joined.connections.fill_null(0) == 0)
    since = joined.last_s.fill_null(joined.handed_s)
    age_days = (frames.scope.as_of_s - since) // 86_400
    bucket = ibis.cases(
        *[(age_days < high, name) for name, _low, high in AGING_BUCKETS if high is not None],
        else_=AGING_BUCKETS[-1][0],
    )
    rows = joined.select(
        "owner",
        status=ibis.ifelse(joined.last_s.isnull(), "uncontacted", "not_connected"),
        bucket=bucket,
        lead_id=joined.lead_id,
    )
    return rows.group_by(["owner", "status", "bucket"]).aggregate(leads=rows.lead_id.count())


def meeting_touches(frames: Frames) -> ir.Table:
    """(meetings, no_shows) in the report period: touches on the ``meeting`` channel, and
    those whose outcome is not a connection (the person did not show up)."""
    t = frames.touches
    m = t.filter((t.channel == "meeting") & frames.scope.within(t.at_s))
    return m.aggregate(meetings=m.lead_id.count(), no_shows=m.lead_id.count(where=~m.connects))
