"""The tables of the HTML report page, built from the report dict (docs/report.md).

KPIs, goals of the period, the funnel per period, conversion by source, days to win,
commitments, reps and data problems as `PageTable`s of `Cell`s, plus the plan facts
(re-forecast, capacity); `report_page.page_context` puts them on the page.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from leadpact.reports.charts import Labels

Report = Mapping[str, Any]

_STATUS = {True: ("Met", "met"), False: ("Missed", "missed"), None: ("–", "none")}
_CHECK_NAMES = {
    "won_before_created": "Won before created",
    "stage_before_created": "Stage before created",
    "touch_before_created": "Touch before created",
    "date_only": "Dates without a time",
    "unknown_stage": "Unknown stage",
    "unknown_team": "Unknown team",
    "after_as_of": "After as-of",
}


@dataclass(frozen=True)
class Cell:
    """A table cell: its text and a CSS class (num, met, missed, open...)."""

    text: str
    css: str = ""


@dataclass(frozen=True)
class PageTable:
    """A table of the page: a caption, the header row, rows of cells, an optional note."""

    key: str
    caption: str
    headers: tuple[str, ...]
    rows: tuple[tuple[Cell, ...], ...]
    note: str = ""
    empty: str = "Nothing to show."


def _cell(text: str, css: str = "") -> Cell:
    return Cell(text, css)


def _status(met: bool | None, complete: bool = True) -> Cell:
    if met is None and not complete:
        return Cell("In progress", "open")
    text, css = _STATUS[met]
    return Cell(text, css)


# --------------------------------------------------------------------------- tables


def kpi_table(report: Report, labels: Labels) -> PageTable:
    """The pact's KPIs: value, target, met."""
    rows = []
    for k in report.get("kpis", []):
        better = "at most" if k["better"] == "lower" else "at least"
        target = "–" if k["target"] is None else f"{better} {labels.value(k['target'], k['unit'])}"
        rows.append(
            (
                _cell(labels.kpi(k["kpi"])),
                _cell(labels.value(k["value"], k["unit"]), "num"),
                _cell(target, "num"),
                _status(k["met"]),
            )
        )
    return PageTable("kpis", "KPIs", ("KPI", "Value", "Target", "Status"), tuple(rows))


def goals_table(report: Report, labels: Labels) -> PageTable:
    """Goal targets of the report period: goal, goal line today, actual, attainment."""
    rows = []
    for g in report.get("goals", {}).get("targets", []):
        money = g["metric"] == "revenue"
        show = labels.money if money else labels.count
        name = labels.metric(g["metric"]) + (f" ({g['segment']})" if g["segment"] else "")
        on_track = g["on_track"]
        rows.append(
            (
                _cell(name),
                _cell(show(g["goal"]), "num"),
                _cell(show(g["expected_to_date"]), "num"),
                _cell(show(g["actual"]), "num"),
                _cell(labels.rate(g["attainment_rate"]), "num"),
                Cell(
                    "–" if on_track is None else ("On track" if on_track else "Behind"),
                    "none" if on_track is None else ("met" if on_track else "missed"),
                ),
            )
        )
    return PageTable(
        "goals",
        "Goals of the period",
        ("Goal", "Goal for the period", "Goal line today", "Actual", "Attained", "Pace"),
        tuple(rows),
        note="Goal line today: goal × days elapsed / days in the period. On track: the actual "
        "is at or above it.",
        empty="The pact sets no goal targets (goals.targets).",
    )


