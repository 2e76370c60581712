"""The web server's alert scheduler: started and stopped with the app, delivering to a receiver.

A real SQLite workspace, a real HTTP receiver on loopback (`tests/services/test_channels.py`),
the real app lifespan. Conditions are awaited by bounded polling, never by sleeping.
"""

from __future__ import annotations

import importlib.util
import logging
import sys
from datetime import datetime, timedelta
from pathlib import Path
from types import ModuleType, SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from leadpact.clock import FixedClock
from leadpact.core.models import StageChange
from leadpact.services.alerts import list_alerts
from leadpact.services.workspace import Workspace, open_workspace
from leadpact.settings import Settings
from leadpact.store.events import add_stage_change
from leadpact.store.leads import LeadRow, add_lead
from leadpact.web import scheduler

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE_PACT = ROOT / "src" / "leadpact" / "data" / "pact.yaml"
CPH = ZoneInfo("Europe/Copenhagen")
#: Thursday 6 March 2025, 13:00 in Copenhagen: lead "a" (due 12:00) is overdue.
NOW = datetime(2025, 3, 6, 13, tzinfo=CPH)


def load_servers() -> ModuleType:
    name = "leadpact_test_alert_servers"
    if name not in sys.modules:
        path = ROOT / "tests" / "services" / "test_channels.py"
        spec = importlib.util.spec_from_file_location(name, path)
        assert spec is not None
        assert spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


servers = load_servers()


def settings_for(**values: Any) -> Settings:
    return Settings(_env_file=None, scheduler_interval=timedelta(seconds=0.05), **values)


def make_workspace(folder: Path, **values: Any) -> Workspace:
    folder.mkdir(exist_ok=True)
    (folder / "pact.yaml").write_text(EXAMPLE_PACT.read_text(encoding="utf-8"), encoding="utf-8")
    workspace = open_workspace(folder, settings=settings_for(**values), clock=FixedClock(NOW))
    entered = datetime(2025, 3, 6, 10, tzinfo=CPH)
    with workspace.transaction() as conn:
        add_lead(
            conn,
            LeadRow(
                id="a",
                stage="sql",
                stage_at=entered,
                created_at=entered,
                owner="Sofie Dahl",
                team="sales-dk",
                priority=1,
            ),
        )
        add_stage_change(conn, StageChange("a", None, "sql", entered))
    return workspace


def hook_keys(receiver: Any) -> list[str]:
    return [r.headers["Idempotency-Key"] for r in receiver.received()]


@pytest.mark.parametrize("with_extra", [True, False], ids=["extra", "attribute"])
def test_start_delivers_alerts_in_the_background_and_stop_ends_it(tmp_path, with_extra):
    with servers.http_receiver() as receiver:
        workspace = make_workspace(tmp_path / "ws", alert_webhook_url=receiver.url)
        state: Any = SimpleNamespace(workspace=workspace)
        if with_extra:
            state.extra = {}
        running = scheduler.start(state)
        assert running is not None
        assert scheduler.find(state) is running
        assert scheduler.start(state) is running  # a second start changes nothing
        servers.wait_for(
            lambda: "breach:a:p1-response:2025-03-06T11:00:00+00:00" in hook_keys(receiver)
        )
        servers.wait_for(lambda: running.cycles >= 3)
        scheduler.stop(state)
        assert not running.thread.is_alive()
        keys = hook_keys(receiver)
        stored = list_alerts(workspace)
        workspace.close()
    assert running.last is not None
    assert running.last.now == NOW
    assert sorted(keys) == sorted(a.payload["key"] for a in stored)  # each alert once
    assert len(keys) == len(set(keys))


def test_a_bad_webhook_setting_is_logged_and_nothing_starts(tmp_path, caplog):
    workspace = make_workspace(tmp_path / "ws", alert_webhook_url="hooks.example/x")
    state: Any = SimpleNamespace(workspace=workspace, extra={})
    with caplog.at_level(logging.ERROR, logger="leadpact.alerts"):
        assert scheduler.start(state) is None
    workspace.close()
    assert scheduler.find(state) is None
    assert "alert scheduler not started: setting LEADPACT_ALERT_WEBHOOK_URL" in caplog.text
    scheduler.stop(state)  # nothing to stop


def test_the_web_app_runs_the_scheduler_in_its_lifespan(tmp_path):
    from fastapi.testclient import TestClient

    from leadpact.web.app import create_app

    with servers.http_receiver() as receiver:
        folder = tmp_path / "ws"
        make_workspace(folder).close()
        settings = settings_for(alert_webhook_url=receiver.url)
        app = create_app(settings, folder, clock=FixedClock(NOW))
        with TestClient(app):
            servers.wait_for(lambda: any(k.startswith("breach:a:") for k in hook_keys(receiver)))
            running = scheduler.find(app.state.leadpact)
            assert running is not None
        assert not running.thread.is_alive()  # stopped with the app
