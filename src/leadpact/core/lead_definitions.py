"""Who the ideal customer is and what a lead is: ICP, personas, funnel stages, scoring, matrix.

PRODUCT.md parts 2 and 3. Stage entry criteria and ICP criteria are declarative conditions
(`core.conditions`), validated against the known lead fields.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import ConfigDict, Field, field_validator, model_validator

from leadpact.core.conditions import ACTIVITY_TYPES
from leadpact.core.part import Part
from leadpact.core.types import Ident, PositiveDuration, When


class IcpCriterion(Part):
    """A characteristic of the ideal customer, with its importance (1 = most important)."""

    id: Ident
    name: str = Field(min_length=1, description="criterion, e.g. 'Company size'")
    description: str = Field(min_length=1, description="the characteristic, e.g. '> 200 employees'")
    importance: int = Field(ge=1, le=5, description="1 (most important) to 5")
    when: When = Field(description="condition a lead must meet to match this criterion")


class Persona(Part):
    """A buyer persona, ranked primary (1), secondary (2) or tertiary (3)."""

    id: Ident
    name: str = Field(min_length=1, description="e.g. 'Dan the director'")
    rank: int = Field(ge=1, le=3, description="1 primary, 2 secondary, 3 tertiary")
    description: str | None = Field(None, description="who they are and what they look for")
    titles: list[str] = Field(
        min_length=1, description="job-title keywords that identify the persona (case-insensitive)"
    )


class Icp(Part):
    """Ideal customer profile: weighted criteria and at most three ranked personas."""

    criteria: list[IcpCriterion] = Field(min_length=1)
    personas: list[Persona] = Field(default_factory=list, max_length=3)

    @field_validator("personas")
    @classmethod
    def _ranks_unique(cls, personas: list[Persona]) -> list[Persona]:
        ranks = [p.rank for p in personas]
        if len(set(ranks)) != len(ranks):
            raise ValueError(f"each persona needs its own rank (1, 2, 3), found ranks {ranks}")
        return personas


class StageSource(StrEnum):
    """Who decides that a lead is in a stage."""

    CRM = "crm"
    PACT = "pact"


class Outcome(StrEnum):
    """What reaching a stage means for the lead's journey."""

    OPEN = "open"
    WON = "won"
    LOST = "lost"
    RECYCLED = "recycled"
    DISQUALIFIED = "disqualified"


class StageDef(Part):
    """A funnel stage with its entry criteria on fit and behaviour."""

    id: Ident
    name: str = Field(min_length=1, description="e.g. 'Marketing qualified lead'")
    description: str = Field(min_length=1, description="the definition both teams agree on")
    source: StageSource = Field(
        StageSource.CRM,
        description="'crm': taken from the CRM's stage/date columns; 'pact': decided by `entry`",
    )
    entry: When | None = Field(None, description="entry criteria (needed when source is 'pact')")
    outcome: Outcome = Field(Outcome.OPEN, description="open, won, lost, recycled, disqualified")

    @model_validator(mode="after")
    def _pact_stage_has_entry(self) -> StageDef:
        if self.source is StageSource.PACT and self.entry is None:
            raise ValueError(f"stage {self.id!r} is decided by the pact and needs `entry` criteria")
        return self


class EngagementRules(Part):
    """Points per activity type, their decay and caps."""

    points: dict[str, float] = Field(min_length=1, description="points per activity type")
    half_life: PositiveDuration | None = Field(None, description="points halve after this time")
    window: PositiveDuration | None = Field(None, description="only activities this recent count")
    cap: float = Field(100, gt=0, description="maximum engagement score")
    caps: dict[str, float] = Field(default_factory=dict, description="maximum points per type")

    @field_validator("points", "caps")
    @classmethod
    def _known_types(cls, value: dict[str, float]) -> dict[str, float]:
        unknown = sorted(set(value) - set(ACTIVITY_TYPES))
        if unknown:
            raise ValueError(
                f"unknown activity type {unknown[0]!r}; expected one of {', '.join(ACTIVITY_TYPES)}"
            )
        return value


class Grades(Part):
    """Fit score (0-100) at or above which a lead gets grade A, B or C; below C is D."""

    a: float = Field(80, ge=0, le=100, alias="A", description="lowest fit score of grade A")
    b: float = Field(60, ge=0, le=100, alias="B", description="lowest fit score of grade B")
    c: float = Field(40, ge=0, le=100, alias="C", description="lowest fit score of grade C")

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    @model_validator(mode="after")
    def _descending(self) -> Grades:
        if not self.a > self.b > self.c:
            raise ValueError(
                f"grade thresholds must fall A > B > C, found {self.a}, {self.b}, {self.c}"
            )
        return self


class Scoring(Part):
    """How fit (from the ICP) and engagement (from behaviour) are scored."""

    grades: Grades = Field(default_factory=Grades)
    engagement: EngagementRules


class Quadrant(StrEnum):
    """The two mixed quadrants of the fit x engagement matrix."""

    GOOD_FIT_LOW_ENGAGEMENT = "good_fit_low_engagement"
    LOW_FIT_HIGH_ENGAGEMENT = "low_fit_high_engagement"


class Action(StrEnum):
    """What happens to leads of a priority."""

    SALES = "sales"
    NURTURE = "nurture"
    EXCLUDE = "exclude"


class Treatment(Part):
    """The treatment of one priority."""

    action: Action = Field(description="sales, nurture or exclude")
    description: str = Field(min_length=1, description="the treatment in plain words")
    flow: str | None = Field(None, description="name of the nurture flow, if any")


class Matrix(Part):
    """The fit x engagement matrix: where 'high' starts and how each priority is treated."""

    fit_threshold: float = Field(ge=0, le=100, description="fit score at or above = good fit")
    engagement_threshold: float = Field(ge=0, description="engagement at or above = high")
    priority_2: Quadrant = Field(description="which mixed quadrant is priority 2 (the other is 3)")
    treatment: dict[Annotated[int, Field(ge=1, le=4)], Treatment]

    @field_validator("treatment")
    @classmethod
    def _all_priorities(cls, value: dict[int, Treatment]) -> dict[int, Treatment]:
        missing = sorted({1, 2, 3, 4} - set(value))
        if missing:
            raise ValueError(f"every priority 1-4 needs a treatment; missing {missing}")
        return value

    def priority(self, fit: float, engagement: float) -> int:
        """The priority (1-4) of a lead with these scores."""
        good_fit = fit >= self.fit_threshold
        high = engagement >= self.engagement_threshold
        if good_fit and high:
            return 1
        if not good_fit and not high:
            return 4
        quadrant = (
            Quadrant.GOOD_FIT_LOW_ENGAGEMENT if good_fit else Quadrant.LOW_FIT_HIGH_ENGAGEMENT
        )
        return 2 if quadrant is self.priority_2 else 3
