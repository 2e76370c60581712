"""People and programs that may use the live service: users with passwords, and API tokens.

A user logs in to the web app with a username and password; a program sends
`Authorization: Bearer TOKEN`. Both carry one role (`Role`): admin, marketing, sales or
viewer; what each role may do is decided at the edge (`web.security`). Passwords are kept only
as scrypt hashes (stdlib `hashlib.scrypt`, a random salt per password); tokens only as a
SHA-256 of the token (a token is 256 random bits, so a fast hash is enough), shown once when
it is created.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from functools import lru_cache
from typing import TYPE_CHECKING

from sqlalchemy import RowMapping, insert, select, update
from sqlalchemy.exc import IntegrityError

from leadpact.errors import ConflictError, LeadPactError, NotFoundError
from leadpact.store.tables import api_tokens, users

if TYPE_CHECKING:
    from leadpact.services.workspace import Workspace

__all__ = [
    "MIN_PASSWORD",
    "ApiToken",
    "Role",
    "User",
    "authenticate",
    "create_token",
    "create_user",
    "get_user",
    "hash_password",
    "list_tokens",
    "list_users",
    "parse_role",
    "revoke_token",
    "set_user_disabled",
    "verify_password",
    "verify_token",
]

#: The shortest password accepted.
MIN_PASSWORD = 10
#: scrypt cost: n=2**14, r=8, p=1 (16 MiB, about 50 ms here): the stdlib's documented default.
_SCRYPT_N, _SCRYPT_R, _SCRYPT_P = 2**14, 8, 1
_SCRYPT_MAXMEM = 64 * 1024 * 1024
#: A token's "last used" time is written at most this often (a write per request would
#: serialise the whole API on SQLite's single writer).
_TOUCH_EVERY = timedelta(minutes=1)
_TOKEN_PREFIX = "lp_"


class Role(StrEnum):
    """What someone may do: see `docs/web.md` for the table of permissions."""

    ADMIN = "admin"
    MARKETING = "marketing"
    SALES = "sales"
    VIEWER = "viewer"


def parse_role(value: str) -> Role:
    """The role named `value` (case-insensitive).

    Raises:
        LeadPactError: no such role (the message lists them).
    """
    try:
        return Role(value.strip().lower())
    except ValueError:
        raise LeadPactError(
            f"unknown role {value!r}; expected one of {', '.join(r.value for r in Role)}"
        ) from None


@dataclass(frozen=True, slots=True)
class User:
    """A person who logs in to the web app."""

    id: int
    username: str
    role: Role
    created_at: datetime
    name: str | None = None
    email: str | None = None
    disabled_at: datetime | None = None

    @property
    def display_name(self) -> str:
        """The name to show: the full name if known, else the username."""
        return self.name or self.username


@dataclass(frozen=True, slots=True)
class ApiToken:
    """An API token (its secret is never stored, only its hash)."""

    id: int
    name: str
    role: Role
    created_at: datetime
    last_used_at: datetime | None = None
    revoked_at: datetime | None = None


# --- Passwords ---------------------------------------------------------------------------


def hash_password(password: str) -> str:
    """The scrypt hash of `password` with a fresh salt, as `scrypt$n$r$p$salt$hash` (base64)."""
    salt = secrets.token_bytes(16)
    digest = _scrypt(password, salt, _SCRYPT_N, _SCRYPT_R, _SCRYPT_P)
    return "$".join(
        ["scrypt", str(_SCRYPT_N), str(_SCRYPT_R), str(_SCRYPT_P), _b64(salt), _b64(digest)]
    )


def verify_password(password: str, stored: str) -> bool:
    """Whether `password` matches a hash made by `hash_password` (constant-time compare)."""
    parts = stored.split("$")
    if len(parts) != 6 or parts[0] != "scrypt":
        return False
    try:
        n, r, p = int(parts[1]), int(parts[2]), int(parts[3])
        salt, expected = base64.b64decode(parts[4]), base64.b64decode(parts[5])
    except ValueError:
        return False
    return hmac.compare_digest(_scrypt(password, salt, n, r, p), expected)


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(
        password.encode("utf-8"), salt=salt, n=n, r=r, p=p, maxmem=_SCRYPT_MAXMEM, dklen=32
    )


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    """Checked against when the username is unknown, so a wrong name costs as long as a wrong
    password (no user enumeration by timing)."""
    return hash_password(secrets.token_hex(8))


# --- Users -------------------------------------------------------------------------------


def create_user(
    workspace: Workspace,
    username: str,
    password: str,
    role: Role | str,
    *,
    name: str | None = None,
    email: str | None = None,
) -> User:
    """Add a user who can log in to the web app.

    Raises:
        LeadPactError: an empty username, a password shorter than `MIN_PASSWORD`, an unknown role.
        ConflictError: the username is taken.
    """
    username = username.strip()
    if not username or len(username) > 200 or any(c.isspace() for c in username):
        raise LeadPactError("a username is 1 to 200 characters without spaces")
    if len(password) < MIN_PASSWORD:
        raise LeadPactError(f"a password needs at least {MIN_PASSWORD} characters")
    role = parse_role(role) if isinstance(role, str) else role
    now = workspace.clock.now()
    full_name = (name or "").strip() or None
    address = (email or "").strip() or None
    values = {
        "username": username,
        "name": full_name,
        "email": address,
        "role": role.value,
        "password_hash": hash_password(password),
        "created_at": now,
    }
    try:
        with workspace.transaction() as conn:
            new_id = conn.execute(insert(users).values(values).returning(users.c.id)).scalar_one()
    except IntegrityError:
        raise ConflictError(f"there is already a user {username!r}") from None
    return User(int(new_id), username, role, now, full_name, address)


def authenticate(workspace: Workspace, username: str, password: str) -> User | None:
    """The user with this username and password, or None (unknown, wrong password, disabled)."""
    with workspace.engine.connect() as conn:
        row = conn.execute(select(users).where(users.c.username == username.strip())).first()
    if row is None:
        verify_password(password, _dummy_hash())
        return None
    mapping = row._mapping
    if not verify_password(password, mapping["password_hash"]):
        return None
    user = _user(mapping)
    return None if user.disabled_at is not None else user


def get_user(workspace: Workspace, user_id: int) -> User:
    """The user with this id.

    Raises:
        NotFoundError: no such user.
    """
    with workspace.engine.connect() as conn:
        row = conn.execute(select(users).where(users.c.id == user_id)).first()
    if row is None:
        raise NotFoundError(f"no user with id {user_id}")
    return _user(row._mapping)


def list_users(workspace: Workspace) -> list[User]:
    """Every user, by username."""
    with workspace.engine.connect() as conn:
        rows = conn.execute(select(users).order_by(users.c.username)).all()
    return [_user(row._mapping) for row in rows]


def set_user_disabled(workspace: Workspace, username: str, *, disabled: bool) -> User:
    """Disable a user (they can no longer log in; open sessions end at their next request) or
    enable them again.

    Raises:
        NotFoundError: no such user.
    """
    with workspace.transaction() as conn:
        found = conn.execute(
            update(users)
            .where(users.c.username == username)
            .values(disabled_at=workspace.clock.now() if disabled else None)
            .returning(users.c.id)
        ).first()
    if found is None:
        raise NotFoundError(f"no user {username!r}")
    return get_user(workspace, int(found[0]))


def _user(row: RowMapping) -> User:
    return User(
        id=int(row["id"]),
        username=row["username"],
        role=Role(row["role"]),
        created_at=row["created_at"],
        name=row["name"],
        email=row["email"],
        disabled_at=row["disabled_at"],
    )


# --- Tokens ------------------------------------------------------------------------------


def _token_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def create_token(workspace: Workspace, name: str, role: Role | str) -> tuple[ApiToken, str]:
    """Create an API token; returns it and its secret (shown once, never stored).

    Raises:
        LeadPactError: an empty name or an unknown role.
        ConflictError: a token with this name exists.
    """
    name = name.strip()
    if not name or len(name) > 200:
        raise LeadPactError("a token needs a name of 1 to 200 characters (what it is for)")
    role = parse_role(role) if isinstance(role, str) else role
    secret = _TOKEN_PREFIX + secrets.token_urlsafe(32)
    now = workspace.clock.now()
    values = {
        "name": name,
        "token_hash": _token_hash(secret),
        "role": role.value,
        "created_at": now,
    }
    try:
        with workspace.transaction() as conn:
            new_id = conn.execute(
                insert(api_tokens).values(values).returning(api_tokens.c.id)
            ).scalar_one()
    except IntegrityError:
        raise ConflictError(f"there is already a token named {name!r}") from None
    return ApiToken(int(new_id), name, role, now), secret


def verify_token(workspace: Workspace, secret: str) -> ApiToken | None:
    """The live (not revoked) token with this secret, or None; notes when it was last used."""
    digest = _token_hash(secret.strip())
    with workspace.engine.connect() as conn:
        row = conn.execute(select(api_tokens).where(api_tokens.c.token_hash == digest)).first()
    if row is None:
        return None
    token = _token(row._mapping)
    if token.revoked_at is not None:
        return None
    now = workspace.clock.now()
    if token.last_used_at is None or now - token.last_used_at >= _TOUCH_EVERY:
        with workspace.transaction() as conn:
            conn.execute(
                update(api_tokens).where(api_tokens.c.id == token.id).values(last_used_at=now)
            )
    return token


def list_tokens(workspace: Workspace) -> list[ApiToken]:
    """Every token (revoked ones too), by name."""
    with workspace.engine.connect() as conn:
        rows = conn.execute(select(api_tokens).order_by(api_tokens.c.name)).all()
    return [_token(row._mapping) for row in rows]


def revoke_token(workspace: Workspace, name: str) -> ApiToken:
    """Revoke the token called `name`; requests carrying it are refused from now on.

    Raises:
        NotFoundError: no such token.
    """
    with workspace.transaction() as conn:
        found = conn.execute(
            update(api_tokens)
            .where(api_tokens.c.name == name, api_tokens.c.revoked_at.is_(None))
            .values(revoked_at=workspace.clock.now())
            .returning(api_tokens.c.id)
        ).first()
    if found is None:
        raise NotFoundError(f"no live token named {name!r}")
    return next(t for t in list_tokens(workspace) if t.id == int(found[0]))


def _token(row: RowMapping) -> ApiToken:
    return ApiToken(
        id=int(row["id"]),
        name=row["name"],
        role=Role(row["role"]),
        created_at=row["created_at"],
        last_used_at=row["last_used_at"],
        revoked_at=row["revoked_at"],
    )
