"""The goal calculator: the arithmetic from quota to goals (the models are in `goals_spec`).

Everything here is pure (docs/goals.md has the formulas and the rounding rules):

- `reverse_funnel`   quota * marketing share / deal size / close rate → customers, SQLs, MQLs, leads
- `daily_pace`       the cumulative goal line of a period (goal * day / n), the "waterfall" target
- `reforecast`       the goals of the remaining periods, recomputed from actuals
- `value_goal`       a points goal from the value table and the expected mix of leads
- `check_capacity`   can the reps work the leads the goals ask for?
- `what_if`          the plan with some inputs changed, and the differences
- `check_targets`    do the pact's explicit targets cover what the funnel needs?

Counts of people are whole numbers rounded *up*; money is `Decimal`; rates are floats in 0..1
converted to `Decimal` through their shortest text (0.05 → Decimal("0.05")) before any division.
Untrusted input goes through `parse_model`, which turns a validation failure into a `GoalError`.
"""

from __future__ import annotations

from calendar import monthrange
from collections.abc import Iterable, Mapping
from datetime import date, timedelta
from decimal import (
    ROUND_CEILING,
    ROUND_FLOOR,
    ROUND_HALF_EVEN,
    ROUND_HALF_UP,
    Decimal,
    localcontext,
)
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from leadpact.core.goals_spec import (
    STAGE_RATE_NAMES,
    Actuals,
    Capacity,
    GoalInputs,
    GoalMetric,
    GoalsSpec,
    GoalTarget,
    Period,
    StageRates,
    ValueMix,
    ValueTable,
    decimal_rate,
    parse_model,
)
from leadpact.errors import GoalError

__all__ = [
    "STAGE_RATE_NAMES",
    "Actuals",
    "Capacity",
    "CapacityCheck",
    "FunnelPlan",
    "GoalInputs",
    "GoalMetric",
    "GoalTarget",
    "GoalsSpec",
    "Pace",
    "PaceDay",
    "Period",
    "Reforecast",
    "StageRates",
    "TargetCheck",
    "ValueGoal",
    "ValueMix",
    "ValueTable",
    "WhatIf",
    "check_capacity",
    "check_targets",
    "daily_pace",
    "lead_value",
    "parse_model",
    "period_end",
    "reforecast",
    "reverse_funnel",
    "value_goal",
    "what_if",
]

#: Calendar length of each period: whole days, or whole months (added with the day clamped).
_PERIOD_DAYS = {Period.DAY: 1, Period.WEEK: 7}
_PERIOD_MONTHS = {Period.MONTH: 1, Period.QUARTER: 3, Period.YEAR: 12}
#: Average length in days (a Julian year of 365.25 days), to express a sales cycle in periods.
_AVERAGE_DAYS = {
    Period.DAY: Decimal(1),
    Period.WEEK: Decimal(7),
    Period.MONTH: Decimal("30.4375"),
    Period.QUARTER: Decimal("91.3125"),
    Period.YEAR: Decimal("365.25"),
}
_CENT = Decimal("0.01")
#: Quotients are rounded to this before rounding up, so float noise never adds a whole lead.
_NOISE = Decimal("1e-9")


class _Result(BaseModel):
    model_config = ConfigDict(frozen=True)


# --- arithmetic ---


_dec = decimal_rate


def _ceil(value: Decimal) -> int:
    with localcontext() as ctx:
        ctx.prec = 60
        return int(value.quantize(_NOISE, ROUND_HALF_EVEN).to_integral_value(ROUND_CEILING))


class FunnelPlan(_Result):
    """The goals for one period, from `reverse_funnel`."""

    quota: Decimal
    marketing_share: float
    marketing_revenue: Decimal
    deal_size: Decimal
    close_rate: float
    customers: int
    sqls: int | None
    mqls: int | None
    leads_by_close_rate: int
    leads_by_stages: int | None
    leads: int = Field(description="The lead goal: the larger of the two lead figures.")
    stage_close_rate: float | None = Field(description="lead_to_mql * mql_to_sql * sql_to_won.")
    sales_cycle: timedelta | None
    customer_lifetime_value: Decimal | None = Field(description="customers * lifetime_value.")
    visit_to_lead_rate: float | None = Field(description="leads / website_traffic.")


