"""Events pushed to the live service (`POST /api/events`, webhooks): validate each, land the good.

An event is one canonical record as JSON, with a ``kind``: ``lead``, ``activity``, ``touch``,
``deal`` (the columns of the import formats, `services.presets.CANONICAL`), ``stage_change``
(a move through `core.lifecycle.transition`) or ``opt_out`` (the person is erased). Records of
the four import kinds go through the import's own converter and writer
(`services.importing`): the same checks, messages, keys and upserts as a file, so an event sent
twice, or sent and also imported from a CRM export, is stored once. Each bad event is set aside
with its index and reason while the good ones land. Events about a person erased earlier (their
lead id or email is on the suppression list, `store.suppression`) are set aside too, but apart
from the errors: they are answered as `suppressed`, with the reason, and not stored.

Idempotency: leads and deals by their id (the last version wins), activities and touches by
their content key (or the event's own ``key``), stage changes by lead, stage and instant,
opt-outs by the person (erasing someone already gone changes nothing). Webhook deliveries are
also remembered by their event id (`inbound_events`) so a re-delivered old change cannot undo a
newer one.

Scores and the stages the pact decides are not recomputed per request (a full rescore of a
large workspace takes seconds); the result says whether leads or activities changed, and the
web app rescores in the background (`rescore_workspace`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Sequence
from collections.abc import Mapping as MappingABC
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy import Connection, insert, select

from leadpact.errors import ConflictError, LeadPactError, NotFoundError
from leadpact.services import presets
from leadpact.services.import_convert import Chunk, Converter
from leadpact.services.import_readers import Batch
from leadpact.services.import_report import Notes
from leadpact.services.import_suppression import ERASED_LEAD, ERASED_PERSON
from leadpact.services.import_writer import Writer
from leadpact.services.lead_actions import record_move
from leadpact.services.presets import Kind, Mapping, Source

if TYPE_CHECKING:
    from leadpact.services.scoring import ScoringSummary
    from leadpact.services.workspace import Workspace

__all__ = [
    "EVENT_TYPES",
    "MAX_BATCH",
    "IngestResult",
    "ItemError",
    "hubspot_events",
    "ingest",
    "rescore_workspace",
]

#: The event types and the import kind of each record type.
KINDS: dict[str, Kind] = {
    "lead": Kind.LEADS,
    "activity": Kind.ACTIVITIES,
    "touch": Kind.TOUCHES,
    "deal": Kind.DEALS,
}
EVENT_TYPES = (*KINDS, "stage_change", "opt_out")
#: Most events one request may carry.
MAX_BATCH = 10_000
#: The fields of the two event types that are not import records.
_MOVE_FIELDS = {"lead_id": True, "to_stage": True, "at": False, "reason": False, "actor": False}
_OPT_OUT_FIELDS = {"lead_id": False, "email": False}
#: Landing order: leads before what points at them; erasure last.
_ORDER = ("lead", "deal", "activity", "touch", "stage_change", "opt_out")
_KEY_LIMIT = 200
_TEXT_LIMIT = 100_000


@dataclass(frozen=True, slots=True)
class ItemError:
    """Why the event at `index` (0-based, in the order sent) was set aside."""

    index: int
    reason: str

    def __str__(self) -> str:
        return f"item {self.index}: {self.reason}"


@dataclass
class IngestResult:
    """What one batch of events did."""

    received: int = 0
    landed: int = 0
    inserted: int = 0
    updated: int = 0
    errors: list[ItemError] = field(default_factory=list)
    #: Events about people erased earlier: set aside, not stored, and not errors.
    suppressed: list[ItemError] = field(default_factory=list)
    by_type: dict[str, int] = field(default_factory=dict)
    duplicates: int = 0
    needs_rescore: bool = False
    #: Leads whose facts or activities changed: the ones to rescore.
    lead_ids: set[str] = field(default_factory=set)

    @property
    def rejected(self) -> int:
        """Events set aside."""
        return len(self.errors)

    @property
    def unchanged(self) -> int:
        """Events that were already stored as sent."""
        return self.landed - self.inserted - self.updated

    def as_dict(self) -> dict[str, Any]:
        """The result as JSON-ready data (errors and suppressed events sorted by index)."""
        errors = sorted(self.errors, key=lambda e: e.index)
        suppressed = sorted(self.suppressed, key=lambda e: e.index)
        return {
            "received": self.received,
            "landed": self.landed,
            "inserted": self.inserted,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "rejected": self.rejected,
            "duplicates": self.duplicates,
            "by_type": dict(sorted(self.by_type.items())),
            "rejects": [{"index": e.index, "reason": e.reason} for e in errors],
            "suppressed": len(suppressed),
            "suppressed_items": [{"index": e.index, "reason": e.reason} for e in suppressed],
        }


def ingest(
    workspace: Workspace,
    payload: Any,
    *,
    actor: str,
    source: str = "api",
) -> IngestResult:
    """Validate a batch of events and land the good ones.

    Args:
        workspace: the open workspace.
        payload: one event (a JSON object) or a list of them, as parsed from JSON.
        actor: who sends them (a token or user name; recorded on stage changes).
        source: ``api``, or ``hubspot`` for webhook events (HubSpot lifecycle stage names are
            then understood).

    Returns:
        Counts, one error per event set aside (its index and the reason), and the events about
        people erased earlier (suppressed: not stored, not errors).

    Raises:
        LeadPactError: the payload is not an object or a list, or holds more than `MAX_BATCH`
            events.
    """
    items = _as_list(payload)
    result = IngestResult(received=len(items))
    groups: dict[str, list[tuple[int, dict[str, Any]]]] = {name: [] for name in _ORDER}
    for index, item in enumerate(items):
        problem = _check(item)
        if problem is not None:
            result.errors.append(ItemError(index, problem))
        else:
            groups[item["kind"]].append((index, item))
    now = workspace.clock.now()
    if any(groups[name] for name in KINDS):
        _land_records(workspace, groups, result, now, source)
    if groups["stage_change"]:
        _land_moves(workspace, groups["stage_change"], result, now, actor)
    if groups["opt_out"]:
        _land_opt_outs(workspace, groups["opt_out"], result, now)
    return result


def _as_list(payload: Any) -> list[Any]:
    if isinstance(payload, MappingABC):
        return [payload]
    if not isinstance(payload, list):
        raise LeadPactError(
            "expected one event (a JSON object) or a batch (a JSON array of objects), "
            f"found {type(payload).__name__}"
        )
    if len(payload) > MAX_BATCH:
        raise LeadPactError(
            f"a batch holds at most {MAX_BATCH:,} events, this one {len(payload):,}; split it"
        )
    return payload


def _allowed_fields(kind: str) -> dict[str, bool]:
    """Field name -> required, for an event kind (besides `kind` and `key`)."""
    if kind in KINDS:
        return {c.name: c.required for c in presets.CANONICAL[KINDS[kind]]}
    return _MOVE_FIELDS if kind == "stage_change" else _OPT_OUT_FIELDS


def _check(item: Any) -> str | None:
    """The first thing wrong with an event's shape, or None (values are checked later)."""
    if not isinstance(item, MappingABC):
        return f"expected a JSON object, found {type(item).__name__}"
    kind = item.get("kind")
    if kind not in EVENT_TYPES:
        return f"kind: expected one of {', '.join(EVENT_TYPES)}, found {kind!r}"
    allowed = _allowed_fields(str(kind))
    for name, value in item.items():
        if name in ("kind", "key"):
            continue
        if name not in allowed and not (kind == "lead" and presets.BECAME.match(str(name))):
            return f"unknown field {name!r} in a {kind} event; expected {', '.join(allowed)}"
        if value is not None and not isinstance(value, str | int | float | bool):
            return f"{name}: expected text, a number or true/false, found {type(value).__name__}"
        if isinstance(value, str) and len(value) > _TEXT_LIMIT:
            return f"{name}: longer than {_TEXT_LIMIT:,} characters"
    key = item.get("key")
    if key is not None and (not isinstance(key, str) or not 0 < len(key) <= _KEY_LIMIT):
        return f"key: expected text of 1 to {_KEY_LIMIT} characters"
    if kind == "opt_out" and (item.get("lead_id") is None) == (item.get("email") is None):
        return "an opt_out names the person by lead_id or by email (one of them)"
    return None


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


