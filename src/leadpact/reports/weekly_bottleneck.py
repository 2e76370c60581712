"""The week's bottleneck (PRODUCT.md part 7): every part of the flow that fell short, measured
in leads, largest first, and the one improvement a rule suggests for the largest.

The rules, stated for users in docs/report-outputs.md ("Weekly status"):

- **Shortfall** is counted in leads, so that every part of the flow compares on one scale:
  a funnel step A → B falls short by `expected rate × leads entering A − leads that reached B`;
  a goal by `goal line today − actual`; a delivery commitment by `target × share of its period
  elapsed − actual`; a response or acceptance commitment by its late and overdue clocks; a
  follow-up commitment by its waiting leads below the attempt target.
- A funnel step's **expected rate** is, first found: a quality commitment on the step, a KPI
  target on the step, the pact's plan (reverse funnel), else the step's own rate in the
  report's earlier periods. A step is judged only when at least `MIN_LEADS` leads entered A
  and the week is old enough for them to move on: `as_of − week start ≥` the 90th percentile
  of the time leads spend in A.
- The **bottleneck** is the candidate with the largest shortfall (ties: the larger share of
  what was expected). The **improvement** is one rule per kind of bottleneck, filled with the
  report's own figures (the worst source, the rep holding most late clocks...).
- **Due**: versions waiting for approval, a review due within `DUE_WITHIN` days or overdue,
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any

from leadpact.reports.chart_labels import Labels, Report

__all__ = [
    "MIN_LEADS",
    "candidates",
    "current_rows",
    "elapsed_share",
    "expected_rates",
    "improvement",
]

#: Fewest leads a funnel step, source or rep needs before its rate is judged.
MIN_LEADS = 5
_COUNT_METRICS = ("leads", "mqls", "sqls", "meetings", "customers")
_KPI_STEPS = {"lead_to_mql_rate": ("@first", "mql"), "mql_to_meeting_rate": ("mql", "meeting")}
_QUALITY_STEPS = {
    "acceptance_rate": ("@handover", "@next"),
    "mql_to_sql_rate": ("mql", "sql"),
    "sql_to_won_rate": ("sql", "@won"),
}


def current_rows(report: Report, rows: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """The rows of the report's own period (the week), not of the earlier ones."""
    start = report["meta"]["period_start"]
    return [r for r in rows if r["period_start"] == start]


def elapsed_share(start: str, end: str, as_of: date) -> float:
    """The share (0..1) of the days from `start` to `end` that have begun by `as_of`."""
    first, last = date.fromisoformat(start), date.fromisoformat(end)
    days = (last - first).days + 1
    done = (min(as_of, last) - first).days + 1
    return min(max(done / days, 0.0), 1.0)


# --------------------------------------------------------------------------- bottleneck


def _ladder(report: Report) -> list[str]:
    return [s["stage"] for s in report.get("funnel", {}).get("stages", []) if s["on_ladder"]]


def _won(report: Report) -> str | None:
    stages = report.get("funnel", {}).get("stages", [])
    return next((s["stage"] for s in stages if s["outcome"] == "won"), None)


def _resolve(report: Report, name: str, a: str | None = None) -> str | None:
    ladder = _ladder(report)
    handover: str | None = report["meta"].get("handover_stage")
    if name == "@first":
        return ladder[0] if ladder else None
    if name == "@handover":
        return handover
    if name == "@won":
        return _won(report)
    if name == "@next":
        if handover in ladder and ladder.index(handover) + 1 < len(ladder):
            return ladder[ladder.index(handover) + 1]
        return None
    return name if name in ladder else None