def reverse_funnel(inputs: GoalInputs) -> FunnelPlan:
    """Work back from the quota to the customers, SQLs, MQLs and leads needed in one period.

    marketing_revenue = quota * marketing_share, to the cent (half up);
    customers = ⌈marketing_revenue / deal_size⌉; leads = ⌈customers / close_rate⌉.
    With stage rates, SQLs = ⌈customers / sql_to_won⌉, MQLs = ⌈SQLs / mql_to_sql⌉ and a second
    lead figure ⌈MQLs / lead_to_mql⌉; the lead goal is the larger of the two lead figures.
    Each count is rounded up from the whole count below it.

    Args:
        inputs: validated goal inputs (build them from untrusted data with `parse_model`).

    Returns:
        The goals of one period.

    Example:
        >>> plan = reverse_funnel(GoalInputs(quota=5000, deal_size=100, close_rate=0.5))
        >>> plan.marketing_revenue, plan.customers, plan.leads
        (Decimal('5000.00'), 50, 100)
    """
    marketing_revenue = (inputs.quota * _dec(inputs.marketing_share)).quantize(_CENT, ROUND_HALF_UP)
    customers = _ceil(marketing_revenue / inputs.deal_size)
    leads_by_close_rate = _ceil(customers / _dec(inputs.close_rate))
    rates = inputs.rates or StageRates()
    sqls = None if rates.sql_to_won is None else _ceil(customers / _dec(rates.sql_to_won))
    mqls = None
    if sqls is not None and rates.mql_to_sql is not None:
        mqls = _ceil(sqls / _dec(rates.mql_to_sql))
    leads_by_stages = None
    stage_close_rate = None
    if mqls is not None and rates.lead_to_mql is not None:
        leads_by_stages = _ceil(mqls / _dec(rates.lead_to_mql))
        product = (
            _dec(rates.lead_to_mql) * _dec(rates.mql_to_sql or 1) * _dec(rates.sql_to_won or 1)
        )
        stage_close_rate = float(product)
    leads = max(leads_by_close_rate, leads_by_stages or 0)
    traffic = inputs.website_traffic
    return FunnelPlan(
        quota=inputs.quota,
        marketing_share=inputs.marketing_share,
        marketing_revenue=marketing_revenue,
        deal_size=inputs.deal_size,
        close_rate=inputs.close_rate,
        customers=customers,
        sqls=sqls,
        mqls=mqls,
        leads_by_close_rate=leads_by_close_rate,
        leads_by_stages=leads_by_stages,
        leads=leads,
        stage_close_rate=stage_close_rate,
        sales_cycle=inputs.sales_cycle,
        customer_lifetime_value=(
            None if inputs.lifetime_value is None else customers * inputs.lifetime_value
        ),
        visit_to_lead_rate=leads / traffic if traffic else None,
    )


class PaceDay(_Result):
    """One day of a pace line: that day's share of the goal and the goal reached by its end."""

    day: int
    on: date
    goal: Decimal
    cumulative: Decimal


class Pace(_Result):
    """The cumulative goal line of one period (the target line of the waterfall chart)."""

    period: Period
    start_on: date
    end_on: date = Field(description="The last day of the period (inclusive).")
    days: int
    goal: Decimal
    per_day: Decimal
    line: tuple[PaceDay, ...]