def funnel_table(report: Report, labels: Labels) -> PageTable:
    """Leads entering each stage per period (the real funnel: MQLs per month, wins per month)."""
    section = report.get("funnel", {})
    stages = section.get("stages", [])
    periods: dict[str, dict[str, int]] = {}
    for r in section.get("by_period", []):
        periods.setdefault(r["period_start"], {})[r["stage"]] = r["leads"]
    starts = sorted(periods)[-36:]
    rows = []
    totals = dict.fromkeys((s["stage"] for s in stages), 0)
    for start in starts:
        cells = [_cell(labels.bucket(start))]
        for s in stages:
            n = periods[start].get(s["stage"], 0)
            totals[s["stage"]] += n
            cells.append(_cell(labels.count(n), "num"))
        rows.append(tuple(cells))
    rows.append(
        (
            Cell("Total", "total"),
            *(Cell(labels.count(totals[s["stage"]]), "num total") for s in stages),
        )
    )
    shown = "" if len(periods) <= 36 else f" (the last 36 of {len(periods)})"
    return PageTable(
        "funnel",
        f"Leads entering each stage per {labels.period}{shown}",
        (labels.period.capitalize(), *(s["name"] for s in stages)),
        tuple(rows),
        note="A lead counts in the period it entered the stage; the stages after the funnel "
        "(lost, recycled, disqualified) count leads by the period they were created in.",
    )


def conversion_table(report: Report, labels: Labels, dimension: str = "source") -> PageTable:
    """Conversion from the first funnel stage to won per source, over all leads."""
    section = report.get("funnel", {})
    ladder = [s["stage"] for s in section.get("stages", []) if s["on_ladder"]]
    won = next((s["stage"] for s in section.get("stages", []) if s["outcome"] == "won"), None)
    rows: list[tuple[Cell, ...]] = []
    if len(ladder) >= 2:
        first, last = ladder[0], won or ladder[-1]
        records = sorted(
            (
                r
                for r in section.get("breakdown", [])
                if r["scope"] == "all"
                and r["dimension"] == dimension
                and (r["from_stage"], r["to_stage"]) == (first, last)
            ),
            key=lambda r: -r["from_leads"],
        )
        for r in records:
            rows.append(
                (
                    _cell("(none)" if r["value"] is None else str(r["value"])),
                    _cell(labels.count(r["from_leads"]), "num"),
                    _cell(labels.count(r["to_leads"]), "num"),
                    _cell(labels.rate(r["rate"]), "num"),
                )
            )
        to_all = sum(r["to_leads"] for r in records)
        from_all = sum(r["from_leads"] for r in records)
        if records:
            rows.append(
                (
                    Cell("All", "total"),
                    Cell(labels.count(from_all), "num total"),
                    Cell(labels.count(to_all), "num total"),
                    Cell(labels.rate(to_all / from_all if from_all else None), "num total"),
                )
            )
        step = f"{labels.stage(report, first)} → {labels.stage(report, last)}"
    else:
        step = "–"
    return PageTable(
        "conversion",
        f"Conversion by {dimension}, all leads: {step}",
        (dimension.capitalize(), "Leads", "Converted", "Rate"),
        tuple(rows),
    )


def days_to_win_table(report: Report, labels: Labels) -> PageTable:
    """Days from a lead's creation to won: in the period, and over all leads."""
    rows = []
    names = {"period": "Won in this period", "all": "All won leads"}
    for r in report.get("funnel", {}).get("days_to_win", []):
        rows.append(
            (
                _cell(names.get(r["scope"], r["scope"])),
                _cell(labels.count(r["won_leads"]), "num"),
                _cell(labels.days(r["median_days"]), "num"),
                _cell(labels.days(r["mean_days"]), "num"),
                _cell(labels.days(r["p90_days"]), "num"),
            )
        )
    return PageTable(
        "days_to_win",
        "Days to win",
        ("", "Won leads", "Median", "Mean", "90th percentile"),
        tuple(rows),
        note="Calendar days from the lead's creation to the won stage.",
    )


def commitments_table(report: Report, labels: Labels) -> PageTable:
    """Each commitment in its period holding the report's start: actual, target, attainment."""
    rows = []
    for c in report.get("commitments", []):
        if not c["current"]:
            continue
        if c["measure"] == "report":
            actual = target = attained = "–"
        else:
            unit = c["unit"]
            actual = labels.value(c["actual"], unit)
            target = labels.value(c["target"], unit)
            attained = labels.rate(c["attained_rate"])
        what = c.get("note") or c["description"] or _measure_name(labels, c["kind"], c["measure"])
        rows.append(
            (
                _cell(c["commitment"], "id"),
                _cell(f"{c['provider']} → {c['receiver']}"),
                _cell(what),
                _cell(labels.span_of(c["period_start"], c["period_end"])),
                _cell(actual, "num"),
                _cell(target, "num"),
                _cell(attained, "num"),
                _status(c["met"], c["complete"]),
            )
        )
    return PageTable(
        "commitments",
        "Commitments in the current period",
        ("Commitment", "From → to", "What", "Period", "Actual", "Target", "Attained", "Status"),
        tuple(rows),
        note="Response and acceptance: share of SLA clocks met; follow-up: share of waiting "
        "leads with the agreed attempts; delivery and quality: the figure against its target. "
        "A period still running is “in progress” until it ends or the target is reached.",
    )


