"""The HubSpot-style webhook: v3 signatures, stale timestamps, re-deliveries."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient
from tests.web.conftest import AS_OF, Site, bearer, make_app

SECRET = "shh-its-a-secret"
URL = "http://testserver/api/webhooks/hubspot"


def _post(
    client: TestClient, events: list[dict[str, object]], *, age_ms: int = 0, secret: str = SECRET
):
    from leadpact.web.security import sign_webhook

    body = json.dumps(events).encode()
    stamp = str(int(AS_OF.timestamp() * 1000) - age_ms)
    headers = {
        "Content-Type": "application/json",
        "X-HubSpot-Request-Timestamp": stamp,
        "X-HubSpot-Signature-v3": sign_webhook(secret, "POST", URL, body, stamp),
    }
    return client.post("/api/webhooks/hubspot", content=body, headers=headers)


def _events(at_ms: int) -> list[dict[str, object]]:
    return [
        {"eventId": 1, "subscriptionType": "contact.creation", "objectId": 77, "occurredAt": at_ms},
        {
            "eventId": 2,
            "subscriptionType": "contact.propertyChange",
            "objectId": 77,
            "propertyName": "firstname",
            "propertyValue": "Hanne",
            "occurredAt": at_ms + 1,
        },
        {
            "eventId": 3,
            "subscriptionType": "contact.propertyChange",
            "objectId": 77,
            "propertyName": "lifecyclestage",
            "propertyValue": "marketingqualifiedlead",
            "occurredAt": at_ms + 2,
        },
        {"eventId": 4, "subscriptionType": "deal.creation", "objectId": 5, "occurredAt": at_ms},
    ]


def test_a_signed_delivery_lands(site: Site):
    with TestClient(make_app(site, webhook_secret=SECRET)) as client:
        response = _post(client, _events(int(AS_OF.timestamp() * 1000) - 60_000))
        assert response.status_code == 207, response.text
        assert response.json()["rejects"][0]["index"] == 3
        lead = client.get("/api/leads/hubspot-77", headers=bearer(site, "viewer")).json()
    assert lead["lead"]["first_name"] == "Hanne"
    assert lead["lead"]["stage"] == "mql"


def test_a_re_delivery_is_skipped(site: Site):
    with TestClient(make_app(site, webhook_secret=SECRET)) as client:
        events = _events(int(AS_OF.timestamp() * 1000))[:3]
        first = _post(client, events).json()
        again = _post(client, events).json()
    assert first["inserted"] == 1
    assert again["duplicates"] == 3
    assert again["inserted"] == 0


def test_a_wrong_signature_is_401(site: Site):
    with TestClient(make_app(site, webhook_secret=SECRET)) as client:
        response = _post(client, _events(0), secret="not-the-secret")
    assert response.status_code == 401
    assert response.json()["error"] == "the signature does not match the body and the shared secret"


def test_a_stale_delivery_is_refused(site: Site):
    with TestClient(make_app(site, webhook_secret=SECRET)) as client:
        response = _post(client, _events(0), age_ms=5 * 60_000 + 1)
    assert response.status_code == 401
    assert "stale delivery" in response.json()["error"]


def test_webhooks_are_off_without_a_secret(client: TestClient):
    response = _post(client, _events(0))
    assert response.status_code == 401
    assert "LEADPACT_WEBHOOK_SECRET" in response.json()["error"]


def test_an_unsigned_delivery_is_401(site: Site):
    with TestClient(make_app(site, webhook_secret=SECRET)) as client:
        response = client.post("/api/webhooks/hubspot", json=[])
    assert response.status_code == 401
    assert "unsigned" in response.json()["error"]
