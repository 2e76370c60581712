"""Passwords, webhook signatures and the role table, without a server."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from leadpact.services.users import Role, hash_password, verify_password
from leadpact.web.security import (
    PERMISSIONS,
    ForbiddenError,
    Permission,
    Principal,
    WebhookSignatureError,
    sign_webhook,
    verify_webhook,
)

NOW = datetime(2025, 3, 5, 10, 0, tzinfo=UTC)


def test_a_password_hash_is_salted_scrypt_and_verifies():
    first, second = hash_password("correct horse battery"), hash_password("correct horse battery")
    assert first != second
    assert first.startswith("scrypt$16384$8$1$")
    assert verify_password("correct horse battery", first)
    assert not verify_password("correct horse batterY", first)
    assert not verify_password("x", "md5$abc")


def test_viewers_only_read_and_admins_do_everything():
    assert PERMISSIONS[Role.VIEWER] == {Permission.READ}
    assert PERMISSIONS[Role.ADMIN] == set(Permission)
    assert Permission.WORK_LEADS in PERMISSIONS[Role.SALES]
    assert Permission.WORK_LEADS not in PERMISSIONS[Role.MARKETING]
    with pytest.raises(ForbiddenError, match="a viewer may not send events"):
        Principal("v", Role.VIEWER, "token").require(Permission.INGEST)


def _verify(stamp: datetime, signature: str | None = None, body: bytes = b"[]") -> None:
    ms = str(int(stamp.timestamp() * 1000))
    verify_webhook(
        "secret",
        method="POST",
        uri="https://x.example/api/webhooks/hubspot",
        body=body,
        timestamp=ms,
        signature=signature
        or sign_webhook("secret", "POST", "https://x.example/api/webhooks/hubspot", b"[]", ms),
        now=NOW,
    )


def test_webhook_signatures_cover_the_body_and_the_time():
    _verify(NOW - timedelta(minutes=4, seconds=59))
    with pytest.raises(WebhookSignatureError, match="stale"):
        _verify(NOW - timedelta(minutes=5, seconds=1))
    with pytest.raises(WebhookSignatureError, match="stale"):
        _verify(NOW + timedelta(minutes=6))
    with pytest.raises(WebhookSignatureError, match="does not match"):
        _verify(NOW, body=b"[1]")
