"""`leadpact alerts run|list|log` as a user runs them, in-process and as real processes.

A real SQLite workspace and a real HTTP receiver on loopback (`tests/services/test_channels.py`).
Two `leadpact alerts run --once` processes at the same moment send each alert once; a third
(a restart) sends nothing; a running scheduler stops on Ctrl-C.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import signal
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from typer.testing import CliRunner

from leadpact.cli import app
from leadpact.clock import FixedClock
from leadpact.core.models import StageChange
from leadpact.services.workspace import open_workspace
from leadpact.store.events import add_stage_change
from leadpact.store.leads import LeadRow, add_lead

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE_PACT = ROOT / "src" / "leadpact" / "data" / "pact.yaml"
#: Thursday 6 March 2025, 13:00 in Copenhagen: the leads (due 11:00 to 12:00) are overdue.
AS_OF = "2025-03-06T12:00:00Z"

runner = CliRunner(env={"COLUMNS": "200"})


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


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A workspace with 20 priority-1 SQL leads of Sofie's, entered from 09:00 to 09:57."""
    for name in list(os.environ):
        if name.startswith("LEADPACT_"):
            monkeypatch.delenv(name)
    folder = tmp_path / "ws"
    folder.mkdir()
    shutil.copy(EXAMPLE_PACT, folder / "pact.yaml")
    clock = FixedClock(datetime(2025, 3, 6, 8, tzinfo=UTC))
    with open_workspace(folder, clock=clock) as ws, ws.transaction() as conn:
        for i in range(20):
            entered = datetime(2025, 3, 6, 8, 3 * i, tzinfo=UTC)
            add_lead(
                conn,
                LeadRow(
                    id=f"L{i:02d}",
                    stage="sql",
                    stage_at=entered,
                    created_at=entered,
                    owner="Sofie Dahl",
                    team="sales-dk",
                    priority=1,
                ),
            )
            add_stage_change(conn, StageChange(f"L{i:02d}", None, "sql", entered))
    return folder


def invoke(*args: str, **env: str) -> Any:
    return runner.invoke(app, list(args), env=env)


def keys(receiver: Any) -> list[str]:
    return [r.headers["Idempotency-Key"] for r in receiver.received()]


def test_run_once_delivers_and_says_what_it_did(folder):
    with servers.http_receiver(script=[500]) as receiver:
        result = invoke(
            "alerts", "run", "--once", "--as-of", AS_OF, "-w", str(folder),
            LEADPACT_ALERT_WEBHOOK_URL=receiver.url,
        )  # fmt: skip
        assert result.exit_code == 0, result.output
        # 20 breaches, L00's escalation (due 13:00), 2 digests; one try fails.
        assert result.output == (
            "2025-03-06T12:00:00+00:00: 23 alerts due, 23 new (0 without a channel); "
            "22 sent, 1 to retry, 0 failed\n"
        )
        again = invoke(
            "alerts", "run", "--once", "--as-of", "2025-03-06T12:01:00Z", "--json",
            "-w", str(folder), LEADPACT_ALERT_WEBHOOK_URL=receiver.url,
        )  # fmt: skip
        assert again.exit_code == 0, again.output
        assert json.loads(again.output) == {
            "as_of": "2025-03-06T12:01:00+00:00",
            "due": 23,
            "stored": 0,
            "skipped": 0,
            "sent": 1,  # the retry, a minute later
            "retrying": 0,
            "failed": 0,
            "interrupted": 0,
        }
        assert len(keys(receiver)) == 24
        assert len(set(keys(receiver))) == 23


def test_list_and_log_show_alerts_and_attempts(folder):
    with servers.http_receiver(script=[503]) as receiver:
        invoke(
            "alerts", "run", "--once", "--as-of", AS_OF, "-w", str(folder),
            LEADPACT_ALERT_WEBHOOK_URL=receiver.url,
        )  # fmt: skip
    table = invoke("alerts", "list", "--kind", "escalation", "-w", str(folder))
    assert table.exit_code == 0, table.output
    assert "Escalation: lead L00 (p1-response) of Sofie Dahl is overdue" in table.output
    assert "Lars Nielsen <lars.nielsen@nordlys.example>" in table.output
    data = json.loads(invoke("alerts", "list", "--json", "-w", str(folder)).output)["alerts"]
    assert len(data) == 23
    assert {a["channel"] for a in data} == {"webhook"}
    [retry] = [a for a in data if a["status"] == "pending"]
    assert retry["attempts"] == 1
    assert retry["last_error"].startswith("HTTP 503")
    assert retry["next_attempt_at"] == "2025-03-06T12:01:00+00:00"
    pending = json.loads(
        invoke("alerts", "list", "--status", "pending", "--json", "-w", str(folder)).output
    )
    assert [a["id"] for a in pending["alerts"]] == [retry["id"]]
    assert invoke("alerts", "list", "--status", "failed", "-w", str(folder)).output == (
        "no alerts with these filters\n"
    )
    log = invoke("alerts", "log", "--limit", "50", "-w", str(folder))
    assert log.exit_code == 0, log.output
    assert "HTTP 503 from 127.0.0.1" in log.output
    assert "HTTP 200 from 127.0.0.1" in log.output
    one = json.loads(
        invoke("alerts", "log", "--alert", str(retry["id"]), "--json", "-w", str(folder)).output
    )
    assert [(d["attempt"], d["ok"]) for d in one["deliveries"]] == [(1, False)]
    assert one["deliveries"][0]["at"] == "2025-03-06T12:00:00+00:00"


