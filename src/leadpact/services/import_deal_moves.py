"""Moving the leads of won and lost deals to the deal's stage, at the deal's `closed_at`.

After a chunk of deals is landed (`import_writer`), each lead whose first closed deal is won
or lost moves to that deal's stage when it is in an earlier open stage
(`core.lifecycle.transition` decides), recording the stage change under the key every recorder
of moves uses (`import_history.stage_change_keys`) unless that change is stored already.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from leadpact.core.pact import Outcome, Pact
from leadpact.errors import LeadPactError
from leadpact.services.import_history import stage_change_keys

if TYPE_CHECKING:
    from sqlalchemy import Table

    from leadpact.services.import_convert import Chunk
    from leadpact.services.import_report import Notes
    from leadpact.services.import_store import BulkStore

#: The actor of the stage changes an import records.
IMPORT_ACTOR = "import"


def move_leads(
    store: BulkStore,
    pact: Pact,
    now: datetime,
    notes: Notes,
    chunk: Chunk,
    closed: pa.Array,
    leads: pa.Table,
) -> int:
    """Move the leads of won and lost deals to the deal's stage, at its `closed_at`.

    Args:
        store: the import's store, inside the chunk's transaction.
        pact: the agreement (its stages and transitions).
        now: the import's time.
        notes: where deals closed without a date are counted.
        chunk: the deals, already landed.
        closed: each deal's `closed_at` (null when the file has no such column).
        leads: the deals' leads as stored: id, created_at, stage, stage_at.

    Returns:
        The stage changes recorded.
    """
    from leadpact.store import tables

    values = chunk.values | {"closed_at": closed}
    decided = _true(pc.is_valid(values["won"]))
    dated = _true(pc.is_valid(closed))
    notes.add(
        "closed_without_date",
        "won or lost deals without closed_at: their lead's stage was left as it is",
        chunk.lines[decided & ~dated],
    )
    rows = pa.array(np.flatnonzero(decided & dated))
    if not len(rows):
        return 0
    names = ("lead_id", "stage", "id", "closed_at", "won")
    deals = _first_per_lead(pa.table({n: values[n].take(rows) for n in names}))
    where = pc.index_in(deals.column("lead_id"), leads.column("id"))
    current = pc.take(leads.column("stage"), where)
    forward = pa.array(_forward(pact, now, current.to_pylist(), deals.column("stage").to_pylist()))
    if not pc.any(forward).as_py():
        return 0
    deals = deals.filter(forward)
    since = pc.take(leads.column("stage_at"), where).filter(forward)
    micros = deals.column("closed_at").cast(pa.int64()).to_numpy()
    spent = (micros - since.cast(pa.int64()).to_numpy()) / 1e6
    lead_ids, stages = deals.column("lead_id"), deals.column("stage")
    outcome = pc.if_else(deals.column("won"), "won", "lost")
    changes = {
        "key": stage_change_keys(lead_ids, stages, micros),
        "lead_id": lead_ids,
        "from_stage": current.filter(forward),
        "to_stage": stages,
        "at": deals.column("closed_at"),
        "reason": pc.binary_join_element_wise("deal", deals.column("id"), outcome, " "),
        "actor": pa.repeat(pa.scalar(IMPORT_ACTOR), deals.num_rows),
        # A deal closed before its lead entered its stage: the time spent there is unknown.
        "seconds_in_from": pa.array(np.where(spent >= 0, spent, np.nan), from_pandas=True),
    }
    changes = {k: _array(v) for k, v in changes.items()}
    stored = store.lookup(tables.stage_changes, "key", changes["key"], [])
    fresh = pc.invert(pc.is_in(changes["key"], stored.column("key")))
    changes = {k: v.filter(fresh) for k, v in changes.items()}
    if not len(changes["key"]):
        return 0
    rows = store.rows(changes)
    recorded = store.insert_new(tables.stage_changes, "key", rows)
    _set_stages(store, tables.leads, changes["lead_id"], changes["to_stage"], changes["at"])
    return recorded


def _forward(
    pact: Pact, now: datetime, current: list[str], target: list[str]
) -> np.ndarray[Any, Any]:
    """Whether each lead may move from its stage to the deal's: a forward move from an
    open stage, as `core.lifecycle.transition` allows (each distinct move asked once)."""
    from leadpact.core.lifecycle import transition

    verdicts: dict[tuple[str, str], bool] = {}
    for here, there in set(zip(current, target, strict=True)):
        try:
            open_now = pact.stage(here).outcome is Outcome.OPEN
            transition(here, there, lead_id="", at=now, pact=pact, actor=IMPORT_ACTOR)
        except LeadPactError:  # terminal, side or unknown stages: no move
            open_now = False
        verdicts[(here, there)] = open_now
    return np.array([verdicts[p] for p in zip(current, target, strict=True)], dtype=bool)


def _set_stages(
    store: BulkStore, leads: Table, lead_ids: pa.Array, stages: pa.Array, at: pa.Array
) -> None:
    from sqlalchemy import bindparam, update

    store.conn.execute(
        update(leads)
        .where(leads.c.id == bindparam("b_id"))
        .values(stage=bindparam("b_stage"), stage_at=bindparam("b_at")),
        [
            {"b_id": i, "b_stage": s, "b_at": a}
            for i, s, a in zip(
                lead_ids.to_pylist(), stages.to_pylist(), at.to_pylist(), strict=True
            )
        ],
    )


def _first_per_lead(deals: pa.Table) -> pa.Table:
    """The deal each lead closed first."""
    deals = deals.sort_by([("lead_id", "ascending"), ("closed_at", "ascending")])
    lead_ids = deals.column("lead_id").to_numpy()
    first = np.ones(len(lead_ids), dtype=bool)
    first[1:] = lead_ids[1:] != lead_ids[:-1]
    return deals.filter(pa.array(first))


def _array(values: pa.Array | pa.ChunkedArray) -> pa.Array:
    return values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values


def _true(mask: pa.Array | pa.ChunkedArray) -> np.ndarray[Any, np.dtype[np.bool_]]:
    """A boolean column as numpy, null as false."""
    return pc.fill_null(mask, False).to_numpy(zero_copy_only=False)  # type: ignore[no-any-return]
