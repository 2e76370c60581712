"""Alerts of a workspace on SQLite and PostgreSQL: planned once, delivered once, retried, logged.

Real components only: a workspace database, an SMTP server (aiosmtpd) and HTTP receivers on
loopback (`tests/services/test_channels.py`). Times are explicit `now` values, never waits.
The example pact: p1-response is due 2 business hours after a priority-1 lead enters sql
(sales-dk: Copenhagen, Thu 6 March 2025 09:00-17:00); warn 30m before, escalate after 2h.
"""

from __future__ import annotations

import importlib.util
import sys
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import ModuleType
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Connection, func, select, update

from leadpact.clock import FixedClock
from leadpact.core.models import Channel as TouchChannel
from leadpact.core.models import StageChange, Touch, TouchOutcome
from leadpact.errors import LeadPactError
from leadpact.services.alerts import (
    LEASE,
    AlertStatus,
    Planner,
    _row_key,
    deliver_due,
    delivery_log,
    list_alerts,
    plan_alerts,
    run_cycle,
    run_scheduler,
)
from leadpact.services.channels import EmailChannel, WebhookChannel
from leadpact.services.workspace import Workspace, open_workspace
from leadpact.settings import Settings
from leadpact.store.events import add_stage_change, add_touch
from leadpact.store.leads import LeadRow, add_lead
from leadpact.store.tables import alerts, deliveries, leads

EXAMPLE_PACT = Path(__file__).resolve().parents[2] / "src" / "leadpact" / "data" / "pact.yaml"
CPH = ZoneInfo("Europe/Copenhagen")


def load_servers() -> ModuleType:
    """The loopback SMTP server and HTTP receiver of test_channels.py."""
    name = "leadpact_test_alert_servers"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(
            name, Path(__file__).with_name("test_channels.py")
        )
        assert spec is not None
        assert spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


servers = load_servers()


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2025, 3, day, hour, minute, tzinfo=CPH)


def open_in(folder: Path, db_url: str, **settings: Any) -> Workspace:
    folder.mkdir(exist_ok=True)
    (folder / "pact.yaml").write_text(EXAMPLE_PACT.read_text(encoding="utf-8"), encoding="utf-8")
    return open_workspace(
        folder,
        settings=Settings(_env_file=None, database_url=db_url, **settings),
        clock=FixedClock(at(6, 9)),
    )


@pytest.fixture
def ws(tmp_path, db_url):
    workspace = open_in(tmp_path / "ws", db_url)
    yield workspace
    workspace.close()


def sql_lead(
    conn: Connection, lead_id: str, entered: datetime, owner: str | None = "Sofie Dahl"
) -> None:
    add_lead(
        conn,
        LeadRow(
            id=lead_id,
            stage="sql",
            stage_at=entered,
            created_at=entered,
            owner=owner,
            team="sales-dk",
            priority=1,
        ),
    )
    add_stage_change(conn, StageChange(lead_id, None, "sql", entered))


def touch(conn: Connection, lead_id: str, when: datetime) -> None:
    add_touch(conn, Touch(lead_id, "rep", TouchChannel.CALL, when, TouchOutcome.NO_ANSWER))


def kinds(ws: Workspace, **filters: str) -> list[tuple[str, str | None, str, str]]:
    return sorted(
        (a.kind, a.lead_id, a.channel, a.status) for a in list_alerts(ws, limit=1000, **filters)
    )


def clock_kinds(ws: Workspace) -> list[tuple[str, str | None, str, str]]:
    return [k for k in kinds(ws) if k[0] not in ("digest", "review")]


# --------------------------------------------------------------------------- planning


def test_due_alerts_are_stored_once_per_channel(ws):
    with ws.transaction() as conn:
        sql_lead(conn, "a", at(6, 10))
        sql_lead(conn, "b", at(6, 11), owner=None)
    email = EmailChannel("127.0.0.1", 25, "a@b.example", tls="none")
    hook = WebhookChannel("http://127.0.0.1:9/hook")
    first = plan_alerts(ws, at(6, 11, 45), [email, hook])
    # a is at risk (due 12:00): a warning by email and by webhook. b (no owner) is not at
    # risk yet. The 08:00 digests of the Copenhagen reps are due too.
    assert clock_kinds(ws) == [
        ("warning", "a", "email", "pending"),
        ("warning", "a", "webhook", "pending"),
    ]
    assert first.stored == first.due * 2  # everyone due has an email
    again = plan_alerts(ws, at(6, 11, 50), [email, hook])
    assert (again.due, again.stored) == (first.due, 0)
    row = next(a for a in list_alerts(ws) if a.kind == "warning" and a.channel == "email")
    assert row.key == "warning:a:p1-response:2025-03-06T11:00:00+00:00|email"
    assert row.recipient == "Sofie Dahl <sofie.dahl@nordlys.example>"
    assert row.due_at == at(6, 12)
    assert row.payload["recipient"]["role"] == "owner"
    assert (row.attempts, row.next_attempt_at) == (0, at(6, 11, 45))


