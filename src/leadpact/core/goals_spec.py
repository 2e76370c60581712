"""The pact's `goals:` section as models: inputs, targets, value table, capacity, actuals.

Validation errors are `ValueError`s raised inside field validators, so the pact loader can point
at the line; `parse_model` turns a failure on untrusted input (options, files) into a `GoalError`.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
)

from leadpact.core.types import PositiveDuration
from leadpact.errors import GoalError


def decimal_rate(rate: float) -> Decimal:
    """A float rate as the Decimal it was written as (0.05 → Decimal("0.05"))."""
    return Decimal(repr(rate))


class Period(StrEnum):
    """The length of time the goal inputs (and a pace line) are per."""

    DAY = "day"
    WEEK = "week"
    MONTH = "month"
    QUARTER = "quarter"
    YEAR = "year"


class GoalMetric(StrEnum):
    """What an explicit target counts."""

    LEADS = "leads"
    MQLS = "mqls"
    SQLS = "sqls"
    MEETINGS = "meetings"
    CUSTOMERS = "customers"
    REVENUE = "revenue"
    VALUE = "value"


STAGE_RATE_NAMES = ("lead_to_mql", "mql_to_sql", "sql_to_won")


# --- field checks: ValueError inside field validation, so the pact loader can place them ---


def _rate(value: float, info: ValidationInfo) -> float:
    if not 0 < value <= 1:
        raise ValueError(f"{info.field_name} must be above 0 and at most 1, got {value}")
    return value


def _share(value: float, info: ValidationInfo) -> float:
    if not 0 <= value <= 1:
        raise ValueError(f"{info.field_name} must be between 0 and 1, got {value}")
    return value


def _positive(value: Decimal, info: ValidationInfo) -> Decimal:
    if value <= 0:
        raise ValueError(f"{info.field_name} must be above 0, got {value}")
    return value


def _not_negative(value: Decimal, info: ValidationInfo) -> Decimal:
    if value < 0:
        raise ValueError(f"{info.field_name} must be 0 or more, got {value}")
    return value


def _count(value: int, info: ValidationInfo) -> int:
    if value < 0:
        raise ValueError(f"{info.field_name} must be 0 or more, got {value}")
    return value


def _positive_count(value: int, info: ValidationInfo) -> int:
    if value < 1:
        raise ValueError(f"{info.field_name} must be 1 or more, got {value}")
    return value


Rate = Annotated[float, AfterValidator(_rate)]
Share = Annotated[float, AfterValidator(_share)]
Money = Annotated[Decimal, AfterValidator(_not_negative)]
PositiveAmount = Annotated[Decimal, AfterValidator(_positive)]
Count = Annotated[int, AfterValidator(_count)]
PositiveCount = Annotated[int, AfterValidator(_positive_count)]
Duration = PositiveDuration


class _Spec(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)


# --- the pact's `goals:` section ---


class StageRates(_Spec):
    """Conversion rates between funnel stages; any may be left out (each 0 < rate <= 1)."""

    lead_to_mql: Rate | None = Field(None, description="share of leads that become MQLs")
    mql_to_sql: Rate | None = Field(None, description="share of MQLs that become SQLs")
    sql_to_won: Rate | None = Field(None, description="share of SQLs that are won")


class GoalInputs(_Spec):
    """The figures the reverse funnel starts from, all per `GoalsSpec.period`."""

    quota: Money = Field(description="sales revenue quota per period, all sources")
    marketing_share: Share = Field(1.0, description="share of the quota from marketing leads")
    deal_size: PositiveAmount = Field(description="average revenue of one won deal")
    close_rate: Rate = Field(description="share of marketing leads that become customers")
    rates: StageRates | None = Field(None, description="stage rates, for MQL and SQL goals")
    sales_cycle: Duration | None = Field(None, description='lead to won, e.g. "45d"')
    lifetime_value: Money | None = Field(None, description="revenue of a customer, lifetime")
    website_traffic: Count | None = Field(None, description="website visits per period")


class GoalTarget(_Spec):
    """An explicit SMART goal: a number of something by a deadline."""

    metric: GoalMetric = Field(description="what is counted")
    target: Money = Field(description="how many, or how much (revenue, points)")
    period: Period | None = Field(None, description="per which period; default goals.period")
    deadline: date = Field(description="by when")
    segment: str | None = Field(None, description="the segment the target is for")
    description: str = Field("", description="the goal in the agreement's words")


class ValueMix(_Spec):
    """The expected mix of leads: share per persona (sum <= 1), share doing each activity."""

    personas: dict[str, Share] = Field(
        default_factory=dict, description="share of leads per persona id; adds up to <= 1"
    )
    activities: dict[str, Share] = Field(
        default_factory=dict, description="share of leads that do each activity"
    )

    @field_validator("personas")
    @classmethod
    def _shares_add_up(cls, value: dict[str, float]) -> dict[str, float]:
        total = sum((decimal_rate(share) for share in value.values()), Decimal(0))
        if total > 1:
            raise ValueError(f"persona shares must add up to at most 1, got {total}")
        return value


class ValueTable(_Spec):
    """Points per persona and per activity, and optionally the expected mix of leads."""

    personas: dict[str, Money] = Field(
        default_factory=dict, description="points of a lead of each persona id"
    )
    activities: dict[str, Money] = Field(
        default_factory=dict, description="points of each activity (counted once per lead)"
    )
    mix: ValueMix | None = Field(None, description="the expected mix, for a value goal")

    @field_validator("mix")
    @classmethod
    def _mix_uses_known_names(cls, value: ValueMix | None, info: ValidationInfo) -> ValueMix | None:
        if value is not None:
            for part in ("personas", "activities"):
                known = info.data.get(part)
                unknown = sorted(set(getattr(value, part)) - set(known or {}))
                if known is not None and unknown:
                    raise ValueError(
                        f"mix.{part} names {', '.join(unknown)}, which values.{part} does not "
                        f"score; known: {', '.join(sorted(known)) or 'none'}"
                    )
        return value


class Capacity(_Spec):
    """The selling time the sales team has for marketing leads, per period."""

    reps: PositiveCount = Field(description="sales reps working marketing leads")
    hours_per_rep: PositiveAmount = Field(description="selling hours per rep per period")
    minutes_per_lead: PositiveAmount = Field(description="minutes for one attempt on one lead")
    attempts: PositiveCount = Field(1, description="attempts per lead")


class GoalsSpec(_Spec):
    """The pact's `goals:` section."""

    period: Period = Field(Period.MONTH, description="the period the inputs are per")
    inputs: GoalInputs | None = Field(None, description="the reverse funnel's inputs")
    targets: tuple[GoalTarget, ...] = Field((), description="explicit goals with deadlines")
    values: ValueTable | None = Field(None, description="value-weighted goals (points)")
    capacity: Capacity | None = Field(None, description="the sales team's time per period")


