"""Deals, lead value and rep activity as Ibis expressions: the money side of the report.

- A deal counts when it was created by `as_of`; it is *closed* when its ``closed_at`` is at or
  before `as_of`, and then *won* when the store's ``won`` flag says so, or, with no flag, when
  its stage is named won ("won", "closed won"); every other closed deal is lost.
- Revenue is the sum of the amounts of won deals, by the UTC day they closed.
- A lead's *value* (value-weighted goals, PRODUCT.md part 4) is its persona's points plus the
  points of each kind of activity it did up to `as_of`, each kind once (`core.goals.lead_value`).
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

import ibis
import ibis.expr.types as ir

from leadpact.analytics.calendar_table import DAY_SECONDS
from leadpact.analytics.frames import Frames

__all__ = ["deals_daily", "rep_activity", "value_daily"]


def deals_daily(frames: Frames) -> ir.Table:
    """(day_on, won_deals, won_leads, revenue, lost_deals) by the UTC day deals closed."""
    d = frames.deals.filter(frames.deals.closed_s.notnull())
    dated = frames.with_days(d, "closed_s")
    return dated.group_by("day_on").aggregate(
        won_deals=dated.deal_id.count(where=dated.won),
        revenue=dated.amount.sum(where=dated.won).fill_null(0.0),
        lost_deals=dated.deal_id.count(where=~dated.won),
        unpriced_wins=dated.deal_id.count(where=dated.won & dated.amount.isnull()),
    )


def value_daily(
    frames: Frames, personas: Mapping[str, Decimal], activities: Mapping[str, Decimal]
) -> ir.Table:
    """(day_on, leads, value) of the leads created each UTC day."""
    f = frames.facts
    # Points as flag (cast to float) times points: PostgreSQL would read a bare 600.0 as
    # NUMERIC, and Ibis leaves out a cast to the type it already assumes.
    persona_points = _weighted(
        [((f.persona == name).fill_null(False), points) for name, points in personas.items()]
    )
    valued = f.select("lead_id", "created_s", value=persona_points)
    if activities:
        a = frames.activities_of(list(activities))
        # Each kind of activity once: its points when the lead did it at least once.
        kinds = _weighted(
            [
                (a.lead_id.count(where=a.type == kind) > 0, points)
                for kind, points in activities.items()
            ]
        )
        per_lead = a.group_by(v_lead=a.lead_id).aggregate(a_value=kinds)
        joined = valued.left_join(per_lead, valued.lead_id == per_lead.v_lead)
        valued = joined.select(
            "lead_id", "created_s", value=joined.value + joined.a_value.fill_null(0.0)
        )
    daily = valued.group_by(_day=valued.created_s // DAY_SECONDS).aggregate(
        leads=valued.lead_id.count(), value=valued.value.sum()
    )
    return frames.dated(daily, "_day").select("day_on", "leads", "value")


def _weighted(terms: list[tuple[ir.BooleanValue, Decimal]]) -> ir.FloatingValue:
    """The sum of the points whose flag holds, as a float."""
    values = [ibis.ifelse(flag, 1, 0).cast("float64") * float(points) for flag, points in terms]
    if not values:
        return ibis.literal(0, "int64").cast("float64")
    return sum(values[1:], values[0])


def rep_activity(frames: Frames) -> ir.Table:
    """(owner, team, leads, handed_over, touches, won_deals, revenue) per lead owner.

    ``leads``: owned leads created by `as_of`; the others count what happened in the report
    period: leads that reached the handover stage, touches on the owner's leads, won deals of
    the owner's leads and their amounts.
    """
    scope = frames.scope
    leads = frames.facts.select("lead_id", "owner", "team")
    owned = leads.group_by(["owner", "team"]).aggregate(leads=leads.lead_id.count())
    f = frames.facts
    hand = f.filter(scope.within(f[frames.column("reach", frames.handover)]))
    handed = hand.group_by(["owner", "team"]).aggregate(handed_over=hand.lead_id.count())
    t = frames.touches.filter(scope.within(frames.touches.at_s)).join(leads, "lead_id")
    touched = t.group_by(["owner", "team"]).aggregate(touches=t.lead_id.count())
    d = frames.deals
    d = d.filter(d.closed_s.notnull() & d.won & scope.within(d.closed_s)).join(leads, "lead_id")
    won = d.group_by(["owner", "team"]).aggregate(
        won_deals=d.deal_id.count(), revenue=d.amount.sum().fill_null(0.0)
    )
    out = owned
    for part in (handed, touched, won):
        part = part.rename(p_owner="owner", p_team="team")
        out = out.left_join(
            part,
            [
                out.owner.fill_null("") == part.p_owner.fill_null(""),
                out.team.fill_null("") == part.p_team.fill_null(""),
            ],
        ).drop("p_owner", "p_team")
    return out.mutate(
        handed_over=out.handed_over.fill_null(0),
        touches=out.touches.fill_null(0),
        won_deals=out.won_deals.fill_null(0),
        revenue=out.revenue.fill_null(0.0),
    )
