"""Channels that carry an alert out: email over SMTP, Slack-compatible webhooks, generic webhooks.

Each channel sends one alert (its JSON payload, `core.alerts.Alert.as_dict`) per call and
reports what happened as a `Sent` (ok, and a detail for the delivery log); network and
protocol errors become a failed `Sent`, never an exception, so the caller can retry later.
Timeouts are short (`TIMEOUT`): a slow receiver delays one alert, not the scheduler.

- **email**: one message per alert to the recipient's address (`smtplib`; STARTTLS, implicit
  TLS or none; login when a user is set). The Message-ID is derived from the alert key, so a
  mail system that sees the same alert twice can tell.
- **slack**: `POST {"text": "<subject>\\n<text>"}` (Slack, Mattermost, Rocket.Chat, Teams
  workflows accept it).
- **webhook**: `POST` the alert as JSON, with its key in an `Idempotency-Key` header.
"""

from __future__ import annotations

import hashlib
import json
import smtplib
import ssl
import urllib.error
import urllib.request
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from email import policy
from email.message import EmailMessage
from email.utils import formataddr, formatdate
from typing import Any, Literal, Protocol
from urllib.parse import urlsplit

from leadpact import __version__
from leadpact.errors import LeadPactError
from leadpact.settings import Settings

__all__ = [
    "TIMEOUT",
    "Channel",
    "EmailChannel",
    "Sent",
    "SlackChannel",
    "WebhookChannel",
    "channels_from_settings",
]

#: How long a channel waits for a server before the attempt counts as failed.
TIMEOUT = timedelta(seconds=10)
#: The most of a receiver's error body kept in the delivery log.
_DETAIL_CHARS = 300

Payload = Mapping[str, Any]

#: Headers are not folded below RFC 5322's 998 characters: Python folds a long subject onto a
#: continuation line of its own, which some readers show with a leading space.
_POLICY = policy.SMTP.clone(max_line_length=998)


@dataclass(frozen=True, slots=True)
class Sent:
    """The result of one delivery attempt: ok or not, and what the receiver said."""

    ok: bool
    detail: str


class Channel(Protocol):
    """Something that delivers alerts; `name` is stored with each alert row."""

    @property
    def name(self) -> str:
        """The channel's name: email, slack or webhook."""
        ...

    def reaches(self, email: str | None) -> bool:
        """Whether this channel can deliver to a recipient with this email (or none)."""
        ...

    def send(self, payload: Payload) -> Sent:
        """Deliver one alert; never raises for network or receiver errors."""
        ...


@dataclass(frozen=True)
class EmailChannel:
    """Alert emails over SMTP, one message per alert."""

    host: str
    port: int
    sender: str
    tls: Literal["starttls", "ssl", "none"] = "starttls"
    user: str | None = None
    password: str | None = None
    timeout: timedelta = TIMEOUT
    name: str = "email"

    def reaches(self, email: str | None) -> bool:
        """Only recipients with an email address."""
        return bool(email)

    def message(self, payload: Payload) -> EmailMessage:
        """The email of one alert."""
        recipient = payload["recipient"]
        message = EmailMessage(policy=_POLICY)
        message["From"] = self.sender
        message["To"] = formataddr((recipient["name"], recipient["email"]))
        message["Subject"] = payload["subject"]
        message["Date"] = formatdate(localtime=False)
        digest = hashlib.sha256(payload["key"].encode()).hexdigest()[:40]
        message["Message-ID"] = f"<{digest}@leadpact.alerts>"
        message["X-LeadPact-Alert"] = payload["kind"]
        message.set_content(payload["text"] + "\n\n-- \nLeadPact SLA alerts\n")
        return message

    def send(self, payload: Payload) -> Sent:
        """Send the alert's email; the detail names the server's answer or the error."""
        if not payload["recipient"].get("email"):
            return Sent(False, f"{payload['recipient']['name']} has no email address")
        seconds = self.timeout.total_seconds()
        try:
            client: smtplib.SMTP
            if self.tls == "ssl":
                context = ssl.create_default_context()
                client = smtplib.SMTP_SSL(self.host, self.port, timeout=seconds, context=context)
            else:
                client = smtplib.SMTP(self.host, self.port, timeout=seconds)
            with client:
                if self.tls == "starttls":
                    client.starttls(context=ssl.create_default_context())
                if self.user:
                    client.login(self.user, self.password or "")
                refused = client.send_message(self.message(payload))
        except (smtplib.SMTPException, OSError) as err:
            return Sent(False, f"SMTP {self.host}:{self.port}: {_describe(err)}")
        if refused:  # only when some of several recipients were refused; one is all or none
            return Sent(False, f"SMTP refused {', '.join(refused)}")  # pragma: no cover
        return Sent(
            True, f"SMTP {self.host}:{self.port} accepted for {payload['recipient']['email']}"
        )


