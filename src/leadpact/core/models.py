"""Frozen value objects the engine passes around: a lead's facts, its behaviour, touches, scores.

These are plain data: no database rows, no API shapes (the store and the web layer map to and
from them). Every `*_at` is a timezone-aware `datetime`; a naive one is refused at construction,
because comparing it with an aware `now` would fail far from the mistake.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from leadpact.errors import LeadPactError

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _require_aware(owner: str, name: str, value: datetime | None) -> None:
    if value is not None and value.utcoffset() is None:
        raise LeadPactError(
            f"{owner}.{name} must be a timezone-aware datetime (UTC), found naive {value}"
        )


def _missing(value: Any) -> bool:
    """Whether a fact is missing: None, or a float NaN (as pandas writes missing numbers)."""
    return value is None or (isinstance(value, float) and math.isnan(value))


class Channel(StrEnum):
    """How a rep reached out to a lead."""

    CALL = "call"
    EMAIL = "email"
    MEETING = "meeting"
    SOCIAL = "social"


class TouchOutcome(StrEnum):
    """What a sales touch achieved."""

    SENT = "sent"
    NO_ANSWER = "no_answer"
    VOICEMAIL = "voicemail"
    CONNECTED = "connected"
    REPLIED = "replied"
    MEETING_BOOKED = "meeting_booked"
    NOT_INTERESTED = "not_interested"
    BREAK_UP = "break_up"
    BOUNCED = "bounced"

    @property
    def is_connection(self) -> bool:
        """Whether the rep reached the person (a conversation, a reply, a booked meeting)."""
        return self in _CONNECTIONS


_CONNECTIONS = frozenset(
    {
        TouchOutcome.CONNECTED,
        TouchOutcome.REPLIED,
        TouchOutcome.MEETING_BOOKED,
        TouchOutcome.NOT_INTERESTED,
    }
)


#: The lead's own fields that conditions may test (`LeadFacts.facts`).
FACT_FIELDS: tuple[str, ...] = (
    "employees",
    "annual_revenue",
    "industry",
    "country",
    "source",
    "title",
    "stage",
    "owner",
    "team",
    "opted_out",
)


class ContributionKind(StrEnum):
    """What a line of a score explanation is about."""

    CRITERION = "criterion"
    ACTIVITY = "activity"


@dataclass(frozen=True, slots=True)
class LeadFacts:
    """Who a lead is and where it stands: the inputs of scoring and of stage rules."""

    id: str
    stage: str
    stage_at: datetime
    created_at: datetime
    email: str | None = None
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

    def __post_init__(self) -> None:
        _require_aware("LeadFacts", "stage_at", self.stage_at)
        _require_aware("LeadFacts", "created_at", self.created_at)

    def facts(self) -> dict[str, Any]:
        """The lead's own facts under the names conditions use (`core.conditions.LEAD_FIELDS`).

        A missing value (None, or NaN from a data frame) is returned as None.
        """
        values = ((name, getattr(self, name)) for name in FACT_FIELDS)
        return {name: None if _missing(value) else value for name, value in values}


@dataclass(frozen=True, slots=True)
class Activity:
    """One thing a lead did: a page view, a download, a webinar, a demo request.

    `type` is one of `core.conditions.ACTIVITY_TYPES`.
    """

    lead_id: str
    type: str
    at: datetime
    url: str | None = None
    content: str | None = None

    def __post_init__(self) -> None:
        _require_aware("Activity", "at", self.at)


@dataclass(frozen=True, slots=True)
class Touch:
    """One sales attempt on a lead: a call, an email, a meeting, a social message."""

    lead_id: str
    rep: str | None
    channel: Channel
    at: datetime
    outcome: TouchOutcome

    def __post_init__(self) -> None:
        _require_aware("Touch", "at", self.at)


@dataclass(frozen=True, slots=True)
class StageChange:
    """A lead moved from one stage to another; made only by `core.lifecycle.transition`."""

    lead_id: str
    from_stage: str | None
    to_stage: str
    at: datetime
    reason: str | None = None
    actor: str | None = None

    def __post_init__(self) -> None:
        _require_aware("StageChange", "at", self.at)

    @property
    def key(self) -> str:
        """The stable key of this change (recording it twice stores it once)."""
        return stage_change_key(self.lead_id, self.to_stage, self.at)


def stage_change_key(lead_id: str, to_stage: str, at: datetime) -> str:
    """The stable key of a stage change: a SHA-256 of lead, target stage and UTC instant."""
    _require_aware("StageChange", "at", at)
    microseconds = (at - _EPOCH) // timedelta(microseconds=1)
    text = f"{lead_id}\x1f{to_stage}\x1f{microseconds}"
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class Contribution:
    """One line of a score's explanation.

    For a criterion: whether it is met, its weight (6 - importance) and the fit points it adds
    (100 * weight / total weight when met, else 0). For an activity type: how many activities
    counted (inside the window, not in the future), their points before decay (`raw`), after
    decay (`decayed`), the per-type cap when it cut the sum (`cap`), and the points added.
    """

    kind: ContributionKind
    key: str
    label: str
    points: float
    met: bool | None = None
    weight: float | None = None
    count: int = 0
    raw: float = 0.0
    decayed: float = 0.0
    cap: float | None = None


@dataclass(frozen=True, slots=True)
class Score:
    """A lead's fit (0-100) and grade, persona, engagement (0-cap) and matrix priority (1-4)."""

    fit: float
    fit_grade: str
    persona: str | None
    engagement: float
    priority: int
    contributions: tuple[Contribution, ...] = field(default_factory=tuple)
    engagement_uncapped: float = 0.0

    @property
    def activity_counts(self) -> Mapping[str, int]:
        """Counted activities per type (the `activities.<type>` facts of conditions)."""
        return {c.key: c.count for c in self.contributions if c.kind is ContributionKind.ACTIVITY}
