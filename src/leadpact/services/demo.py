"""Generate a realistic synthetic B2B lead flow, deterministically from a seed.

The company is the one of the example pact (Nordlys Software): leads arrive over a year from
several sources, each person has a persona and a company, behaves (page views, downloads,
webinars, demo requests), moves down the funnel at rates that vary by source and persona, and
is worked by reps of two teams on two calendars (Copenhagen and New York), some fast and some
slow. The output is the canonical import format (see docs/import.md), as pyarrow tables, so the
same generator feeds `leadpact demo`, the tests and the benchmarks at any size.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

from leadpact.core.conditions import ACTIVITY_TYPES

if TYPE_CHECKING:
    from leadpact.clock import Clock
    from leadpact.services.workspace import Workspace

#: Funnel stages the CRM records, in order, with the lifecycle date column of each.
JOURNEY = ("lead", "mql", "sal", "sql", "meeting", "proposal")

_SOURCES = np.array(
    ["organic_search", "paid_search", "webinar", "referral", "linkedin", "event", "content"]
)
_SOURCE_SHARE = np.array([0.26, 0.18, 0.12, 0.08, 0.16, 0.06, 0.14])
#: How likely a lead of each source becomes an MQL (the sources' quality differs).
_SOURCE_MQL = np.array([0.38, 0.30, 0.52, 0.60, 0.25, 0.45, 0.33])

_PERSONAS = np.array(["director", "head-of-sales", "marketer", "other"])
_PERSONA_SHARE = np.array([0.18, 0.22, 0.30, 0.30])
#: Multiplier on every later conversion, by persona: directors buy, others rarely do.
_PERSONA_LIFT = np.array([1.5, 1.25, 0.9, 0.45])
_TITLES = {
    "director": ["Managing Director", "CEO", "Director of Operations", "Owner"],
    "head-of-sales": ["Head of Sales", "Sales Director", "VP Sales", "Sales Manager"],
    "marketer": ["Marketing Manager", "Growth Marketer", "Head of Marketing", "CMO"],
    "other": ["Software Engineer", "Student", "Analyst", "Office Manager", "Consultant"],
}

_INDUSTRIES = np.array(["software", "manufacturing", "logistics", "retail", "finance", "education"])
_COUNTRIES = np.array(["DK", "SE", "NO", "NL", "DE", "US", "US", "US", "GB", "CA"])
_NORDIC = {"DK", "SE", "NO", "FI", "NL", "BE", "LU", "DE", "GB"}

#: Reps per team with their median first-response delay in hours (some are slow).
REPS = {
    "sales-dk": [("Sofie Dahl", 1.0), ("Emil Storm", 5.0)],
    "sales-us": [("Tom Reed", 0.7), ("Maria Lopez", 3.0)],
}

#: The activity types the demo company records (events and chat are not part of its funnel).
_ACTIVITY_TYPES = np.array([t for t in ACTIVITY_TYPES if t not in ("event", "chat")])
_ACTIVITY_SHARE = np.array([0.42, 0.05, 0.08, 0.05, 0.25, 0.09, 0.04, 0.02])

_FIRST = np.array(
    ["Anna", "Lars", "Mette", "Jonas", "Sara", "Peter", "Emma", "Noah", "Olivia", "Liam", "Ida"]
)
_LAST = np.array(
    ["Hansen", "Jensen", "Nielsen", "Smith", "Johnson", "de Vries", "Rossi", "Berg", "Kruse"]
)

_DAY = np.int64(86_400_000_000_000)
_HOUR = np.int64(3_600_000_000_000)


@dataclass(frozen=True)
class DemoData:
    """The generated records, one table per import kind, in the canonical columns."""

    leads: pa.Table
    activities: pa.Table
    touches: pa.Table
    deals: pa.Table

    def write_csv(self, directory: Path) -> dict[str, Path]:
        """Write `leads.csv`, `activities.csv`, `touches.csv`, `deals.csv`; return the paths."""
        directory.mkdir(parents=True, exist_ok=True)
        paths = {}
        for kind in ("leads", "activities", "touches", "deals"):
            path = directory / f"{kind}.csv"
            pacsv.write_csv(getattr(self, kind), path)
            paths[kind] = path
        return paths


def generate(
    *,
    seed: int = 7,
    leads: int = 3000,
    start: date = date(2025, 1, 1),
    days: int = 365,
    activities_per_lead: float = 8.0,
) -> DemoData:
    """Generate a company's lead flow.

    Args:
        seed: the same seed gives the same data, byte for byte.
        leads: how many leads arrive over the period.
        start: the first day leads arrive.
        days: the length of the period; nothing happens after its end.
        activities_per_lead: mean number of activities per lead (engaged leads have more).

    Returns:
        The leads, activities, touches and deals in the canonical import columns.
    """
    rng = np.random.default_rng(seed)
    n = leads
    t0 = np.datetime64(start.isoformat(), "ns")
    end = t0 + days * _DAY

    created = t0 + _working_times(rng, n, days)
    source_ix = rng.choice(len(_SOURCES), n, p=_SOURCE_SHARE)
    persona_ix = rng.choice(len(_PERSONAS), n, p=_PERSONA_SHARE)
    country = _COUNTRIES[rng.integers(0, len(_COUNTRIES), n)]
    employees = np.maximum(1, rng.lognormal(4.6, 1.3, n)).astype(np.int64)
    industry = _INDUSTRIES[rng.choice(len(_INDUSTRIES), n, p=[0.3, 0.2, 0.15, 0.15, 0.1, 0.1])]
    revenue = (employees * rng.lognormal(np.log(900_000), 0.5, n)).round(-3)
    team = np.where(np.isin(country, list(_NORDIC)), "sales-dk", "sales-us")
    rep_pick = rng.integers(0, 2, n)
    owner = np.array([REPS[t][r][0] for t, r in zip(team, rep_pick, strict=True)])
    rep_delay = np.array([REPS[t][r][1] for t, r in zip(team, rep_pick, strict=True)])

    fit_bonus = (employees >= 200) * 0.15 + np.isin(industry, _INDUSTRIES[:3]) * 0.1
    lift = _PERSONA_LIFT[persona_ix]
    p_mql = np.clip(_SOURCE_MQL[source_ix] * lift + fit_bonus, 0, 0.95)

    # The journey: each step happens with a probability and after a random delay.
    reached = {"lead": np.ones(n, dtype=bool)}
    at = {"lead": created}
    steps = [
        ("mql", p_mql, 3 * _DAY),
        ("sal", np.full(n, 0.85), 6 * _HOUR),
        ("sql", np.clip(0.55 * lift, 0, 0.95), 2 * _DAY),
        ("meeting", np.clip(0.5 * lift, 0, 0.95), 5 * _DAY),
        ("proposal", np.full(n, 0.7), 7 * _DAY),
    ]
    previous = "lead"
    for step, chance, mean_delay in steps:
        delay = rng.exponential(1.0, n) * mean_delay.astype(np.float64)
        when = at[previous] + delay.astype(np.int64).astype("timedelta64[ns]")
        reached[step] = reached[previous] & (rng.random(n) < chance) & (when < end)
        at[step] = when
        previous = step
    won = reached["proposal"] & (rng.random(n) < np.clip(0.35 * lift, 0, 0.9))
    closed_at = at["proposal"] + (rng.exponential(20.0, n) * _DAY).astype(np.int64).astype(
        "timedelta64[ns]"
    )
    closed = reached["proposal"] & (closed_at < end)

    stage = np.full(n, "lead", dtype=object)
    stage_at = created.copy()
    for name in JOURNEY[1:]:
        stage = np.where(reached[name], name, stage)
        stage_at = np.where(reached[name], at[name], stage_at)
    stage = np.where(closed, np.where(won, "won", "lost"), stage)
    stage_at = np.where(closed, closed_at, stage_at)

    ids = np.array([f"L{seed:02d}-{i:06d}" for i in range(n)])
    touches = _touches(rng, ids, reached["sql"], at["sql"], rep_delay, owner, end)
    # Not connected after the follow-up: recycled to nurture, as the pact says.
    recycled = reached["sql"] & ~reached["meeting"] & ~touches.connected_lead
    recycle_at = touches.last_at + 2 * _DAY
    recycle = recycled & (recycle_at < end)
    stage = np.where(recycle, "nurture", stage)
    stage_at = np.where(recycle, recycle_at, stage_at)

    first = _FIRST[rng.integers(0, len(_FIRST), n)]
    last = _LAST[rng.integers(0, len(_LAST), n)]
    titles = np.array(
        [
            _TITLES[p][k % len(_TITLES[p])]
            for p, k in zip(_PERSONAS[persona_ix], rng.integers(0, 99, n), strict=True)
        ]
    )
    lead_columns: dict[str, pa.Array | np.ndarray] = {
        "id": ids,
        "email": np.char.add(
            np.char.add(np.char.lower(first), "."), np.char.add(ids, "@example.com")
        ),
        "first_name": first,
        "last_name": last,
        "title": titles,
        "company": np.char.add("Company ", (np.arange(n) % max(1, n // 3)).astype(str)),
        "employees": employees,
        "annual_revenue": revenue,
        "industry": industry,
        "country": country,
        "source": _SOURCES[source_ix],
        "created_at": _utc(created),
        "owner": owner,
        "team": team,
        "stage": stage.astype(str),
        "stage_at": _utc(stage_at),
    }
    for name in JOURNEY[1:]:
        lead_columns[f"became_{name}_at"] = _utc(at[name], mask=~reached[name])
    leads_table = pa.table(lead_columns)

    activities = _activities(rng, n, ids, created, reached, at, end, activities_per_lead)
    deal_rows = reached["proposal"]
    deals = pa.table(
        {
            "id": np.char.add("D-", ids[deal_rows]),
            "lead_id": ids[deal_rows],
            "stage": np.where(
                closed[deal_rows], np.where(won[deal_rows], "won", "lost"), "proposal"
            ),
            "amount": rng.lognormal(np.log(60_000), 0.35, int(deal_rows.sum())).round(-2),
            "created_at": _utc(at["proposal"][deal_rows]),
            "closed_at": _utc(closed_at[deal_rows], mask=~closed[deal_rows]),
        }
    )
    return DemoData(leads_table, activities, touches.table, deals)


def _working_times(rng: np.random.Generator, n: int, days: int) -> np.ndarray:
    """Offsets from the start: mostly weekdays, mostly office hours (UTC), as leads arrive."""
    day = rng.integers(0, days, n)
    weekend = (day % 7) >= 5  # the period is assumed to start on a weekday; close enough
    day = np.where(weekend & (rng.random(n) < 0.7), day - (day % 7 - 4), day)
    hour = np.clip(rng.normal(11.5, 3.5, n), 0, 23.99)
    return (day * _DAY + (hour * _HOUR).astype(np.int64)).astype("timedelta64[ns]")


@dataclass(frozen=True)
class _Touches:
    table: pa.Table
    connected_lead: np.ndarray
    last_at: np.ndarray


def _touches(
    rng: np.random.Generator,
    ids: np.ndarray,
    is_sql: np.ndarray,
    sql_at: np.ndarray,
    rep_delay: np.ndarray,
    owner: np.ndarray,
    end: np.datetime64,
) -> _Touches:
    """Sales follow-up of SQLs: a first touch after the rep's delay, then more attempts."""
    lead_ix = np.flatnonzero(is_sql)
    attempts = rng.integers(1, 5, lead_ix.size)
    rows = np.repeat(lead_ix, attempts)
    number = np.concatenate([np.arange(k) for k in attempts]) if rows.size else np.zeros(0, int)
    first_delay = rng.lognormal(0, 0.9, lead_ix.size) * rep_delay[lead_ix]
    base = sql_at[rows] + (np.repeat(first_delay, attempts) * _HOUR).astype(np.int64).astype(
        "timedelta64[ns]"
    )
    at = base + (number * rng.uniform(0.8, 2.5, rows.size) * _DAY).astype(np.int64).astype(
        "timedelta64[ns]"
    )
    connected = rng.random(rows.size) < 0.28
    last = number == np.repeat(attempts - 1, attempts)
    outcome = np.where(
        connected, "connected", np.where(last & (number >= 2), "break_up", "no_answer")
    )
    channel = np.where(
        outcome == "break_up", "email", np.where(rng.random(rows.size) < 0.7, "call", "email")
    )
    keep = at < end
    n = is_sql.size
    connected_lead = np.zeros(n, dtype=bool)
    np.logical_or.at(connected_lead, rows[keep & connected], True)
    last_at = np.full(n, np.datetime64("NaT", "ns"))
    if rows.size:
        order = np.argsort(at)
        last_at[rows[order]] = at[order]
    table = pa.table(
        {
            "lead_id": ids[rows[keep]],
            "rep": owner[rows[keep]],
            "channel": channel[keep],
            "at": _utc(at[keep]),
            "outcome": outcome[keep],
        }
    )
    return _Touches(table, connected_lead, last_at)


