"""`leadpact goals`: the goal calculator (reverse funnel, pace, capacity, re-forecast, what-if)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

import typer

from leadpact.cli._output import handle_errors, print_json, print_rows

if TYPE_CHECKING:
    from leadpact.core.goals import Actuals, CapacityCheck, FunnelPlan, GoalsSpec, ValueGoal

PeriodName = Literal["day", "week", "month", "quarter", "year"]
PaceMetric = Literal["leads", "mqls", "sqls", "customers", "revenue", "value"]
INPUTS = "Goal inputs (override the pact)"
CAPACITY = "Capacity check"


def _option(name: str, help_text: str, panel: str = INPUTS, **kwargs: Any) -> Any:
    return typer.Option(name, help=help_text, rich_help_panel=panel, **kwargs)


@handle_errors
def goals(
    pact: Annotated[
        Path | None, typer.Option("--pact", help="Take the inputs from this pact's goals section.")
    ] = None,
    quota: Annotated[
        str | None, _option("--quota", "Sales revenue quota per period.", metavar="AMOUNT")
    ] = None,
    marketing_share: Annotated[
        float | None,
        _option("--marketing-share", "Share of the quota from marketing leads, 0..1 (default 1)."),
    ] = None,
    deal_size: Annotated[
        str | None, _option("--deal-size", "Average deal size.", metavar="AMOUNT")
    ] = None,
    close_rate: Annotated[
        float | None, _option("--close-rate", "Lead to customer rate, above 0 and at most 1.")
    ] = None,
    lead_to_mql: Annotated[float | None, _option("--lead-to-mql", "Lead to MQL rate.")] = None,
    mql_to_sql: Annotated[float | None, _option("--mql-to-sql", "MQL to SQL rate.")] = None,
    sql_to_won: Annotated[float | None, _option("--sql-to-won", "SQL to won rate.")] = None,
    sales_cycle: Annotated[
        str | None, _option("--sales-cycle", 'Lead to won, e.g. "45d".', metavar="DURATION")
    ] = None,
    lifetime_value: Annotated[
        str | None, _option("--lifetime-value", "Revenue of one customer.", metavar="AMOUNT")
    ] = None,
    website_traffic: Annotated[
        int | None, _option("--website-traffic", "Website visits per period.")
    ] = None,
    period: Annotated[
        PeriodName | None,
        _option("--period", "The period the inputs are per (default: the pact's, else month)."),
    ] = None,
    start: Annotated[
        datetime | None,
        _option(
            "--start",
            "First day of a period: print its daily pace.",
            "Daily pace",
            formats=["%Y-%m-%d"],
        ),
    ] = None,
    pace_metric: Annotated[
        PaceMetric, _option("--pace-metric", "The goal to pace.", "Daily pace")
    ] = "leads",
    reps: Annotated[int | None, _option("--reps", "Sales reps.", CAPACITY)] = None,
    hours_per_rep: Annotated[
        float | None, _option("--hours-per-rep", "Selling hours per rep per period.", CAPACITY)
    ] = None,
    minutes_per_lead: Annotated[
        float | None, _option("--minutes-per-lead", "Minutes per attempt on a lead.", CAPACITY)
    ] = None,
    attempts: Annotated[
        int | None, _option("--attempts", "Attempts per lead (default 1).", CAPACITY)
    ] = None,
    actuals: Annotated[
        Path | None,
        _option("--actuals", "YAML/JSON file of actuals: re-forecast the rest.", "Planning"),
    ] = None,
    what_if: Annotated[
        list[str] | None,
        _option(
            "--what-if",
            "Compare with an input changed, e.g. close_rate=0.04 (repeatable).",
            "Planning",
            metavar="NAME=VALUE",
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Compute the marketing goals from the sales quota: leads, MQLs, SQLs, customers, pace."""
    from leadpact.core import goals as core
    from leadpact.errors import GoalError

    spec = _pact_goals(pact) if pact is not None else None
    data = spec.inputs.model_dump(exclude_none=True) if spec and spec.inputs else {}
    options = {
        "quota": quota,
        "marketing_share": marketing_share,
        "deal_size": deal_size,
        "close_rate": close_rate,
        "sales_cycle": sales_cycle,
        "lifetime_value": lifetime_value,
        "website_traffic": website_traffic,
    }
    data.update({name: value for name, value in options.items() if value is not None})
    stage_options = {"lead_to_mql": lead_to_mql, "mql_to_sql": mql_to_sql, "sql_to_won": sql_to_won}
    rates = {**data.pop("rates", {}), **{k: v for k, v in stage_options.items() if v is not None}}
    _require(data, ("quota", "deal_size", "close_rate"), "goals.inputs")
    inputs = core.parse_model(core.GoalInputs, {**data, "rates": rates or None})
    kind = core.Period(period) if period else (spec.period if spec else core.Period.MONTH)
    plan = core.reverse_funnel(inputs)

    capacity_data = spec.capacity.model_dump() if spec and spec.capacity else {}
    team = {"reps": reps, "hours_per_rep": hours_per_rep, "minutes_per_lead": minutes_per_lead}
    team["attempts"] = attempts
    capacity_data.update({name: value for name, value in team.items() if value is not None})
    capacity = None
    if capacity_data:
        _require(capacity_data, ("reps", "hours_per_rep", "minutes_per_lead"), "goals.capacity")
        capacity = core.parse_model(core.Capacity, capacity_data)
    check = None if capacity is None else core.check_capacity(plan.leads, capacity)

    values = spec.values if spec else None
    value = None
    if values is not None and values.mix is not None:
        value = core.value_goal(plan.leads, values)

    pace = None
    if start is not None:
        goal = _pace_goal(plan, value, pace_metric)
        if goal is None:
            raise GoalError(
                f"no {pace_metric} goal to pace: "
                + {
                    "mqls": "give --mql-to-sql and --sql-to-won",
                    "sqls": "give --sql-to-won",
                    "value": "add goals.values with a mix to the pact",
                }[pace_metric]
            )
        pace = core.daily_pace(goal, kind, start.date())

    forecast = None
    if actuals is not None:
        forecast = core.reforecast(inputs, _read_actuals(actuals), kind)
    variant = None
    if what_if:
        variant = core.what_if(inputs, _parse_what_if(what_if), capacity)

    # a target that names no period is per the pact's period, even if --period changes the plan's
    pact_targets = (
        [t.model_copy(update={"period": t.period or spec.period}) for t in spec.targets]
        if spec
        else []
    )
    targets = core.check_targets(pact_targets, plan, kind, value)
    if as_json:
        print_json(
            {
                "period": kind,
                **plan.model_dump(),
                "inputs": inputs.model_dump(),
                "pace": None if pace is None else pace.model_dump(),
                "capacity": None if check is None else check.model_dump(),
                "value": None if value is None else value.model_dump(),
                "reforecast": None if forecast is None else forecast.model_dump(),
                "what_if": None if variant is None else variant.model_dump(),
                "targets": [check.model_dump() for check in targets],
            }
        )
        return
    _print_plan(plan, str(kind))
    if value is not None:
        _print_value(value)
    elif values is not None:
        typer.echo("\nValue goal: add goals.values.mix to the pact (the expected mix of leads).")
    if check is not None:
        _print_capacity(check)
    if pace is not None:
        typer.echo(f"\nDaily pace of {pace_metric}, {pace.start_on} to {pace.end_on}:")
        print_rows(
            ["Day", "Date", "Goal", "Cumulative"],
            [[d.day, d.on, d.goal, d.cumulative] for d in pace.line],
        )
    if forecast is not None:
        typer.echo(
            f"\nRe-forecast: {forecast.revenue_to_date:,} of {forecast.expected_to_date:,} "
            f"expected so far ({'on track' if forecast.on_track else 'behind'}); "
            f"{forecast.remaining_quota:,} left over {forecast.periods_remaining} {kind}(s), "
            f"{forecast.quota_per_period:,} per {kind}."
        )
        _print_comparison("Plan", forecast.plan, "Re-forecast", forecast.forecast)
        if forecast.lead_time_periods is not None:
            typer.echo(
                f"Leads must arrive {forecast.lead_time_periods} {kind}(s) before the revenue."
            )
    if variant is not None:
        changes = ", ".join(f"{k}={v}" for k, v in variant.overrides.items())
        typer.echo(f"\nWhat if {changes}:")
        _print_comparison("Plan", variant.base, "What if", variant.changed)
        if variant.changed_capacity is not None:
            _print_capacity(variant.changed_capacity)
    if targets:
        typer.echo("\nTargets in the pact, beside what the funnel needs:")
        print_rows(
            ["Metric", "Target", "Per", "Deadline", "Funnel", "Covers", "Description"],
            [
                [
                    c.target.metric,
                    _count(c.target.target),
                    c.target.period or kind,
                    c.target.deadline,
                    _count(c.funnel),
                    {None: "-", True: "yes", False: "NO"}[c.covers_funnel],
                    c.target.description,
                ]
                for c in targets
            ],
        )


