"""The pages: login, sessions, CSRF, roles, escaping, actions, and the page of every twin."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from tests.web.conftest import EVIL, MQL_LEAD, SQL_LEAD, csrf_of, login

PAGES = [
    "/",
    "/queue",
    "/queue/Sofie%20Dahl",
    "/leads",
    f"/leads/{SQL_LEAD}",
    "/sla",
    "/goals",
    "/pact",
    "/pact/document",
]


def test_pages_send_strangers_to_the_login(client: TestClient):
    response = client.get("/queue/Sofie%20Dahl", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=%2Fqueue%2FSofie%20Dahl"


def test_a_wrong_password_is_refused_without_saying_which_part(client: TestClient):
    page = client.get("/login")
    response = client.post(
        "/login",
        data={"username": "sales", "password": "wrong one!!", "csrf_token": csrf_of(page.text)},
    )
    assert response.status_code == 401
    assert "Wrong username or password." in response.text


def test_the_login_form_needs_its_csrf_token(client: TestClient):
    client.get("/login")
    response = client.post("/login", data={"username": "sales", "password": "x" * 12})
    assert response.status_code == 403


def test_login_goes_where_the_user_was_going_but_never_off_site(client: TestClient):
    page = client.get("/login?next=/sla")
    assert 'value="/sla"' in page.text
    evil = client.get("/login?next=//evil.example/x")
    assert 'name="next" value="/"' in evil.text


@pytest.mark.parametrize("path", PAGES)
def test_every_page_renders_for_a_viewer(client: TestClient, path: str):
    login(client, "viewer")
    response = client.get(path)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/html")


def test_imported_text_is_escaped_everywhere(client: TestClient):
    login(client, "viewer")
    for path in (f"/leads/{SQL_LEAD}", "/leads", "/queue/Sofie%20Dahl", f"/leads/{MQL_LEAD}"):
        html = client.get(path).text
        assert EVIL not in html, path
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html, path


def test_a_viewer_sees_no_forms_and_cannot_post(client: TestClient):
    token = login(client, "viewer")
    html = client.get(f"/leads/{SQL_LEAD}").text
    assert "Log touch" not in html
    assert "Disqualify" not in html
    response = client.post(
        f"/leads/{SQL_LEAD}/touches",
        data={"channel": "call", "outcome": "sent", "csrf_token": token},
    )
    assert response.status_code == 403
    assert "viewer may not log touches" in response.text


def test_a_form_post_without_the_csrf_token_is_refused(client: TestClient):
    login(client, "sales")
    response = client.post(
        f"/leads/{SQL_LEAD}/touches", data={"channel": "call", "outcome": "sent"}
    )
    assert response.status_code == 403
    assert "reload the page" in response.text


def test_a_rep_logs_a_touch_and_the_clock_stops(client: TestClient):
    token = login(client, "sales")
    before = client.get(f"/leads/{SQL_LEAD}").text
    assert 'class="countdown' in before
    response = client.post(
        f"/leads/{SQL_LEAD}/touches",
        data={
            "channel": "call",
            "outcome": "connected",
            "note": "<b>talked</b>",
            "csrf_token": token,
        },
    )
    assert response.status_code == 200  # followed the redirect back to the lead
    assert "Touch logged." in response.text
    row = response.text.split('data-commitment="sql-response"')[1].split("</tr>")[0]
    assert ">Met<" in row
    assert "stopped" in row
    assert "&lt;b&gt;talked&lt;/b&gt;" in response.text
    assert "by Sales User" in response.text


def test_accept_then_reject_is_refused_with_a_message(client: TestClient):
    token = login(client, "sales")
    accepted = client.post(f"/leads/{MQL_LEAD}/accept", data={"csrf_token": token})
    assert "Accepted: now Sales accepted lead." in accepted.text
    again = client.post(
        f"/leads/{MQL_LEAD}/reject", data={"reason": "no budget", "csrf_token": token}
    )
    assert "cannot be rejected" in again.text
    assert 'class="flash error"' in again.text


def test_logout_ends_the_session(client: TestClient):
    token = login(client, "admin")
    client.post("/logout", data={"csrf_token": token})
    assert client.get("/leads", follow_redirects=False).status_code == 303


def test_only_admins_manage_users_and_a_token_is_shown_once(client: TestClient):
    token = login(client, "sales")
    assert client.get("/users").status_code == 403
    client.post("/logout", data={"csrf_token": token})
    token = login(client, "admin")
    created = client.post(
        "/users/tokens", data={"name": "zapier", "role": "viewer", "csrf_token": token}
    )
    assert created.status_code == 200
    secret = created.text.split('data-testid="new-token">')[1].split("<")[0]
    assert secret.startswith("lp_")
    assert secret not in client.get("/users").text
    assert (
        client.get("/api/leads", headers={"Authorization": f"Bearer {secret}"}).status_code == 200
    )


def test_a_missing_page_is_a_404_page(client: TestClient):
    login(client, "viewer")
    response = client.get("/leads/NOPE")
    assert response.status_code == 404
    assert "no lead &#39;NOPE&#39; in this workspace" in response.text


def test_the_goals_form_recalculates_and_explains_bad_input(client: TestClient):
    login(client, "viewer")
    page = client.get("/goals?close_rate=0.1")
    assert page.status_code == 200
    assert "the larger of 100 (close rate)" in page.text
    bad = client.get("/goals?deal_size=-5")
    assert bad.status_code == 422
    assert "deal_size" in bad.text


def test_the_overview_embeds_chart_specs_and_bundled_vega(client: TestClient):
    login(client, "viewer")
    html = client.get("/").text
    assert '<script src="/vendor/vega.js"></script>' in html
    assert 'id="chart-waterfall"' in html
    assert '"$schema"' in html
    assert "http://" not in html.split("chart-specs")[0].split("<main>")[1]
    script = client.get("/vendor/vega.js")
    assert script.status_code == 200
    assert "window.vegaEmbed" in script.text
