"""What each party commits to another (PRODUCT.md parts 5 and 8), and the lead-handling rules.

Timed commitments (response, acceptance, follow-up) run an SLA clock per lead (`core.sla`);
delivery, quality and report commitments are measured per period.
"""

from __future__ import annotations

from datetime import timedelta
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import Field

from leadpact.core.part import Cadence, Part
from leadpact.core.types import Duration, Ident, PositiveDuration, Rate, When


class _Commitment(Part):
    id: Ident
    provider: Ident = Field(description="party that keeps the commitment")
    receiver: Ident = Field(description="party it is made to")
    description: str | None = Field(None, description="the commitment in plain words")


class ResponseCommitment(_Commitment):
    """Respond to leads within N business hours of entering a stage (per priority via `when`)."""

    kind: Literal["response"] = Field(description="response: a timed first response")
    stage: Ident = Field(description="the clock starts when a lead enters this stage")
    within: PositiveDuration = Field(description="business time allowed, e.g. 2h")
    calendar: Ident | None = Field(None, description="calendar; default: the owner's team's")
    when: When | None = Field(None, description="which leads it applies to, e.g. {priority: 1}")


class AcceptanceCommitment(_Commitment):
    """Accept or reject handed-over leads (SAL) within N business hours, with a reason."""

    kind: Literal["acceptance"] = Field(description="acceptance: accept or reject in time")
    stage: Ident = Field(description="the stage whose leads must be accepted, usually mql")
    within: PositiveDuration = Field(description="business time allowed, e.g. 8h")
    calendar: Ident | None = None
    when: When | None = None


class FollowUpCommitment(_Commitment):
    """At least K attempts over D business days before a lead may be recycled."""

    kind: Literal["follow_up"] = Field(description="follow_up: attempts before recycling")
    stage: Ident
    attempts: int = Field(ge=1, le=20, description="attempts required")
    over_days: int = Field(ge=1, description="business days the attempts are spread over")
    spacing: Duration | None = Field(None, description="minimum business time between attempts")
    break_up: bool = Field(False, description="the last attempt is a break-up email")
    unless_connected: bool = Field(True, description="stop counting once a touch connects")
    then: Ident | None = Field(None, description="stage leads move to after the last attempt")
    calendar: Ident | None = None
    when: When | None = None


class DeliveryMetric(StrEnum):
    """Volumes a party can promise."""

    LEADS = "leads"
    MQLS = "mqls"
    SQLS = "sqls"
    MEETINGS = "meetings"
    CUSTOMERS = "customers"
    REVENUE = "revenue"
    VALUE = "value"


class DeliveryCommitment(_Commitment):
    """Deliver a volume per period (marketing: N SQLs a month, a revenue contribution)."""

    kind: Literal["delivery"] = Field(description="delivery: a volume per period")
    metric: DeliveryMetric = Field(description="what is delivered")
    target: float = Field(gt=0, description="how many (or how much revenue) per period")
    period: Cadence = Field(description="the period the target is per")


class QualityCommitment(_Commitment):
    """Keep a quality rate (e.g. at least 70 % of MQLs accepted by sales)."""

    kind: Literal["quality"] = Field(description="quality: a rate kept per period")
    metric: Literal["acceptance_rate", "mql_to_sql_rate", "sql_to_won_rate"] = Field(
        description="the rate measured"
    )
    target: Rate = Field(description="the lowest acceptable rate, 0..1")
    period: Cadence = Field(description="the period the rate is measured over")


class ReportCommitment(_Commitment):
    """Send a report on a cadence (e.g. a monthly customer-friction report to service)."""

    kind: Literal["report"] = Field(description="report: a report sent on a cadence")
    report: str = Field(min_length=1, description="name of the report")
    every: Cadence
    due_within: Duration = Field(
        default_factory=lambda: timedelta(days=5),
        description="time after the period's end the report is due",
    )


Commitment = Annotated[
    ResponseCommitment
    | AcceptanceCommitment
    | FollowUpCommitment
    | DeliveryCommitment
    | QualityCommitment
    | ReportCommitment,
    Field(discriminator="kind"),
]


class NonSqlContact(Part):
    """Whether and how sales may contact leads that are not yet SQL."""

    allowed: bool = Field(description="whether sales may contact non-SQL leads")
    how: str | None = Field(None, description="how such contact happens")
    when: When | None = Field(None, description="which non-SQL leads may be contacted")


class StageMove(Part):
    """Where leads go under a handling rule."""

    to: Ident = Field(description="the stage the leads move to")
    description: str | None = Field(None, description="the rule in plain words")


class Disqualify(Part):
    """When leads are disqualified, and the reasons sales may give."""

    to: Ident = Field(description="the disqualified stage")
    reasons: list[str] = Field(min_length=1, description="reasons sales may give")
    when: When | None = Field(None, description="leads disqualified automatically")


class OptOut(Part):
    """Leads who opt out are deleted from the database within a time."""

    action: Literal["delete"] = Field("delete", description="opted-out leads are deleted")
    within: PositiveDuration = Field(
        default_factory=lambda: timedelta(days=30), description="deleted within this time"
    )


class Handling(Part):
    """Lead handling rules beside the timed commitments (part 5)."""

    handover: str = Field(min_length=1, description="how leads are handed over to sales")
    reject_reasons: list[str] = Field(
        default_factory=list, description="reasons sales may give when rejecting an MQL"
    )
    contact_non_sql: NonSqlContact
    not_ready: StageMove = Field(description="contacted leads that are not ready yet")
    recycle: StageMove | None = Field(None, description="where recycled leads go")
    disqualify: Disqualify | None = None
    opt_out: OptOut = Field(default_factory=OptOut)
