"""The weekly status (PRODUCT.md part 7): performance against target, the biggest bottleneck,
one suggested improvement, and what governance needs this week, as plain data.

`build_weekly(report, governance)` reads a report of one week (docs/report.md) and the
agreement's governance status (as plain data from `services.weekly`). The bottleneck and its
improvement follow the rules of `reports.weekly_bottleneck`; `reports.weekly_formats` writes the
status as text, Markdown and HTML. The rule for what is due, stated for users in
docs/report-outputs.md ("Weekly status"):

  report's own figures (the worst source, the rep holding most late clocks...).
- **Due**: versions waiting for approval, a review due within `DUE_WITHIN` days or overdue,
  report commitments missed or due soon, consequences and cancellation conditions that the
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, timedelta
from typing import Any

from leadpact.reports.chart_labels import Labels, Report
from leadpact.reports.weekly_bottleneck import (
    MIN_LEADS,
    candidates,
    current_rows,
    improvement,
)

__all__ = [
    "DUE_WITHIN",
    "MIN_LEADS",
    "build_weekly",
    "due_items",
    "marketing_side",
    "sales_side",
]

#: Days ahead in which a review or a report counts as due this week.
DUE_WITHIN = 7


# --------------------------------------------------------------------------- performance


def marketing_side(report: Report, labels: Labels) -> dict[str, Any]:
    """Goals against the goal line, and the delivery and quality commitments."""
    goals = []
    for g in report.get("goals", {}).get("targets", []):
        if g["segment"] is not None or g["expired"]:
            continue
        money = g["metric"] == "revenue"
        show = labels.money if money else labels.count
        goals.append(
            {
                "metric": g["metric"],
                "name": labels.metric(g["metric"]),
                "actual": g["actual"],
                "expected": g["expected_to_date"],
                "goal": g["goal"],
                "on_track": g["on_track"],
                "text": f"{show(g['actual'])} against a goal of {show(g['goal'])}"
                if g["expected_to_date"] >= g["goal"]
                else f"{show(g['actual'])} against a goal line of "
                f"{show(g['expected_to_date'])} by now (goal {show(g['goal'])})",
            }
        )
    commitments = [
        _commitment_line(c, labels)
        for c in report.get("commitments", [])
        if c["current"] and c["kind"] in ("delivery", "quality")
    ]
    return {"goals": goals, "commitments": commitments}


def sales_side(report: Report, labels: Labels) -> dict[str, Any]:
    """Speed and depth of the week, and the attainment of every clock commitment."""
    speed = [
        {
            "commitment": r["commitment"],
            "kind": r["kind"],
            "clocks": r["clocks"],
            "met_rate": r["met_rate"],
            "late": r["late"],
            "overdue": r["overdue"],
            "median_seconds": r["median_seconds"],
            "p90_seconds": r["p90_seconds"],
            "target_seconds": r["target_seconds"],
            "text": _speed_text(r, labels),
        }
        for r in current_rows(report, report.get("speed", []))
    ]
    depth = [
        {
            "commitment": r["commitment"],
            "leads": r["leads"],
            "mean_attempts": r["mean_attempts"],
            "target_attempts": r["target_attempts"],
            "at_target_rate": r["at_target_rate"],
            "text": f"{labels.count(r['mean_attempts'])} attempts on average (target "
            f"{r['target_attempts']}) over {r['leads']} leads not yet connected; "
            f"{labels.rate(r['at_target_rate'])} at the target",
        }
        for r in current_rows(report, report.get("depth", {}).get("by_period", []))
    ]
    commitments = [
        _commitment_line(c, labels)
        for c in report.get("commitments", [])
        if c["current"] and c["kind"] in ("response", "acceptance", "follow_up")
    ]
    return {"speed": speed, "depth": depth, "commitments": commitments}


def _speed_text(r: Mapping[str, Any], labels: Labels) -> str:
    decided = r["met"] + r["late"] + r["overdue"]
    if not decided:
        pending = f" ({r['pending']} still running)" if r["pending"] else ""
        return f"no SLA clock ended or fell due in the week{pending}"
    return (
        f"{labels.rate(r['met_rate'])} of {decided} clocks met the "
        f"{labels.hours(r['target_seconds'])} target; median {labels.hours(r['median_seconds'])}, "
        f"90th percentile {labels.hours(r['p90_seconds'])}; {r['late']} late, "
        f"{r['overdue']} overdue"
    )


def _commitment_line(c: Mapping[str, Any], labels: Labels) -> dict[str, Any]:
    state = "met" if c["met"] else ("missed" if c["met"] is False else "open")
    if c["met"] is None and not c["complete"]:
        state = "in progress"
    return {
        "commitment": c["commitment"],
        "kind": c["kind"],
        "provider": c["provider"],
        "receiver": c["receiver"],
        "period": labels.span_of(c["period_start"], c["period_end"]),
        "actual": c["actual"],
        "target": c["target"],
        "attained_rate": c["attained_rate"],
        "state": state,
        "text": f"{labels.value(c['actual'], c['unit'])} of "
        f"{labels.value(c['target'], c['unit'])} ({labels.rate(c['attained_rate'])}), "
        + labels.span_of(c["period_start"], c["period_end"]),
    }


# --------------------------------------------------------------------------- due


def due_items(governance: Mapping[str, Any], labels: Labels) -> list[dict[str, Any]]:
    """What governance needs from the owners this week (oldest first)."""
    today = date.fromisoformat(governance["on"])
    soon = today + timedelta(days=DUE_WITHIN)
    parties = governance.get("parties", {})
    out: list[dict[str, Any]] = []
    for v in governance.get("versions_pending", []):
        names = [
            f"{parties.get(p, {}).get('name', p)} ({parties.get(p, {}).get('owner', '?')})"
            for p in v["pending"]
        ]
        waiting = ", ".join(names) if names else "its effective date"
        out.append(
            {
                "kind": "approval",
                "state": "due",
                "on": governance["on"],
                "text": f"Version {v['number']} (“{v['message']}”) waits for approval by {waiting}"
                if names
                else f"Version {v['number']} is approved and takes effect on "
                f"{labels.day(v['takes_effect_on'])}",
            }
        )
    review = date.fromisoformat(governance["next_review"])
    if review <= soon:
        overdue = governance.get("review_overdue") or review < today
        out.append(
            {
                "kind": "review",
                "state": "overdue" if overdue else "due",
                "on": review.isoformat(),
                "text": f"The {governance['review_cadence']} review of the agreement "
                + (
                    f"was due on {labels.day(review)}"
                    if overdue
                    else f"is due on {labels.day(review)}"
                )
                + f" (last review {labels.day(governance['last_review'])})",
            }
        )
    for r in governance.get("reports", []):
        due_at = datetime.fromisoformat(r["due_at"])
        if r["state"] == "missed" or (r["state"] == "pending" and due_at.date() <= soon):
            out.append(
                {
                    "kind": "report",
                    "state": "overdue" if r["state"] == "missed" else "due",
                    "on": due_at.date().isoformat(),
                    "text": f"Report {r['commitment']} for {r['period']}: "
                    + ("not logged, " if r["state"] == "missed" else "")
                    + f"due {labels.instant(r['due_at'])}",
                }
            )
    for c in governance.get("conditions", []):
        if c["met"]:
            out.append(
                {
                    "kind": c["kind"],
                    "state": "due",
                    "on": governance["on"],
                    "text": f"{c['kind'].capitalize()}: {c['goal']} missed {c['streak']} months "
                    f"running (the rule says {c['missed_periods']}): {c['text']}",
                }
            )
    until = governance.get("valid_until")
    if until and date.fromisoformat(until) <= today + timedelta(days=30):
        expired = date.fromisoformat(until) < today
        out.append(
            {
                "kind": "validity",
                "state": "overdue" if expired else "due",
                "on": until,
                "text": f"The agreement {'expired' if expired else 'expires'} on "
                + labels.day(until),
            }
        )
    return sorted(out, key=lambda i: i["on"])


# --------------------------------------------------------------------------- the status


def build_weekly(report: Report, governance: Mapping[str, Any]) -> dict[str, Any]:
    """The weekly status of a report of one week and the governance status (plain data).

    Returns:
        ``meta`` (company, week, as_of, the weekly meeting), ``marketing`` and ``sales``
        (performance against target; ``performance`` has them as rows), ``bottleneck`` (or
        None) with the runners-up in ``shortfalls``, ``improvement`` (action, why, rule),
        ``due``, ``next_review`` and ``data_problems`` (the report's problems, never hidden).
    """
    labels = Labels.of(report)
    meta = report["meta"]
    found = candidates(report, labels)
    bottleneck = found[0] if found else None
    parties = governance.get("parties", {})
    weekly: dict[str, Any] = {
        "meta": {
            "company": meta.get("company", ""),
            "title": meta.get("title", ""),
            "period_start": meta["period_start"],
            "period_end": meta["period_end"],
            "week": labels.span_of(meta["period_start"], meta["period_end"]),
            "as_of": meta["as_of"],
            "as_of_text": labels.instant(meta["as_of"]),
            "meeting": governance.get("weekly_meeting"),
            "parties": {pid: p.get("name", pid) for pid, p in parties.items()},
        },
        "marketing": marketing_side(report, labels),
        "sales": sales_side(report, labels),
        "bottleneck": bottleneck,
        "shortfalls": found[:5],
        "improvement": None if bottleneck is None else improvement(report, labels, bottleneck),
        "due": due_items(governance, labels),
        "next_review": governance.get("next_review"),
        "data_problems": [
            r["message"] for r in report.get("data_quality", []) if r["severity"] == "problem"
        ],
    }
    weekly["performance"] = _performance_rows(weekly)
    names = weekly["meta"]["parties"]
    weekly["sides"] = {
        "marketing": names.get("marketing", "Marketing"),
        "sales": names.get("sales", "Sales"),
    }
    return weekly


def _performance_rows(weekly: Mapping[str, Any]) -> list[dict[str, str]]:
    """One row per goal, speed, depth and commitment: a name, the figures, a state."""
    rows = []
    for g in weekly["marketing"]["goals"]:
        state = "–" if g["on_track"] is None else ("on track" if g["on_track"] else "behind")
        rows.append({"side": "marketing", "name": g["name"], "text": g["text"], "state": state})
    for c in weekly["marketing"]["commitments"]:
        rows.append(
            {"side": "marketing", "name": c["commitment"], "text": c["text"], "state": c["state"]}
        )
    for s in weekly["sales"]["speed"]:
        state = "–" if s["met_rate"] is None else ("met" if s["met_rate"] >= 1 else "missed")
        rows.append(
            {"side": "sales", "name": f"{s['commitment']} speed", "text": s["text"], "state": state}
        )
    for d in weekly["sales"]["depth"]:
        rate = d["at_target_rate"]
        state = "–" if rate is None else ("met" if rate >= 1 else "missed")
        rows.append(
            {"side": "sales", "name": f"{d['commitment']} depth", "text": d["text"], "state": state}
        )
    return rows