def test_without_a_channel_an_alert_is_stored_skipped_with_the_reason(ws):
    with ws.transaction() as conn:
        sql_lead(conn, "a", at(6, 10))
    result = plan_alerts(ws, at(6, 12, 30), [])
    assert result.skipped == result.stored > 0
    breach = next(a for a in list_alerts(ws, kind="breach"))
    assert (breach.channel, breach.status, breach.next_attempt_at) == ("none", "skipped", None)
    assert "LEADPACT_SMTP_HOST" in (breach.last_error or "")
    assert deliver_due(ws, at(6, 13), []).attempts == 0


def test_the_unowned_lead_goes_to_the_manager_by_email_only_with_an_address(ws):
    with ws.transaction() as conn:
        sql_lead(conn, "b", at(6, 10), owner="Somebody Else")
        sql_lead(conn, "c", at(6, 10), owner=None)
    email = EmailChannel("127.0.0.1", 25, "a@b.example", tls="none")
    plan_alerts(ws, at(6, 12, 30), [email])
    rows = {(a.lead_id, a.channel, a.recipient) for a in list_alerts(ws, kind="breach")}
    assert rows == {
        ("b", "none", "Somebody Else"),
        ("c", "email", "Lars Nielsen <lars.nielsen@nordlys.example>"),
    }


def test_a_very_long_key_is_shortened_but_stays_unique(ws):
    long_id = "x" * 190
    with ws.transaction() as conn:
        sql_lead(conn, long_id, at(6, 10))
        sql_lead(conn, long_id[:-1] + "y", at(6, 10))
    plan_alerts(ws, at(6, 12, 30), [])
    keys = [a.key for a in list_alerts(ws, kind="breach")]
    assert len(keys) == 2
    assert len(set(keys)) == 2
    assert all(len(k) <= 300 for k in keys)
    # Keys of long lead and commitment ids (up to 200 and 100 characters) are hashed.
    long_key = "reassignment:" + "L" * 200 + ":" + "c" * 100 + ":2025-03-06T11:00:00+00:00"
    shortened = {_row_key(long_key, "webhook"), _row_key(long_key + "x", "webhook")}
    assert len(shortened) == 2
    assert {len(k) for k in shortened} == {300}


def test_a_touch_stops_the_clock_for_the_next_cycle(ws):
    with ws.transaction() as conn:
        sql_lead(conn, "a", at(6, 10))
        sql_lead(conn, "b", at(6, 10))
    planner = Planner(ws, [], background=False)
    planner.plan(at(6, 11, 45))
    with ws.transaction() as conn:
        touch(conn, "a", at(6, 11, 50))
    planner.plan(at(6, 12, 30))
    assert [k[:2] for k in clock_kinds(ws)] == [
        ("breach", "b"),
        ("warning", "a"),
        ("warning", "b"),
    ]
    assert planner.evaluations == 1  # lead a alone was evaluated again


def test_a_lead_that_arrives_later_is_watched_from_its_first_event(ws):
    planner = Planner(ws, [], background=False)
    planner.plan(at(6, 11))
    with ws.transaction() as conn:
        sql_lead(conn, "late", at(6, 11))
    planner.plan(at(6, 13, 30))
    assert [k[:2] for k in clock_kinds(ws)] == [("breach", "late")]


def test_an_event_dated_after_now_counts_once_its_time_comes(ws):
    # A touch dated 14:30 is recorded at 14:15 (a CRM whose clock runs ahead). At 14:15 the
    # lead is still overdue: the escalation (due 14:00) goes. From 14:30 the touch has
    # stopped the clock, so the reassignment (due days later) never does.
    with ws.transaction() as conn:
        sql_lead(conn, "a", at(6, 10))
    planner = Planner(ws, [], background=False, max_age=timedelta(days=30))
    planner.plan(at(6, 12, 30))
    with ws.transaction() as conn:
        touch(conn, "a", at(6, 14, 30))
    planner.plan(at(6, 14, 15))
    planner.plan(at(6, 14, 31))
    planner.plan(at(11, 14))  # past the reassignment time had the clock still run
    assert [k[0] for k in clock_kinds(ws)] == ["breach", "escalation"]


