"""A small, realistic workspace served by the web app: demo data, two hand-made leads, users."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

EXAMPLE_PACT = Path(__file__).resolve().parents[2] / "src" / "leadpact" / "data" / "pact.yaml"
#: A Wednesday, 11:00 in Copenhagen: the sales-dk calendar is open.
AS_OF = datetime(2025, 3, 5, 10, 0, tzinfo=UTC)
PASSWORD = "correct horse battery"
EVIL = "<script>alert(1)</script>"
#: A priority lead in SQL whose response clock runs at AS_OF, named to test escaping.
SQL_LEAD = "WEB-SQL"
#: A lead handed over to sales (MQL), to accept or reject.
MQL_LEAD = "WEB-MQL"


@dataclass(frozen=True)
class Site:
    """A built workspace and the secrets to use it."""

    directory: Path
    tokens: dict[str, str]


def _good_fit(
    lead_id: str, stage: str, first_name: str, entered: dict[str, datetime], as_of: datetime
) -> dict[str, object]:
    event: dict[str, object] = {
        "kind": "lead",
        "id": lead_id,
        "created_at": (as_of - timedelta(days=3)).isoformat(),
        "first_name": first_name,
        "last_name": "Tester",
        "email": f"{lead_id.lower()}@example.com",
        "title": "Managing Director",
        "company": f"{EVIL} ApS",
        "employees": 500,
        "annual_revenue": 90_000_000,
        "industry": "software",
        "country": "DK",
        "source": "webinar",
        "owner": "Sofie Dahl",
        "team": "sales-dk",
        "stage": stage,
    }
    return event | {f"became_{s}_at": at.isoformat() for s, at in entered.items()}


def build(directory: Path, as_of: datetime = AS_OF) -> Site:
    """Build the workspace: 58 days of demo data up to `as_of`, the two leads, users, tokens."""
    from leadpact.clock import FixedClock
    from leadpact.services import demo, importing
    from leadpact.services.events import ingest, rescore_workspace
    from leadpact.services.users import create_token, create_user
    from leadpact.services.workspace import open_workspace

    directory.mkdir(parents=True)
    (directory / "pact.yaml").write_text(EXAMPLE_PACT.read_text(encoding="utf-8"), "utf-8")
    start = (as_of - timedelta(days=58)).date()
    data = demo.generate(seed=5, leads=150, start=start, days=58)
    files = data.write_csv(directory / "data")
    tokens: dict[str, str] = {}
    with open_workspace(directory, clock=FixedClock(as_of)) as ws:
        for kind in ("leads", "activities", "touches", "deals"):
            importing.import_file(ws, files[kind], score=False)
        events = [
            _good_fit(
                SQL_LEAD,
                "sql",
                EVIL,
                {"mql": as_of - timedelta(hours=2), "sql": as_of - timedelta(minutes=30)},
                as_of,
            ),
            _good_fit(MQL_LEAD, "mql", "Mia", {"mql": as_of - timedelta(hours=1)}, as_of),
        ]
        result = ingest(ws, events, actor="fixture")
        assert not result.errors, result.errors
        assert result.lead_ids == {SQL_LEAD, MQL_LEAD}
        partial = rescore_workspace(ws, result.lead_ids)
        assert partial.leads == 2
        rescore_workspace(ws)
        for role in ("admin", "marketing", "sales", "viewer"):
            create_user(ws, role, PASSWORD, role, name=f"{role.title()} User")
            tokens[role] = create_token(ws, f"{role}-token", role)[1]
    return Site(directory, tokens)


@pytest.fixture(scope="session")
def built_site(tmp_path_factory: pytest.TempPathFactory) -> Site:
    """The workspace, built once per test session (tests get a copy)."""
    return build(tmp_path_factory.mktemp("web") / "workspace")


@pytest.fixture
def site(built_site: Site, tmp_path: Path) -> Site:
    """A private copy of the built workspace (tests change it)."""
    target = tmp_path / "workspace"
    shutil.copytree(built_site.directory, target)
    return Site(target, built_site.tokens)


def make_app(site: Site, **settings: object):
    from leadpact.clock import FixedClock
    from leadpact.settings import Settings
    from leadpact.web.app import create_app

    values = {"session_secret": "test-secret", **settings}
    return create_app(
        Settings.model_validate(values),
        site.directory,
        start_scheduler=False,
        clock=FixedClock(AS_OF),
        background_rescore=False,
    )


@pytest.fixture
def client(site: Site) -> Iterator[TestClient]:
    """A client of the app over the copy (not logged in)."""
    with TestClient(make_app(site)) as test_client:
        yield test_client


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found is not None, "no CSRF token on the page"
    return found.group(1)


def login(client: TestClient, username: str, password: str = PASSWORD) -> str:
    """Log in through the form; returns the session's CSRF token."""
    page = client.get("/login")
    response = client.post(
        "/login",
        data={"username": username, "password": password, "csrf_token": csrf_of(page.text)},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    return csrf_of(client.get("/leads").text)


def bearer(site: Site, role: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {site.tokens[role]}"}