# --- Records of the import kinds --------------------------------------------------------------


def _land_records(
    workspace: Workspace,
    groups: dict[str, list[tuple[int, dict[str, Any]]]],
    result: IngestResult,
    now: datetime,
    source: str,
) -> None:
    """Land leads, deals, activities and touches through the import's converter and writer.

    Leads and deals are grouped by the fields they carry: an event updates exactly the fields
    it names (an upsert sets every column of its group).
    """
    pact = workspace.pact
    notes = Notes()
    with workspace.engine.connect() as conn:
        for name in ("lead", "deal", "activity", "touch"):
            kind = KINDS[name]
            for header, members in _shapes(name, groups[name]):
                mapping = _source_for(kind, source)
                converter = Converter(kind, mapping, header, pact, Path(f"{source} events"), notes)
                writer = Writer(conn, kind, converter, now, notes)
                try:
                    batch = _batch(header, members)
                    chunk = converter.convert(batch)
                    _own_keys(chunk, name, members)
                    rejects = [*chunk.rejects, *writer.write(chunk)]
                finally:
                    writer.close()
                result.errors.extend(ItemError(r.line, r.reason) for r in rejects)
                why = f"suppressed: {ERASED_PERSON if name == 'lead' else ERASED_LEAD}; not stored"
                result.suppressed.extend(ItemError(line, why) for line in chunk.suppressed)
                result.landed += writer.landed
                result.inserted += writer.inserted
                result.updated += writer.updated
                if writer.landed:
                    result.by_type[name] = result.by_type.get(name, 0) + writer.landed
                if name in ("lead", "activity") and writer.inserted + writer.updated:
                    result.needs_rescore = True
                    column = "id" if name == "lead" else "lead_id"
                    result.lead_ids.update(str(item[column]) for _, item in members)


