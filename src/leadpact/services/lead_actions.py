"""Actions on a lead: log a touch, accept or reject an MQL, recycle, disqualify, move.

Each action runs in one write transaction (`Workspace.transaction`, SQLite `BEGIN IMMEDIATE`,
so the stage read and the change written are one snapshot). Every stage change goes through
`core.lifecycle.transition`; each action leaves an audit entry naming the actor (a user or
token name), never the lead's personal data. `lead_actions` says which actions the pact allows
on a lead in a given stage, for the pages to offer only those.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, update

from leadpact.core.lifecycle import funnel, handover_stage, transition, transition_table
from leadpact.core.models import Channel, StageChange, Touch, TouchOutcome
from leadpact.core.pact import Pact
from leadpact.errors import ConflictError, LeadPactError
from leadpact.store.events import add_audit, add_stage_change, add_touch
from leadpact.store.leads import get_lead
from leadpact.store.tables import leads

if TYPE_CHECKING:
    from leadpact.services.workspace import Workspace

__all__ = [
    "LeadActions",
    "accept_mql",
    "disqualify",
    "lead_actions",
    "log_touch",
    "move_lead",
    "record_move",
    "recycle",
    "reject_mql",
    "stage_name",
]

#: A touch may be logged this far ahead of now (clocks of two machines disagree a little).
_FUTURE_SLACK = timedelta(minutes=5)
_NOTE_LIMIT = 4000


@dataclass(frozen=True, slots=True)
class LeadActions:
    """What may be done to a lead in its current stage (None: not allowed from here)."""

    accept_to: str | None
    reject_to: str | None
    recycle_to: str | None
    disqualify_to: str | None
    reject_reasons: tuple[str, ...]
    disqualify_reasons: tuple[str, ...]
    channels: tuple[str, ...] = tuple(c.value for c in Channel)
    outcomes: tuple[str, ...] = tuple(o.value for o in TouchOutcome)


def lead_actions(pact: Pact, stage: str) -> LeadActions:
    """The actions the pact allows on a lead in `stage`."""
    allowed = transition_table(pact).allowed.get(stage, ())
    handover = handover_stage(pact)
    path = [s.id for s in funnel(pact)]
    accept = None
    if handover is not None and stage == handover and handover in path:
        later = path[path.index(handover) + 1 :]
        accept = next((s for s in later if s in allowed), None)
    recycle_to = _recycle_stage(pact)
    disqualify_to = pact.handling.disqualify.to if pact.handling.disqualify else None
    return LeadActions(
        accept_to=accept,
        reject_to=recycle_to if accept is not None and recycle_to in allowed else None,
        recycle_to=recycle_to if recycle_to in allowed else None,
        disqualify_to=disqualify_to if disqualify_to in allowed else None,
        reject_reasons=tuple(pact.handling.reject_reasons),
        disqualify_reasons=tuple(pact.handling.disqualify.reasons)
        if pact.handling.disqualify
        else (),
    )


def _recycle_stage(pact: Pact) -> str:
    """Where rejected and recycled leads go: `handling.recycle.to`, else `not_ready.to`."""
    handling = pact.handling
    return handling.recycle.to if handling.recycle is not None else handling.not_ready.to


def stage_name(pact: Pact, stage: str) -> str:
    """The display name of a stage id (the id itself when the pact has no such stage)."""
    return next((s.name for s in pact.stages if s.id == stage), stage)


def log_touch(
    workspace: Workspace,
    lead_id: str,
    *,
    channel: str,
    outcome: str,
    actor: str,
    rep: str | None = None,
    note: str | None = None,
    at: datetime | None = None,
) -> bool:
    """Record a sales touch on a lead (a call, email, meeting or social message).

    Args:
        workspace: the open workspace.
        lead_id: the lead.
        channel: one of `core.models.Channel`.
        outcome: one of `core.models.TouchOutcome`.
        actor: who logs it (kept in the audit log).
        rep: the rep who made the touch; default `actor`.
        note: free text (personal data: erasure removes it).
        at: when it happened; default now. Not in the future.

    Returns:
        True when stored; False when the same touch was already recorded.

    Raises:
        NotFoundError: no such lead.
        LeadPactError: an unknown channel or outcome, a time in the future, a note too long.
    """
    now = workspace.clock.now()
    when = now if at is None else at
    if when.tzinfo is None:
        raise LeadPactError("the touch time needs a time zone, e.g. 2025-03-07T15:30:00Z")
    if when > now + _FUTURE_SLACK:
        raise LeadPactError(f"a touch cannot be logged in the future ({when.isoformat()})")
    if note is not None and len(note) > _NOTE_LIMIT:
        raise LeadPactError(f"a note has at most {_NOTE_LIMIT} characters")
    touch = Touch(
        lead_id,
        (rep or actor).strip() or actor,
        _choice(Channel, channel, "channel"),
        when,
        _choice(TouchOutcome, outcome, "outcome"),
    )
    with workspace.transaction() as conn:
        get_lead(conn, lead_id)
        stored = add_touch(conn, touch, note=(note or "").strip() or None)
        if stored:
            details = {"channel": touch.channel.value, "outcome": touch.outcome.value}
            add_audit(conn, now, "touch_logged", lead_id, None, details | {"by": actor})
    return stored


def _choice(kind: type[Channel] | type[TouchOutcome], value: str, name: str) -> Any:
    try:
        return kind(value.strip().lower())
    except ValueError:
        options = ", ".join(member.value for member in kind)
        raise LeadPactError(f"unknown {name} {value!r}; expected one of {options}") from None


def move_lead(
    workspace: Workspace,
    lead_id: str,
    to_stage: str,
    *,
    actor: str,
    reason: str | None = None,
    at: datetime | None = None,
) -> StageChange:
    """Move a lead to another stage, if the pact allows it (`core.lifecycle.transition`).

    Raises:
        NotFoundError: no such lead or stage.
        InvalidTransitionError: the pact does not allow the move.
        LeadPactError: the move needs a reason and none was given.
        ConflictError: the same change (lead, stage, instant) is already recorded.
    """
    when = workspace.clock.now() if at is None else at
    with workspace.transaction() as conn:
        return record_move(conn, workspace.pact, lead_id, to_stage, when, reason, actor)


def record_move(
    conn: Connection,
    pact: Pact,
    lead_id: str,
    to_stage: str,
    at: datetime,
    reason: str | None,
    actor: str,
) -> StageChange:
    """`move_lead` inside the caller's transaction (the ingest path uses it per event)."""
    lead = get_lead(conn, lead_id)
    if lead.erased_at is not None:
        raise ConflictError(f"lead {lead_id!r} was erased; it cannot move")
    change = transition(
        lead.stage, to_stage, lead_id=lead_id, at=at, pact=pact, reason=reason, actor=actor
    )
    spent = (at - lead.stage_at).total_seconds()
    if not add_stage_change(conn, change, seconds_in_from=spent):
        raise ConflictError(
            f"lead {lead_id!r} already has a change to {to_stage!r} at {at.isoformat()}"
        )
    conn.execute(update(leads).where(leads.c.id == lead_id).values(stage=to_stage, stage_at=at))
    details = {"from": lead.stage, "to": to_stage, "by": actor}
    add_audit(conn, at, "stage_change", lead_id, change.reason, details)
    return change