def expected_rates(report: Report) -> dict[tuple[str, str], tuple[float, str]]:
    """Expected conversion per step (A, B) and where it comes from (the rule order above)."""
    out: dict[tuple[str, str], tuple[float, str]] = {}

    def put(a: str | None, b: str | None, value: float | None, source: str) -> None:
        if a and b and value is not None and 0 < value <= 1 and (a, b) not in out:
            out[(a, b)] = (float(value), source)

    for c in report.get("commitments", []):
        if c["kind"] == "quality" and c["current"] and c["measure"] in _QUALITY_STEPS:
            a, b = _QUALITY_STEPS[c["measure"]]
            put(
                _resolve(report, a),
                _resolve(report, b),
                c["target"],
                f"commitment {c['commitment']}",
            )
    for k in report.get("kpis", []):
        if k["kpi"] in _KPI_STEPS and k["target"] is not None:
            a, b = _KPI_STEPS[k["kpi"]]
            put(_resolve(report, a), _resolve(report, b), k["target"], f"KPI {k['kpi']}")
    plan = report.get("goals", {}).get("plan")
    ladder = _ladder(report)
    if plan:
        first = ladder[0] if ladder else None
        steps: list[tuple[str | None, str | None, str, str]] = [
            (first, "mql", "mqls", "leads"),
            ("mql", "sql", "sqls", "mqls"),
            ("sql", _won(report), "customers", "sqls"),
        ]
        for x, y, top, bottom in steps:
            if plan.get(bottom):
                put(
                    _resolve(report, x or ""),
                    y if y in ladder else None,
                    plan[top] / plan[bottom],
                    "plan",
                )
    start = report["meta"]["period_start"]
    history: dict[tuple[str, str], list[int]] = {}
    for r in report.get("funnel", {}).get("conversion", []):
        if r["period_start"] < start:
            cell = history.setdefault((r["from_stage"], r["to_stage"]), [0, 0])
            cell[0] += r["to_leads"]
            cell[1] += r["from_leads"]
    for i, a in enumerate(ladder[:-1]):
        to, base = history.get((a, ladder[i + 1]), [0, 0])
        if base >= 4 * MIN_LEADS:
            put(a, ladder[i + 1], to / base, "earlier periods")
    return out