def test_more_changes_than_full_after_evaluate_everything(ws):
    with ws.transaction() as conn:
        sql_lead(conn, "a", at(6, 10))
    planner = Planner(ws, [], background=False, full_after=0)
    planner.plan(at(6, 11))
    with ws.transaction() as conn:
        sql_lead(conn, "b", at(6, 10))
    planner.plan(at(6, 12, 30))
    assert planner.evaluations == 2
    assert [k[:2] for k in clock_kinds(ws)] == [("breach", "a"), ("breach", "b")]


def test_a_background_refresh_sees_what_no_event_says(ws):
    with ws.transaction() as conn:
        sql_lead(conn, "a", at(6, 10))
    planner = Planner(ws, [], refresh=timedelta(0))
    planner.plan(at(6, 11))
    with ws.transaction() as conn:  # a new owner, without a stage change or touch
        conn.execute(update(leads).where(leads.c.id == "a").values(owner="Emil Storm"))
    planner.plan(at(6, 11, 1))  # starts a refresh in the background
    servers.wait_for(lambda: planner.evaluations >= 2)
    planner.plan(at(6, 12, 30))
    planner.close()
    breach = next(a for a in list_alerts(ws, kind="breach"))
    assert breach.recipient == "Emil Storm <emil.storm@nordlys.example>"


# --------------------------------------------------------------------------- delivery


def test_alerts_are_emailed_once_and_logged(ws):
    with ws.transaction() as conn:
        sql_lead(conn, "a", at(6, 10))
    with servers.smtp_server() as (port, box):
        email = EmailChannel("127.0.0.1", port, "alerts@nordlys.example", tls="none")
        planner = Planner(ws, [email], background=False)
        cycle = run_cycle(planner, at(6, 11, 45))
        assert (cycle.delivered.sent, cycle.delivered.failed) == (cycle.planned.stored, 0)
        again = run_cycle(planner, at(6, 11, 50))
        assert (again.planned.stored, again.delivered.attempts) == (0, 0)
        received = box.received()
    subjects = [m["Subject"] for _, m in received]
    assert [s for s in subjects if s.startswith("SLA at risk")] == [
        "SLA at risk: lead a (p1-response) due 2025-03-06 12:00 Europe/Copenhagen"
    ]
    assert len(received) == cycle.planned.stored
    log = delivery_log(ws)
    assert len(log) == len(received)
    assert all(entry.ok and entry.attempt == 1 for entry in log)
    sent = list_alerts(ws, status="sent")
    assert len(sent) == len(received)
    assert all(a.sent_at == at(6, 11, 45) and a.next_attempt_at is None for a in sent)


def test_a_failing_receiver_is_retried_with_back_off_and_logged(ws):
    with ws.transaction() as conn:
        sql_lead(conn, "a", at(6, 10))
    t0 = at(6, 12, 30)
    with servers.http_receiver(script=[500, 502]) as receiver:
        hook = WebhookChannel(receiver.url)
        plan_alerts(ws, t0, [hook])
        breach = next(a for a in list_alerts(ws, kind="breach"))
        # Send only the breach: mark the others (digests) as sent already.
        with ws.transaction() as conn:
            conn.execute(update(alerts).where(alerts.c.id != breach.id).values(status="sent"))
        first = deliver_due(ws, t0, [hook])
        assert (first.sent, first.retrying) == (0, 1)
        assert deliver_due(ws, t0 + timedelta(seconds=59), [hook]).attempts == 0
        second = deliver_due(ws, t0 + timedelta(minutes=1), [hook])
        assert second.retrying == 1
        assert deliver_due(ws, t0 + timedelta(minutes=5), [hook]).attempts == 0
        third = deliver_due(ws, t0 + timedelta(minutes=6), [hook])
        assert third.sent == 1
        assert deliver_due(ws, t0 + timedelta(hours=3), [hook]).attempts == 0
        keys = [r.headers["Idempotency-Key"] for r in receiver.received()]
    assert keys == [breach.payload["key"]] * 3
    log = delivery_log(ws, alert_id=breach.id)
    assert [(e.attempt, e.ok, e.at) for e in log] == [
        (3, True, t0 + timedelta(minutes=6)),
        (2, False, t0 + timedelta(minutes=1)),
        (1, False, t0),
    ]
    assert log[1].detail is not None
    assert log[1].detail.startswith("HTTP 502")
    assert log[2].detail is not None
    assert log[2].detail.startswith("HTTP 500")
    assert (log[0].kind, log[0].channel, log[0].recipient) == (
        "breach",
        "webhook",
        breach.recipient,
    )
    done = next(a for a in list_alerts(ws, kind="breach"))
    assert (done.status, done.attempts, done.sent_at, done.last_error) == (
        "sent",
        3,
        t0 + timedelta(minutes=6),
        None,
    )


