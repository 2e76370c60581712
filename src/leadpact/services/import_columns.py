"""The canonical import formats: what kinds of file there are and the columns of each.

A file of leads, activities, touches or deals is read into these columns (through a preset or
a mapping file when its own columns differ, `services.presets`); docs/import.md documents
them, and `leadpact import` checks every value against its column's type.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Literal

from leadpact.core.conditions import ACTIVITY_TYPES
from leadpact.core.models import Channel, TouchOutcome
from leadpact.core.pact import Pact


class Kind(StrEnum):
    """What an import file holds."""

    LEADS = "leads"
    ACTIVITIES = "activities"
    TOUCHES = "touches"
    DEALS = "deals"


ValueType = Literal[
    "text", "int", "number", "bool", "timestamp", "stage", "activity_type", "channel", "outcome"
]


@dataclass(frozen=True)
class Column:
    """One canonical column: its name, value type, whether every row needs it, and meaning."""

    name: str
    type: ValueType
    required: bool
    description: str


def _col(name: str, kind: ValueType, description: str, *, required: bool = False) -> Column:
    return Column(name, kind, required, description)


#: The canonical columns of each kind, in documentation order.
CANONICAL: dict[Kind, tuple[Column, ...]] = {
    Kind.LEADS: (
        _col("id", "text", "the lead's id in the source system (the upsert key)", required=True),
        _col("email", "text", "email address"),
        _col("first_name", "text", "first name"),
        _col("last_name", "text", "last name"),
        _col("title", "text", "job title (matched against the pact's personas)"),
        _col("company", "text", "company name"),
        _col("employees", "int", "number of employees"),
        _col("annual_revenue", "number", "annual revenue of the company"),
        _col("industry", "text", "industry"),
        _col("country", "text", "country or region, e.g. DK"),
        _col("source", "text", "where the lead came from, e.g. webinar"),
        _col("owner", "text", "the rep who owns the lead"),
        _col("team", "text", "the pact team that owns the lead"),
        _col("stage", "stage", "a stage id of the pact (default: the pact's first stage)"),
        _col("stage_at", "timestamp", "when the lead entered its stage (default: created_at)"),
        _col("created_at", "timestamp", "when the lead was created", required=True),
        _col("opted_out", "bool", "the person opted out (true/false)"),
    ),
    Kind.ACTIVITIES: (
        _col("lead_id", "text", "the lead's id (must be imported already)", required=True),
        _col("type", "activity_type", "one of: " + ", ".join(ACTIVITY_TYPES), required=True),
        _col("at", "timestamp", "when it happened", required=True),
        _col("url", "text", "page or asset"),
        _col("content", "text", "name of the content, form or event"),
    ),
    Kind.TOUCHES: (
        _col("lead_id", "text", "the lead's id (must be imported already)", required=True),
        _col("rep", "text", "the rep who made the touch"),
        _col("channel", "channel", "one of: " + ", ".join(Channel), required=True),
        _col("at", "timestamp", "when it happened", required=True),
        _col("outcome", "outcome", "one of: " + ", ".join(TouchOutcome), required=True),
        _col("note", "text", "free text"),
    ),
    Kind.DEALS: (
        _col("id", "text", "the deal's id in the source system (the upsert key)", required=True),
        _col("lead_id", "text", "the lead's id (must be imported already)", required=True),
        _col("stage", "stage", "a stage id of the pact; its outcome sets `won`", required=True),
        _col("amount", "number", "deal value"),
        _col("created_at", "timestamp", "when the deal was created", required=True),
        _col("closed_at", "timestamp", "when it was won or lost"),
    ),
}

#: Leads may also carry `became_<stage>_at` columns: when the lead entered that pact stage.
BECAME = re.compile(r"^became_([a-z][a-z0-9_-]*)_at$")


def columns_of(kind: Kind) -> dict[str, Column]:
    """The canonical columns of `kind` by name."""
    return {c.name: c for c in CANONICAL[kind]}


def column_for(kind: Kind, name: str) -> Column | None:
    """The canonical column `name` of `kind` (including `became_<stage>_at` for leads)."""
    found = columns_of(kind).get(name)
    if found is None and kind is Kind.LEADS and BECAME.match(name):
        return Column(name, "timestamp", False, "when the lead entered the stage")
    return found


def normalize(value: str) -> str:
    """The form source values are matched in: case-folded, letters and digits only."""
    return re.sub(r"[^0-9a-z]+", "", value.casefold())


def vocabulary(kind: ValueType, pact: Pact) -> tuple[str, ...] | None:
    """The values a column of this type may hold, or None when any value will do."""
    if kind == "stage":
        return tuple(s.id for s in pact.stages)
    if kind == "activity_type":
        return ACTIVITY_TYPES
    if kind == "channel":
        return tuple(Channel)
    if kind == "outcome":
        return tuple(TouchOutcome)
    return None