def _shapes(
    name: str, members: list[tuple[int, dict[str, Any]]]
) -> list[tuple[list[str], list[tuple[int, dict[str, Any]]]]]:
    """Groups of events to convert together, each with its header (canonical column names)."""
    if not members:
        return []
    required = [n for n, needed in _allowed_fields(name).items() if needed]
    if name in ("activity", "touch"):  # inserted only: missing fields are simply empty
        header = list(dict.fromkeys([*required, *(k for _, e in members for k in e)]))
        return [([h for h in header if h not in ("kind", "key")], members)]
    shapes: dict[tuple[str, ...], list[tuple[int, dict[str, Any]]]] = {}
    for index, event in members:
        names = tuple(sorted(k for k in event if k not in ("kind", "key")))
        shapes.setdefault(names, []).append((index, event))
    return [(list(dict.fromkeys([*required, *names])), group) for names, group in shapes.items()]


def _source_for(kind: Kind, source: str) -> Source:
    if source == "hubspot" and kind is Kind.LEADS:
        stages = presets.preset_source("hubspot", [], Kind.LEADS).mapping.stages
        return Source(Mapping(stages=stages))
    return Source(Mapping())


def _batch(header: list[str], members: list[tuple[int, dict[str, Any]]]) -> Batch:
    """The events as text columns, each row numbered by its index in the request."""
    columns = {
        name: pa.array([_text(event.get(name)) for _, event in members], pa.string())
        for name in header
    }
    lines = np.array([index for index, _ in members], dtype=np.int64)
    return Batch(columns, lines)


def _own_keys(chunk: Chunk, name: str, members: list[tuple[int, dict[str, Any]]]) -> None:
    """Use the event's own `key` (hashed with its type) instead of the content key."""
    if name not in ("activity", "touch") or "key" not in chunk.values:
        return
    given = {index: event["key"] for index, event in members if event.get("key")}
    if not given:
        return
    keys = [
        _event_key(name, given[line]) if line in given else None for line in chunk.lines.tolist()
    ]
    own = pa.array(keys, pa.string())
    chunk.values["key"] = pc.coalesce(own, chunk.values["key"])


def _event_key(name: str, key: str) -> str:
    return hashlib.sha256(f"event\x1f{name}\x1f{key}".encode()).hexdigest()


# --- Stage changes and opt-outs --------------------------------------------------------------


def _land_moves(
    workspace: Workspace,
    members: list[tuple[int, dict[str, Any]]],
    result: IngestResult,
    now: datetime,
    actor: str,
) -> None:
    from leadpact.core.models import stage_change_key
    from leadpact.store.tables import stage_changes

    with workspace.transaction() as conn:
        for index, event in members:
            try:
                lead_id, to_stage = _required(event, "lead_id"), _required(event, "to_stage")
                at = _instant(event.get("at"), "at") or now
                key = stage_change_key(lead_id, to_stage, at)
                known = select(stage_changes.c.id).where(stage_changes.c.key == key)
                if event.get("at") is not None and conn.execute(known).first() is not None:
                    result.landed += 1
                    result.duplicates += 1
                    continue
                with conn.begin_nested():
                    record_move(
                        conn,
                        workspace.pact,
                        lead_id,
                        to_stage,
                        at,
                        _text(event.get("reason")),
                        _text(event.get("actor")) or actor,
                    )
            except LeadPactError as err:
                result.errors.append(ItemError(index, str(err)))
                continue
            result.landed += 1
            result.inserted += 1
            result.by_type["stage_change"] = result.by_type.get("stage_change", 0) + 1