def _pact_goals(path: Path) -> GoalsSpec:
    from leadpact.errors import GoalError
    from leadpact.pact_file import load_pact

    spec = load_pact(path).goals
    if spec is None:
        raise GoalError(f"{path} has no goals: section; add one or give the inputs as options")
    return spec


def _require(data: dict[str, Any], names: tuple[str, ...], section: str) -> None:
    from leadpact.errors import GoalError

    missing = [f"--{name.replace('_', '-')}" for name in names if name not in data]
    if missing:
        raise GoalError(f"missing {', '.join(missing)} (give them as options or in {section})")


def _read_actuals(path: Path) -> Actuals:
    from ruamel.yaml import YAML
    from ruamel.yaml.error import YAMLError

    from leadpact.core.goals import Actuals, parse_model
    from leadpact.errors import GoalError, NotFoundError

    try:
        text = path.read_text(encoding="utf-8")
    except OSError as err:
        raise NotFoundError(f"cannot read actuals file {path}: {err.strerror}") from None
    try:
        data = YAML(typ="safe", pure=True).load(text)
    except YAMLError as err:
        raise GoalError(f"{path} is not YAML or JSON: {err}") from None
    if not isinstance(data, dict):
        raise GoalError(f"{path} must hold a mapping of actuals (periods_elapsed, revenue, ...)")
    return parse_model(Actuals, data)


