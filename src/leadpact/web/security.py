"""Who may do what in the web app: roles and permissions, sessions, CSRF tokens, signed webhooks.

Passwords are hashed in `services.users` (scrypt; the CLI creates users too). Here:

- `PERMISSIONS`: the one table of what each role may do (docs/web.md shows it).
- Sessions: a signed cookie (Starlette's `SessionMiddleware`, itsdangerous) holding the user's
  id and a CSRF token; the signing key is `session_secret`, else a random key created once in
  the workspace folder.
- CSRF: every state-changing request made with a session cookie carries the session's token,
  in the form field `csrf_token` or the `X-CSRF-Token` header; requests with a bearer token
  carry no cookie and need none.
- Webhooks: HubSpot's v3 scheme, base64 HMAC-SHA256 of method + URI + body + timestamp with
  the shared secret; timestamps older (or newer) than five minutes are refused.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from pathlib import Path

from leadpact.errors import (
    CsrfError,
    ForbiddenError,
    LeadPactError,
    NotAuthenticatedError,
    WebhookSignatureError,
)
from leadpact.services.users import Role

__all__ = [
    "PERMISSIONS",
    "WEBHOOK_MAX_AGE",
    "CsrfError",
    "ForbiddenError",
    "NotAuthenticatedError",
    "Permission",
    "Principal",
    "WebhookSignatureError",
    "check_csrf",
    "new_csrf_token",
    "session_key",
    "sign_webhook",
    "verify_webhook",
]

#: Webhook deliveries whose timestamp is further than this from now are refused (replays).
WEBHOOK_MAX_AGE = timedelta(minutes=5)
#: The file holding the session signing key when `session_secret` is not set.
SESSION_KEY_FILE = ".leadpact-session-key"


class Permission(StrEnum):
    """Things a role may do."""

    READ = "read"  # every page and JSON twin
    WORK_LEADS = "work_leads"  # log touches, accept or reject MQLs
    MOVE_LEADS = "move_leads"  # recycle, disqualify
    INGEST = "ingest"  # POST /api/events
    MANAGE_USERS = "manage_users"  # the users page: add users, create and revoke tokens


#: What each role may do: viewers read; sales work their leads; marketing recycles and
#: disqualifies (nurture is theirs) and feeds events; admins do everything.
PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.ADMIN: frozenset(Permission),
    Role.MARKETING: frozenset({Permission.READ, Permission.MOVE_LEADS, Permission.INGEST}),
    Role.SALES: frozenset(
        {Permission.READ, Permission.WORK_LEADS, Permission.MOVE_LEADS, Permission.INGEST}
    ),
    Role.VIEWER: frozenset({Permission.READ}),
}


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is making a request: a logged-in user or an API token."""

    name: str
    role: Role
    via: str  # "session" | "token"
    user_id: int | None = None
    username: str | None = None

    def can(self, permission: Permission) -> bool:
        """Whether this principal's role allows `permission`."""
        return permission in PERMISSIONS[self.role]

    def require(self, permission: Permission) -> None:
        """Raise `ForbiddenError` unless the role allows `permission`."""
        if not self.can(permission):
            raise ForbiddenError(
                f"a {self.role.value} may not {_VERBS[permission]}; ask an admin for another role"
            )


_VERBS = {
    Permission.READ: "read this",
    Permission.WORK_LEADS: "log touches or accept and reject leads",
    Permission.MOVE_LEADS: "recycle or disqualify leads",
    Permission.INGEST: "send events",
    Permission.MANAGE_USERS: "manage users and tokens",
}


# --- Sessions and CSRF -----------------------------------------------------------------------


def session_key(secret: str | None, workspace: Path) -> str:
    """The key that signs session cookies: `secret` if set, else one kept in the workspace.

    The kept key is created on first use (mode 0600), so logins survive a restart.

    Raises:
        LeadPactError: the key file cannot be read or written.
    """
    if secret:
        return secret
    path = workspace / SESSION_KEY_FILE
    try:
        if path.is_file():
            key = path.read_text(encoding="utf-8").strip()
            if key:
                return key
        key = secrets.token_urlsafe(48)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as file:
            file.write(key + "\n")
    except OSError as err:
        raise LeadPactError(
            f"cannot keep the session key in {path}: {err.strerror}; set LEADPACT_SESSION_SECRET"
        ) from None
    return key


def new_csrf_token() -> str:
    """A fresh random CSRF token for a session."""
    return secrets.token_urlsafe(32)


def check_csrf(expected: str | None, given: str | None) -> None:
    """Raise `CsrfError` unless `given` is the session's token (constant-time compare)."""
    if not expected or not given or not hmac.compare_digest(expected, given):
        raise CsrfError(
            "the form has expired or did not come from this site; reload the page and try again"
        )


# --- Webhooks -----------------------------------------------------------------------------------


def sign_webhook(secret: str, method: str, uri: str, body: bytes, timestamp: str) -> str:
    """The v3 signature: base64 HMAC-SHA256 of method + URI + body + timestamp."""
    message = method.upper().encode() + uri.encode() + body + timestamp.encode()
    digest = hmac.new(secret.encode(), message, hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def verify_webhook(
    secret: str | None,
    *,
    method: str,
    uri: str,
    body: bytes,
    timestamp: str | None,
    signature: str | None,
    now: datetime,
) -> None:
    """Check a webhook delivery's signature and timestamp (milliseconds since 1970).

    Raises:
        WebhookSignatureError: no secret configured, a missing or stale timestamp, or a
            signature that does not match.
    """
    if not secret:
        raise WebhookSignatureError(
            "webhooks are off: set LEADPACT_WEBHOOK_SECRET to the app's shared secret"
        )
    if not timestamp or not signature:
        raise WebhookSignatureError(
            "unsigned delivery: X-HubSpot-Signature-v3 and X-HubSpot-Request-Timestamp required"
        )
    try:
        sent = int(timestamp)
    except ValueError:
        raise WebhookSignatureError(
            f"X-HubSpot-Request-Timestamp {timestamp!r} is not milliseconds"
        ) from None
    age = abs(now.timestamp() * 1000 - sent)
    if age > WEBHOOK_MAX_AGE.total_seconds() * 1000:
        raise WebhookSignatureError(
            "stale delivery: its timestamp is more than 5 minutes from now (replay refused)"
        )
    expected = sign_webhook(secret, method, uri, body, timestamp)
    if not hmac.compare_digest(expected, signature.strip()):
        raise WebhookSignatureError("the signature does not match the body and the shared secret")
