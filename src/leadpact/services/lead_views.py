"""What the web pages show of leads: the lead page, the lead list and the reps with open leads.

`lead_page` builds on `services.leads.lead_detail` (facts, explained score, history, clocks)
and adds what a person working the lead needs: one timeline of activities, touches and stage
changes, each clock with how long it keeps ticking (for a live countdown), and the actions the
pact allows from the lead's stage (`services.lead_actions.lead_actions`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import numpy as np
from sqlalchemy import Select, func, or_, select

from leadpact.core.pact import Outcome, Pact
from leadpact.core.sla import SlaResult
from leadpact.errors import LeadPactError
from leadpact.services.lead_actions import LeadActions, lead_actions, stage_name
from leadpact.services.leads import LeadDetail, lead_detail
from leadpact.store.leads import LeadRow
from leadpact.store.tables import leads

if TYPE_CHECKING:
    from leadpact.services.workspace import Workspace

__all__ = [
    "MAX_PAGE",
    "ClockView",
    "LeadList",
    "LeadPage",
    "QueueEntry",
    "RepQueue",
    "TimelineEntry",
    "clock_views",
    "lead_page",
    "list_owners",
    "rep_queue",
    "search_leads",
]

#: Most leads one page of the lead list shows.
MAX_PAGE = 500


@dataclass(frozen=True, slots=True)
class TimelineEntry:
    """One event in a lead's history: an activity, a touch or a stage change."""

    at: datetime
    kind: str  # "activity" | "touch" | "stage_change"
    title: str
    detail: str | None = None
    actor: str | None = None


@dataclass(frozen=True, slots=True)
class ClockView:
    """An SLA clock with what a page needs to count it down live.

    `ticking_until` is the end of the open business interval holding `as_of` while the clock
    runs and its calendar is open (business time passes until then); None when the clock is
    stopped or its calendar is closed at `as_of` (the countdown stands still).
    """

    result: SlaResult
    description: str | None
    as_of: datetime
    ticking_until: datetime | None


@dataclass(frozen=True)
class LeadPage:
    """Everything the lead page shows."""

    detail: LeadDetail
    stage_name: str
    timeline: list[TimelineEntry]
    clocks: list[ClockView]
    actions: LeadActions


@dataclass(frozen=True)
class LeadList:
    """One page of the lead list and the number of leads matching the filters."""

    leads: list[LeadRow]
    total: int
    limit: int
    offset: int
    filters: dict[str, Any] = field(default_factory=dict)


def lead_page(workspace: Workspace, lead_id: str, as_of: datetime | None = None) -> LeadPage:
    """The lead page of one lead at `as_of` (default: the workspace clock's now).

    Raises:
        NotFoundError: there is no such lead.
    """
    detail = lead_detail(workspace, lead_id, as_of)
    pact = workspace.pact
    return LeadPage(
        detail=detail,
        stage_name=stage_name(pact, detail.lead.stage),
        timeline=_timeline(pact, detail),
        clocks=clock_views(pact, detail.clocks, detail.as_of),
        actions=lead_actions(pact, detail.lead.stage),
    )


def clock_views(pact: Pact, results: list[SlaResult], as_of: datetime) -> list[ClockView]:
    """The clocks with their commitment's words and how long each keeps ticking."""
    described = {c.id: getattr(c, "description", None) for c in pact.commitments}
    return [
        ClockView(r, described.get(r.commitment_id), as_of, _ticking_until(pact, r, as_of))
        for r in results
    ]


def _ticking_until(pact: Pact, result: SlaResult, as_of: datetime) -> datetime | None:
    if result.stopped_at is not None:
        return None
    calendar = pact.calendar(result.calendar)
    if not calendar.is_open(as_of):
        return None
    found = calendar.intervals(as_of - timedelta(days=2), as_of + timedelta(days=2))
    for opening, closing in zip(found.open_at, found.close_at, strict=True):
        start, end = _utc(opening), _utc(closing)
        if start <= as_of < end:
            return end
    return None  # pragma: no cover - an open calendar has an interval holding as_of


def _utc(value: np.datetime64) -> datetime:
    micro = value.astype("datetime64[us]").item()
    assert isinstance(micro, datetime)
    return micro.replace(tzinfo=UTC)


def _timeline(pact: Pact, detail: LeadDetail) -> list[TimelineEntry]:
    """Activities, touches and stage changes, newest first."""
    entries: list[TimelineEntry] = []
    for a in detail.activities:
        label = a.type.replace("_", " ").capitalize()
        entries.append(TimelineEntry(a.at, "activity", label, a.content or a.url, None))
    for t in detail.touches:
        title = f"{t.channel.capitalize()}: {t.outcome.replace('_', ' ')}"
        entries.append(TimelineEntry(t.at, "touch", title, t.note, t.rep))
    for c in detail.stage_history:
        new = stage_name(pact, c.to_stage)
        title = f"{stage_name(pact, c.from_stage)} → {new}" if c.from_stage else new
        entries.append(TimelineEntry(c.at, "stage_change", title, c.reason, c.actor))
    order = {"activity": 0, "touch": 1, "stage_change": 2}
    return sorted(entries, key=lambda e: (e.at, order[e.kind]), reverse=True)