@dataclass(frozen=True)
class _Webhook(ABC):
    url: str
    timeout: timedelta = TIMEOUT

    def reaches(self, email: str | None) -> bool:
        """Every recipient: the webhook's receiver routes the alert."""
        return True

    @abstractmethod
    def body(self, payload: Payload) -> dict[str, Any]:
        """The JSON body the receiver expects."""

    def send(self, payload: Payload) -> Sent:
        """POST the alert; a 2xx answer is a delivery, anything else a failed attempt."""
        request = urllib.request.Request(
            self.url,
            data=json.dumps(self.body(payload), ensure_ascii=False).encode("utf-8"),
            method="POST",
            headers={
                "Content-Type": "application/json; charset=utf-8",
                "User-Agent": f"LeadPact/{__version__}",
                "Idempotency-Key": payload["key"],
            },
        )
        host = urlsplit(self.url).netloc
        try:
            with urllib.request.urlopen(request, timeout=self.timeout.total_seconds()) as answer:
                return Sent(True, f"HTTP {answer.status} from {host}")
        except urllib.error.HTTPError as err:
            text = err.read(_DETAIL_CHARS).decode("utf-8", "replace").strip()
            err.close()
            return Sent(False, f"HTTP {err.code} from {host}" + (f": {text}" if text else ""))
        except (urllib.error.URLError, OSError) as err:
            return Sent(False, f"{host}: {_describe(err)}")


@dataclass(frozen=True)
class SlackChannel(_Webhook):
    """A Slack-compatible incoming webhook: the alert as one text message."""

    name: str = "slack"

    def body(self, payload: Payload) -> dict[str, Any]:
        """`{"text": ...}`: the subject on the first line, then the message."""
        who = payload["recipient"]["name"]
        return {"text": f"{payload['subject']}\nFor {who}: {payload['text']}"}


@dataclass(frozen=True)
class WebhookChannel(_Webhook):
    """A generic webhook: the alert as JSON (docs/alerts.md lists the fields)."""

    name: str = "webhook"

    def body(self, payload: Payload) -> dict[str, Any]:
        """The alert payload as it is stored."""
        return dict(payload)


def _describe(err: BaseException) -> str:
    if isinstance(err, urllib.error.URLError) and not isinstance(err.reason, str):
        err = err.reason  # the socket error inside
    text = str(err).strip() or "no details"
    return f"{type(err).__name__}: {text}"[:_DETAIL_CHARS]


def _check_url(name: str, url: str) -> str:
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise LeadPactError(f"setting {name} must be an http:// or https:// URL, found {url!r}")
    return url.strip()


def channels_from_settings(settings: Settings) -> list[Channel]:
    """The channels the settings configure: email when an SMTP host is set, then the webhooks.

    Raises:
        LeadPactError: a webhook URL is not an http(s) URL.
    """
    found: list[Channel] = []
    if settings.smtp_host:
        password = settings.smtp_password
        found.append(
            EmailChannel(
                host=settings.smtp_host,
                port=settings.smtp_port,
                sender=settings.smtp_from,
                tls=settings.smtp_tls,
                user=settings.smtp_user,
                password=None if password is None else password.get_secret_value(),
            )
        )
    if settings.slack_webhook_url:
        url = _check_url("LEADPACT_SLACK_WEBHOOK_URL", settings.slack_webhook_url)
        found.append(SlackChannel(url))
    if settings.alert_webhook_url:
        url = _check_url("LEADPACT_ALERT_WEBHOOK_URL", settings.alert_webhook_url)
        found.append(WebhookChannel(url))
    return found