def candidates(report: Report, labels: Labels) -> list[dict[str, Any]]:
    """Every part of the flow that fell short this week, largest shortfall (in leads) first."""
    meta = report["meta"]
    as_of = datetime.fromisoformat(meta["as_of"])
    start = date.fromisoformat(meta["period_start"])
    age = (as_of - datetime.combine(start, datetime.min.time(), as_of.tzinfo)).total_seconds()
    p90 = {
        r["stage"]: r["p90_seconds"]
        for r in report.get("funnel", {}).get("time_in_stage", [])
        if r["scope"] == "all"
    }
    out: list[dict[str, Any]] = []
    expected = expected_rates(report)
    for r in current_rows(report, report.get("funnel", {}).get("conversion", [])):
        key = (r["from_stage"], r["to_stage"])
        if key not in expected or r["from_leads"] < MIN_LEADS:
            continue
        mature = p90.get(r["from_stage"])
        if mature is not None and age < mature:
            continue
        rate, source = expected[key]
        short = rate * r["from_leads"] - r["to_leads"]
        step = f"{labels.stage_short(report, key[0])} → {labels.stage_short(report, key[1])}"
        out.append(
            {
                "kind": "step",
                "subject": step,
                "from_stage": key[0],
                "to_stage": key[1],
                "shortfall": short,
                "expected": rate * r["from_leads"],
                "text": f"{step}: {labels.rate(r['rate'])} of {r['from_leads']} leads moved on, "
                f"against {labels.rate(rate)} expected ({source})",
            }
        )
    for g in report.get("goals", {}).get("targets", []):
        if g["metric"] in _COUNT_METRICS and g["segment"] is None and g["actual"] is not None:
            short = g["expected_to_date"] - g["actual"]
            out.append(
                {
                    "kind": "goal",
                    "subject": labels.metric(g["metric"]),
                    "metric": g["metric"],
                    "shortfall": short,
                    "expected": g["expected_to_date"],
                    "text": f"{labels.metric(g['metric'])}: {labels.count(g['actual'])} against "
                    f"a goal line of {labels.count(g['expected_to_date'])}",
                }
            )
    today = as_of.date()
    for c in report.get("commitments", []):
        if not c["current"] or c["actual"] is None:
            continue
        if c["kind"] == "delivery" and c["unit"] == "count":
            pace = c["target"] * elapsed_share(c["period_start"], c["period_end"], today)
            out.append(
                {
                    "kind": "delivery",
                    "subject": c["commitment"],
                    "metric": c["measure"],
                    "shortfall": pace - c["actual"],
                    "expected": pace,
                    "text": f"{c['commitment']}: {labels.count(c['actual'])} "
                    f"{labels.metric(c['measure'])} against {labels.count(pace)} by now "
                    f"({labels.count(c['target'])} in "
                    f"{labels.span_of(c['period_start'], c['period_end'])})",
                }
            )
    for r in current_rows(report, report.get("speed", [])):
        missed = r["late"] + r["overdue"]
        decided = r["met"] + missed
        if decided:
            out.append(
                {
                    "kind": r["kind"],
                    "subject": r["commitment"],
                    "stage": r["stage"],
                    "shortfall": float(missed),
                    "expected": float(decided),
                    "text": f"{r['commitment']}: {missed} of {decided} clocks missed the "
                    f"{labels.hours(r['target_seconds'])} target ({r['late']} late, "
                    f"{r['overdue']} overdue)",
                }
            )
    for r in current_rows(report, report.get("depth", {}).get("by_period", [])):
        below = r["leads"] - r["at_target"]
        if r["leads"]:
            out.append(
                {
                    "kind": "follow_up",
                    "subject": r["commitment"],
                    "stage": r["stage"],
                    "shortfall": float(below),
                    "expected": float(r["leads"]),
                    "text": f"{r['commitment']}: {below} of {r['leads']} leads not yet connected "
                    f"have fewer than {r['target_attempts']} attempts",
                }
            )
    found = [c for c in out if c["shortfall"] > 0]
    for c in found:
        c["shortfall"] = round(c["shortfall"], 1)
        c["share"] = c["shortfall"] / c["expected"] if c["expected"] else None
    return sorted(found, key=lambda c: (-c["shortfall"], -(c["share"] or 0.0)))


# --------------------------------------------------------------------------- improvement


def _worst(rows: Sequence[Mapping[str, Any]], key: str = "rate") -> Mapping[str, Any] | None:
    usable = [r for r in rows if r["from_leads"] >= MIN_LEADS and r[key] is not None]
    return min(usable, key=lambda r: r[key]) if usable else None


def _best(rows: Sequence[Mapping[str, Any]]) -> Mapping[str, Any] | None:
    usable = [r for r in rows if r["from_leads"] >= MIN_LEADS and r["rate"] is not None]
    return max(usable, key=lambda r: r["rate"]) if usable else None


def _breakdown(report: Report, dimension: str, a: str, b: str) -> list[Mapping[str, Any]]:
    rows = [
        r
        for r in report.get("funnel", {}).get("breakdown", [])
        if r["dimension"] == dimension and (r["from_stage"], r["to_stage"]) == (a, b)
    ]
    period = [r for r in rows if r["scope"] == "period" and r["from_leads"] >= MIN_LEADS]
    return period if len(period) >= 2 else [r for r in rows if r["scope"] == "all"]


