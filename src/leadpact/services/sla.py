"""SLA clocks of a workspace: load leads and their events in bulk, evaluate every clock at an
instant with the batch path of `core.sla`, and shape the answers the CLI and the web show.

Reads only: each function opens its own read connection on the workspace's engine. "Now" is
the `as_of` argument, else the workspace's clock. The facts a commitment's `when` tests are the
stored ones (the lead's fields and its last scores), plus, when a condition asks for them,
``attempts`` and ``connected`` (touches up to `as_of`) and ``activities.<type>`` (activities up
to `as_of`) — the definitions `analytics.sla_metrics` uses.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
from sqlalchemy import ColumnElement, Connection, Select, func, select

from leadpact.core.compliance import CommitmentCompliance, summarize
from leadpact.core.conditions import walk
from leadpact.core.models import FACT_FIELDS, TouchOutcome
from leadpact.core.pact import Outcome, Pact
from leadpact.core.sla import (
    SlaColumns,
    SlaResult,
    SlaStatus,
    evaluate,
    evaluate_many,
    timed_commitments,
)
from leadpact.errors import NotFoundError
from leadpact.services.bulk import fetch_chunks, instant_expression, utc_datetimes
from leadpact.store.events import list_activities, list_stage_changes, list_touches
from leadpact.store.leads import get_lead
from leadpact.store.tables import activities, leads, stage_changes, touches

if TYPE_CHECKING:
    from leadpact.services.workspace import Workspace

__all__ = [
    "QueueItem",
    "lead_clocks",
    "overdue_by",
    "queue",
    "sla_breaches",
    "sla_compliance",
    "sla_status",
]

#: Scores the store keeps on each lead, under their condition names.
_SCORES = ("persona", "fit", "fit_grade", "engagement", "priority")
#: Lead columns every evaluation reads, beside the ones conditions ask for.
_ALWAYS = ("owner", "team", "stage", "priority")
_CONNECTIONS = [o.value for o in TouchOutcome if o.is_connection]

ObjectArray = npt.NDArray[np.object_]


@dataclass(frozen=True, slots=True)
class QueueItem:
    """An open lead in a rep's queue, with its most urgent running clock (if any)."""

    lead_id: str
    owner: str | None
    team: str | None
    stage: str
    priority: int | None
    clock: SlaResult | None


def sla_status(workspace: Workspace, as_of: datetime | None = None) -> list[SlaResult]:
    """Every SLA clock of every lead at `as_of` (default: the workspace clock's now).

    Returns:
        The clocks ordered by lead id, then by the pact's order of commitments.
    """
    return _clocks(workspace, _now(workspace, as_of)).results()


def sla_compliance(
    workspace: Workspace, as_of: datetime | None = None, commitment: str | None = None
) -> list[CommitmentCompliance]:
    """Compliance per timed commitment at `as_of`: counts by status, attainment, times.

    Args:
        workspace: the open workspace.
        as_of: the instant (default: now).
        commitment: only this commitment.

    Raises:
        NotFoundError: `commitment` is not a timed commitment of the pact.
    """
    timed = timed_commitments(workspace.pact)
    if commitment is not None:
        timed = [c for c in timed if c.id == commitment]
        if not timed:
            known = ", ".join(c.id for c in timed_commitments(workspace.pact))
            raise NotFoundError(f"the pact has no timed commitment {commitment!r}; it has: {known}")
    results = sla_status(workspace, as_of)
    wanted = {c.id for c in timed}
    return summarize((r for r in results if r.commitment_id in wanted), timed)


def sla_breaches(workspace: Workspace, as_of: datetime | None = None) -> list[SlaResult]:
    """The breached clocks at `as_of`, the earliest due first (then by lead id)."""
    breached = [r for r in sla_status(workspace, as_of) if r.status is SlaStatus.BREACHED]
    return sorted(breached, key=lambda r: (r.due_at, r.lead_id, r.commitment_id))


