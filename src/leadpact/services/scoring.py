"""Scoring every lead of a workspace in bulk, and explaining one lead's score.

`rescore` reads the leads and their recent activities in column form, scores them and decides
the stages the pact owns with the numpy batch path of `core` (`score_many`, `decide_stages`),
dates each move at the instant the lead qualified for it (`core.qualification`, from the
history of the leads that move), then writes the scores back and records the stage changes.
`explain` scores one lead with the scalar path (`core.scoring.score`), which has the same
meaning and lists every point.

Both run inside the caller's transaction (`Workspace.transaction()`); neither commits.
This module holds the use case; the reads are in `scoring_reader`, the writes in
`scoring_writer`, the bulk transfer both use in `bulk`. Measured choices: docs/scoring.md,
"Performance".
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy import Connection

from leadpact.core.lifecycle import decide_stages
from leadpact.core.models import Score
from leadpact.core.pact import Pact
from leadpact.core.qualification import qualified_at
from leadpact.core.scoring import score, score_many
from leadpact.services.scoring_reader import (
    read_activities,
    read_leads,
    read_moving_history,
    read_touch_facts,
)
from leadpact.services.scoring_writer import write_moves, write_scores
from leadpact.store.events import list_activities
from leadpact.store.leads import get_lead

#: Lead ids per query when rescoring some leads (SQL parameter limits: SQLite 32,766).
ID_BATCH = 5_000


@dataclass(frozen=True)
class ScoringSummary:
    """What one rescoring run did."""

    scored_at: datetime
    leads: int
    activities: int
    moves: dict[tuple[str, str], int] = field(default_factory=dict)
    priorities: dict[int, int] = field(default_factory=dict)
    grades: dict[str, int] = field(default_factory=dict)

    @property
    def moved(self) -> int:
        """Leads the pact moved to another stage."""
        return sum(self.moves.values())

    def as_dict(self) -> dict[str, Any]:
        """The summary as JSON-ready data."""
        return {
            "scored_at": self.scored_at,
            "leads": self.leads,
            "activities": self.activities,
            "moved": self.moved,
            "moves": [{"from": a, "to": b, "leads": n} for (a, b), n in sorted(self.moves.items())],
            "priorities": {str(k): v for k, v in sorted(self.priorities.items())},
            "grades": dict(sorted(self.grades.items())),
        }


def explain(conn: Connection, pact: Pact, lead_id: str, *, now: datetime) -> Score:
    """Score one stored lead with every point explained (the scalar path).

    Args:
        conn: a connection inside a transaction.
        pact: the agreement.
        lead_id: the lead.
        now: the instant to score at.

    Returns:
        The lead's `Score` with its contributions.

    Raises:
        NotFoundError: there is no such lead.
    """
    facts = get_lead(conn, lead_id).facts()
    history = [row.activity() for row in list_activities(conn, lead_id)]
    return score(facts, history, pact, now=now)


def rescore(
    conn: Connection,
    pact: Pact,
    *,
    now: datetime,
    lead_ids: Collection[str] | None = None,
) -> ScoringSummary:
    """Score the leads, move the leads whose stage the pact decides, and store both.

    Erased leads are left alone. Opted-out leads are scored but never moved by the pact
    (they are on their way out of the database, not into the sales flow). Each move is dated
    at the instant the lead qualified for it (`core.qualification.qualified_at`: the start of
    its latest uninterrupted qualification, never before it entered the stage it leaves, never
    after `now`); the lead's `stage_at` becomes that instant. A stage change is recorded once
    (its key is lead, stage and that instant), with the seconds spent in the stage left.

    Args:
        conn: a connection inside the caller's transaction.
        pact: the agreement.
        now: the instant to score at (timezone-aware); the moves are decided at it.
        lead_ids: only these leads (those an event just touched); default every lead.
            Engagement decays with time, so every lead still needs a full rescore now and
            then (e.g. nightly).

    Returns:
        How many leads and activities were read, the moves made, leads per priority and grade.
    """
    if lead_ids is None:
        return _rescore(conn, pact, now=now, only=None)
    wanted = sorted(set(lead_ids))
    parts = [
        _rescore(conn, pact, now=now, only=wanted[start : start + ID_BATCH])
        for start in range(0, len(wanted), ID_BATCH)
    ]
    return ScoringSummary(
        scored_at=now,
        leads=sum(p.leads for p in parts),
        activities=sum(p.activities for p in parts),
        moves=dict(sum((Counter(p.moves) for p in parts), Counter())),
        priorities=dict(sum((Counter(p.priorities) for p in parts), Counter())),
        grades=dict(sum((Counter(p.grades) for p in parts), Counter())),
    )


def _rescore(
    conn: Connection, pact: Pact, *, now: datetime, only: list[str] | None
) -> ScoringSummary:
    ids, columns, stage_at = read_leads(conn, only)
    n = len(ids)
    position = {lead_id: i for i, lead_id in enumerate(ids.tolist())}
    history = read_activities(conn, pact, position, now=now, only=only)
    scores = score_many(columns | {"id": ids}, history, pact, now=now)

    facts = columns | scores.facts() | read_touch_facts(conn, pact, position, now=now, only=only)
    current = columns["stage"]
    decided = decide_stages(facts, current, pact)
    decided[columns["opted_out"].astype(bool)] = current[columns["opted_out"].astype(bool)]
    moved = np.nonzero(decided != current)[0]

    write_scores(conn, ids, scores, now=now)
    leaving = _Leaving(ids[moved], {n: c[moved] for n, c in columns.items()}, stage_at[moved])
    dated = _qualifying_dates(conn, pact, leaving, decided[moved], history, moved, now=now)
    spent = (dated - leaving.stage_at) / np.timedelta64(1, "s")
    moves = write_moves(conn, pact, leaving.ids, current[moved], decided[moved], dated, spent)
    return ScoringSummary(
        scored_at=now,
        leads=n,
        activities=len(history["lead"]),
        moves=moves,
        priorities=dict(Counter(scores.priority.tolist())),
        grades=dict(Counter(scores.fit_grade.tolist())),
    )


@dataclass(frozen=True)
class _Leaving:
    """The leads the pact moves: ids, fact columns and when they entered their stage."""

    ids: npt.NDArray[np.object_]
    columns: dict[str, npt.NDArray[Any]]
    stage_at: npt.NDArray[np.datetime64]


def _qualifying_dates(
    conn: Connection,
    pact: Pact,
    leaving: _Leaving,
    targets: npt.NDArray[np.object_],
    history: Mapping[str, npt.NDArray[Any]],
    moved: npt.NDArray[np.intp],
    *,
    now: datetime,
) -> npt.NDArray[np.datetime64]:
    """When each moving lead qualified for its move (`core.qualification.qualified_at`).

    Reads only the moving leads' history (`scoring_reader.read_moving_history`); scoring's
    activities (`history`) are reused. No move is dated before the later of the lead's
    creation and its entry into the stage it leaves.
    """
    if not len(moved):
        return np.zeros(0, dtype="datetime64[us]")
    past = read_moving_history(conn, pact, leaving.ids, leaving.stage_at, history, moved, now=now)
    return qualified_at(
        leaving.columns | {"id": leaving.ids},
        past.activities,
        targets,
        np.maximum(past.created_at, leaving.stage_at),
        pact,
        now=now,
        touches=past.touches,
    )