def accept_mql(
    workspace: Workspace, lead_id: str, *, actor: str, reason: str | None = None
) -> StageChange:
    """Sales accepts a handed-over lead: it moves to the stage after the handover stage.

    Raises:
        NotFoundError: no such lead.
        LeadPactError: the lead is not in the handover stage.
    """
    to = _require_action(workspace, lead_id, "accept_to", "accepted")
    return move_lead(workspace, lead_id, to, actor=actor, reason=reason)


def reject_mql(workspace: Workspace, lead_id: str, *, actor: str, reason: str) -> StageChange:
    """Sales rejects a handed-over lead with one of the pact's reject reasons; it is recycled.

    Raises:
        NotFoundError: no such lead.
        LeadPactError: the lead is not in the handover stage, or the reason is not one of
            `handling.reject_reasons` (when the pact lists any).
    """
    to = _require_action(workspace, lead_id, "reject_to", "rejected")
    reason = _listed_reason(reason, workspace.pact.handling.reject_reasons, "reject")
    return move_lead(workspace, lead_id, to, actor=actor, reason=f"rejected: {reason}")


def recycle(workspace: Workspace, lead_id: str, *, actor: str, reason: str) -> StageChange:
    """Send a lead back to marketing's nurture flow (`handling.recycle.to`), with a reason.

    Raises:
        NotFoundError: no such lead.
        LeadPactError: the lead cannot be recycled from its stage, or no reason.
    """
    to = _require_action(workspace, lead_id, "recycle_to", "recycled")
    return move_lead(workspace, lead_id, to, actor=actor, reason=_given(reason, "recycle"))


def disqualify(workspace: Workspace, lead_id: str, *, actor: str, reason: str) -> StageChange:
    """Disqualify a lead with one of the pact's disqualify reasons.

    Raises:
        NotFoundError: no such lead.
        LeadPactError: the lead cannot be disqualified from its stage, or a reason the pact
            does not list.
    """
    to = _require_action(workspace, lead_id, "disqualify_to", "disqualified")
    handling = workspace.pact.handling
    listed = handling.disqualify.reasons if handling.disqualify else []
    reason = _listed_reason(reason, listed, "disqualify")
    return move_lead(workspace, lead_id, to, actor=actor, reason=reason)


def _require_action(workspace: Workspace, lead_id: str, action: str, verb: str) -> str:
    with workspace.engine.connect() as conn:
        lead = get_lead(conn, lead_id)
    target: str | None = getattr(lead_actions(workspace.pact, lead.stage), action)
    if target is None:
        stage = stage_name(workspace.pact, lead.stage)
        raise LeadPactError(f"a lead in stage {stage!r} cannot be {verb}")
    return target


def _given(reason: str | None, verb: str) -> str:
    text = (reason or "").strip()
    if not text:
        raise LeadPactError(f"say why: a reason is required to {verb} a lead")
    return text


def _listed_reason(reason: str | None, listed: list[str], verb: str) -> str:
    text = _given(reason, verb)
    if listed and text.casefold() not in {r.casefold() for r in listed}:
        raise LeadPactError(
            f"{text!r} is not a {verb} reason of the pact; expected one of {', '.join(listed)}"
        )
    return next((r for r in listed if r.casefold() == text.casefold()), text)