def overdue_by(result: SlaResult, as_of: datetime) -> timedelta:
    """Elapsed (not business) time from the due instant to the stop, or to `as_of`."""
    return (result.stopped_at or as_of) - result.due_at


def lead_clocks(
    workspace: Workspace, lead_id: str, as_of: datetime | None = None
) -> list[SlaResult]:
    """The SLA clocks of one lead at `as_of`, by the scalar path (`core.sla.evaluate`).

    Raises:
        NotFoundError: there is no such lead.
    """
    now = _now(workspace, as_of)
    fields = _condition_fields(workspace.pact)
    with workspace.engine.connect() as conn:
        row = get_lead(conn, lead_id)
        changes = [r.change() for r in list_stage_changes(conn, lead_id)]
        made = [r.touch() for r in list_touches(conn, lead_id)]
        done = [a.type for a in list_activities(conn, lead_id) if a.at <= now]
    lead = row.facts()
    facts: dict[str, Any] = lead.facts() | {name: getattr(row, name) for name in _SCORES}
    seen = [t for t in made if t.at <= now]
    facts |= {"attempts": len(seen), "connected": any(t.outcome.is_connection for t in seen)}
    facts |= {f: done.count(f.partition(".")[2]) for f in fields if f.startswith("activities.")}
    return evaluate(lead, changes, made, workspace.pact, as_of=now, facts=facts)


def queue(
    workspace: Workspace,
    as_of: datetime | None = None,
    *,
    stage: str | None = None,
    owner: str | None = None,
    priority: int | None = None,
) -> list[QueueItem]:
    """Open leads (in a stage whose outcome is open), most urgent first.

    Ordered by priority (1 first, unscored last), then by the business time left on the lead's
    most urgent running clock (overdue clocks first; leads without a running clock last),
    then by lead id.

    Args:
        workspace: the open workspace.
        as_of: the instant (default: now).
        stage: only leads in this stage.
        owner: only leads of this owner.
        priority: only leads of this priority.
    """
    now = _now(workspace, as_of)
    closed = {s.id for s in workspace.pact.stages if s.outcome is not Outcome.OPEN}
    filters: list[ColumnElement[bool]] = [leads.c.stage.not_in(closed)] if closed else []
    for column, value in (("stage", stage), ("owner", owner), ("priority", priority)):
        if value is not None:
            filters.append(leads.c[column] == value)
    with workspace.engine.connect() as conn:
        columns, clocks = evaluate_clocks(conn, workspace.pact, now, filters)
    urgent: dict[int, tuple[timedelta, SlaResult]] = {}
    for result, position in zip(clocks.results(), clocks.lead.tolist(), strict=True):
        left = result.time_left
        if left is not None and (position not in urgent or left < urgent[position][0]):
            urgent[position] = (left, result)
    items = [
        QueueItem(
            lead_id=lead_id,
            owner=columns["owner"][i],
            team=columns["team"][i],
            stage=columns["stage"][i],
            priority=columns["priority"][i],
            clock=urgent[i][1] if i in urgent else None,
        )
        for i, lead_id in enumerate(columns["id"].tolist())
    ]
    return sorted(items, key=_urgency)


def _urgency(item: QueueItem) -> tuple[Any, ...]:
    left = None if item.clock is None else item.clock.time_left
    return (item.priority is None, item.priority or 0, left is None, left, item.lead_id)


# --- Loading ------------------------------------------------------------------------------


def _now(workspace: Workspace, as_of: datetime | None) -> datetime:
    return workspace.clock.now() if as_of is None else as_of


def _condition_fields(pact: Pact) -> set[str]:
    """The lead fields the timed commitments' `when` conditions test."""
    return {t.field for c in timed_commitments(pact) if c.when for t in walk(c.when)}


def _clocks(workspace: Workspace, as_of: datetime) -> SlaColumns:
    with workspace.engine.connect() as conn:
        return evaluate_clocks(conn, workspace.pact, as_of, [])[1]