def _land_opt_outs(
    workspace: Workspace,
    members: list[tuple[int, dict[str, Any]]],
    result: IngestResult,
    now: datetime,
) -> None:
    """Erase each person who opted out; one already erased (or never stored) is a no-op."""
    from leadpact.store.erasure import erase_lead, purge_erased
    from leadpact.store.leads import list_leads

    erased = 0
    with workspace.transaction() as conn:
        for index, event in members:
            email = _text(event.get("email"))
            ids = (
                [lead.id for lead in list_leads(conn, email=email) if lead.erased_at is None]
                if email is not None
                else [_text(event.get("lead_id")) or ""]
            )
            try:
                for lead_id in ids:
                    with conn.begin_nested():
                        erase_lead(conn, lead_id, at=now, reason="opted out (event)")
                    erased += 1
            except (NotFoundError, ConflictError):
                pass  # already erased, or never here: the person is not in the database
            except LeadPactError as err:
                result.errors.append(ItemError(index, str(err)))
                continue
            result.landed += 1
            result.by_type["opt_out"] = result.by_type.get("opt_out", 0) + 1
    result.updated += erased
    if erased:
        purge_erased(workspace.engine)


def _required(event: MappingABC[str, Any], name: str) -> str:
    value = _text(event.get(name))
    if value is None or not value.strip():
        raise LeadPactError(f"{name} is empty")
    return value.strip()


def _instant(value: Any, name: str) -> datetime | None:
    if value is None:
        return None
    text = str(value).strip()
    try:
        at = datetime.fromisoformat(text)
    except ValueError:
        raise LeadPactError(
            f"{name}: {text!r} is not a date and time (ISO 8601, e.g. 2025-03-01T09:30:00Z)"
        ) from None
    if at.tzinfo is None:
        raise LeadPactError(f"{name}: {text!r} has no time zone; add one, e.g. {text}Z")
    return at.astimezone(UTC)


# --- Webhooks ----------------------------------------------------------------------------------

#: HubSpot contact properties and the canonical lead field each one feeds.
HUBSPOT_PROPERTIES = {
    "email": "email",
    "firstname": "first_name",
    "lastname": "last_name",
    "jobtitle": "title",
    "company": "company",
    "numemployees": "employees",
    "annualrevenue": "annual_revenue",
    "industry": "industry",
    "country": "country",
    "hs_analytics_source": "source",
    "hubspot_owner_id": "owner",
    "lifecyclestage": "stage",
}


def hubspot_events(workspace: Workspace, payload: Any) -> IngestResult:
    """Land a HubSpot-style webhook delivery: contact creations, property changes, deletions.

    Each HubSpot event (``eventId``, ``subscriptionType``, ``objectId``, ``occurredAt`` in ms,
    ``propertyName``/``propertyValue``) becomes a canonical event: ``contact.creation`` and
    ``contact.propertyChange`` a lead event (id ``hubspot-<objectId>``; the changes to one
    contact are merged in `occurredAt` order), ``contact.deletion`` and
    ``contact.privacyDeletion`` an opt-out. Events already processed (by ``eventId``) are
    skipped; errors refer to the index of the event in the delivery.

    Raises:
        LeadPactError: the payload is not a JSON array (or object) of events.
    """
    from leadpact.store.tables import inbound_events, leads

    items = _as_list(payload)
    result = IngestResult(received=len(items))
    keys: dict[int, str] = {}
    with workspace.engine.connect() as conn:
        for index, event in enumerate(items):
            if isinstance(event, MappingABC) and event.get("eventId") is not None:
                keys[index] = f"hubspot:{event['eventId']}"
        seen = _seen_keys(conn, inbound_events, list(keys.values()))
    contacts: dict[str, tuple[int, int, dict[str, Any]]] = {}
    canonical: list[tuple[int, dict[str, Any]]] = []
    fresh = [(i, e) for i, e in enumerate(items) if i not in keys or keys[i] not in seen]
    result.duplicates = len(items) - len(fresh)
    result.landed += result.duplicates
    ordered = sorted(fresh, key=lambda pair: _occurred(pair[1]))
    for index, event in ordered:
        problem, item = _from_hubspot(event)
        if problem is not None or item is None:
            result.errors.append(ItemError(index, problem or "unreadable event"))
        elif item["kind"] == "lead":
            first, count, merged = contacts.get(item["id"], (index, 0, {}))
            contacts[item["id"]] = (first, count + 1, {**merged, **item})
        else:
            canonical.append((index, item))
    with workspace.engine.connect() as conn:
        created = _created_at(conn, leads, list(contacts))
    for lead_id, (index, _count, item) in contacts.items():
        item.setdefault("created_at", created.get(lead_id) or item.pop("_occurred"))
        item.pop("_occurred", None)
        canonical.append((index, item))
    canonical.sort(key=lambda pair: pair[0])
    if canonical:
        landed = ingest(
            workspace, [item for _, item in canonical], actor="hubspot", source="hubspot"
        )
        positions = [index for index, _ in canonical]
        result.errors.extend(ItemError(positions[e.index], e.reason) for e in landed.errors)
        result.suppressed.extend(ItemError(positions[e.index], e.reason) for e in landed.suppressed)
        merged_extra = sum(count - 1 for _, count, _ in contacts.values())
        bad = {positions[e.index] for e in landed.errors}
        result.landed += landed.landed + merged_extra
        result.inserted += landed.inserted
        result.updated += landed.updated
        result.by_type = landed.by_type
        result.needs_rescore = landed.needs_rescore
        result.lead_ids = landed.lead_ids
        done = [
            keys[i]
            for i, _ in fresh
            if i in keys and i not in bad and i not in {e.index for e in result.errors}
        ]
        _remember(workspace, inbound_events, done)
    return result


