"""The API's shapes: what `/api/...` accepts and returns (API models, not core models).

Events (`LeadEvent` ... `OptOutEvent`) document `POST /api/events` in the OpenAPI schema; the
service validates each event itself, so one bad event is reported by index instead of failing
the request. Read models end in `Read`, request bodies in `Create`; the `*_read` functions map
service results to them. Durations are seconds (floats), instants ISO 8601 UTC.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime, timedelta
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from leadpact.core.compliance import CommitmentCompliance
from leadpact.core.models import Score
from leadpact.core.sla import SlaResult
from leadpact.services.lead_actions import LeadActions
from leadpact.services.lead_views import ClockView, LeadPage, TimelineEntry
from leadpact.store.leads import DealRow, LeadRow

__all__ = [
    "ActivityEvent",
    "ClockRead",
    "ComplianceRead",
    "DealEvent",
    "DecisionCreate",
    "ErrorRead",
    "IngestRead",
    "LeadDetailRead",
    "LeadEvent",
    "LeadListRead",
    "LeadRead",
    "OptOutEvent",
    "QueueItemRead",
    "QueueRead",
    "StageChangeEvent",
    "StageChangeRead",
    "TouchCreate",
    "TouchEvent",
]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ErrorRead(_Model):
    """Every error response."""

    ok: Literal[False] = False
    error: str = Field(description="what went wrong, for a person")
    errors: list[str] = Field(description="every problem found (at least the one above)")
    status: int = Field(description="the HTTP status")


# --- Events ----------------------------------------------------------------------------------


class LeadEvent(_Model):
    """A lead, created or updated (upsert by id; only the fields sent change)."""

    kind: Literal["lead"]
    id: str = Field(description="the lead's id in the source system")
    created_at: datetime = Field(description="when the lead was created")
    email: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    title: str | None = None
    company: str | None = None
    employees: int | None = None
    annual_revenue: float | None = None
    industry: str | None = None
    country: str | None = None
    source: str | None = None
    owner: str | None = None
    team: str | None = None
    stage: str | None = Field(None, description="a stage id of the pact")
    stage_at: datetime | None = None
    opted_out: bool | None = None


class ActivityEvent(_Model):
    """Something a lead did (stored once per lead, type, instant and url, or per `key`)."""

    kind: Literal["activity"]
    lead_id: str
    type: str = Field(description="page_view, pricing_page_view, demo_request, webinar, ...")
    at: datetime
    url: str | None = None
    content: str | None = None
    key: str | None = Field(None, description="your id of the event (idempotency key)")


class TouchEvent(_Model):
    """A sales touch (stored once per lead, channel, instant and rep, or per `key`)."""

    kind: Literal["touch"]
    lead_id: str
    channel: Literal["call", "email", "meeting", "social"]
    at: datetime
    outcome: str = Field(description="sent, no_answer, voicemail, connected, replied, ...")
    rep: str | None = None
    note: str | None = None
    key: str | None = Field(None, description="your id of the event (idempotency key)")


class DealEvent(_Model):
    """An opportunity (upsert by id)."""

    kind: Literal["deal"]
    id: str
    lead_id: str
    stage: str = Field(description="a stage id of the pact; its outcome sets won/lost")
    created_at: datetime
    amount: float | None = None
    closed_at: datetime | None = None


class StageChangeEvent(_Model):
    """A move of a lead to another stage, if the pact allows it (once per lead, stage, at)."""

    kind: Literal["stage_change"]
    lead_id: str
    to_stage: str
    at: datetime | None = Field(None, description="default: now; give it for idempotency")
    reason: str | None = None
    actor: str | None = Field(None, description="default: the token's name")


class OptOutEvent(_Model):
    """The person opted out: erase them (by lead id, or every lead with the email)."""

    kind: Literal["opt_out"]
    lead_id: str | None = None
    email: str | None = None


#: The OpenAPI schema of the body of `POST /api/events`: one event or a list of them.
EVENT_BODY_SCHEMA: dict[str, Any] = {
    "oneOf": [
        {"$ref": "#/components/schemas/Event"},
        {"type": "array", "items": {"$ref": "#/components/schemas/Event"}, "maxItems": 10000},
    ]
}
EVENT_MODELS = (LeadEvent, ActivityEvent, TouchEvent, DealEvent, StageChangeEvent, OptOutEvent)
#: Any one event, told apart by its `kind`.
Event = Annotated[
    LeadEvent | ActivityEvent | TouchEvent | DealEvent | StageChangeEvent | OptOutEvent,
    Field(discriminator="kind"),
]


class RejectRead(_Model):
    """An event set aside."""

    index: int = Field(description="its position in the batch, from 0")
    reason: str


class IngestRead(_Model):
    """What a batch of events did. `ok` is false when any event was rejected (events about
    people erased earlier are suppressed, not rejected)."""

    ok: bool
    error: str | None
    errors: list[str] = Field(description="one line per event set aside: 'item N: reason'")
    status: int
    received: int
    landed: int = Field(description="events stored, or already stored as sent")
    inserted: int
    updated: int
    unchanged: int
    rejected: int
    duplicates: int = Field(description="deliveries or moves already processed")
    by_type: dict[str, int]
    rejects: list[RejectRead]
    suppressed: int = Field(
        description="events about people erased earlier: set aside, not stored, not errors"
    )
    suppressed_items: list[RejectRead] = Field(
        description="each suppressed event: its index and why it was not stored"
    )


# --- Leads ------------------------------------------------------------------------------------


class LeadRead(_Model):
    """A lead's facts and last scores."""

    id: str
    stage: str
    stage_at: datetime
    created_at: datetime
    email: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    title: str | None = None
    company: str | None = None
    employees: int | None = None
    annual_revenue: float | None = None
    industry: str | None = None
    country: str | None = None
    source: str | None = None
    owner: str | None = None
    team: str | None = None
    opted_out: bool = False
    persona: str | None = None
    fit: float | None = None
    fit_grade: str | None = None
    engagement: float | None = None
    priority: int | None = None
    scored_at: datetime | None = None


