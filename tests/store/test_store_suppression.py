"""The suppression list: erasure adds salted hashes of id and email, never the plain values."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import Engine, select, text
from sqlalchemy.exc import OperationalError

from leadpact.errors import ConflictError, NotFoundError
from leadpact.store.engine import begin_write, make_engine, sqlite_url
from leadpact.store.erasure import erase_lead
from leadpact.store.leads import LeadRow, add_lead
from leadpact.store.migrations import ensure_schema
from leadpact.store.suppression import (
    EMPTY,
    SALT_NAME,
    Identifier,
    SuppressionList,
    current_suppressions,
    load_suppressions,
    normalise_email,
    salted_hash,
    suppress,
)
from leadpact.store.tables import salts, suppressions

LeadFactory = Callable[..., LeadRow]
T0 = datetime(2025, 3, 7, 14, 30, tzinfo=UTC)
EMAIL = "Jane.Holmgaard@Kundeservice.dk "
NORMALISED = "jane.holmgaard@kundeservice.dk"


def stored(engine: Engine) -> dict[str, str]:
    """The list as stored: hash (hex) -> kind."""
    with engine.connect() as conn:
        return dict(conn.execute(select(suppressions.c.hash, suppressions.c.kind)).all())


def salt_of(engine: Engine) -> bytes:
    with engine.connect() as conn:
        value = conn.execute(select(salts.c.value).where(salts.c.name == SALT_NAME)).scalar_one()
    return bytes.fromhex(value)


def erase(engine: Engine, lead_id: str) -> None:
    with begin_write(engine) as conn:
        erase_lead(conn, lead_id, at=T0 + timedelta(days=1), reason="opted out")


def test_erasure_lists_a_salted_hash_of_the_id_and_of_the_normalised_email(
    store: Engine, make_lead: LeadFactory
) -> None:
    with begin_write(store) as conn:
        add_lead(conn, make_lead("crm-1001", email=EMAIL, first_name="Jane"))
        assert load_suppressions(conn) is EMPTY
    erase(store, "crm-1001")
    found = stored(store)
    assert sorted(found.values()) == ["email", "id"]
    salt = salt_of(store)
    assert len(salt) == 32
    expected = {
        salted_hash(salt, Identifier.EMAIL, NORMALISED).hex(): "email",
        salted_hash(salt, Identifier.ID, "crm-1001").hex(): "id",
    }
    assert found == expected
    plain = {EMAIL, NORMALISED, "crm-1001"}
    unsalted = {hashlib.sha256(v.encode()).hexdigest() for v in plain}
    for digest in found:
        assert len(digest) == 64
        assert digest not in plain | unsalted
        assert NORMALISED not in digest
    with store.connect() as conn:
        listed = load_suppressions(conn)
    assert listed.matches(Identifier.EMAIL, ["JANE.holmgaard@kundeservice.dk", "x@y.dk", None]) == [
        True,
        False,
        False,
    ]
    assert listed.matches(Identifier.ID, ["crm-1001", "CRM-1001", "crm-1002"]) == [
        True,
        False,
        False,
    ]


def test_the_salt_is_made_once_and_differs_between_workspaces(
    store: Engine, make_lead: LeadFactory, tmp_path: Path
) -> None:
    with begin_write(store) as conn:
        for lead_id in ("a", "b"):
            add_lead(conn, make_lead(lead_id, email=f"{lead_id}@x.dk"))
    erase(store, "a")
    first = salt_of(store)
    erase(store, "b")
    assert salt_of(store) == first
    assert len(stored(store)) == 4
    other = make_engine(sqlite_url(tmp_path / "other.db"))
    try:
        ensure_schema(other)
        with begin_write(other) as conn:
            add_lead(conn, make_lead("a", email="a@x.dk"))
        erase(other, "a")
        assert salt_of(other) != first
        assert not set(stored(other)) & set(stored(store))  # the same person, other hashes
    finally:
        other.dispose()


def test_erasing_again_or_an_unknown_lead_changes_nothing_on_the_list(
    store: Engine, make_lead: LeadFactory
) -> None:
    with begin_write(store) as conn:
        add_lead(conn, make_lead("a", email="a@x.dk"))
    erase(store, "a")
    before = stored(store)
    with begin_write(store) as conn:
        token = conn.execute(text("SELECT id FROM leads")).scalar_one()
    with pytest.raises(ConflictError):
        erase(store, token)
    with pytest.raises(NotFoundError):
        erase(store, "nobody")
    assert stored(store) == before


def test_a_lead_without_email_is_listed_by_id_and_two_leads_share_an_email_hash(
    store: Engine, make_lead: LeadFactory
) -> None:
    with begin_write(store) as conn:
        add_lead(conn, make_lead("a"))
        add_lead(conn, make_lead("b", email="Bo@x.dk"))
        add_lead(conn, make_lead("c", email="bo@X.dk"))
    for lead_id in ("a", "b", "c"):
        erase(store, lead_id)
    kinds = sorted(stored(store).values())
    assert kinds == ["email", "id", "id", "id"]  # one hash for Bo's email


def test_the_list_is_read_again_only_when_it_grew(store: Engine, make_lead: LeadFactory) -> None:
    with begin_write(store) as conn:
        add_lead(conn, make_lead("a", email="a@x.dk"))
        known = load_suppressions(conn)
        assert current_suppressions(conn, known) is known
        assert suppress(conn, lead_id="a", email="a@x.dk", at=T0) == 2
        assert suppress(conn, lead_id="a", email=" A@x.dk", at=T0) == 0
        grown = current_suppressions(conn, known)
        assert grown.size == 2
        assert current_suppressions(conn, grown) is grown


def test_a_chunk_being_written_keeps_erasures_out_until_it_commits(
    store: Engine, make_lead: LeadFactory
) -> None:
    if store.dialect.name != "postgresql":
        pytest.skip("SQLite: the import's write transaction already keeps every writer out")
    with begin_write(store) as conn:
        add_lead(conn, make_lead("a", email="a@x.dk"))
    outcome: list[BaseException | None] = []
    with store.connect() as importer:
        importer.begin()
        current_suppressions(importer, EMPTY)  # what each chunk of an import does first

        def erase_meanwhile() -> None:
            try:
                with begin_write(store) as conn:
                    conn.execute(text("SET LOCAL lock_timeout = '200ms'"))
                    erase_lead(conn, "a", at=T0, reason="opted out")
                outcome.append(None)
            except OperationalError as err:
                outcome.append(err)

        worker = threading.Thread(target=erase_meanwhile)
        worker.start()
        worker.join(timeout=60)
        importer.rollback()
    assert len(outcome) == 1
    assert isinstance(outcome[0], OperationalError)
    assert "lock timeout" in str(outcome[0])
    erase(store, "a")  # once the chunk is done, the erasure goes through
    assert len(stored(store)) == 2


# --- Matching, without a database --------------------------------------------------------------

SALT = bytes(range(32))
# Dotless i folds to itself, its upper case to "i": the one letter whose case changes the fold.
texts = st.text(st.characters(codec="utf-8", exclude_characters="\u0131"))


@given(email=st.emails() | texts, pad=st.sampled_from(["", " ", "\t", " \n"]))
def test_an_email_matches_in_any_case_with_spaces_around(email: str, pad: str) -> None:
    listed = SuppressionList(SALT, frozenset({salted_hash(SALT, Identifier.EMAIL, email)}))
    variants = [email, pad + email.upper() + pad, email.lower() + pad, normalise_email(email)]
    assert listed.matches(Identifier.EMAIL, variants) == [True] * 4


@given(values=st.lists(texts, max_size=20), listed=st.lists(texts, max_size=5))
def test_matching_a_column_agrees_with_hashing_each_value(
    values: list[str], listed: list[str]
) -> None:
    hashes = frozenset(salted_hash(SALT, Identifier.ID, v) for v in listed)
    got = SuppressionList(SALT, hashes).matches(Identifier.ID, values)
    assert got == [v in listed for v in values]  # ids match exactly: case and spaces count


def test_an_email_hash_never_matches_an_id_and_another_salt_never_matches() -> None:
    listed = SuppressionList(SALT, frozenset({salted_hash(SALT, Identifier.EMAIL, "a@x.dk")}))
    assert listed.matches(Identifier.ID, ["a@x.dk"]) == [False]
    other = SuppressionList(bytes(32), listed.hashes)
    assert other.matches(Identifier.EMAIL, ["a@x.dk"]) == [False]
    assert EMPTY.matches(Identifier.EMAIL, ["a@x.dk", None]) == [False, False]
