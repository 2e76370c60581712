"""The funnel rules: which stage changes the pact allows, and where its entry criteria put a lead.

Every stage change goes through `transition` (STYLE.md "one way in"). The table of allowed moves
is derived from the pact's stage list (`transition_table`):

- **Forward**: from an open stage to any later stage of the funnel (the open, won and lost
  stages, in the pact's order); skipping stages is allowed. No reason needed.
- **Recycle and disqualify**: from any open stage to a recycle stage (``handling.not_ready.to``,
  ``handling.recycle.to``, stages whose outcome is ``recycled``) or a disqualify stage
  (``handling.disqualify.to``, outcome ``disqualified``). A reason is required, unless the
  target happens to lie ahead in the funnel. Sales rejecting an MQL is this move.
- **Re-entry**: from a recycled stage back to the funnel's start or to the handover stage
  (the stage of the pact's ``acceptance`` commitment, else ``mql``); or on to disqualified,
  with a reason.
- **Re-opening**: from a disqualified stage only into a recycled stage, with a reason.
- **Terminal**: won and lost stages allow no move.

`decide_stage` applies the entry criteria of the stages the pact decides (``source: pact``);
`decide_stages` is its batch twin over numpy columns; `decision_conditions` and `decision_fields`
list what they test.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import numpy.typing as npt

from leadpact.core.conditions import Condition, evaluate_many, walk
from leadpact.core.models import StageChange
from leadpact.core.pact import AcceptanceCommitment, Outcome, Pact, StageDef, StageSource
from leadpact.errors import InvalidTransitionError, LeadPactError

#: The actor recorded on stage changes the pact's own rules make.
PACT_ACTOR = "pact"

_FUNNEL = (Outcome.OPEN, Outcome.WON, Outcome.LOST)


@dataclass(frozen=True)
class TransitionTable:
    """The moves a pact allows: `allowed[from]` lists the targets in the pact's stage order;
    `needs_reason` holds the (from, to) pairs that need a reason."""

    allowed: Mapping[str, tuple[str, ...]]
    needs_reason: frozenset[tuple[str, str]]


def funnel(pact: Pact) -> list[StageDef]:
    """The funnel: open, won and lost stages in the pact's order (recycled and disqualified
    stages sit beside it)."""
    return [s for s in pact.stages if s.outcome in _FUNNEL]


def handover_stage(pact: Pact) -> str | None:
    """The stage whose leads sales accepts or rejects: the ``acceptance`` commitment's stage,
    else ``mql`` when the pact has it, else None."""
    for commitment in pact.commitments:
        if isinstance(commitment, AcceptanceCommitment):
            return commitment.stage
    return "mql" if any(s.id == "mql" for s in pact.stages) else None


def _recycle_targets(pact: Pact) -> list[str]:
    handling = pact.handling
    named = {handling.not_ready.to} | ({handling.recycle.to} if handling.recycle else set())
    return [s.id for s in pact.stages if s.id in named or s.outcome is Outcome.RECYCLED]


def _disqualify_targets(pact: Pact) -> list[str]:
    named = {pact.handling.disqualify.to} if pact.handling.disqualify else set()
    return [s.id for s in pact.stages if s.id in named or s.outcome is Outcome.DISQUALIFIED]


def transition_table(pact: Pact) -> TransitionTable:
    """Derive the allowed stage changes from the pact (the rules in the module docstring).

    Args:
        pact: the agreement; its `stages`, `handling` and acceptance commitment decide.

    Returns:
        The table of allowed moves and of the moves that need a reason.
    """
    order = {s.id: i for i, s in enumerate(pact.stages)}
    outcome = {s.id: s.outcome for s in pact.stages}
    path = [s.id for s in funnel(pact)]
    side = _recycle_targets(pact) + _disqualify_targets(pact)
    free: set[tuple[str, str]] = set()
    reasoned: set[tuple[str, str]] = set()
    for i, stage in enumerate(path):
        if outcome[stage] is not Outcome.OPEN:
            continue
        free.update((stage, later) for later in path[i + 1 :])
        reasoned.update((stage, t) for t in side if t != stage and (stage, t) not in free)
    entry = {path[0], handover_stage(pact) or path[0]}
    for stage in (s for s in order if outcome[s] is Outcome.RECYCLED):
        free.update((stage, t) for t in entry if outcome.get(t) is Outcome.OPEN)
        reasoned.update((stage, t) for t in _disqualify_targets(pact) if t != stage)
    recycled = [s for s in _recycle_targets(pact) if outcome[s] is Outcome.RECYCLED]
    for stage in (s for s in order if outcome[s] is Outcome.DISQUALIFIED):
        reasoned.update((stage, t) for t in recycled)
    pairs = free | reasoned
    allowed = {
        s: tuple(sorted((t for f, t in pairs if f == s), key=order.__getitem__)) for s in order
    }
    return TransitionTable(allowed=allowed, needs_reason=frozenset(reasoned))


def transition(
    current_stage: str,
    to_stage: str,
    *,
    lead_id: str,
    at: datetime,
    pact: Pact,
    reason: str | None = None,
    actor: str | None = None,
) -> StageChange:
    """Move a lead from one stage to another, if the pact allows it.

    Args:
        current_stage: the lead's stage now.
        to_stage: the stage it moves to.
        lead_id: the lead.
        at: when the move happens (timezone-aware).
        pact: the agreement whose stages and handling rules decide.
        reason: why; required to recycle, reject, disqualify or re-open a lead.
        actor: who moves it (a rep, an import, `PACT_ACTOR` for the pact's own rules).

    Returns:
        The `StageChange` to record.

    Raises:
        NotFoundError: either stage is not defined by the pact.
        InvalidTransitionError: the pact does not allow this move; it lists the allowed ones.
        LeadPactError: the move needs a reason and none was given.
    """
    pact.stage(current_stage)
    pact.stage(to_stage)
    table = transition_table(pact)
    allowed = table.allowed[current_stage]
    if to_stage not in allowed:
        raise InvalidTransitionError(current_stage, to_stage, list(allowed))
    reason = reason.strip() if reason else None
    if not reason and (current_stage, to_stage) in table.needs_reason:
        raise LeadPactError(
            f"moving a lead from {current_stage!r} to {to_stage!r} needs a reason; "
            "give one (e.g. one of the pact's reject or disqualify reasons)"
        )
    return StageChange(
        lead_id=lead_id,
        from_stage=current_stage,
        to_stage=to_stage,
        at=at,
        reason=reason,
        actor=actor,
    )


# --- Stages the pact decides --------------------------------------------------------------


def _pact_stages(pact: Pact) -> list[tuple[int, Condition]]:
    """Entry criteria of the pact-decided stages, with the stage's position in the funnel."""
    return [
        (i, s.entry)
        for i, s in enumerate(funnel(pact))
        if s.source is StageSource.PACT and s.entry is not None  # `Pact` requires an entry
    ]


def decision_conditions(pact: Pact) -> list[Condition]:
    """The conditions the pact's stage decisions test (what `decide_stages` reads): the entry
    criteria of the stages the pact decides, and ``handling.disqualify.when``."""
    conditions = [entry for _, entry in _pact_stages(pact)]
    disqualify = pact.handling.disqualify
    if disqualify is not None and disqualify.when is not None:
        conditions.append(disqualify.when)
    return conditions


def decision_fields(pact: Pact) -> set[str]:
    """The fields the pact's stage decisions test (`decision_conditions`)."""
    return {test.field for condition in decision_conditions(pact) for test in walk(condition)}


def _auto_disqualify_scope(pact: Pact) -> int:
    """Leads in open funnel stages up to this position are still marketing's, and may be
    disqualified automatically by ``handling.disqualify.when``."""
    ids = [s.id for s in funnel(pact)]
    handover = handover_stage(pact)
    return ids.index(handover) if handover in ids else 0


def decide_stage(facts: Mapping[str, Any], current_stage: str, pact: Pact) -> str:
    """The stage the pact's rules put a lead in, given its facts and scores.

    Among the stages with ``source: pact`` that lie ahead of the current stage in the funnel,
    the furthest whose ``entry`` holds; repeated from there (an entry may test ``stage``), so
    the answer is stable: deciding again from it changes nothing. A lead never moves backwards,
    and never out of a won, lost, recycled or disqualified stage, nor out of a stage the pact
    does not define. If the lead ends in a stage that is still marketing's (an open stage up to
    the handover stage, usually ``mql``), ``handling.disqualify.when`` may send it on to
    ``handling.disqualify.to``; a lead that qualifies past the handover is not disqualified
    automatically.

    Args:
        facts: the lead's facts and scores (`core.scoring.scored_facts`); ``stage`` is taken
            from `current_stage`.
        current_stage: the lead's stage now.
        pact: the agreement.

    Returns:
        The stage id; `current_stage` itself when nothing moves the lead.
    """
    path = [s.id for s in funnel(pact)]
    if current_stage not in path or pact.stage(current_stage).outcome is not Outcome.OPEN:
        return current_stage
    position = path.index(current_stage)
    stage = current_stage
    while True:
        known = {**facts, "stage": stage}
        ahead = [i for i, entry in _pact_stages(pact) if i > position and entry.matches(known)]
        if not ahead:
            break
        position = ahead[-1]
        stage = path[position]
        if pact.stage(stage).outcome is not Outcome.OPEN:
            break
    disqualify = pact.handling.disqualify
    if (
        disqualify is not None
        and disqualify.when is not None
        and pact.stage(stage).outcome is Outcome.OPEN
        and position <= _auto_disqualify_scope(pact)
        and disqualify.when.matches({**facts, "stage": stage})
    ):
        return disqualify.to
    return stage


def decide_stages(
    columns: Mapping[str, npt.NDArray[Any]], current_stages: npt.NDArray[Any], pact: Pact
) -> npt.NDArray[np.object_]:
    """`decide_stage` for many leads at once, with `core.conditions.evaluate_many`.

    Args:
        columns: facts and scores, one array per condition field (``stage`` is ignored).
        current_stages: each lead's stage now (an object array of stage ids).
        pact: the agreement.

    Returns:
        An object array of stage ids, element i the stage of lead i.
    """
    n = len(current_stages)
    path = [s.id for s in funnel(pact)]
    open_at = np.array([s.outcome is Outcome.OPEN for s in funnel(pact)] + [False])
    where = {stage: i for i, stage in enumerate(path)}
    position = np.fromiter(
        (where.get(s, -1) for s in current_stages.tolist()), dtype=np.int64, count=n
    )
    stages = np.asarray(current_stages, dtype=object).copy()
    active = np.nonzero(open_at[position])[0]  # -1 (unknown stage) reads the final False
    while len(active):
        best = np.full(len(active), -1, dtype=np.int64)
        for i, entry in _pact_stages(pact):
            candidates = np.nonzero(position[active] < i)[0]
            if not len(candidates):
                continue
            rows = active[candidates]
            holds = _holds(entry, columns, stages, rows)
            best[candidates[holds]] = i
        moved = best >= 0
        active, targets = active[moved], best[moved]
        position[active] = targets
        stages[active] = np.array(path, dtype=object)[targets]
        active = active[open_at[targets]]
    disqualify = pact.handling.disqualify
    if disqualify is not None and disqualify.when is not None:
        rows = np.nonzero(open_at[position] & (position <= _auto_disqualify_scope(pact)))[0]
        rows = rows[_holds(disqualify.when, columns, stages, rows)]
        stages[rows] = disqualify.to
    return stages


def _holds(
    condition: Condition,
    columns: Mapping[str, npt.NDArray[Any]],
    stages: npt.NDArray[np.object_],
    rows: npt.NDArray[np.intp],
) -> npt.NDArray[np.bool_]:
    """Evaluate a condition on some rows only, reading just the fields it tests."""
    fields = {test.field for test in walk(condition)}
    subset = {f: columns[f][rows] for f in fields if f in columns and f != "stage"}
    subset["stage"] = stages[rows]
    return evaluate_many(condition, subset, len(rows))