def evaluate_clocks(
    conn: Connection, pact: Pact, as_of: datetime, filters: list[ColumnElement[bool]]
) -> tuple[dict[str, ObjectArray], SlaColumns]:
    """Load the leads matching `filters` and their events up to `as_of`; evaluate the clocks."""
    fields = _condition_fields(pact)
    stored = list(dict.fromkeys([*_ALWAYS, *(f for f in (*FACT_FIELDS, *_SCORES) if f in fields)]))
    query = select(leads.c.id, *(leads.c[n] for n in stored)).where(*filters).order_by(leads.c.id)
    rows = [row for chunk in fetch_chunks(conn, query) for row in chunk]
    columns = {"id": _objects([r[0] for r in rows])}
    columns |= {name: _objects([r[i + 1] for r in rows]) for i, name in enumerate(stored)}
    position = {lead_id: i for i, lead_id in enumerate(columns["id"].tolist())}
    chosen = select(leads.c.id).where(*filters)
    changes = _events(conn, stage_changes, "to_stage", position, chosen, as_of)
    made = _events(conn, touches, "outcome", position, chosen, as_of)
    n = len(position)
    facts: dict[str, npt.NDArray[Any]] = dict(columns)
    if fields & {"attempts", "connected"}:
        connecting = np.isin(made["outcome"], _CONNECTIONS)
        facts["attempts"] = np.bincount(made["lead"], minlength=n)
        facts["connected"] = np.bincount(made["lead"], weights=connecting, minlength=n) > 0
    kinds = sorted(f.partition(".")[2] for f in fields if f.startswith("activities."))
    if kinds:
        facts |= _activity_counts(conn, kinds, position, chosen, as_of)
    return columns, evaluate_many(facts, changes, made, pact, as_of=as_of)


def _objects(values: list[Any]) -> ObjectArray:
    array = np.empty(len(values), dtype=object)
    array[:] = values
    return array


def _events(
    conn: Connection,
    table: Any,
    what: str,
    position: dict[str, int],
    chosen: Select[Any],
    as_of: datetime,
) -> dict[str, npt.NDArray[Any]]:
    """(lead position, `what`, at) of a lead's events up to `as_of`, in recording order."""
    query = (
        select(table.c.lead_id, table.c[what], instant_expression(conn, table.c.at))
        .where(table.c.at <= as_of, table.c.lead_id.in_(chosen))
        .order_by(table.c.id)
    )
    lead: list[int] = []
    kinds: list[Any] = []
    instants: list[npt.NDArray[np.datetime64]] = []
    for chunk in fetch_chunks(conn, query):
        ids, values, ats = zip(*chunk, strict=True)
        lead += [position[i] for i in ids]
        kinds += values
        instants.append(utc_datetimes(conn, ats))
    return {
        "lead": np.array(lead, dtype=np.int64),
        what: _objects(kinds),
        "at": np.concatenate(instants) if instants else np.zeros(0, "datetime64[us]"),
    }


def _activity_counts(
    conn: Connection,
    kinds: list[str],
    position: dict[str, int],
    chosen: Select[Any],
    as_of: datetime,
) -> dict[str, npt.NDArray[np.int64]]:
    """``activities.<type>`` per lead: activities of each type up to `as_of`."""
    counts = {kind: np.zeros(len(position), dtype=np.int64) for kind in kinds}
    query = (
        select(activities.c.lead_id, activities.c.type, func.count())
        .where(
            activities.c.at <= as_of,
            activities.c.type.in_(kinds),
            activities.c.lead_id.in_(chosen),
        )
        .group_by(activities.c.lead_id, activities.c.type)
    )
    for chunk in fetch_chunks(conn, query):
        for lead_id, kind, count in chunk:
            counts[kind][position[lead_id]] = count
    return {f"activities.{kind}": values for kind, values in counts.items()}