def period_end(period: Period, start_on: date) -> date:
    """Return the last day (inclusive) of the period that starts on `start_on`.

    A month, quarter or year ends the day before the same day of the month that many months
    later; that day is clamped to the end of a shorter month (Jan 31 + 1 month = Feb 28).

    Example:
        >>> period_end(Period.MONTH, date(2025, 3, 1))
        datetime.date(2025, 3, 31)
    """
    if period in _PERIOD_DAYS:
        return start_on + timedelta(days=_PERIOD_DAYS[period] - 1)
    years, month0 = divmod(start_on.month - 1 + _PERIOD_MONTHS[period], 12)
    year, month = start_on.year + years, month0 + 1
    day = min(start_on.day, monthrange(year, month)[1])
    return date(year, month, day) - timedelta(days=1)


def daily_pace(goal: Decimal | int, period: Period, start_on: date) -> Pace:
    """Split a period's goal into a cumulative goal line, day by day.

    Day d of n has reached goal * d / n, rounded half up to 2 decimals; the last day is the goal
    exactly. Each day's own goal is the step from the day before, so the days add up to the goal.

    Args:
        goal: the goal of the whole period (leads, revenue, points...), 0 or more.
        period: the length of the period.
        start_on: its first day.

    Returns:
        The pace line, one `PaceDay` per calendar day.

    Raises:
        GoalError: the goal is negative.

    Example:
        >>> pace = daily_pace(100, Period.WEEK, date(2025, 3, 3))
        >>> [str(day.cumulative) for day in pace.line][:3], pace.line[-1].cumulative
        (['14.29', '28.57', '42.86'], Decimal('100'))
    """
    total = Decimal(goal)
    if total < 0:
        raise GoalError(f"a pace needs a goal of 0 or more, got {goal}")
    n = (period_end(period, start_on) - start_on).days + 1
    line: list[PaceDay] = []
    before = Decimal(0)
    for day in range(1, n + 1):
        reached = total if day == n else (total * day / n).quantize(_CENT, ROUND_HALF_UP)
        on = start_on + timedelta(days=day - 1)
        line.append(PaceDay(day=day, on=on, goal=reached - before, cumulative=reached))
        before = reached
    return Pace(
        period=period,
        start_on=start_on,
        end_on=line[-1].on,
        days=n,
        goal=total,
        per_day=(total / n).quantize(_CENT, ROUND_HALF_UP),
        line=tuple(line),
    )


_COMPARED = (
    "marketing_revenue",
    "customers",
    "sqls",
    "mqls",
    "leads_by_close_rate",
    "leads_by_stages",
    "leads",
)


def _differences(base: FunnelPlan, changed: FunnelPlan) -> dict[str, Decimal | int]:
    differences: dict[str, Decimal | int] = {}
    for name in _COMPARED:
        old, new = getattr(base, name), getattr(changed, name)
        if old is not None and new is not None:
            differences[name] = new - old
    return differences


class Reforecast(_Result):
    """The goals of each remaining period, recomputed from actuals (`reforecast`)."""

    period: Period
    plan_quota: Decimal = Field(description="quota * (periods elapsed + remaining).")
    expected_to_date: Decimal = Field(description="quota * periods elapsed.")
    revenue_to_date: Decimal
    on_track: bool = Field(description="Revenue so far is at least the quota so far.")
    remaining_quota: Decimal
    periods_remaining: int
    quota_per_period: Decimal
    plan: FunnelPlan = Field(description="One period as planned.")
    forecast: FunnelPlan = Field(description="Each remaining period, with the actual rates.")
    changes: dict[str, Decimal | int] = Field(description="forecast - plan.")
    lead_time_periods: Decimal | None = Field(
        description="The sales cycle in periods: leads must arrive that long before revenue."
    )


