"""Reading what a rescore needs from the store, as numpy columns.

For all the leads scored (`read_leads`, `read_activities`, `read_touch_facts`) and, for the
few the pact moves, the older history dating their moves needs (`read_moving_history`).
Activities are read as raw (lead, type, instant) columns, not aggregated in SQL, because decay
needs each activity's age and only the numpy path computes it with the scalar path's
arithmetic (docs/scoring.md, "Performance").
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import repeat
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy import Column, Connection, String, Table, case, func, select
from sqlalchemy.sql.elements import ColumnElement

from leadpact.core.conditions import ACTIVITY_TYPES
from leadpact.core.lifecycle import decision_fields
from leadpact.core.models import FACT_FIELDS, TouchOutcome
from leadpact.core.pact import Pact
from leadpact.services.bulk import (
    db_instants,
    fetch_chunks,
    instant_expression,
    load_rows,
    temporary_table,
    utc_datetimes,
)
from leadpact.store.tables import UtcDateTime, activities, leads, touches

#: Slack below the window's start when reading activities: `core` applies the exact window on
#: exact instants.
WINDOW_SLACK = timedelta(seconds=1)


def _object_column(values: list[Any]) -> npt.NDArray[np.object_]:
    array = np.empty(len(values), dtype=object)
    array[:] = values
    return array


def read_leads(
    conn: Connection, only: list[str] | None
) -> tuple[npt.NDArray[np.object_], dict[str, npt.NDArray[Any]], npt.NDArray[np.datetime64]]:
    """Lead ids, their facts as object columns (the scalar path's values) and `stage_at`."""
    names = list(FACT_FIELDS)
    query = select(
        leads.c.id, *(leads.c[n] for n in names), instant_expression(conn, leads.c.stage_at)
    ).where(leads.c.erased_at.is_(None))
    if only is not None:
        query = query.where(leads.c.id.in_(only))
    parts: list[list[Any]] = [[] for _ in range(len(names) + 2)]
    for chunk in fetch_chunks(conn, query):
        for part, values in zip(parts, zip(*chunk, strict=True), strict=True):
            part.extend(values)
    ids = _object_column(parts[0])
    columns = {name: _object_column(values) for name, values in zip(names, parts[1:], strict=False)}
    return ids, columns, utc_datetimes(conn, tuple(parts[-1]))


def read_activities(
    conn: Connection,
    pact: Pact,
    position: Mapping[str, int],
    *,
    now: datetime,
    only: list[str] | None,
) -> dict[str, npt.NDArray[Any]]:
    """(lead position, type code, instant) of the activities that can count at `now`.

    The type is coded in SQL (small integers cost Python far less than strings); activities
    of leads not in `position` (erased ones) are dropped.
    """
    rules = pact.scoring.engagement
    query = select(activities.c.lead_id, _type_code(), instant_expression(conn, activities.c.at))
    query = query.where(activities.c.at <= now)
    if only is not None:
        query = query.where(activities.c.lead_id.in_(only))
    if rules.window is not None:
        query = query.where(activities.c.at >= now - rules.window - WINDOW_SLACK)
    return _activity_columns(conn, query, position)


def _type_code() -> ColumnElement[Any]:
    """The activity type as its code (`core.scoring.type_codes`), computed in SQL."""
    return case(
        {kind: i for i, kind in enumerate(ACTIVITY_TYPES)}, value=activities.c.type, else_=-1
    )


def _activity_columns(
    conn: Connection, query: Any, position: Mapping[str, int]
) -> dict[str, npt.NDArray[Any]]:
    """(lead position, type code, instant) columns of a (lead_id, code, instant) query."""
    leads_at: list[npt.NDArray[np.int64]] = [np.zeros(0, dtype=np.int64)]
    codes: list[npt.NDArray[np.int16]] = [np.zeros(0, dtype=np.int16)]
    instants: list[npt.NDArray[np.datetime64]] = [np.zeros(0, dtype="datetime64[us]")]
    for chunk in fetch_chunks(conn, query):
        lead_ids, kinds, ats = zip(*chunk, strict=True)
        found = map(position.get, lead_ids, repeat(-1))
        leads_at.append(np.fromiter(found, dtype=np.int64, count=len(chunk)))
        codes.append(np.array(kinds, dtype=np.int16))
        instants.append(utc_datetimes(conn, ats))
    lead = np.concatenate(leads_at)
    known = lead >= 0
    return {
        "lead": lead[known],
        "type": np.concatenate(codes)[known],
        "at": np.concatenate(instants)[known],
    }


def read_touch_facts(
    conn: Connection,
    pact: Pact,
    position: Mapping[str, int],
    *,
    now: datetime,
    only: list[str] | None,
) -> dict[str, npt.NDArray[Any]]:
    """`attempts` and `connected` per lead, when a stage rule tests them."""
    if not _tests_touches(pact):
        return {}
    connections = [o.value for o in TouchOutcome if o.is_connection]
    query = (
        select(
            touches.c.lead_id,
            func.count(),
            func.max(case((touches.c.outcome.in_(connections), 1), else_=0)),
        )
        .where(touches.c.at <= now)
        .group_by(touches.c.lead_id)
    )
    if only is not None:
        query = query.where(touches.c.lead_id.in_(only))
    n = len(position)
    attempts = np.zeros(n, dtype=np.int64)
    connected = np.zeros(n, dtype=bool)
    for chunk in fetch_chunks(conn, query):
        for lead_id, count, any_connection in chunk:
            i = position.get(lead_id)
            if i is not None:
                attempts[i] = count
                connected[i] = bool(any_connection)
    return {"attempts": attempts, "connected": connected}


def _tests_touches(pact: Pact) -> bool:
    """Whether a stage rule tests the lead's touches (``attempts``, ``connected``)."""
    return bool(decision_fields(pact) & {"attempts", "connected"})


@dataclass(frozen=True)
class MovingHistory:
    """The history of the leads the pact moves, by their position among those leads."""

    #: When each lead was created (its `stage_at` if the store has no such lead).
    created_at: npt.NDArray[np.datetime64]
    #: (lead position, type code, instant) of their activities, scoring's and older ones.
    activities: dict[str, npt.NDArray[Any]]
    #: (lead position, instant, connected) of their touches, when a stage rule tests them.
    touches: dict[str, npt.NDArray[Any]] | None


def read_moving_history(
    conn: Connection,
    pact: Pact,
    ids: npt.NDArray[np.object_],
    stage_at: npt.NDArray[np.datetime64],
    history: Mapping[str, npt.NDArray[Any]],
    moved: npt.NDArray[np.intp],
    *,
    now: datetime,
) -> MovingHistory:
    """Read what dating the moves needs of the moving leads (`core.qualification`).

    Reads only the moving leads' history, in bulk through a temporary table of their ids:
    their creation instants, their activities older than the ones scoring read (from the
    window's length before they entered their stage on) and, when a stage rule tests them,
    their touches. Scoring's activities (`history`) are reused.

    Args:
        conn: a connection inside the caller's transaction.
        pact: the agreement.
        ids: the moving leads (at least one).
        stage_at: when each of them entered its current stage.
        history: scoring's activity columns, by position among all the leads scored.
        moved: the moving leads' positions among all the leads scored.
        now: the instant scored at.

    Returns:
        Their creation instants, activities and touches.
    """
    k = len(moved)
    rules = pact.scoring.engagement
    moving = temporary_table(
        conn,
        "leadpact_moving",
        Column("id", String(200), primary_key=True),
        Column("read_from", UtcDateTime()),
    )
    # Activities that can count at the stage entry or later (a window before it) matter.
    read_from = stage_at - np.timedelta64((rules.window or timedelta(0)) + WINDOW_SLACK)
    loaded = zip(ids.tolist(), db_instants(conn, read_from), strict=True)
    load_rows(conn, moving, loaded)
    position = {lead_id: i for i, lead_id in enumerate(ids.tolist())}

    created = np.array(stage_at, dtype="datetime64[us]")
    query = select(leads.c.id, instant_expression(conn, leads.c.created_at)).join(
        moving, moving.c.id == leads.c.id
    )
    for chunk in fetch_chunks(conn, query):
        lead_ids, ats = zip(*chunk, strict=True)
        rows = np.fromiter(map(position.__getitem__, lead_ids), dtype=np.int64, count=len(chunk))
        created[rows] = utc_datetimes(conn, ats)

    subset = np.full(int(moved.max()) + 1, -1, dtype=np.int64)
    subset[moved] = np.arange(k)
    lead = np.asarray(history["lead"], dtype=np.int64)
    mine = np.flatnonzero(lead < len(subset))
    mine = mine[subset[lead[mine]] >= 0]
    parts = [{"lead": subset[lead[mine]], "type": history["type"][mine], "at": history["at"][mine]}]
    if rules.window is not None:
        older = (
            select(activities.c.lead_id, _type_code(), instant_expression(conn, activities.c.at))
            .join(moving, moving.c.id == activities.c.lead_id)
            .where(
                activities.c.at >= moving.c.read_from,
                activities.c.at < now - rules.window - WINDOW_SLACK,
            )
        )
        parts.append(_activity_columns(conn, older, position))
    made = _touch_history(conn, moving, position, now=now) if _tests_touches(pact) else None
    moving.drop(conn)
    return MovingHistory(
        created_at=created,
        activities={name: np.concatenate([part[name] for part in parts]) for name in parts[0]},
        touches=made,
    )


def _touch_history(
    conn: Connection, moving: Table, position: Mapping[str, int], *, now: datetime
) -> dict[str, npt.NDArray[Any]]:
    """(lead position, instant, connected) of the moving leads' touches up to `now`."""
    connections = [o.value for o in TouchOutcome if o.is_connection]
    query = (
        select(
            touches.c.lead_id,
            instant_expression(conn, touches.c.at),
            case((touches.c.outcome.in_(connections), 1), else_=0),
        )
        .join(moving, moving.c.id == touches.c.lead_id)
        .where(touches.c.at <= now)
    )
    lead: list[int] = []
    connected: list[int] = []
    instants: list[npt.NDArray[np.datetime64]] = [np.zeros(0, dtype="datetime64[us]")]
    for chunk in fetch_chunks(conn, query):
        lead_ids, ats, reached = zip(*chunk, strict=True)
        lead += map(position.__getitem__, lead_ids)
        connected += reached
        instants.append(utc_datetimes(conn, ats))
    return {
        "lead": np.array(lead, dtype=np.int64),
        "at": np.concatenate(instants),
        "connected": np.array(connected, dtype=np.bool_),
    }