def _activities(
    rng: np.random.Generator,
    n: int,
    ids: np.ndarray,
    created: np.ndarray,
    reached: dict[str, np.ndarray],
    at: dict[str, np.ndarray],
    end: np.datetime64,
    per_lead: float,
) -> pa.Table:
    """Behaviour: engaged leads do more; SQLs ask for a demo or visit pricing before SQL."""
    engaged = reached["mql"].astype(np.float64) * 1.5 + 0.5
    counts = rng.poisson(per_lead * engaged / engaged.mean())
    rows = np.repeat(np.arange(n), counts)
    kinds = _ACTIVITY_TYPES[rng.choice(len(_ACTIVITY_TYPES), rows.size, p=_ACTIVITY_SHARE)]
    offset = (rng.exponential(12.0, rows.size) * _DAY).astype(np.int64).astype("timedelta64[ns]")
    when = created[rows] + offset
    # Each SQL shows buying intent shortly before it: a demo request or a pricing visit.
    sql_ix = np.flatnonzero(reached["sql"])
    intent_kind = np.where(rng.random(sql_ix.size) < 0.6, "demo_request", "pricing_page_view")
    intent_at = at["sql"][sql_ix] - (rng.uniform(0.05, 3.0, sql_ix.size) * _HOUR).astype(
        np.int64
    ).astype("timedelta64[ns]")
    rows = np.concatenate([rows, sql_ix])
    kinds = np.concatenate([kinds, intent_kind])
    when = np.concatenate([when, np.maximum(intent_at, created[sql_ix])])
    keep = when < end
    order = np.lexsort((when[keep], rows[keep]))
    rows, kinds, when = rows[keep][order], kinds[keep][order], when[keep][order]
    url = np.where(
        kinds == "pricing_page_view",
        "/pricing",
        np.where(kinds == "page_view", "/blog/sla-guide", ""),
    )
    return pa.table(
        {
            "lead_id": ids[rows],
            "type": kinds,
            "at": _utc(when),
            "url": url,
            "content": np.where(kinds == "content_download", "SLA template ebook", ""),
        }
    )