def reforecast(inputs: GoalInputs, actuals: Actuals, period: Period = Period.MONTH) -> Reforecast:
    """Recompute the per-period goals for the rest of the plan from what actually happened.

    The plan covers `periods_elapsed + periods_remaining` periods of `inputs.quota` each. The
    revenue still missing (never below 0) is spread evenly over the remaining periods, rounded
    up to the cent, and run through `reverse_funnel` with every actual rate, deal size, share
    and sales cycle that was given in place of the planned one.

    Args:
        inputs: the planned inputs (per period).
        actuals: what happened so far.
        period: the length of one period (to express the sales cycle in periods).

    Returns:
        The re-forecast: the plan, the new per-period goals and the changes.

    Example:
        >>> plan = GoalInputs(quota=5000, deal_size=100, close_rate=0.5)
        >>> actual = Actuals(periods_elapsed=6, periods_remaining=6, revenue=24000, close_rate=0.4)
        >>> result = reforecast(plan, actual)
        >>> result.quota_per_period, result.forecast.customers, result.forecast.leads
        (Decimal('6000.00'), 60, 150)
    """
    elapsed, remaining = actuals.periods_elapsed, actuals.periods_remaining
    plan_quota = inputs.quota * (elapsed + remaining)
    expected = inputs.quota * elapsed
    remaining_quota = max(plan_quota - actuals.revenue, Decimal(0))
    per_period = (remaining_quota / remaining).quantize(_CENT, ROUND_CEILING)
    rates = (inputs.rates or StageRates()).model_dump()
    rates.update((actuals.rates or StageRates()).model_dump(exclude_none=True))
    actual = {
        name: getattr(actuals, name)
        for name in ("close_rate", "deal_size", "marketing_share", "sales_cycle")
        if getattr(actuals, name) is not None
    }
    forecast_inputs = inputs.model_copy(
        update={"quota": per_period, "rates": StageRates(**rates), **actual}
    )
    plan = reverse_funnel(inputs)
    forecast = reverse_funnel(forecast_inputs)
    cycle = forecast_inputs.sales_cycle
    lead_time = None
    if cycle is not None:
        days = Decimal(cycle.total_seconds()) / 86400
        lead_time = (days / _AVERAGE_DAYS[period]).quantize(_CENT, ROUND_HALF_UP)
    return Reforecast(
        period=period,
        plan_quota=plan_quota,
        expected_to_date=expected,
        revenue_to_date=actuals.revenue,
        on_track=actuals.revenue >= expected,
        remaining_quota=remaining_quota,
        periods_remaining=remaining,
        quota_per_period=per_period,
        plan=plan,
        forecast=forecast,
        changes=_differences(plan, forecast),
        lead_time_periods=lead_time,
    )


def lead_value(values: ValueTable, persona: str | None, activities: Iterable[str]) -> Decimal:
    """Return the points one lead is worth: its persona's points plus its activities' points.

    Each kind of activity counts once (ten ebook downloads are worth one ebook); a persona or
    activity the table does not list is worth 0.

    Example:
        >>> table = ValueTable(personas={"ceo": 100}, activities={"demo_request": 100})
        >>> lead_value(table, "ceo", ["demo_request", "demo_request", "webinar"])
        Decimal('200')
    """
    points = values.personas.get(persona, Decimal(0)) if persona else Decimal(0)
    return points + sum((values.activities.get(a, Decimal(0)) for a in set(activities)), Decimal(0))


class ValueGoal(_Result):
    """A points goal: leads * the average points of a lead under the expected mix."""

    leads: int
    average_value: Decimal
    value: Decimal
    by_persona: dict[str, Decimal]
    by_activity: dict[str, Decimal]


