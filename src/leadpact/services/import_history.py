"""The stage history a leads file gives, as stage-change rows under their stored keys.

A leads file may date the stages each lead entered (`became_<stage>_at`, HubSpot style) and
the current one (`stage_at`); `stage_history` turns those dates into stage changes, per lead in
time order, each with the time spent in the stage before. `stage_change_keys` gives the key
every recorder of moves uses (`core.models.stage_change_key`); the writer keys the moves of
won and lost deals with it too (`services.import_deal_moves`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from leadpact.services.import_readers import Lines

_UTC_US = pa.timestamp("us", "UTC")


def stage_history(
    values: dict[str, pa.Array], lines: Lines, entered: Mapping[str, str], *, stage_at: bool
) -> pa.Table | None:
    """Stage-change rows from the lifecycle dates of each lead (`became_<stage>_at`), with
    the line of the lead they come from.

    Args:
        values: the chunk's typed canonical columns (`id`, the lifecycle dates, `stage`...).
        lines: the file line of each row.
        entered: the `became_<stage>_at` columns of the file and the stage each one dates.
        stage_at: whether the file gives `stage_at` (the date of the lead's current stage).

    Returns:
        key, lead_id, from_stage, to_stage, at, seconds_in_from and line of each change, or
        None when no row has a date.
    """
    dated = [(values[name], pa.scalar(stage)) for name, stage in entered.items()]
    if stage_at:
        dated.append((values["stage_at"], values["stage"]))
    rows, ats, stages = [], [], []
    for at, stage in dated:
        present = np.flatnonzero(at.is_valid().to_numpy(zero_copy_only=False))
        rows.append(present)
        ats.append(at.take(pa.array(present)).cast(pa.int64()).to_numpy())
        if isinstance(stage, pa.Scalar):
            stages.append(np.full(len(present), stage.as_py(), dtype=object))
        else:
            stages.append(stage.take(pa.array(present)).to_numpy(zero_copy_only=False))
    row = np.concatenate(rows)
    if not len(row):
        return None
    micros = np.concatenate(ats)
    stage_names = np.concatenate(stages)
    names, code = np.unique(stage_names.astype(str), return_inverse=True)
    order = np.lexsort((code, micros, row))  # per lead, by time, then stage name
    row, micros, code = row[order], micros[order], code[order]
    repeat = np.zeros(len(row), dtype=bool)  # the same stage at the same time, twice
    repeat[1:] = (row[1:] == row[:-1]) & (micros[1:] == micros[:-1]) & (code[1:] == code[:-1])
    row, micros, code = row[~repeat], micros[~repeat], code[~repeat]
    after = np.zeros(len(row), dtype=bool)  # rows that follow a change of the same lead
    after[1:] = row[1:] == row[:-1]
    previous = np.roll(np.arange(len(row)), 1)
    lead_ids = values["id"].take(pa.array(row))
    to_stage = pa.array(names[code], pa.string())
    left = names[code][previous].astype(object)
    left[~after] = None
    from_stage = pa.array(left, pa.string())
    seconds = pa.array(
        np.where(after, (micros - micros[previous]) / 1e6, np.nan),
        pa.float64(),
        from_pandas=True,
    )
    return pa.table(
        {
            "key": stage_change_keys(lead_ids, to_stage, micros),
            "lead_id": lead_ids,
            "from_stage": from_stage,
            "to_stage": to_stage,
            "at": pa.array(micros, pa.int64()).cast(_UTC_US),
            "seconds_in_from": seconds,
            "line": pa.array(lines[row], pa.int64()),
        }
    )


def stage_change_keys(
    lead_ids: pa.Array, to_stages: pa.Array, micros: np.ndarray[Any, np.dtype[np.int64]]
) -> pa.Array:
    """`core.models.stage_change_key` for each row: the key every recorder of moves uses."""
    texts = pc.binary_join_element_wise(
        lead_ids, to_stages, pa.array(micros, pa.int64()).cast(pa.string()), "\x1f"
    )
    digests = [hashlib.sha256(t.encode("utf-8")).hexdigest() for t in texts.to_pylist()]
    return pa.array(digests, pa.string())
