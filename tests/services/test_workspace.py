"""Opening a workspace (pact, database, clock, settings) and erasing a person through it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import inspect

from leadpact.clock import FixedClock, SystemClock
from leadpact.errors import ConflictError, LeadPactError, NotFoundError, PactError
from leadpact.services.workspace import Workspace, erase, open_workspace
from leadpact.settings import Settings, load_settings
from leadpact.store.erasure import PurgeStatus
from leadpact.store.events import list_audit
from leadpact.store.leads import LeadRow, add_lead, find_lead_by_email, get_lead, list_leads
from leadpact.store.migrations import HEAD, current_revision

T0 = datetime(2025, 3, 7, 14, 30, tzinfo=UTC)
NOW = datetime(2025, 3, 10, 9, 0, tzinfo=UTC)


@pytest.fixture
def folder(tmp_path: Path, example_text: str) -> Path:
    """A workspace folder holding the example pact."""
    folder = tmp_path / "ws"
    folder.mkdir()
    (folder / "pact.yaml").write_text(example_text, encoding="utf-8")
    return folder


@pytest.fixture
def ws(folder: Path, db_url: str) -> Iterator[Workspace]:
    """The example workspace on each backend, with three leads, at a fixed now."""
    workspace = open_workspace(
        folder, settings=Settings(database_url=db_url), clock=FixedClock(NOW)
    )
    with workspace.transaction() as conn:
        for lead_id, email, stage in [
            ("crm-1", "Jane@Example.com", "mql"),
            ("crm-2", "jane@example.com", "sql"),
            ("crm-3", "bo@example.com", "mql"),
        ]:
            add_lead(conn, LeadRow(lead_id, stage, T0, T0, email=email, first_name="X"))
    yield workspace
    workspace.close()


def test_a_new_workspace_gets_an_sqlite_database_in_its_folder(
    folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("LEADPACT_DATABASE_URL", raising=False)
    with open_workspace(folder) as workspace:
        assert (folder / "leadpact.db").is_file()
        assert workspace.database == f"sqlite+pysqlite:///{(folder / 'leadpact.db').resolve()}"
        assert current_revision(workspace.engine) == HEAD
        assert "leads" in inspect(workspace.engine).get_table_names()
        assert workspace.pact.company == "Nordlys Software ApS"
        assert isinstance(workspace.clock, SystemClock)
        assert workspace.directory == folder


def test_the_database_url_setting_points_elsewhere(folder: Path, db_url: str) -> None:
    with open_workspace(folder, settings=Settings(database_url=db_url)) as workspace:
        assert current_revision(workspace.engine) == HEAD
    if db_url.startswith("postgresql"):
        assert not (folder / "leadpact.db").exists()


def test_settings_come_from_the_environment_and_env_files(
    folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("DATABASE_URL", "PORT", "HOST", "LOG_LEVEL", "WORKSPACE"):
        monkeypatch.delenv(f"LEADPACT_{name}", raising=False)
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text("LEADPACT_PORT=9000\nLEADPACT_HOST=0.0.0.0\n")
    (folder / ".env").write_text("LEADPACT_PORT=9100\nOTHER_TOOL_SETTING=x\n")
    assert load_settings().port == 9000
    settings = load_settings(folder)
    assert (settings.port, settings.host, settings.log_level) == (9100, "0.0.0.0", "info")
    monkeypatch.setenv("LEADPACT_PORT", "9200")
    assert load_settings(folder).port == 9200
    other = tmp_path / "other.db"
    (folder / ".env").write_text(f"LEADPACT_DATABASE_URL=sqlite:///{other}\n")
    with open_workspace(folder) as workspace:
        assert workspace.settings.database_url == f"sqlite:///{other}"
    assert other.is_file()
    assert not (folder / "leadpact.db").exists()


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("LEADPACT_PORT", "eighty", "setting LEADPACT_PORT is invalid"),
        ("LEADPACT_PORT", "70000", "setting LEADPACT_PORT is invalid"),
        ("LEADPACT_LOG_LEVEL", "loud", "setting LEADPACT_LOG_LEVEL is invalid"),
    ],
)
def test_a_bad_setting_is_a_user_error(
    folder: Path, monkeypatch: pytest.MonkeyPatch, name: str, value: str, message: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(LeadPactError, match=message):
        open_workspace(folder)


def test_a_folder_without_a_pact_says_how_to_make_one(tmp_path: Path) -> None:
    with pytest.raises(LeadPactError) as caught:
        open_workspace(tmp_path)
    assert str(caught.value) == (
        f"no pact.yaml in {tmp_path}; create one with `leadpact init {tmp_path}`"
    )
    assert not (tmp_path / "leadpact.db").exists()


def test_a_missing_folder_says_the_same(tmp_path: Path) -> None:
    with pytest.raises(LeadPactError, match=r"no pact\.yaml in .*nowhere; create one"):
        open_workspace(tmp_path / "nowhere")


def test_an_invalid_pact_is_reported_with_its_problems(folder: Path) -> None:
    (folder / "pact.yaml").write_text("version: 1\ncompany: X\n", encoding="utf-8")
    with pytest.raises(PactError, match=r"pact.yaml:"):
        open_workspace(folder)


def test_an_unreachable_database_is_a_user_error(folder: Path) -> None:
    settings = Settings(database_url="postgresql://nobody@127.0.0.1:1/x?connect_timeout=2")
    with pytest.raises(LeadPactError, match="cannot open the database"):
        open_workspace(folder, settings=settings)


def test_erase_by_email_erases_every_lead_with_it(ws: Workspace) -> None:
    report = erase(ws, email=" JANE@example.com", reason="opted out")
    assert len(report.erased) == 2
    assert {r.at for r in report.erased} == {NOW}
    expected = PurgeStatus.COMPLETE if ws.engine.dialect.name == "sqlite" else "left_to_vacuum"
    assert report.purge == expected
    with ws.engine.connect() as conn:
        assert find_lead_by_email(conn, "jane@example.com") is None
        stages = sorted(lead.stage for lead in list_leads(conn))
        assert stages == ["mql", "mql", "sql"]
        tokens = {r.token for r in report.erased}
        assert {entry.subject for entry in list_audit(conn, action="erase")} == tokens
        assert get_lead(conn, "crm-3").email == "bo@example.com"


def test_erase_by_id(ws: Workspace) -> None:
    (result,) = erase(ws, lead_id="crm-3", reason="asked by phone").erased
    with ws.engine.connect() as conn:
        assert get_lead(conn, result.token).email is None
        with pytest.raises(NotFoundError):
            get_lead(conn, "crm-3")


def test_erase_is_all_or_nothing(ws: Workspace) -> None:
    with ws.transaction() as conn:
        add_lead(conn, LeadRow("crm-4", "lead", T0, T0, email="jane@example.com", last_name="Out"))
    with pytest.raises(LeadPactError, match="must not contain"):
        erase(ws, email="jane@example.com", reason="Out of the market")
    with ws.engine.connect() as conn:
        assert len(list_leads(conn, email="jane@example.com")) == 3


@pytest.mark.parametrize(
    ("who", "error", "message"),
    [
        ({}, LeadPactError, "a lead id or an email, not both"),
        ({"lead_id": "crm-1", "email": "x@y.dk"}, LeadPactError, "not both"),
        ({"email": "nobody@example.com"}, NotFoundError, "no lead with email"),
        ({"lead_id": "ghost"}, NotFoundError, "no lead 'ghost'"),
    ],
)
def test_erase_needs_one_existing_person(
    ws: Workspace, who: dict[str, str], error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        erase(ws, reason="opted out", **who)


def test_erasing_an_erased_lead_is_a_conflict(ws: Workspace) -> None:
    (result,) = erase(ws, lead_id="crm-3", reason="opted out").erased
    with pytest.raises(ConflictError, match="already erased"):
        erase(ws, lead_id=result.token, reason="opted out")
