"""The JSON API: one error shape, tokens and roles, every JSON twin, batch ingest, idempotency."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from tests.web.conftest import AS_OF, MQL_LEAD, SQL_LEAD, Site, bearer, login

ERROR_KEYS = ["error", "errors", "ok", "status"]


def test_the_error_shape_is_pinned(client: TestClient, site: Site):
    response = client.get("/api/leads/NOPE", headers=bearer(site, "viewer"))
    assert response.status_code == 404
    assert response.json() == {
        "ok": False,
        "error": "no lead 'NOPE' in this workspace",
        "errors": ["no lead 'NOPE' in this workspace"],
        "status": 404,
    }


@pytest.mark.parametrize(
    ("path", "status"),
    [("/api/leads?limit=0", 422), ("/api/nowhere", 404), ("/api/clocks?as_of=yesterday", 422)],
)
def test_every_error_has_the_shape(client: TestClient, site: Site, path: str, status: int):
    response = client.get(path, headers=bearer(site, "viewer"))
    assert response.status_code == status
    body = response.json()
    assert sorted(body) == ERROR_KEYS
    assert body["ok"] is False
    assert body["status"] == status
    assert body["errors"]


def test_no_credentials_is_401(client: TestClient):
    response = client.get("/api/leads")
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert sorted(response.json()) == ERROR_KEYS


@pytest.mark.parametrize("header", ["Bearer lp_wrong", "Basic abc", "Bearer "])
def test_a_bad_token_is_401(client: TestClient, header: str):
    response = client.get("/api/leads", headers={"Authorization": header})
    assert response.status_code == 401
    assert response.json()["status"] == 401


def test_a_revoked_token_is_refused(client: TestClient, site: Site):
    from leadpact.services.users import revoke_token

    state = client.app.state.leadpact  # type: ignore[attr-defined]
    revoke_token(state.workspace, "viewer-token")
    assert client.get("/api/leads", headers=bearer(site, "viewer")).status_code == 401


def test_an_unexpected_error_is_a_500_without_internals(site: Site):
    from tests.web.conftest import make_app

    app = make_app(site)

    def boom() -> None:
        raise RuntimeError("secret internals /etc/passwd")

    app.add_api_route("/api/boom", boom)
    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.get("/api/boom")
    assert response.status_code == 500
    assert "secret" not in response.text
    assert response.json()["error"] == "internal error; the server log has the details"


TWINS = [
    "/api/leads",
    f"/api/leads/{SQL_LEAD}",
    "/api/queue",
    "/api/queue/Sofie%20Dahl",
    "/api/clocks",
    "/api/breaches",
    "/api/reports",
    "/api/goals",
    "/api/pact",
]


@pytest.mark.parametrize("path", TWINS)
def test_every_json_twin_answers(client: TestClient, site: Site, path: str):
    response = client.get(path, headers=bearer(site, "viewer"))
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/json")
    assert response.json()


def test_the_lead_twin_has_the_page_data(client: TestClient, site: Site):
    body = client.get(f"/api/leads/{SQL_LEAD}", headers=bearer(site, "viewer")).json()
    assert body["lead"]["first_name"] == "<script>alert(1)</script>"
    assert body["as_of"] == AS_OF.isoformat().replace("+00:00", "Z")
    response = {c["commitment"]: c for c in body["clocks"]}["sql-response"]
    assert response["status"] == "pending"
    assert response["ticking_until"] is not None
    assert body["score"]["contributions"]
    assert any(entry["kind"] == "stage_change" for entry in body["timeline"])


def test_the_queue_twin_is_in_priority_order(client: TestClient, site: Site):
    body = client.get("/api/queue/Sofie%20Dahl", headers=bearer(site, "viewer")).json()
    priorities = [item["priority"] or 9 for item in body["items"]]
    assert priorities == sorted(priorities)
    assert body["total"] >= len(body["items"]) > 0


def test_goals_twin_takes_what_if_inputs(client: TestClient, site: Site):
    base = client.get("/api/goals", headers=bearer(site, "viewer")).json()
    changed = client.get("/api/goals?close_rate=0.1", headers=bearer(site, "viewer")).json()
    assert changed["plan"]["leads_by_close_rate"] < base["plan"]["leads_by_close_rate"]
    bad = client.get("/api/goals?close_rate=2", headers=bearer(site, "viewer"))
    assert bad.status_code == 422
    assert "close_rate" in bad.json()["error"]


def test_openapi_documents_the_events(client: TestClient):
    schema = client.get("/openapi.json").json()
    assert "/api/events" in schema["paths"]
    assert "/api/webhooks/hubspot" in schema["paths"]
    assert {"Event", "LeadEvent", "ActivityEvent", "OptOutEvent"} <= set(
        schema["components"]["schemas"]
    )


# --- Ingest ------------------------------------------------------------------------------------

BATCH = [
    {"kind": "lead", "id": "API-1", "created_at": "2025-03-04T09:00:00Z", "owner": "Tom Reed"},
    {"kind": "activity", "lead_id": "API-1", "type": "demo_request", "at": "2025-03-04T10:00Z"},
    {"kind": "activity", "lead_id": "API-1", "type": "telepathy", "at": "2025-03-04T10:00Z"},
    {
        "kind": "touch",
        "lead_id": "NOBODY",
        "channel": "call",
        "outcome": "connected",
        "at": "2025-03-04T11:00:00Z",
    },
    {
        "kind": "touch",
        "lead_id": "API-1",
        "channel": "email",
        "outcome": "sent",
        "at": "2025-03-04T11:00:00Z",
        "key": "crm-touch-1",
    },
    {"kind": "stage_change", "lead_id": MQL_LEAD, "to_stage": "sal", "at": "2025-03-05T09:30:00Z"},
    {
        "kind": "deal",
        "id": "D-API-1",
        "lead_id": "API-1",
        "stage": "proposal",
        "created_at": "2025-03-04T12:00:00Z",
        "amount": 1000,
    },
    "not an object",
]


def test_a_batch_lands_its_good_events_and_names_each_bad_one(client: TestClient, site: Site):
    response = client.post("/api/events", json=BATCH, headers=bearer(site, "sales"))
    assert response.status_code == 207
    body = response.json()
    assert body["ok"] is False
    assert body["received"] == 8
    assert body["landed"] == 5
    assert [r["index"] for r in body["rejects"]] == [2, 3, 7]
    assert "telepathy" in body["rejects"][0]["reason"]
    assert "no lead 'NOBODY'" in body["rejects"][1]["reason"]
    assert body["errors"][0].startswith("item 2: ")
    lead = client.get("/api/leads/API-1", headers=bearer(site, "viewer")).json()
    assert [e["kind"] for e in lead["timeline"]].count("touch") == 1
    assert lead["deals"][0]["id"] == "D-API-1"
    mql = client.get(f"/api/leads/{MQL_LEAD}", headers=bearer(site, "viewer")).json()
    assert mql["lead"]["stage"] == "sal"


def test_sending_the_same_batch_twice_stores_nothing_twice(client: TestClient, site: Site):
    first = client.post("/api/events", json=BATCH[:7], headers=bearer(site, "sales")).json()
    again = client.post("/api/events", json=BATCH[:7], headers=bearer(site, "sales")).json()
    assert first["inserted"] == 5
    assert again["inserted"] == 0
    assert again["updated"] == 0
    assert again["landed"] == first["landed"]
    lead = client.get("/api/leads/API-1", headers=bearer(site, "viewer")).json()
    kinds = [e["kind"] for e in lead["timeline"]]
    assert kinds.count("activity") == 1
    assert kinds.count("touch") == 1


def test_one_event_may_be_sent_alone(client: TestClient, site: Site):
    response = client.post("/api/events", json=BATCH[0], headers=bearer(site, "marketing"))
    assert response.status_code == 200
    assert response.json()["ok"] is True
    assert response.json()["inserted"] == 1


def test_a_batch_with_no_good_event_is_422(client: TestClient, site: Site):
    response = client.post("/api/events", json=[{"kind": "lead"}], headers=bearer(site, "sales"))
    assert response.status_code == 422
    assert response.json()["rejects"][0]["reason"].startswith("id is empty")


def test_a_body_that_is_not_events_is_422(client: TestClient, site: Site):
    response = client.post("/api/events", json="hello", headers=bearer(site, "sales"))
    assert response.status_code == 422
    assert sorted(response.json()) == ERROR_KEYS


def test_a_viewer_cannot_send_events(client: TestClient, site: Site):
    response = client.post("/api/events", json=BATCH[0], headers=bearer(site, "viewer"))
    assert response.status_code == 403
    assert "viewer may not send events" in response.json()["error"]


def test_an_opt_out_erases_and_is_idempotent(client: TestClient, site: Site):
    event = {"kind": "opt_out", "lead_id": MQL_LEAD}
    for _ in range(2):
        response = client.post("/api/events", json=event, headers=bearer(site, "admin"))
        assert response.status_code == 200, response.text
    gone = client.get(f"/api/leads/{MQL_LEAD}", headers=bearer(site, "viewer"))
    assert gone.status_code == 404


def test_an_erased_person_sent_again_is_suppressed_not_an_error(client: TestClient, site: Site):
    erased = client.post(
        "/api/events", json={"kind": "opt_out", "lead_id": MQL_LEAD}, headers=bearer(site, "admin")
    )
    assert erased.status_code == 200, erased.text
    again = [
        {"kind": "lead", "id": MQL_LEAD, "created_at": "2025-03-04T09:00:00Z"},
        {
            "kind": "activity",
            "lead_id": MQL_LEAD,
            "type": "demo_request",
            "at": "2025-03-05T09:00Z",
        },
        BATCH[0],
    ]
    response = client.post("/api/events", json=again, headers=bearer(site, "sales"))
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["ok"], body["landed"], body["rejected"], body["suppressed"]) == (True, 1, 0, 2)
    assert [item["index"] for item in body["suppressed_items"]] == [0, 1]
    assert "erased earlier" in body["suppressed_items"][0]["reason"]
    gone = client.get(f"/api/leads/{MQL_LEAD}", headers=bearer(site, "viewer"))
    assert gone.status_code == 404


# --- Actions -------------------------------------------------------------------------------------


def test_logging_a_touch_stops_the_response_clock(client: TestClient, site: Site):
    response = client.post(
        f"/api/leads/{SQL_LEAD}/touches",
        json={"channel": "call", "outcome": "connected"},
        headers=bearer(site, "sales"),
    )
    assert response.status_code == 200, response.text
    clocks = {c["commitment"]: c for c in response.json()["clocks"]}
    assert clocks["sql-response"]["status"] == "met"
    assert clocks["sql-response"]["stopped_by"] == "touch"


def test_accept_and_the_moves_the_pact_forbids(client: TestClient, site: Site):
    headers = bearer(site, "sales")
    accepted = client.post(f"/api/leads/{MQL_LEAD}/accept", headers=headers)
    assert accepted.status_code == 200
    assert accepted.json()["to_stage"] == "sal"
    again = client.post(f"/api/leads/{MQL_LEAD}/accept", headers=headers)
    assert again.status_code == 422
    assert "cannot be accepted" in again.json()["error"]


def test_reject_needs_a_reason_of_the_pact(client: TestClient, site: Site):
    headers = bearer(site, "sales")
    bad = client.post(f"/api/leads/{MQL_LEAD}/reject", json={"reason": "meh"}, headers=headers)
    assert bad.status_code == 422
    assert "not the ICP" in bad.json()["error"]
    good = client.post(
        f"/api/leads/{MQL_LEAD}/reject", json={"reason": "no budget"}, headers=headers
    )
    assert good.status_code == 200
    assert good.json()["to_stage"] == "nurture"


def test_marketing_may_disqualify_but_not_log_touches(client: TestClient, site: Site):
    headers = bearer(site, "marketing")
    touch = client.post(
        f"/api/leads/{SQL_LEAD}/touches",
        json={"channel": "call", "outcome": "sent"},
        headers=headers,
    )
    assert touch.status_code == 403
    moved = client.post(
        f"/api/leads/{SQL_LEAD}/disqualify", json={"reason": "competitor"}, headers=headers
    )
    assert moved.status_code == 200
    assert moved.json()["to_stage"] == "disqualified"


def test_a_session_post_to_the_api_needs_the_csrf_header(client: TestClient):
    token = login(client, "sales")
    body = {"channel": "call", "outcome": "sent"}
    refused = client.post(f"/api/leads/{SQL_LEAD}/touches", json=body)
    assert refused.status_code == 403
    allowed = client.post(
        f"/api/leads/{SQL_LEAD}/touches", json=body, headers={"X-CSRF-Token": token}
    )
    assert allowed.status_code == 200


def test_a_busy_database_is_a_503_to_retry(site: Site):
    import sqlite3

    from sqlalchemy.exc import OperationalError
    from tests.web.conftest import make_app

    app = make_app(site)

    def busy() -> None:
        raise OperationalError(
            "BEGIN IMMEDIATE", {}, sqlite3.OperationalError("database is locked")
        )

    app.add_api_route("/api/busy", busy)
    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.get("/api/busy")
    assert response.status_code == 503
    assert response.headers["retry-after"] == "1"
    assert response.json()["error"] == "the database is busy; retry in a moment"