def test_a_receiver_that_always_fails_is_given_up_after_five_attempts(ws):
    with ws.transaction() as conn:
        sql_lead(conn, "a", at(6, 10))
    t0 = at(6, 12, 30)
    with servers.http_receiver(script=[500] * 10) as receiver:
        hook = WebhookChannel(receiver.url)
        plan_alerts(ws, t0, [hook])
        with ws.transaction() as conn:
            conn.execute(update(alerts).where(alerts.c.kind != "breach").values(status="sent"))
        when = t0
        for wait in (0, 1, 5, 30, 120):
            when += timedelta(minutes=wait)
            assert deliver_due(ws, when, [hook]).attempts == 1
        assert deliver_due(ws, when + timedelta(days=1), [hook]).attempts == 0
        assert len(receiver.received()) == 5
    [failed] = list_alerts(ws, status="failed")
    assert (failed.attempts, failed.next_attempt_at) == (5, None)
    assert failed.last_error is not None
    assert failed.last_error.startswith("HTTP 500")


def test_a_row_for_a_channel_no_longer_configured_fails_its_attempt_with_a_hint(ws):
    with ws.transaction() as conn:
        sql_lead(conn, "a", at(6, 10))
    plan_alerts(ws, at(6, 12, 30), [WebhookChannel("http://127.0.0.1:9/hook")])
    result = deliver_due(ws, at(6, 12, 30), [])
    assert result.retrying > 0
    assert {e.detail for e in delivery_log(ws)} == {
        "channel webhook is not configured (docs/alerts.md)"
    }


def test_an_interrupted_send_is_retried_after_its_lease(ws):
    with ws.transaction() as conn:
        sql_lead(conn, "a", at(6, 10))
    t0 = at(6, 12, 30)
    with servers.http_receiver() as receiver:
        hook = WebhookChannel(receiver.url)
        plan_alerts(ws, t0, [hook])
        total = len(list_alerts(ws))
        # A scheduler claimed every row and died before sending: the rows stay `sending`.
        with ws.transaction() as conn:
            conn.execute(
                update(alerts).values(status="sending", attempts=1, next_attempt_at=t0 + LEASE)
            )
        assert deliver_due(ws, t0 + LEASE - timedelta(seconds=1), [hook]).attempts == 0
        result = deliver_due(ws, t0 + LEASE, [hook])
        assert (result.interrupted, result.sent) == (total, total)
        assert len(receiver.received()) == total
    log = delivery_log(ws, limit=1000)
    assert sorted((e.attempt, e.ok) for e in log) == [(1, False)] * total + [(2, True)] * total
    assert all("interrupted" in (e.detail or "") for e in log if not e.ok)


def test_a_sender_interrupted_on_its_last_attempt_gives_up(ws):
    with ws.transaction() as conn:
        sql_lead(conn, "a", at(6, 10))
    t0 = at(6, 12, 30)
    plan_alerts(ws, t0, [WebhookChannel("http://127.0.0.1:9/hook")])
    with ws.transaction() as conn:
        conn.execute(update(alerts).values(status="sending", attempts=5, next_attempt_at=t0))
    result = deliver_due(ws, t0, [])
    assert result.interrupted == len(list_alerts(ws, status="failed")) > 0