def improvement(report: Report, labels: Labels, bottleneck: Mapping[str, Any]) -> dict[str, str]:
    """One suggested improvement for the bottleneck: the action, and why (the rule and the
    figures it rests on)."""
    kind = bottleneck["kind"]
    ladder = _ladder(report)
    handover = report["meta"].get("handover_stage")
    if kind == "step":
        a, b = bottleneck["from_stage"], bottleneck["to_stage"]
        before_handover = (
            a in ladder and handover in ladder and ladder.index(a) < ladder.index(handover)
        )
        if before_handover:
            worst = _worst(_breakdown(report, "source", a, b))
            action = "Marketing: tighten the sources that bring leads who do not qualify"
            why = bottleneck["text"]
            if worst is not None:
                action = (
                    f"Marketing: review the source {worst['value'] or '(none)'} with sales; "
                    f"move budget from it or tighten its form and scoring"
                )
                why += (
                    f". Rule: a step before the handover is marketing's; the source with the "
                    f"lowest rate on it is {worst['value'] or '(none)'} at "
                    f"{labels.rate(worst['rate'])} ({worst['to_leads']} of {worst['from_leads']})."
                )
            return {"rule": "step-before-handover", "action": action, "why": why}
        worst = _worst(_breakdown(report, "owner", a, b))
        action = (
            f"Sales and marketing: go through this week's {labels.stage_short(report, a)}s "
            f"that did not reach {labels.stage_short(report, b)}, with their rejection reasons"
        )
        why = bottleneck["text"] + ". Rule: a step after the handover is sales' conversion"
        if worst is not None and worst["value"]:
            action += f"; coach or rebalance {worst['value']}'s queue"
            why += (
                f"; the rep with the lowest rate on it is {worst['value']} at "
                f"{labels.rate(worst['rate'])} ({worst['to_leads']} of {worst['from_leads']})"
            )
        return {"rule": "step-after-handover", "action": action, "why": why + "."}
    if kind in ("goal", "delivery"):
        first = ladder[0] if ladder else ""
        entry = handover or ""
        best = _best(_breakdown(report, "source", first, entry)) if first != entry else None
        action = f"Marketing: close the gap on {labels.metric(bottleneck['metric'])}"
        why = bottleneck["text"] + ". Rule: a volume behind its goal line is marketing's"
        if best is not None:
            action += (
                f" by moving budget to the source that qualifies best, {best['value'] or '(none)'}"
            )
            why += (
                f"; the source with the best {labels.stage_short(report, first)} → "
                f"{labels.stage_short(report, entry)} rate is {best['value'] or '(none)'} at "
                f"{labels.rate(best['rate'])} ({best['to_leads']} of {best['from_leads']})"
            )
        return {"rule": "volume-behind", "action": action, "why": why + "."}
    if kind in ("response", "acceptance"):
        reps = sorted(
            (r for r in report.get("reps", []) if r["late"] + r["overdue"] > 0),
            key=lambda r: -(r["late"] + r["overdue"]),
        )
        total = sum(r["late"] + r["overdue"] for r in reps)
        verb = "answer" if kind == "response" else "accept or reject"
        why = bottleneck["text"] + f". Rule: late {verb} clocks are sales' speed"
        top = reps[0] if reps else None
        if top is not None and total and (top["late"] + top["overdue"]) * 2 >= total and total >= 2:
            name = top["owner"] or "(unassigned)"
            action = (
                f"Sales: rebalance {name}'s queue; route new "
                f"{labels.stage_short_id(bottleneck['stage'])}s to the reps with the fastest "
                f"response until the late clocks are cleared"
            )
            why += (
                f"; {name} holds {top['late'] + top['overdue']} of the team's {total} late or "
                f"overdue clocks (at least half)"
            )
        else:
            stage = labels.stage_short_id(bottleneck["stage"])
            action = (
                "Sales: work the overdue list first thing every day (leadpact sla breaches) and "
                f"warn reps before the deadline, so every {stage} gets an {verb} in time"
            )
            why += "; the late clocks are spread over the team"
        return {"rule": f"{kind}-late", "action": action, "why": why + "."}
    old = sum(
        r["leads"]
        for r in report.get("aging", [])
        if r["status"] == "not_connected" and r["order"] >= 1
    )
    action = (
        "Sales: schedule the missing follow-up attempts as a cadence (call, email, call, "
        "break-up email) for every lead not yet connected"
    )
    why = (
        bottleneck["text"]
        + f". Rule: waiting leads below the attempt target are sales' depth; {old} contacted "
        "leads have waited a week or more since the last attempt."
    )
    return {"rule": "follow-up-depth", "action": action, "why": why}