def _occurred(event: Any) -> int:
    if isinstance(event, MappingABC) and isinstance(event.get("occurredAt"), int | float):
        return int(event["occurredAt"])
    return 0


def _from_hubspot(event: Any) -> tuple[str | None, dict[str, Any] | None]:
    if not isinstance(event, MappingABC):
        return f"expected a JSON object, found {type(event).__name__}", None
    kind = event.get("subscriptionType")
    contact = event.get("objectId")
    if contact is None:
        return "objectId is missing", None
    lead_id = f"hubspot-{contact}"
    occurred = event.get("occurredAt")
    if not isinstance(occurred, int | float) or isinstance(occurred, bool):
        return "occurredAt: expected milliseconds since 1970", None
    at = datetime.fromtimestamp(occurred / 1000, UTC).isoformat()
    if kind == "contact.creation":
        return None, {"kind": "lead", "id": lead_id, "_occurred": at}
    if kind == "contact.propertyChange":
        name = event.get("propertyName")
        if name not in HUBSPOT_PROPERTIES:
            known = ", ".join(HUBSPOT_PROPERTIES)
            return f"propertyName: {name!r} is not a property LeadPact reads ({known})", None
        value = event.get("propertyValue")
        return None, {
            "kind": "lead",
            "id": lead_id,
            HUBSPOT_PROPERTIES[name]: value,
            "_occurred": at,
        }
    if kind in ("contact.deletion", "contact.privacyDeletion"):
        return None, {"kind": "opt_out", "lead_id": lead_id}
    return (
        f"subscriptionType: {kind!r} is not supported; expected contact.creation, "
        "contact.propertyChange, contact.deletion or contact.privacyDeletion",
        None,
    )


def _seen_keys(conn: Connection, table: Any, keys: Sequence[str]) -> set[str]:
    seen: set[str] = set()
    for start in range(0, len(keys), 500):
        part = keys[start : start + 500]
        seen |= set(conn.execute(select(table.c.key).where(table.c.key.in_(part))).scalars())
    return seen


def _created_at(conn: Connection, table: Any, ids: Sequence[str]) -> dict[str, str]:
    found: dict[str, str] = {}
    for start in range(0, len(ids), 500):
        part = ids[start : start + 500]
        query = select(table.c.id, table.c.created_at).where(table.c.id.in_(part))
        found |= {lead_id: at.isoformat() for lead_id, at in conn.execute(query).all()}
    return found


def _remember(workspace: Workspace, table: Any, keys: list[str]) -> None:
    if not keys:
        return
    now = workspace.clock.now()
    with workspace.transaction() as conn:
        stored = _seen_keys(conn, table, keys)
        rows = [
            {"key": k, "source": "hubspot", "received_at": now} for k in keys if k not in stored
        ]
        if rows:
            conn.execute(insert(table), rows)


# --- Scores ----------------------------------------------------------------------------------


def rescore_workspace(
    workspace: Workspace, lead_ids: Collection[str] | None = None
) -> ScoringSummary:
    """Re-score leads and apply the pact's stage rules, at the workspace clock's now.

    Args:
        workspace: the open workspace.
        lead_ids: only these leads (those events changed); None: every lead (engagement
            decays with time, so every lead needs a rescore now and then).
    """
    from leadpact.services.scoring import rescore

    with workspace.transaction() as conn:
        return rescore(conn, workspace.pact, now=workspace.clock.now(), lead_ids=lead_ids)