def test_two_schedulers_deliver_each_alert_exactly_once(tmp_path, db_url):
    with servers.http_receiver() as receiver:
        first = open_in(tmp_path / "ws", db_url, alert_webhook_url=receiver.url)
        second = open_in(tmp_path / "ws", db_url, alert_webhook_url=receiver.url)
        with first.transaction() as conn:
            for i in range(60):
                sql_lead(conn, f"lead-{i:02d}", at(6, 9) + timedelta(minutes=i))
        nows = [at(6, 13) + timedelta(minutes=k) for k in range(0, 240, 40)]
        errors: list[BaseException] = []
        barrier = threading.Barrier(2)

        def scheduler(workspace: Workspace) -> None:
            try:
                planner = Planner(workspace, background=False)
                for now in nows:
                    barrier.wait(timeout=60)
                    run_cycle(planner, now)
            except BaseException as err:  # reported by the test below
                errors.append(err)

        threads = [threading.Thread(target=scheduler, args=(w,)) for w in (first, second)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=300)
        keys = [r.headers["Idempotency-Key"] for r in receiver.received()]
        stored = list_alerts(first, limit=10_000)
        first.close()
        second.close()
    assert errors == []
    assert len(keys) == len(set(keys))  # nothing sent twice
    assert sorted(keys) == sorted(a.payload["key"] for a in stored)  # everything sent once
    assert len(stored) > 100
    assert {a.status for a in stored} == {"sent"}


def test_a_restart_sends_nothing_twice(tmp_path, db_url):
    with servers.http_receiver() as receiver:
        workspace = open_in(tmp_path / "ws", db_url, alert_webhook_url=receiver.url)
        with workspace.transaction() as conn:
            sql_lead(conn, "a", at(6, 10))
        run_cycle(Planner(workspace, background=False), at(6, 14, 5))
        sent = len(receiver.received())
        workspace.close()
        again = open_in(tmp_path / "ws", db_url, alert_webhook_url=receiver.url)
        cycle = run_cycle(Planner(again, background=False), at(6, 14, 6))
        assert (cycle.planned.stored, cycle.delivered.attempts) == (0, 0)
        assert len(receiver.received()) == sent > 0
        with again.engine.connect() as conn:
            assert conn.execute(select(func.count()).select_from(deliveries)).scalar_one() == sent
        again.close()


def test_the_scheduler_loop_runs_until_stopped(ws):
    with ws.transaction() as conn:
        sql_lead(conn, "a", at(6, 10))
    stop = threading.Event()
    cycles = []
    with servers.http_receiver() as receiver:
        hook = WebhookChannel(receiver.url)

        def after(cycle):
            cycles.append(cycle)
            stop.set()

        thread = threading.Thread(
            target=run_scheduler,
            args=(ws, stop),
            kwargs={"interval": timedelta(seconds=0.05), "channels": [hook], "on_cycle": after},
        )
        thread.start()
        servers.wait_for(lambda: not thread.is_alive())
    assert len(cycles) == 1
    assert cycles[0].now == at(6, 9)  # the workspace clock


def test_a_failing_cycle_is_logged_and_the_loop_goes_on(ws, caplog):
    stop = threading.Event()
    done = []
    with ws.transaction() as conn:  # every cycle now fails: the digests cannot be stored
        deliveries.drop(conn)
        alerts.drop(conn)
    planner = Planner(ws, [], background=False)

    def failing_loop() -> None:
        run_scheduler(ws, stop, interval=timedelta(seconds=0.01), planner=planner)
        done.append(True)

    thread = threading.Thread(target=failing_loop)
    with caplog.at_level("ERROR", logger="leadpact.alerts"):
        thread.start()
        servers.wait_for(lambda: len(caplog.records) >= 2)
        stop.set()
        thread.join(timeout=30)
    assert done == [True]
    assert "alert scheduler cycle failed" in caplog.records[0].getMessage()


# --------------------------------------------------------------------------- reading


def test_alerts_and_the_log_can_be_filtered_and_bad_filters_are_named(ws):
    with ws.transaction() as conn:
        sql_lead(conn, "a", at(6, 10))
    plan_alerts(ws, at(6, 12, 30), [])
    assert {a.kind for a in list_alerts(ws, kind="breach")} == {"breach"}
    assert list_alerts(ws, status="pending") == []
    assert len(list_alerts(ws, limit=1)) == 1
    with pytest.raises(LeadPactError, match="unknown alert status 'done'; expected one of pend"):
        list_alerts(ws, status="done")
    with pytest.raises(LeadPactError, match="unknown alert kind 'nag'"):
        list_alerts(ws, kind="nag")
    assert delivery_log(ws) == []
    assert AlertStatus.SKIPPED.value == "skipped"


def test_timestamps_are_utc(ws):
    with ws.transaction() as conn:
        sql_lead(conn, "a", at(6, 10))
    plan_alerts(ws, at(6, 12, 30), [])
    row = list_alerts(ws, kind="breach")[0]
    assert row.created_at.tzinfo is not None
    assert row.created_at == at(6, 12, 30).astimezone(UTC)