class Actuals(_Spec):
    """What happened so far in the plan; each rate given replaces the planned one."""

    periods_elapsed: Count = Field(description="periods of the plan already done")
    periods_remaining: PositiveCount = Field(description="periods of the plan still to come")
    revenue: Money = Field(description="revenue closed so far in the plan, all sources")
    close_rate: Rate | None = Field(None, description="actual lead to customer rate")
    deal_size: PositiveAmount | None = Field(None, description="actual average deal size")
    marketing_share: Share | None = Field(None, description="actual share from marketing")
    sales_cycle: Duration | None = Field(None, description="actual lead to won time")
    rates: StageRates | None = Field(None, description="actual stage rates")


M = TypeVar("M", bound=BaseModel)


def parse_model(model: type[M], data: Mapping[str, Any]) -> M:
    """Validate untrusted data (command-line options, a JSON file) into one of the models.

    Args:
        model: the model class, e.g. `GoalInputs`.
        data: field values; strings are converted where the type allows ("0.5", "45d").

    Returns:
        The validated model.

    Raises:
        GoalError: naming every bad input and its value.

    Example:
        >>> parse_model(Capacity, {"reps": 2, "hours_per_rep": 10, "minutes_per_lead": 20}).attempts
        1
    """
    try:
        return model.model_validate(data)
    except ValidationError as err:
        problems = []
        for error in err.errors():
            where = ".".join(str(part) for part in error["loc"]) or model.__name__
            message = error["msg"].removeprefix("Value error, ")
            if error["type"] not in ("value_error", "missing"):
                message += f", got {error['input']!r}"
            problems.append(f"{where}: {message}")
        raise GoalError(f"invalid {model.__name__}: " + "; ".join(problems)) from None
