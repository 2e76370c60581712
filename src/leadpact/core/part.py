"""The base of every part of the agreement, and the small values parts share (people, cadences)."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field


class Part(BaseModel):
    """Base of every part: frozen, unknown keys rejected."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class Person(Part):
    """A named person: an owner, a point of contact, a manager, a rep."""

    name: str = Field(min_length=1, description="full name")
    email: str | None = Field(None, description="email address for alerts and reports")
    title: str | None = Field(None, description="job title")
    role: str | None = Field(None, description="role in this agreement, e.g. 'lead handover'")


class Cadence(StrEnum):
    """How often something recurs."""

    DAILY = "daily"
    WEEKLY = "weekly"
    MONTHLY = "monthly"
    QUARTERLY = "quarterly"
    HALF_YEARLY = "half-yearly"
    YEARLY = "yearly"