def _measure_name(labels: Labels, kind: str, measure: str) -> str:
    if kind == "delivery":
        return f"{labels.metric(measure)} delivered"
    return {
        "met_rate": "SLA clocks met",
        "at_target_rate": "Waiting leads at the attempt target",
    }.get(measure, measure.replace("_", " ").capitalize())


def reps_table(report: Report, labels: Labels) -> PageTable:
    """Per rep: leads handed over, SLA clocks, response times, waiting leads, wins."""
    rows = []
    for r in report.get("reps", []):
        rows.append(
            (
                _cell(r["owner"] or "(unassigned)"),
                _cell(r["team"] or "–"),
                _cell(labels.count(r["handed_over"]), "num"),
                _cell(labels.rate(r["met_rate"]), "num"),
                _cell(f"{r['late']} / {r['overdue']}", "num"),
                _cell(labels.hours(r["median_response_seconds"]), "num"),
                _cell(labels.hours(r["p90_response_seconds"]), "num"),
                _cell(labels.count(r["uncontacted"]), "num"),
                _cell(labels.count(r["won_deals"]), "num"),
                _cell(labels.money(r["revenue"]), "num"),
            )
        )
    return PageTable(
        "reps",
        "Reps",
        (
            "Rep",
            "Team",
            "Handed over",
            "Clocks met",
            "Late / overdue",
            "Median response",
            "90th pct. response",
            "Never contacted",
            "Won",
            "Revenue",
        ),
        tuple(rows),
        note="Handed over, clocks and wins in the report period; never contacted: leads "
        "waiting now. Response times are business time.",
    )


def data_quality_table(report: Report) -> PageTable:
    """The data problems the report found (problems first), never hidden."""
    records = sorted(report.get("data_quality", []), key=lambda r: r["severity"] != "problem")
    rows = tuple(
        (
            Cell("Problem" if r["severity"] == "problem" else "Note", r["severity"]),
            _cell(_CHECK_NAMES.get(r["check"], r["check"])),
            _cell(r["message"]),
        )
        for r in records
    )
    return PageTable(
        "data_quality",
        "",
        ("", "Check", "What the data says"),
        rows,
        empty="No problems found in the data.",
    )


def plan_facts(report: Report, labels: Labels) -> list[tuple[str, str]]:
    """The re-forecast and the capacity check, as label–value pairs."""
    goals = report.get("goals", {})
    facts: list[tuple[str, str]] = []
    forecast = goals.get("reforecast")
    if forecast:
        facts.append(
            (
                "Revenue since " + labels.day(forecast["plan_start"]),
                f"{labels.money(forecast['revenue_to_date'])} of "
                f"{labels.money(forecast['expected_to_date'])} expected by now"
                + ("" if forecast["on_track"] else " (behind)"),
            )
        )
        facts.append(
            (
                "To reach the quota",
                f"{labels.money(forecast['quota_per_period'])} per {forecast['period']} for "
                f"{forecast['periods_remaining']} more {forecast['period']}(s)",
            )
        )
    capacity = goals.get("capacity")
    if capacity:
        facts.append(
            (
                "Sales capacity",
                f"{labels.count(capacity['needed_hours'])} h needed of "
                f"{labels.count(capacity['available_hours'])} h available "
                f"({labels.rate(capacity['utilisation_rate'])}) for "
                f"{labels.count(capacity['leads'])} leads handed over"
                + ("" if capacity["feasible"] else ": NOT FEASIBLE"),
            )
        )
    return facts