def lead_read(row: LeadRow) -> LeadRead:
    """The API shape of a stored lead."""
    data = asdict(row)
    data.pop("row_hash", None)
    data.pop("erased_at", None)
    return LeadRead(**data)


class LeadListRead(_Model):
    """One page of leads."""

    leads: list[LeadRead]
    total: int
    limit: int
    offset: int


class ClockRead(_Model):
    """One SLA clock of one lead."""

    lead_id: str
    commitment: str
    description: str | None = None
    kind: str
    owner: str | None
    calendar: str
    started_at: datetime
    due_at: datetime
    stopped_at: datetime | None
    stopped_by: str | None
    status: str = Field(description="pending, at_risk, met or breached")
    time_left_seconds: float | None = Field(description="business seconds left; < 0 overdue")
    business_seconds_used: float
    attempts: int | None = None
    next_attempt_at: datetime | None = None
    ticking_until: datetime | None = Field(
        None, description="business time passes until then (the calendar closes); null: paused"
    )


def _seconds(value: timedelta | None) -> float | None:
    return None if value is None else value.total_seconds()


def clock_read(result: SlaResult, view: ClockView | None = None) -> ClockRead:
    """The API shape of a clock."""
    return ClockRead(
        lead_id=result.lead_id,
        commitment=result.commitment_id,
        description=view.description if view else None,
        kind=result.kind,
        owner=result.owner,
        calendar=result.calendar,
        started_at=result.started_at,
        due_at=result.due_at,
        stopped_at=result.stopped_at,
        stopped_by=None if result.stopped_by is None else result.stopped_by.value,
        status=result.status.value,
        time_left_seconds=_seconds(result.time_left),
        business_seconds_used=result.business_time_used.total_seconds(),
        attempts=result.attempts,
        next_attempt_at=result.next_attempt_at,
        ticking_until=view.ticking_until if view else None,
    )


class ContributionRead(_Model):
    """One line of a score explanation."""

    kind: str
    key: str
    label: str
    points: float
    met: bool | None = None
    weight: float | None = None
    count: int = 0
    raw: float = 0.0
    decayed: float = 0.0
    cap: float | None = None


class ScoreRead(_Model):
    """A lead's score, every point explained."""

    fit: float
    fit_grade: str
    persona: str | None
    engagement: float
    priority: int
    contributions: list[ContributionRead]


def score_read(score: Score) -> ScoreRead:
    """The API shape of a score."""
    return ScoreRead(
        fit=score.fit,
        fit_grade=score.fit_grade,
        persona=score.persona,
        engagement=score.engagement,
        priority=score.priority,
        contributions=[
            ContributionRead(**{**asdict(c), "kind": c.kind.value}) for c in score.contributions
        ],
    )


class TimelineEntryRead(_Model):
    """One event of a lead's history."""

    at: datetime
    kind: str
    title: str
    detail: str | None = None
    actor: str | None = None


