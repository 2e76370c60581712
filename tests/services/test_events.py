"""Events about a person erased earlier are suppressed: answered per item, never stored."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from leadpact.services.events import hubspot_events, ingest
from leadpact.services.workspace import Workspace, erase
from leadpact.store import tables


def lead(lead_id: str, email: str, **more: Any) -> dict[str, Any]:
    return {
        "kind": "lead",
        "id": lead_id,
        "email": email,
        "first_name": "Jane",
        "created_at": "2025-03-04T09:00:00Z",
        **more,
    }


def activity(lead_id: str, minute: int) -> dict[str, Any]:
    return {
        "kind": "activity",
        "lead_id": lead_id,
        "type": "demo_request",
        "at": f"2025-03-04T10:{minute:02d}:00Z",
    }


def lead_ids(ws: Workspace) -> set[str]:
    with ws.engine.connect() as conn:
        return set(conn.execute(select(tables.leads.c.id)).scalars())


def emails(ws: Workspace) -> set[str | None]:
    with ws.engine.connect() as conn:
        return set(conn.execute(select(tables.leads.c.email)).scalars())


def test_events_about_an_erased_person_are_suppressed_with_a_reason(ws):
    first = ingest(ws, [lead("crm-1", "jane@x.example"), activity("crm-1", 0)], actor="t")
    assert (first.landed, first.errors, first.suppressed) == (2, [], [])
    opt_out = ingest(ws, {"kind": "opt_out", "email": "jane@x.example"}, actor="t")
    assert opt_out.updated == 1
    again = ingest(
        ws,
        [
            lead("crm-1", "jane@x.example"),  # 0: the same record again
            lead("crm-7", " JANE@x.example"),  # 1: another id, the same person
            activity("crm-1", 5),  # 2: an event of the erased lead
            lead("crm-2", "kim@y.example"),  # 3: somebody else
            activity("crm-2", 6),  # 4
            activity("crm-404", 7),  # 5: a lead never seen: an error, as before
            {
                "kind": "deal",
                "id": "D1",
                "lead_id": "crm-1",
                "stage": "proposal",
                "created_at": "2025-03-05T09:00:00Z",
            },  # 6
        ],
        actor="t",
    )
    assert sorted(e.index for e in again.suppressed) == [0, 1, 2, 6]
    assert [e.index for e in again.errors] == [5]
    assert (again.landed, again.inserted) == (2, 2)
    reasons = {e.index: e.reason for e in again.suppressed}
    assert reasons[0].startswith("suppressed: the person was erased earlier")
    assert reasons[2].startswith("suppressed: its lead was erased earlier")
    assert reasons[0].endswith("not stored")
    body = again.as_dict()
    assert body["suppressed"] == 4
    assert body["suppressed_items"][0] == {"index": 0, "reason": reasons[0]}
    assert body["rejected"] == 1
    assert "jane@x.example" not in repr(body)
    assert {"crm-1", "crm-7"}.isdisjoint(lead_ids(ws))
    assert "crm-2" in lead_ids(ws)
    assert "jane@x.example" not in {e.strip().lower() for e in emails(ws) if e}


def test_an_opt_out_of_someone_already_erased_still_changes_nothing(ws):
    ingest(ws, lead("crm-1", "jane@x.example"), actor="t")
    erase(ws, lead_id="crm-1", reason="opted out")
    for event in ({"kind": "opt_out", "lead_id": "crm-1"}, {"kind": "opt_out", "email": "x@y"}):
        result = ingest(ws, event, actor="t")
        assert (result.landed, result.updated, result.errors) == (1, 0, [])


def test_a_hubspot_contact_deleted_for_privacy_stays_deleted(ws):
    def delivery(event_id: int, kind: str, **more: Any) -> dict[str, Any]:
        return {
            "eventId": event_id,
            "subscriptionType": kind,
            "objectId": 77,
            "occurredAt": 1741080000000 + event_id,
            **more,
        }

    created = hubspot_events(
        ws,
        [
            delivery(1, "contact.creation"),
            delivery(2, "contact.propertyChange", propertyName="email", propertyValue="a@b.dk"),
        ],
    )
    assert created.errors == []
    assert "hubspot-77" in lead_ids(ws)
    hubspot_events(ws, [delivery(3, "contact.privacyDeletion")])
    assert "hubspot-77" not in lead_ids(ws)
    change = [delivery(4, "contact.propertyChange", propertyName="lastname", propertyValue="B")]
    late = hubspot_events(ws, change)
    assert [e.index for e in late.suppressed] == [0]
    assert late.errors == []
    assert "hubspot-77" not in lead_ids(ws)
    redelivered = hubspot_events(ws, change)  # handled: remembered like a landed event
    assert (redelivered.duplicates, redelivered.suppressed) == (1, [])
