"""Pydantic field types shared by the pact's parts: identifiers, durations, rates, conditions."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from pydantic import (
    AfterValidator,
    BeforeValidator,
    Field,
    PlainSerializer,
    PlainValidator,
    WithJsonSchema,
)

from leadpact.core.conditions import All, AnyOf, Condition, FieldTest, Not, parse_condition, to_raw
from leadpact.core.durations import DURATION_HINT, format_duration, parse_duration

_ID_PATTERN = r"^[a-z][a-z0-9_-]*$"


def _to_duration(value: object) -> object:
    if isinstance(value, timedelta):
        return value
    if isinstance(value, str):
        return parse_duration(value)
    raise ValueError(f"expected {DURATION_HINT}, found {value!r}")


def _to_condition(value: object) -> object:
    if isinstance(value, FieldTest | All | AnyOf | Not):
        return value
    return parse_condition(value)


#: A lowercase identifier used to reference a part of the pact ("sales", "mql", "sales-dk").
Ident = Annotated[
    str,
    Field(pattern=_ID_PATTERN, description="lowercase identifier: letters, digits, - and _"),
]

#: A duration written as "2h", "1h30m", "3d" (see `core.durations`).
Duration = Annotated[
    timedelta,
    BeforeValidator(_to_duration),
    PlainSerializer(format_duration, return_type=str, when_used="json"),
    WithJsonSchema(
        {"type": "string", "pattern": r"^(\d+(\.\d+)?[wdhms])+$", "examples": ["2h", "1h30m", "3d"]}
    ),
]


def _positive(value: timedelta) -> timedelta:
    if value <= timedelta(0):
        raise ValueError(f"expected a duration greater than zero, found {format_duration(value)}")
    return value


PositiveDuration = Annotated[Duration, AfterValidator(_positive)]

#: A ratio in 0..1.
Rate = Annotated[float, Field(ge=0, le=1)]

#: A declarative condition (see `core.conditions`): validated against the known lead fields.
When = Annotated[
    Condition,
    PlainValidator(_to_condition),
    PlainSerializer(to_raw, return_type=dict),
    WithJsonSchema(
        {
            "type": "object",
            "description": "declarative condition: {field: value | [values] | {op: value}}, "
            "all/any/not",
        }
    ),
]
