"""The suppression list: erased people stay erased when an import or an event names them again.

Erasing a lead (`store.erasure.erase_lead`) adds two salted hashes here: one of the lead's id
(imports match rows to leads by id) and one of its normalised email (`normalise_email`:
surrounding spaces stripped, Unicode case-folded). Imports and events then set aside the rows
whose id or email hash is listed (`services.import_suppression`).

A hash is SHA-256 over the workspace's salt, the kind of value and the value; the salt is 32
random bytes made on the first erasure and kept in the database (`salts`), never in pact.yaml,
so the list cannot be matched against a table of hashed addresses, nor across workspaces.
Plain emails and ids are never stored. Anyone who can read the database can still test whether
a given email is on the list (the salt is next to it); that is the point of a suppression list.

The list only grows. On PostgreSQL a chunk of an import locks it against additions until the
chunk commits (`current_suppressions`), and an erasure adds its hashes before it changes the
lead, so an erasure and an import of the same person never interleave.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import Connection, Table, func, select

from leadpact.store.tables import salts, suppressions

#: The name of the suppression list's salt in `salts`.
SALT_NAME = "suppression"
_SALT_BYTES = 32


class Identifier(StrEnum):
    """What a hash on the list was made of."""

    EMAIL = "email"
    #: A lead id: the key imports and events match records to leads by.
    ID = "id"


def normalise_email(email: str) -> str:
    """The form of an email that is hashed: stripped and case-folded (`Jane@X.dk ` = `jane@x.dk`).

    Case folding is lower-casing that also makes `STRASSE` and `straße` equal.
    """
    return email.strip().casefold()


def salted_hash(salt: bytes, kind: Identifier, value: str) -> bytes:
    """The SHA-256 of salt, kind and value (an email is normalised first): 32 bytes."""
    return hashlib.sha256(_prefix(salt, kind) + _form(kind)(value).encode()).digest()


def _prefix(salt: bytes, kind: Identifier) -> bytes:
    return salt + kind.value.encode() + b"\x1f"


def _form(kind: Identifier) -> Callable[[str], str]:
    """How a value of this kind is written before it is hashed (ids exactly as given)."""
    return normalise_email if kind is Identifier.EMAIL else str


@dataclass(frozen=True, slots=True)
class SuppressionList:
    """The list as read at one moment: the salt and every hash (`size` of them)."""

    salt: bytes
    hashes: frozenset[bytes]

    @property
    def size(self) -> int:
        """How many hashes the list holds."""
        return len(self.hashes)

    def matches(self, kind: Identifier, values: Iterable[str | None]) -> list[bool]:
        """Whether each value is on the list (None never is); no hashing when it is empty."""
        if not self.hashes:
            return [False for _ in values]
        hashes, prefix, form, sha256 = (
            self.hashes,
            _prefix(self.salt, kind),
            _form(kind),
            hashlib.sha256,
        )
        return [
            v is not None and sha256(prefix + form(v).encode()).digest() in hashes for v in values
        ]


#: The list of a workspace where nobody was erased yet.
EMPTY = SuppressionList(b"", frozenset())


def suppress(conn: Connection, *, lead_id: str, email: str | None, at: datetime) -> int:
    """Put a lead's id and email on the list (inside the erasure's transaction).

    Call it before the erasure changes the lead: on PostgreSQL the insert waits for import
    chunks that are being written (they lock the list), and must not hold the lead meanwhile.

    Returns:
        How many hashes were new (0 to 2).
    """
    salt = _salt(conn, at)
    values = [(Identifier.ID, lead_id)]
    if email is not None and email.strip():
        values.append((Identifier.EMAIL, email))
    rows = [
        {"hash": salted_hash(salt, kind, value).hex(), "kind": kind.value, "added_at": at}
        for kind, value in values
    ]
    return sum(_insert_new(conn, suppressions, "hash", row) for row in rows)


def count_suppressions(conn: Connection) -> int:
    """How many hashes the list holds."""
    return int(conn.execute(select(func.count()).select_from(suppressions)).scalar_one())


def load_suppressions(conn: Connection) -> SuppressionList:
    """The whole list (read once per import and again only when it grew)."""
    hashes = conn.execute(select(suppressions.c.hash)).scalars().all()
    if not hashes:
        return EMPTY
    salt = conn.execute(select(salts.c.value).where(salts.c.name == SALT_NAME)).scalar_one()
    return SuppressionList(bytes.fromhex(salt), frozenset(bytes.fromhex(h) for h in hashes))


def current_suppressions(conn: Connection, known: SuppressionList) -> SuppressionList:
    """The list as a write transaction sees it until it commits; `known` if it did not grow.

    Call it inside the transaction that writes the rows it screens. On PostgreSQL it locks the
    list (`SHARE`: other imports may read it, erasures wait to add to it) until that
    transaction ends; SQLite's write lock already keeps erasures out.
    """
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql(f"LOCK TABLE {suppressions.name} IN SHARE MODE")
    if count_suppressions(conn) == known.size:
        return known
    return load_suppressions(conn)


def _salt(conn: Connection, at: datetime) -> bytes:
    """The workspace's salt, made now if this is the first erasure."""
    query = select(salts.c.value).where(salts.c.name == SALT_NAME)
    found = conn.execute(query).scalar()
    if found is None:
        made = {"name": SALT_NAME, "value": secrets.token_hex(_SALT_BYTES), "created_at": at}
        _insert_new(conn, salts, "name", made)
        # Another transaction may have made it first (PostgreSQL): theirs counts.
        found = conn.execute(query).scalar_one()
    return bytes.fromhex(found)


def _insert_new(conn: Connection, table: Table, key: str, row: Mapping[str, object]) -> bool:
    from sqlalchemy.dialects import postgresql, sqlite

    statement: postgresql.Insert | sqlite.Insert
    if conn.dialect.name == "postgresql":
        statement = postgresql.insert(table).on_conflict_do_nothing(index_elements=[key])
    else:
        statement = sqlite.insert(table).on_conflict_do_nothing(index_elements=[key])
    # RETURNING, not rowcount: psycopg reports -1 for an INSERT ... ON CONFLICT.
    return conn.execute(statement.values(row).returning(table.c[key])).first() is not None
