"""Alert channels against real servers on loopback: an aiosmtpd SMTP server, an HTTP receiver.

The servers here (`smtp_server`, `http_receiver`, `wait_for`) are also loaded by the alert
tests of the services, the web scheduler and the CLI (`load_servers` in those files).
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from email import message_from_bytes, policy
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from pydantic import SecretStr

from leadpact.errors import LeadPactError
from leadpact.services.channels import (
    EmailChannel,
    SlackChannel,
    WebhookChannel,
    channels_from_settings,
)
from leadpact.settings import Settings

# --------------------------------------------------------------------------- servers


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Mailbox:
    """What a loopback SMTP server received: (envelope recipients, parsed message) each."""

    messages: list[tuple[list[str], Message]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.lock:
            self.messages.append(
                (
                    list(envelope.rcpt_tos),
                    message_from_bytes(envelope.content, policy=policy.default),
                )
            )
        return "250 Message accepted for delivery"

    def received(self) -> list[tuple[list[str], Message]]:
        with self.lock:
            return list(self.messages)


@contextmanager
def smtp_server() -> Iterator[tuple[int, Mailbox]]:
    """A real SMTP server (aiosmtpd) on 127.0.0.1: yields its port and its mailbox."""
    from aiosmtpd.controller import Controller

    box = Mailbox()
    controller = Controller(box, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield controller.port, box
    finally:
        controller.stop()


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: Any


@dataclass
class Receiver:
    """A local HTTP receiver: answers each POST with the next scripted status (then 200)."""

    url: str
    script: list[int]
    requests: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    delay: float = 0.0

    def received(self) -> list[Received]:
        with self.lock:
            return list(self.requests)


@contextmanager
def http_receiver(script: list[int] | None = None, delay: float = 0.0) -> Iterator[Receiver]:
    """A real HTTP server on 127.0.0.1 that records every POST (path, headers, JSON body)."""
    state = Receiver("", list(script or []), delay=delay)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            size = int(self.headers.get("Content-Length", 0))
            body = json.loads(self.rfile.read(size))
            with state.lock:
                state.requests.append(Received(self.path, dict(self.headers), body))
                status = state.script.pop(0) if state.script else 200
            if state.delay:
                time.sleep(state.delay)
            reply = b"ok" if status < 400 else b"receiver says no"
            self.send_response(status)
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

        def log_message(self, format: str, *args: Any) -> None:  # quiet
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def wait_for(condition: Callable[[], bool], timeout: float = 30.0) -> None:
    """Poll `condition` until it holds; fail the test after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        time.sleep(0.02)


@pytest.fixture
def smtp() -> Iterator[tuple[int, Mailbox]]:
    with smtp_server() as found:
        yield found


# --------------------------------------------------------------------------- payloads


def payload(
    email: str | None = "sofie.dahl@nordlys.example", key: str = "breach:l1"
) -> dict[str, Any]:
    return {
        "key": key,
        "kind": "breach",
        "at": "2025-03-06T11:00:00.000001+00:00",
        "recipient": {"name": "Sofie Dahl", "email": email, "role": "owner"},
        "subject": "SLA breached: lead l1 (p1-response)",
        "text": "Lead l1 (p1-response) was due at 2025-03-06 12:00 Europe/Copenhagen.",
        "lead_id": "l1",
        "commitment_id": "p1-response",
        "due_at": "2025-03-06T11:00:00+00:00",
        "details": {"owner": "Sofie Dahl"},
    }


# --------------------------------------------------------------------------- email


def test_email_reaches_a_real_smtp_server(smtp):
    port, box = smtp
    channel = EmailChannel("127.0.0.1", port, "LeadPact <alerts@nordlys.example>", tls="none")
    sent = channel.send(payload())
    assert sent.ok, sent.detail
    assert "accepted for sofie.dahl@nordlys.example" in sent.detail
    [(to, message)] = box.received()
    assert to == ["sofie.dahl@nordlys.example"]
    assert message["To"] == "Sofie Dahl <sofie.dahl@nordlys.example>"
    assert message["From"] == "LeadPact <alerts@nordlys.example>"
    assert message["Subject"] == "SLA breached: lead l1 (p1-response)"
    assert message["X-LeadPact-Alert"] == "breach"
    body = message.get_payload(decode=True).decode()
    assert "was due at 2025-03-06 12:00 Europe/Copenhagen" in body
    # The same alert gets the same Message-ID; another alert another one.
    again = channel.message(payload())["Message-ID"]
    assert message["Message-ID"] == again
    assert channel.message(payload(key="other"))["Message-ID"] != again


def test_email_needs_an_address(smtp):
    port, box = smtp
    channel = EmailChannel("127.0.0.1", port, "a@b.example", tls="none")
    assert not channel.reaches(None)
    assert channel.reaches("x@y.example")
    sent = channel.send(payload(email=None))
    assert (sent.ok, sent.detail) == (False, "Sofie Dahl has no email address")
    assert box.received() == []