def search_leads(
    workspace: Workspace,
    *,
    q: str | None = None,
    stage: str | None = None,
    owner: str | None = None,
    priority: int | None = None,
    limit: int = 50,
    offset: int = 0,
) -> LeadList:
    """A page of leads matching every filter given, newest first; erased leads left out.

    `q` matches the id, email, names or company (case-insensitive, anywhere in the text).

    Raises:
        LeadPactError: a limit outside 1..`MAX_PAGE` or a negative offset.
    """
    if not 1 <= limit <= MAX_PAGE:
        raise LeadPactError(f"limit must be between 1 and {MAX_PAGE}, got {limit}")
    if offset < 0:
        raise LeadPactError(f"offset must be 0 or more, got {offset}")
    query: Select[Any] = select(leads).where(leads.c.erased_at.is_(None))
    for column, value in (("stage", stage), ("owner", owner), ("priority", priority)):
        if value is not None and value != "":
            query = query.where(leads.c[column] == value)
    text = (q or "").strip().lower()
    if text:
        pattern = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        names = ("id", "email", "first_name", "last_name", "company")
        query = query.where(
            or_(*(func.lower(leads.c[name]).like(pattern, escape="\\") for name in names))
        )
    counted = select(func.count()).select_from(query.subquery())
    page = query.order_by(leads.c.created_at.desc(), leads.c.id).limit(limit).offset(offset)
    with workspace.engine.connect() as conn:
        total = int(conn.execute(counted).scalar_one())
        rows = [LeadRow(**row) for row in conn.execute(page).mappings()]
    filters = {"q": q, "stage": stage, "owner": owner, "priority": priority}
    return LeadList(rows, total, limit, offset, {k: v for k, v in filters.items() if v})


def list_owners(workspace: Workspace) -> list[tuple[str, int]]:
    """The owners of open leads with how many open leads each has, by name."""
    closed = [s.id for s in workspace.pact.stages if s.outcome is not Outcome.OPEN]
    query = (
        select(leads.c.owner, func.count())
        .where(leads.c.owner.is_not(None), leads.c.stage.not_in(closed))
        .where(leads.c.erased_at.is_(None))
        .group_by(leads.c.owner)
        .order_by(leads.c.owner)
    )
    with workspace.engine.connect() as conn:
        return [(str(owner), int(n)) for owner, n in conn.execute(query).all()]


@dataclass(frozen=True)
class QueueEntry:
    """A lead in a rep's queue: the lead and its most urgent running clock (if any)."""

    lead: LeadRow
    clock: ClockView | None


@dataclass(frozen=True)
class RepQueue:
    """One page of a rep's queue, most urgent first (`services.sla.queue` order)."""

    owner: str
    as_of: datetime
    total: int
    limit: int
    offset: int
    entries: list[QueueEntry]


def rep_queue(
    workspace: Workspace,
    owner: str,
    as_of: datetime | None = None,
    *,
    limit: int = 100,
    offset: int = 0,
) -> RepQueue:
    """A page of the open leads of `owner`, in priority order, with their clocks.

    Raises:
        LeadPactError: a limit outside 1..`MAX_PAGE` or a negative offset.
    """
    from leadpact.services.sla import queue

    if not 1 <= limit <= MAX_PAGE:
        raise LeadPactError(f"limit must be between 1 and {MAX_PAGE}, got {limit}")
    if offset < 0:
        raise LeadPactError(f"offset must be 0 or more, got {offset}")
    now = workspace.clock.now() if as_of is None else as_of
    items = queue(workspace, now, owner=owner)
    page = items[offset : offset + limit]
    ids = [item.lead_id for item in page]
    with workspace.engine.connect() as conn:
        rows = {
            row["id"]: LeadRow(**row)
            for start in range(0, len(ids), 500)
            for row in conn.execute(
                select(leads).where(leads.c.id.in_(ids[start : start + 500]))
            ).mappings()
        }
    clocks = clock_views(workspace.pact, [i.clock for i in page if i.clock is not None], now)
    by_lead = {view.result.lead_id: view for view in clocks}
    entries = [
        QueueEntry(rows[item.lead_id], by_lead.get(item.lead_id))
        for item in page
        if item.lead_id in rows
    ]
    return RepQueue(owner, now, len(items), limit, offset, entries)
