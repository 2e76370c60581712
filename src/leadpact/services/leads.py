"""Lead use-cases shared by the CLI and the web app: the queue and one lead's full picture."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from leadpact.core.models import Score
from leadpact.core.sla import SlaResult

if TYPE_CHECKING:
    from leadpact.services.workspace import Workspace
    from leadpact.store.events import ActivityRow, StageChangeRow, TouchRow
    from leadpact.store.leads import DealRow, LeadRow


@dataclass(frozen=True)
class LeadDetail:
    """Everything known about one lead at an instant: facts, scores explained, history, clocks."""

    lead: LeadRow
    score: Score
    stage_history: list[StageChangeRow]
    activities: list[ActivityRow]
    touches: list[TouchRow]
    deals: list[DealRow]
    clocks: list[SlaResult]
    as_of: datetime


def lead_detail(workspace: Workspace, lead_id: str, as_of: datetime | None = None) -> LeadDetail:
    """One lead's facts, score explanation, stage history, activities, touches, deals, clocks.

    The score is recomputed at `as_of` by the scalar path (`core.scoring.score`), so the
    explanation adds up to the numbers shown; the stored scores are those of the last rescore.

    Raises:
        NotFoundError: there is no such lead.
    """
    from leadpact.services.scoring import explain
    from leadpact.services.sla import lead_clocks
    from leadpact.store.events import list_activities, list_stage_changes, list_touches
    from leadpact.store.leads import get_lead, list_deals

    now = workspace.clock.now() if as_of is None else as_of
    with workspace.engine.connect() as conn:
        lead = get_lead(conn, lead_id)
        score = explain(conn, workspace.pact, lead_id, now=now)
        history = list_stage_changes(conn, lead_id)
        activities = list_activities(conn, lead_id)
        touches = list_touches(conn, lead_id)
        deals = list_deals(conn, lead_id)
    clocks = lead_clocks(workspace, lead_id, now)
    return LeadDetail(lead, score, history, activities, touches, deals, clocks, now)