def test_starttls_and_login_against_a_plain_server_fail_with_the_reason(smtp):
    port, box = smtp
    starttls = EmailChannel("127.0.0.1", port, "a@b.example", tls="starttls")
    sent = starttls.send(payload())
    assert not sent.ok
    assert "STARTTLS" in sent.detail
    assert f"127.0.0.1:{port}" in sent.detail
    login = EmailChannel("127.0.0.1", port, "a@b.example", tls="none", user="u", password="p")
    sent = login.send(payload())
    assert not sent.ok
    assert "AUTH" in sent.detail
    assert "p" not in sent.detail.split(":")[-1].split()  # the password is never echoed
    assert box.received() == []


def test_implicit_tls_against_a_plain_server_fails(smtp):
    port, _ = smtp
    sent = EmailChannel("127.0.0.1", port, "a@b.example", tls="ssl").send(payload())
    assert not sent.ok
    assert "SSL" in sent.detail or "EOF" in sent.detail or "reset" in sent.detail.lower()


def test_an_smtp_server_that_is_not_there():
    sent = EmailChannel("127.0.0.1", free_port(), "a@b.example", tls="none").send(payload())
    assert not sent.ok
    assert "ConnectionRefusedError" in sent.detail


# --------------------------------------------------------------------------- webhooks


def test_slack_gets_the_alert_as_text():
    with http_receiver() as receiver:
        sent = SlackChannel(receiver.url).send(payload())
        [request] = receiver.received()
    assert sent.ok
    assert sent.detail == f"HTTP 200 from {receiver.url.split('/')[2]}"
    assert request.path == "/hook"
    assert request.body == {
        "text": "SLA breached: lead l1 (p1-response)\nFor Sofie Dahl: "
        "Lead l1 (p1-response) was due at 2025-03-06 12:00 Europe/Copenhagen."
    }
    assert request.headers["Content-Type"].startswith("application/json")
    assert SlackChannel(receiver.url).reaches(None)


def test_a_generic_webhook_gets_the_alert_as_json_with_its_key():
    with http_receiver() as receiver:
        sent = WebhookChannel(receiver.url).send(payload())
        [request] = receiver.received()
    assert sent.ok
    assert request.body == payload()
    assert request.headers["Idempotency-Key"] == "breach:l1"
    assert request.headers["User-Agent"].startswith("LeadPact/")


def test_a_receiver_error_is_a_failed_attempt_with_its_answer():
    with http_receiver(script=[503]) as receiver:
        sent = WebhookChannel(receiver.url).send(payload())
    assert not sent.ok
    assert sent.detail.startswith("HTTP 503 from 127.0.0.1:")
    assert sent.detail.endswith(": receiver says no")


def test_a_receiver_that_is_not_there_or_too_slow():
    sent = WebhookChannel(f"http://127.0.0.1:{free_port()}/hook").send(payload())
    assert not sent.ok
    assert "ConnectionRefusedError" in sent.detail
    with http_receiver(delay=1.0) as receiver:
        slow = WebhookChannel(receiver.url, timeout=timedelta(seconds=0.2)).send(payload())
    assert not slow.ok
    assert "timed out" in slow.detail


# --------------------------------------------------------------------------- settings


def test_channels_come_from_the_settings():
    assert channels_from_settings(Settings(_env_file=None)) == []
    settings = Settings(
        _env_file=None,
        smtp_host="mail.example",
        smtp_port=2525,
        smtp_user="bot",
        smtp_password=SecretStr("hunter2"),
        smtp_tls="ssl",
        slack_webhook_url="https://hooks.slack.example/T/B/x",
        alert_webhook_url=" http://crm.example/alerts ",
    )
    email, slack, hook = channels_from_settings(settings)
    assert isinstance(email, EmailChannel)
    assert (email.host, email.port, email.tls, email.user, email.password) == (
        "mail.example",
        2525,
        "ssl",
        "bot",
        "hunter2",
    )
    assert "hunter2" not in repr(settings)
    assert [slack.name, hook.name] == ["slack", "webhook"]
    assert isinstance(hook, WebhookChannel)
    assert hook.url == "http://crm.example/alerts"


def test_a_webhook_url_that_is_not_http_is_refused_with_the_setting_named():
    with pytest.raises(LeadPactError, match="LEADPACT_SLACK_WEBHOOK_URL must be an http"):
        channels_from_settings(Settings(_env_file=None, slack_webhook_url="hooks.slack.com/x"))
    with pytest.raises(LeadPactError, match="LEADPACT_ALERT_WEBHOOK_URL"):
        channels_from_settings(Settings(_env_file=None, alert_webhook_url="ftp://x.example/"))