class DealRead(_Model):
    """An opportunity."""

    id: str
    stage: str
    created_at: datetime
    amount: float | None = None
    closed_at: datetime | None = None
    won: bool | None = None


class ActionsRead(_Model):
    """What may be done to the lead from its stage (null: not allowed)."""

    accept_to: str | None
    reject_to: str | None
    recycle_to: str | None
    disqualify_to: str | None
    reject_reasons: list[str]
    disqualify_reasons: list[str]
    channels: list[str]
    outcomes: list[str]


class LeadDetailRead(_Model):
    """The lead page's data."""

    as_of: datetime
    lead: LeadRead
    stage_name: str
    score: ScoreRead
    clocks: list[ClockRead]
    timeline: list[TimelineEntryRead]
    deals: list[DealRead]
    actions: ActionsRead


def _timeline_read(entry: TimelineEntry) -> TimelineEntryRead:
    return TimelineEntryRead(**asdict(entry))


def _deal_read(deal: DealRow) -> DealRead:
    data = asdict(deal)
    data.pop("lead_id")
    return DealRead(**data)


def _actions_read(actions: LeadActions) -> ActionsRead:
    return ActionsRead(
        **{k: list(v) if isinstance(v, tuple) else v for k, v in asdict(actions).items()}
    )


def lead_detail_read(page: LeadPage) -> LeadDetailRead:
    """The API shape of the lead page."""
    return LeadDetailRead(
        as_of=page.detail.as_of,
        lead=lead_read(page.detail.lead),
        stage_name=page.stage_name,
        score=score_read(page.detail.score),
        clocks=[clock_read(v.result, v) for v in page.clocks],
        timeline=[_timeline_read(e) for e in page.timeline],
        deals=[_deal_read(d) for d in page.detail.deals],
        actions=_actions_read(page.actions),
    )


class TouchCreate(_Model):
    """A touch logged by hand."""

    channel: str = Field(description="call, email, meeting or social")
    outcome: str = Field(description="sent, no_answer, voicemail, connected, replied, ...")
    note: str | None = None
    rep: str | None = Field(None, description="default: who logs it")
    at: datetime | None = Field(None, description="default: now")


class DecisionCreate(_Model):
    """Why a lead is accepted, rejected, recycled or disqualified."""

    reason: str | None = Field(None, description="required except to accept")


class StageChangeRead(_Model):
    """A stage change made."""

    lead_id: str
    from_stage: str | None
    to_stage: str
    at: datetime
    reason: str | None
    actor: str | None


class TouchLoggedRead(_Model):
    """A touch logged."""

    ok: bool = True
    stored: bool = Field(description="false: the same touch was already recorded")
    clocks: list[ClockRead]


# --- Queue and SLA ---------------------------------------------------------------------------


class QueueItemRead(_Model):
    """An open lead in a rep's queue, with its most urgent running clock."""

    lead_id: str
    name: str | None
    company: str | None
    owner: str | None
    team: str | None
    stage: str
    priority: int | None
    clock: ClockRead | None


class QueueRead(_Model):
    """A rep's queue, most urgent first."""

    owner: str
    as_of: datetime
    total: int
    limit: int
    offset: int
    items: list[QueueItemRead]


class RepRead(_Model):
    """A rep with open leads."""

    owner: str
    open_leads: int


class ComplianceRead(_Model):
    """The clocks of one timed commitment."""

    commitment: str
    kind: str
    pending: int
    at_risk: int
    met: int
    breached: int
    total: int
    attainment_rate: float | None
    median_business_seconds: float | None
    p90_business_seconds: float | None
    stopped: int


def compliance_read(c: CommitmentCompliance) -> ComplianceRead:
    """The API shape of a commitment's compliance."""
    return ComplianceRead(
        commitment=c.commitment_id,
        kind=c.kind,
        pending=c.pending,
        at_risk=c.at_risk,
        met=c.met,
        breached=c.breached,
        total=c.pending + c.at_risk + c.met + c.breached,
        attainment_rate=c.attainment_rate,
        median_business_seconds=_seconds(c.median_business_time),
        p90_business_seconds=_seconds(c.p90_business_time),
        stopped=c.stopped,
    )


class ClocksRead(_Model):
    """Compliance per timed commitment at an instant."""

    as_of: datetime
    commitments: list[ComplianceRead]


class BreachRead(ClockRead):
    """A breached clock and how long overdue it is (elapsed, not business, time)."""

    overdue_seconds: float


class BreachesRead(_Model):
    """Breached clocks, the earliest due first."""

    as_of: datetime
    total: int
    limit: int
    offset: int
    breaches: list[BreachRead]