def _parse_what_if(items: list[str]) -> dict[str, str]:
    overrides: dict[str, str] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise typer.BadParameter(f"expected NAME=VALUE, got {item!r}", param_hint="--what-if")
        overrides[name.strip().replace("-", "_")] = value.strip()
    return overrides


def _pace_goal(plan: FunnelPlan, value: ValueGoal | None, metric: str) -> Any:
    if metric == "revenue":
        return plan.marketing_revenue
    if metric == "value":
        return None if value is None else value.value
    return getattr(plan, metric)


def _rate(rate: float | None) -> str:
    return "-" if rate is None else f"{rate:.2%}"


def _count(count: Any) -> str:
    return "-" if count is None else f"{count:,}"


def _money(amount: Decimal | None) -> str:
    return "-" if amount is None else f"{amount:,.2f}"


def _print_plan(plan: FunnelPlan, kind: str) -> None:
    typer.echo(f"Goals per {kind}:")
    rows = [
        ["Sales quota", _money(plan.quota), ""],
        ["Marketing share", _rate(plan.marketing_share), ""],
        ["Marketing revenue", _money(plan.marketing_revenue), "quota x share"],
        ["Deal size", _money(plan.deal_size), ""],
        ["Customers", _count(plan.customers), "revenue / deal size, rounded up"],
        ["SQLs", _count(plan.sqls), "customers / sql-to-won"],
        ["MQLs", _count(plan.mqls), "SQLs / mql-to-sql"],
        ["Leads (close rate)", _count(plan.leads_by_close_rate), f"at {_rate(plan.close_rate)}"],
        ["Leads (stage rates)", _count(plan.leads_by_stages), _rate(plan.stage_close_rate)],
        ["Lead goal", _count(plan.leads), "the larger lead figure"],
    ]
    if plan.customer_lifetime_value is not None:
        rows.append(["Lifetime value", _money(plan.customer_lifetime_value), "of the customers"])
    if plan.visit_to_lead_rate is not None:
        rows.append(["Visit to lead", _rate(plan.visit_to_lead_rate), "needed of the traffic"])
    print_rows(["Goal", "Value", "How"], rows)


def _print_value(value: ValueGoal) -> None:
    typer.echo(
        f"\nValue goal: {value.value:,} points ({value.leads:,} leads x "
        f"{value.average_value:,} points on average)."
    )


def _print_capacity(check: CapacityCheck) -> None:
    verdict = "can" if check.feasible else "CANNOT"
    if check.surplus_leads >= 0:
        margin = f"room for {check.surplus_leads:,} more leads ({check.surplus_hours:,} hours)."
    else:
        margin = (
            f"short by {-check.surplus_leads:,} leads ({-check.surplus_hours:,} hours); "
            f"{check.reps_needed} reps needed."
        )
    typer.echo(
        f"\nCapacity: sales {verdict} work {check.leads:,} leads: {check.needed_hours:,} of "
        f"{check.available_hours:,} hours ({check.utilisation_rate:.0%} used); {margin}"
    )


def _print_comparison(left: str, a: FunnelPlan, right: str, b: FunnelPlan) -> None:
    names = ["marketing_revenue", "customers", "sqls", "mqls", "leads"]
    rows = []
    for name in names:
        old, new = getattr(a, name), getattr(b, name)
        change = "-" if old is None or new is None else f"{new - old:+,}"
        rows.append([name.replace("_", " "), _count(old), _count(new), change])
    print_rows(["Goal", left, right, "Change"], rows)
