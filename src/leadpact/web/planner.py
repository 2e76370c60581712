"""The goal calculator behind /goals and /api/goals: the pact's inputs, changed by a form.

Starts from the pact's `goals:` section, applies the figures a person typed (any `GoalInputs`
field, a stage rate, the capacity and the actuals), and runs the pure calculator of
`core.goals`: the reverse funnel, capacity, value goal, the re-forecast from actuals and the
pact's targets beside what the funnel needs. Bad input raises `GoalError` naming the field.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from leadpact.core import goals as core
from leadpact.core.pact import Pact
from leadpact.errors import GoalError

__all__ = ["ACTUAL_FIELDS", "CAPACITY_FIELDS", "INPUT_FIELDS", "RATE_FIELDS", "Plan", "plan"]

INPUT_FIELDS = ("quota", "marketing_share", "deal_size", "close_rate")
RATE_FIELDS = ("lead_to_mql", "mql_to_sql", "sql_to_won")
CAPACITY_FIELDS = ("reps", "hours_per_rep", "minutes_per_lead", "attempts")
#: Actuals for the re-forecast; `actual_*` replace the planned rate or size.
ACTUAL_FIELDS = (
    "periods_elapsed",
    "periods_remaining",
    "revenue",
    "actual_close_rate",
    "actual_deal_size",
)
ALL_FIELDS = (*INPUT_FIELDS, *RATE_FIELDS, *CAPACITY_FIELDS, *ACTUAL_FIELDS)


@dataclass(frozen=True)
class Plan:
    """The calculator's answer, and the values its form shows."""

    period: str
    values: dict[str, Any]
    result: dict[str, Any]


def defaults(pact: Pact, actuals: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The form's starting values: the pact's goal inputs and capacity, and known actuals."""
    spec = pact.goals
    values: dict[str, Any] = dict.fromkeys(ALL_FIELDS)
    if spec is not None and spec.inputs is not None:
        inputs = spec.inputs
        values |= {name: getattr(inputs, name) for name in INPUT_FIELDS}
        if inputs.rates is not None:
            values |= {name: getattr(inputs.rates, name) for name in RATE_FIELDS}
    if spec is not None and spec.capacity is not None:
        values |= {name: getattr(spec.capacity, name) for name in CAPACITY_FIELDS}
    if actuals:
        values |= {
            "periods_elapsed": actuals.get("periods_elapsed"),
            "periods_remaining": actuals.get("periods_remaining"),
            "revenue": actuals.get("revenue"),
            "actual_close_rate": actuals.get("close_rate"),
            "actual_deal_size": actuals.get("deal_size"),
        }
    return {k: _plain(v) for k, v in values.items()}


def _plain(value: Any) -> Any:
    if value is None or isinstance(value, int | float | str):
        return value
    return str(value)


def plan(pact: Pact, given: Mapping[str, Any], actuals: Mapping[str, Any] | None = None) -> Plan:
    """Run the calculator on the pact's goals with the `given` figures in place of its own.

    Args:
        pact: the agreement (its `goals:` section gives the defaults and the targets).
        given: figures typed in a form or a query (text or numbers; empty means "default").
        actuals: what the report measured so far (the re-forecast's defaults).

    Raises:
        GoalError: a figure is missing or out of range (the message names it).
    """
    spec = pact.goals
    period = spec.period if spec is not None else core.Period.MONTH
    values = defaults(pact, actuals)
    unknown = sorted(set(given) - set(ALL_FIELDS))
    if unknown:
        raise GoalError(f"unknown input {', '.join(unknown)}; expected {', '.join(ALL_FIELDS)}")
    for name, value in given.items():
        if value is not None and str(value).strip() != "":
            values[name] = str(value).strip()
    missing = [name for name in ("quota", "deal_size", "close_rate") if values[name] is None]
    if missing:
        raise GoalError(f"give {', '.join(missing)}: the pact has no goals.inputs for them")
    rates = {name: values[name] for name in RATE_FIELDS if values[name] is not None}
    data = {name: values[name] for name in INPUT_FIELDS if values[name] is not None}
    if spec is not None and spec.inputs is not None and spec.inputs.sales_cycle is not None:
        data["sales_cycle"] = spec.inputs.sales_cycle
    inputs = core.parse_model(core.GoalInputs, {**data, "rates": rates or None})
    funnel = core.reverse_funnel(inputs)
    capacity_data = {n: values[n] for n in CAPACITY_FIELDS if values[n] is not None}
    capacity = (
        core.parse_model(core.Capacity, capacity_data)
        if {"reps", "hours_per_rep", "minutes_per_lead"} <= set(capacity_data)
        else None
    )
    check = None if capacity is None else core.check_capacity(funnel.leads, capacity)
    value = (
        core.value_goal(funnel.leads, spec.values)
        if spec is not None and spec.values is not None and spec.values.mix is not None
        else None
    )
    forecast = None
    if values["periods_elapsed"] is not None and values["periods_remaining"] is not None:
        actual = {
            "periods_elapsed": values["periods_elapsed"],
            "periods_remaining": values["periods_remaining"],
            "revenue": values["revenue"] if values["revenue"] is not None else 0,
        }
        if values["actual_close_rate"] is not None:
            actual["close_rate"] = values["actual_close_rate"]
        if values["actual_deal_size"] is not None:
            actual["deal_size"] = values["actual_deal_size"]
        forecast = core.reforecast(inputs, core.parse_model(core.Actuals, actual), period)
    targets = [
        t.model_copy(update={"period": t.period or period}) for t in (spec.targets if spec else ())
    ]
    checks = core.check_targets(targets, funnel, period, value)
    result = {
        "period": period.value,
        "plan": funnel.model_dump(mode="json"),
        "capacity": None if check is None else check.model_dump(mode="json"),
        "value": None if value is None else value.model_dump(mode="json"),
        "reforecast": None if forecast is None else forecast.model_dump(mode="json"),
        "targets": [c.model_dump(mode="json") for c in checks],
    }
    return Plan(period.value, values, result)