def _utc(values: np.ndarray, mask: np.ndarray | None = None) -> pa.Array:
    """numpy datetime64[ns] (UTC wall) as a pyarrow UTC timestamp column; masked → null."""
    array = pa.array(values.astype("datetime64[s]"), type=pa.timestamp("s"), mask=mask)
    return array.cast(pa.timestamp("s", tz="UTC"))


@dataclass(frozen=True)
class DemoSummary:
    """What `leadpact demo` built and what the workspace shows at the end of the period."""

    directory: Path
    as_of: datetime
    files: dict[str, Path]
    imported: dict[str, int]
    stages: dict[str, int]
    priorities: dict[str, int]
    compliance: list[dict[str, str | int | float | None]]
    breaches: int
    queue: list[dict[str, object]]


def run_demo(
    directory: Path,
    *,
    seed: int,
    leads: int,
    start: date,
    days: int,
    pact_text: str,
    clock: Clock,
) -> DemoSummary:
    """Build a demo workspace: the example pact, a year of generated data, imported and scored.

    Args:
        directory: the workspace folder (created; an existing `pact.yaml` is replaced).
        seed: the generator's seed.
        leads: how many leads arrive over the period.
        start: the first day of the period.
        days: the period's length in days.
        pact_text: the agreement to write (the shipped example).
        clock: "now" for scoring and the summary; the period should end before it.

    Returns:
        The files written, the import counts and a summary of the workspace at `clock.now()`.
    """
    from leadpact.services import importing, scoring, sla
    from leadpact.services.workspace import open_workspace

    directory.mkdir(parents=True, exist_ok=True)
    (directory / "pact.yaml").write_text(pact_text, encoding="utf-8")
    data = generate(seed=seed, leads=leads, start=start, days=days)
    files = data.write_csv(directory / "data")
    imported: dict[str, int] = {}
    with open_workspace(directory, clock=clock) as workspace:
        for kind in ("leads", "activities", "touches", "deals"):
            report = importing.import_file(workspace, files[kind], score=False)
            imported[kind] = report.landed
        as_of = clock.now()
        with workspace.transaction() as conn:
            scoring.rescore(conn, workspace.pact, now=as_of)
        compliance = [
            {
                "commitment": c.commitment_id,
                "met": c.met,
                "breached": c.breached,
                "pending": c.pending + c.at_risk,
                "attainment": c.attainment_rate,
            }
            for c in sla.sla_compliance(workspace, as_of)
        ]
        breaches = len(sla.sla_breaches(workspace, as_of))
        top = sla.queue(workspace, as_of)[:10]
        stages, priorities = _counts(workspace)
    return DemoSummary(
        directory=directory,
        as_of=as_of,
        files=files,
        imported=imported,
        stages=stages,
        priorities=priorities,
        compliance=compliance,
        breaches=breaches,
        queue=[
            {
                "lead": item.lead_id,
                "owner": item.owner,
                "stage": item.stage,
                "priority": item.priority,
                "due_at": item.clock.due_at if item.clock else None,
                "status": item.clock.status.value if item.clock else None,
            }
            for item in top
        ],
    )


def _counts(workspace: Workspace) -> tuple[dict[str, int], dict[str, int]]:
    """Leads per stage and per priority."""
    from sqlalchemy import func, select

    from leadpact.store.tables import leads

    with workspace.engine.connect() as conn:
        by_stage = conn.execute(select(leads.c.stage, func.count()).group_by(leads.c.stage))
        stages = {str(stage): int(n) for stage, n in by_stage.all()}
        priorities = conn.execute(select(leads.c.priority, func.count()).group_by(leads.c.priority))
        by_priority = {str(p) if p is not None else "unscored": n for p, n in priorities.all()}
    return stages, by_priority