def test_empty_workspace_and_mistakes_get_one_line(folder):
    assert invoke("alerts", "list", "-w", str(folder)).output == "no alerts yet\n"
    assert invoke("alerts", "log", "-w", str(folder)).output == "no delivery attempts yet\n"
    missing = invoke("alerts", "log", "--alert", "7", "-w", str(folder))
    assert missing.exit_code == 1
    assert "no delivery attempts for alert 7" in missing.output
    bad = invoke("alerts", "list", "--status", "done", "-w", str(folder))
    assert bad.exit_code == 1
    assert "unknown alert status 'done'; expected one of pending, sending, sent" in bad.output
    assert "Traceback" not in bad.output
    loop = invoke("alerts", "run", "--as-of", AS_OF, "-w", str(folder))
    assert loop.exit_code == 2
    assert "--as-of needs --once" in loop.output
    url = invoke(
        "alerts", "run", "--once", "-w", str(folder), LEADPACT_SLACK_WEBHOOK_URL="hooks.slack"
    )
    assert url.exit_code == 1
    assert "setting LEADPACT_SLACK_WEBHOOK_URL must be an http:// or https:// URL" in url.output


def test_without_channels_alerts_are_stored_skipped(folder):
    result = invoke("alerts", "run", "--once", "--as-of", AS_OF, "-w", str(folder))
    assert result.exit_code == 0, result.output
    assert "23 new (23 without a channel); 0 sent" in result.output
    skipped = invoke("alerts", "list", "--status", "skipped", "--json", "-w", str(folder))
    assert len(json.loads(skipped.output)["alerts"]) == 23


def leadpact(folder: Path, *args: str, url: str, **env: str) -> subprocess.Popen[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("LEADPACT_")}
    return subprocess.Popen(
        [sys.executable, "-m", "leadpact", "alerts", "run", *args, "-w", str(folder)],
        env=clean | {"LEADPACT_ALERT_WEBHOOK_URL": url} | env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_two_processes_at_once_then_a_restart_send_each_alert_once(folder):
    with servers.http_receiver() as receiver:
        processes = [
            leadpact(folder, "--once", "--as-of", AS_OF, "--json", url=receiver.url)
            for _ in range(2)
        ]
        outputs = [p.communicate(timeout=300) for p in processes]
        assert [p.returncode for p in processes] == [0, 0], outputs
        runs = [json.loads(out) for out, _ in outputs]
        assert sum(r["stored"] for r in runs) == 23
        assert sum(r["sent"] for r in runs) == 23
        restart = leadpact(folder, "--once", "--as-of", AS_OF, "--json", url=receiver.url)
        out, err = restart.communicate(timeout=300)
        assert restart.returncode == 0, err
        assert json.loads(out)["sent"] == 0
        sent = keys(receiver)
    assert len(sent) == 23
    assert len(set(sent)) == 23


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT to a child process")
def test_a_running_scheduler_delivers_and_stops_on_ctrl_c(folder):
    # The real clock: the pact's review (due 2025-07-01) is overdue, for its three owners.
    with servers.http_receiver() as receiver:
        process = leadpact(folder, url=receiver.url, LEADPACT_SCHEDULER_INTERVAL="0.1")
        try:
            servers.wait_for(
                lambda: len([k for k in keys(receiver) if k.startswith("review:overdue:")]) == 3,
                timeout=120,
            )
        finally:
            process.send_signal(signal.SIGINT)
            out, err = process.communicate(timeout=120)
            sent = keys(receiver)
    assert process.returncode == 0, err
    assert "alert scheduler: every 0.1 s, channels: webhook; Ctrl-C stops" in err
    assert "stopping after the cycle in progress" in err
    assert " sent" in out, err
    # The cycle in progress was finished: nothing was left half-sent.
    stored = json.loads(invoke("alerts", "list", "--json", "-w", str(folder)).output)["alerts"]
    assert {a["status"] for a in stored} == {"sent"}
    assert sorted(a["key"].rsplit("|", 1)[0] for a in stored) == sorted(sent)
