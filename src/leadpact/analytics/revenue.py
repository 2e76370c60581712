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

import ibis.expr.types as ir
import pyarrow as pa

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
    leads = frames.leads.select("lead_id", "persona", "created_s")
    persona_points = frames.source.memtable(
        pa.table(
            {
                "p_persona": pa.array(list(personas), pa.string()),
                "p_points": pa.array([float(v) for v in personas.values()], pa.float64()),
            }
        )
    )
    activity_points = frames.source.memtable(
        pa.table(
            {
                "a_type": pa.array(list(activities), pa.string()),
                "a_points": pa.array([float(v) for v in activities.values()], pa.float64()),
            }
        )
    )
    a = frames.activities
    scored_types = list(activities) or [""]
    kinds = a.filter(a.type.isin(scored_types)).select("lead_id", "type").distinct()
    scored = kinds.join(activity_points, kinds.type == activity_points.a_type)
    per_lead = scored.group_by("lead_id").aggregate(a_value=scored.a_points.sum())
    per_lead = per_lead.rename(v_lead="lead_id")
    joined = leads.left_join(persona_points, leads.persona == persona_points.p_persona)
    joined = joined.left_join(per_lead, joined.lead_id == per_lead.v_lead)
    valued = joined.select(
        "lead_id",
        "created_s",
        value=joined.p_points.fill_null(0.0) + joined.a_value.fill_null(0.0),
    )
    dated = frames.with_days(valued, "created_s")
    return dated.group_by("day_on").aggregate(leads=dated.lead_id.count(), value=dated.value.sum())


def rep_activity(frames: Frames) -> ir.Table:
    """(owner, team, leads, handed_over, touches, won_deals, revenue) per lead owner.

    ``leads``: owned leads created by `as_of`; the others count what happened in the report
    period: leads that reached the handover stage, touches on the owner's leads, won deals of
    the owner's leads and their amounts.
    """
    scope = frames.scope
    leads = frames.leads.select("lead_id", "owner", "team")
    owned = leads.group_by(["owner", "team"]).aggregate(leads=leads.lead_id.count())
    hand = frames.reach_of(frames.handover, "at_s")
    hand = hand.filter(scope.within(hand.at_s)).join(leads, "lead_id")
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