def value_goal(leads: int, values: ValueTable) -> ValueGoal:
    """Turn a lead goal into a value (points) goal, using the table's expected mix.

    average value = Σ persona share * persona points + Σ activity share * activity points;
    value goal = leads * average value. `by_persona` and `by_activity` hold each term * leads.

    Args:
        leads: the lead goal, 0 or more.
        values: the value table; it needs a `mix`.

    Returns:
        The value goal and where its points come from.

    Raises:
        GoalError: the table has no mix, or leads is negative.

    Example:
        >>> mix = ValueMix(personas={"ceo": 0.1, "manager": 0.5}, activities={"webinar": 0.2})
        >>> table = ValueTable(personas={"ceo": 100, "manager": 40}, activities={"webinar": 80},
        ...                    mix=mix)
        >>> value_goal(100, table).value
        Decimal('4600.0')
    """
    if leads < 0:
        raise GoalError(f"a value goal needs a lead goal of 0 or more, got {leads}")
    if values.mix is None:
        raise GoalError(
            "a value goal needs the expected mix of leads: add goals.values.mix "
            "(share of leads per persona and per activity)"
        )
    by_persona = {
        name: leads * _dec(share) * values.personas[name]
        for name, share in values.mix.personas.items()
    }
    by_activity = {
        name: leads * _dec(share) * values.activities[name]
        for name, share in values.mix.activities.items()
    }
    total = sum((*by_persona.values(), *by_activity.values()), Decimal(0))
    average = sum(_dec(s) * values.personas[n] for n, s in values.mix.personas.items()) + sum(
        _dec(s) * values.activities[n] for n, s in values.mix.activities.items()
    )
    return ValueGoal(
        leads=leads,
        average_value=Decimal(average),
        value=total,
        by_persona=by_persona,
        by_activity=by_activity,
    )


class CapacityCheck(_Result):
    """Whether the reps can work the leads, and by how much (`check_capacity`)."""

    leads: int
    needed_hours: Decimal
    available_hours: Decimal
    feasible: bool
    surplus_hours: Decimal = Field(description="available - needed; negative is a shortfall.")
    lead_capacity: int = Field(description="The most leads the team can work in a period.")
    surplus_leads: int = Field(description="lead_capacity - leads; negative is a shortfall.")
    utilisation_rate: float = Field(description="needed / available hours; above 1 is infeasible.")
    reps_needed: int
    leads_per_rep: Decimal


def check_capacity(leads: int, capacity: Capacity) -> CapacityCheck:
    """Check that the sales team has the hours to work a period's leads.

    needed hours = leads * attempts * minutes_per_lead / 60; available = reps * hours_per_rep.
    Feasibility is decided on exact minutes; hours are shown rounded half up to 2 decimals.

    Args:
        leads: leads to work in the period, 0 or more.
        capacity: the team's time.

    Returns:
        The verdict, surplus (or shortfall) in hours and leads, and the reps needed.

    Raises:
        GoalError: leads is negative.

    Example:
        >>> team = Capacity(reps=2, hours_per_rep=10, minutes_per_lead=20, attempts=3)
        >>> check = check_capacity(30, team)
        >>> check.feasible, check.needed_hours, check.lead_capacity, check.reps_needed
        (False, Decimal('30.00'), 20, 3)
    """
    if leads < 0:
        raise GoalError(f"a capacity check needs leads of 0 or more, got {leads}")
    minutes_per_lead = capacity.attempts * capacity.minutes_per_lead
    needed = leads * minutes_per_lead
    available = capacity.reps * capacity.hours_per_rep * 60
    lead_capacity = int((available / minutes_per_lead).to_integral_value(ROUND_FLOOR))
    return CapacityCheck(
        leads=leads,
        needed_hours=(needed / 60).quantize(_CENT, ROUND_HALF_UP),
        available_hours=(available / 60).quantize(_CENT, ROUND_HALF_UP),
        feasible=needed <= available,
        surplus_hours=((available - needed) / 60).quantize(_CENT, ROUND_HALF_UP),
        lead_capacity=lead_capacity,
        surplus_leads=lead_capacity - leads,
        utilisation_rate=float(needed / available),
        reps_needed=_ceil(needed / (capacity.hours_per_rep * 60)),
        leads_per_rep=(Decimal(leads) / capacity.reps).quantize(_CENT, ROUND_HALF_UP),
    )


class WhatIf(_Result):
    """A plan, the same plan with some inputs changed, and the differences (`what_if`)."""

    overrides: dict[str, str]
    base: FunnelPlan
    changed: FunnelPlan
    differences: dict[str, Decimal | int] = Field(description="changed - base.")
    base_capacity: CapacityCheck | None = None
    changed_capacity: CapacityCheck | None = None


def what_if(
    inputs: GoalInputs, overrides: Mapping[str, Any], capacity: Capacity | None = None
) -> WhatIf:
    """Compare the plan with a variant whose inputs are partly replaced.

    Args:
        inputs: the plan's inputs.
        overrides: input names (`GoalInputs` fields, or a stage rate such as `sql_to_won`) and
            their new values; text is converted ("0.04", "60d").
        capacity: when given, both plans are also checked against the team's capacity.

    Returns:
        Both plans, `changed - base` for every count both have, and the capacity checks.

    Raises:
        GoalError: an unknown input name or an invalid value.

    Example:
        >>> base = GoalInputs(quota=5000, deal_size=100, close_rate=0.5)
        >>> what_if(base, {"close_rate": 0.25}).differences["leads"]
        100
    """
    known = set(GoalInputs.model_fields) - {"rates"} | set(STAGE_RATE_NAMES)
    unknown = sorted(set(overrides) - known)
    if unknown:
        raise GoalError(
            f"what-if cannot change {', '.join(unknown)}; known inputs: {', '.join(sorted(known))}"
        )
    data = inputs.model_dump(exclude_none=True)
    rates = dict(data.pop("rates", {}))
    for name, value in overrides.items():
        (rates if name in STAGE_RATE_NAMES else data)[name] = value
    changed_inputs = parse_model(GoalInputs, {**data, "rates": rates})
    base, changed = reverse_funnel(inputs), reverse_funnel(changed_inputs)
    return WhatIf(
        overrides={name: str(value) for name, value in overrides.items()},
        base=base,
        changed=changed,
        differences=_differences(base, changed),
        base_capacity=None if capacity is None else check_capacity(base.leads, capacity),
        changed_capacity=None if capacity is None else check_capacity(changed.leads, capacity),
    )


class TargetCheck(_Result):
    """An explicit target beside what the reverse funnel needs in the same period."""

    target: GoalTarget
    funnel: Decimal | None = Field(description="The funnel's goal; None if not comparable.")
    covers_funnel: bool | None = Field(description="target >= funnel; None if not comparable.")


def check_targets(
    targets: Iterable[GoalTarget],
    plan: FunnelPlan,
    period: Period,
    value: ValueGoal | None = None,
) -> list[TargetCheck]:
    """Set each explicit target beside the reverse funnel's goal for the same metric.

    A target is comparable when it is per the plan's period (or names no period) and the funnel
    has that metric: revenue is the marketing revenue; meetings, a value target without a value
    goal, and MQL/SQL targets without stage rates are not comparable.

    Args:
        targets: the pact's explicit targets.
        plan: the reverse funnel of one period.
        period: the period the plan is per.
        value: the value goal, to compare value targets with.

    Returns:
        One check per target, in order.

    Example:
        >>> plan = reverse_funnel(GoalInputs(quota=5000, deal_size=100, close_rate=0.5))
        >>> goal = GoalTarget(metric="leads", target=80, deadline=date(2025, 12, 31))
        >>> check_targets([goal], plan, Period.MONTH)[0].covers_funnel
        False
    """
    funnel: dict[GoalMetric, Decimal | int | None] = {
        GoalMetric.LEADS: plan.leads,
        GoalMetric.MQLS: plan.mqls,
        GoalMetric.SQLS: plan.sqls,
        GoalMetric.MEETINGS: None,
        GoalMetric.CUSTOMERS: plan.customers,
        GoalMetric.REVENUE: plan.marketing_revenue,
        GoalMetric.VALUE: None if value is None else value.value,
    }
    checks = []
    for target in targets:
        needed = funnel[target.metric] if target.period in (None, period) else None
        checks.append(
            TargetCheck(
                target=target,
                funnel=None if needed is None else Decimal(needed),
                covers_funnel=None if needed is None else target.target >= needed,
            )
        )
    return checks
