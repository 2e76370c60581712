"""Erasure: personal data leaves the database (and, on SQLite, the file's bytes); counts stay."""

from __future__ import annotations

import shutil
import string
import tempfile
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from sqlalchemy import Connection, Engine, func, insert, select, text

from leadpact.core.models import Activity, Channel, StageChange, Touch, TouchOutcome
from leadpact.errors import ConflictError, LeadPactError, NotFoundError
from leadpact.store.engine import begin_write, make_engine, sqlite_url
from leadpact.store.erasure import ERASE_ACTION, PurgeStatus, erase_lead, purge_erased
from leadpact.store.events import (
    add_activity,
    add_audit,
    add_stage_change,
    add_touch,
    list_activities,
    list_audit,
    list_stage_changes,
    list_touches,
)
from leadpact.store.leads import DealRow, LeadRow, add_deal, add_lead, get_lead, list_deals
from leadpact.store.migrations import ensure_schema
from leadpact.store.tables import alerts, deliveries, leads, metadata

T0 = datetime(2025, 3, 7, 14, 30, tzinfo=UTC)
LeadFactory = Callable[..., LeadRow]
ERASED_AT = T0 + timedelta(days=3)
PERSON = {
    "email": "jane.holmgaard@kundeservice.dk",
    "first_name": "Jane",
    "last_name": "Holmgaard",
    "title": "Head of Customer Care",
    "company": "Kundeservice ApS",
}


def record_person(conn: Connection, lead: LeadRow, deal_id: str) -> None:
    add_lead(conn, lead)
    add_activity(conn, Activity(lead.id, "page_view", T0, url=f"https://x.dk/?e={lead.email}"))
    add_activity(conn, Activity(lead.id, "demo_request", T0, content=f"Hi, {lead.first_name}"))
    add_touch(
        conn,
        Touch(lead.id, "rep-a", Channel.CALL, T0, TouchOutcome.CONNECTED),
        note=f"{lead.first_name} {lead.last_name} wants a demo",
    )
    add_stage_change(conn, StageChange(lead.id, "lead", "mql", T0, reason="fit A"))
    add_deal(conn, DealRow(id=deal_id, lead_id=lead.id, stage="won", created_at=T0))
    add_audit(conn, T0, "stage", lead.id, "moved by hand", {"to": "mql"})
    for state, sent_at in (("sent", T0), ("pending", None)):
        alert_id = conn.execute(
            insert(alerts)
            .values(
                key=f"breach:{lead.id}:{state}",
                kind="breach",
                lead_id=lead.id,
                recipient="rep-a@nordlys.dk",
                channel="email",
                created_at=T0,
                payload={"lead": lead.email, "name": f"{lead.first_name} {lead.last_name}"},
                status=state,
                attempts=1,
                sent_at=sent_at,
                last_error=f"mailbox of {lead.first_name} full",
            )
            .returning(alerts.c.id)
        ).scalar_one()
        conn.execute(
            insert(deliveries).values(
                alert_id=alert_id, at=T0, attempt=1, ok=True, detail=f"sent about {lead.email}"
            )
        )


@pytest.fixture
def people(store: Engine, make_lead: LeadFactory) -> tuple[LeadRow, LeadRow]:
    jane = make_lead(
        "jane@kundeservice.dk",
        stage="mql",
        source="webinar",
        industry="retail",
        country="DK",
        employees=80,
        fit=70.0,
        fit_grade="B",
        priority=2,
        row_hash="f" * 64,
        **PERSON,
    )
    other = make_lead("crm-2", email="bo@firma.dk", first_name="Bo", last_name="Berg")
    with begin_write(store) as conn:
        record_person(conn, jane, "opp-1")
        record_person(conn, other, "opp-2")
    return jane, other


def all_text(conn: Connection) -> str:
    """Every value in every table, as text (what a query on any column could find)."""
    parts: list[str] = []
    for table in metadata.sorted_tables:
        for row in conn.execute(select(table)):
            parts.extend(str(value) for value in row)
    return "\n".join(parts)


def test_erasure_removes_the_person_and_keeps_the_facts(
    store: Engine, people: tuple[LeadRow, LeadRow]
) -> None:
    jane, other = people
    with begin_write(store) as conn:
        result = erase_lead(conn, jane.id, at=ERASED_AT, reason="opted out by email")
    assert result.token.startswith("erased-")
    assert (result.activities, result.touches, result.stage_changes, result.deals) == (2, 1, 1, 1)
    assert result.audit_entries == 1
    assert result.alerts == 1
    with store.connect() as conn:
        erased = get_lead(conn, result.token)
        everything = all_text(conn)
        with pytest.raises(NotFoundError):
            get_lead(conn, jane.id)
        activities = list_activities(conn, result.token)
        (touch,) = list_touches(conn, result.token)
        (change,) = list_stage_changes(conn, result.token)
        (deal,) = list_deals(conn, result.token)
        audit = list_audit(conn, subject=result.token)
        assert get_lead(conn, other.id) == other
        assert len(list_activities(conn, other.id)) == 2
    for value in [*PERSON.values(), jane.id, "Jane", "Holmgaard", "f" * 64]:
        assert value not in everything
    assert (erased.email, erased.first_name, erased.last_name, erased.title, erased.company) == (
        None,
        None,
        None,
        None,
        None,
    )
    assert erased.row_hash is None
    assert erased.opted_out is True
    assert erased.erased_at == ERASED_AT
    kept = ["stage", "stage_at", "created_at", "source", "industry", "country", "employees"]
    kept += ["fit", "fit_grade", "priority"]
    assert all(getattr(erased, name) == getattr(jane, name) for name in kept)
    assert [(a.type, a.url, a.content) for a in activities] == [
        ("page_view", None, None),
        ("demo_request", None, None),
    ]
    assert (touch.channel, touch.outcome, touch.at, touch.rep, touch.note) == (
        "call",
        "connected",
        T0,
        None,
        None,
    )
    assert (change.to_stage, change.reason) == ("mql", "fit A")
    assert (deal.id, deal.stage) == ("opp-1", "won")
    assert [(a.action, a.reason) for a in audit] == [
        ("stage", "moved by hand"),
        (ERASE_ACTION, "opted out by email"),
    ]
    assert audit[1].at == ERASED_AT
    assert audit[1].details == {
        "activities": 2,
        "touches": 1,
        "stage_changes": 1,
        "deals": 1,
        "audit_entries": 1,
        "alerts": 1,
    }


def test_unsent_alerts_go_and_sent_ones_stay_anonymised(
    store: Engine, people: tuple[LeadRow, LeadRow]
) -> None:
    jane, other = people
    with begin_write(store) as conn:
        token = erase_lead(conn, jane.id, at=ERASED_AT, reason="opted out").token
    with store.connect() as conn:
        rows = conn.execute(select(alerts).order_by(alerts.c.id)).mappings().all()
        details = conn.execute(select(deliveries.c.detail).order_by(deliveries.c.id)).scalars()
        kept = [(r["lead_id"], r["status"], r["payload"], r["last_error"]) for r in rows]
        assert kept == [
            (token, "sent", {}, None),
            (other.id, "sent", {"lead": "bo@firma.dk", "name": "Bo Berg"}, "mailbox of Bo full"),
            (other.id, "pending", {"lead": "bo@firma.dk", "name": "Bo Berg"}, "mailbox of Bo full"),
        ]
        assert rows[0]["key"] != f"breach:{jane.id}:sent"
        assert list(details) == [None, "sent about bo@firma.dk", "sent about bo@firma.dk"]


def test_event_keys_are_hashed_again(store: Engine, people: tuple[LeadRow, LeadRow]) -> None:
    jane, _ = people
    with store.connect() as conn:
        before = {row.key for row in list_touches(conn, jane.id)}
        before |= {row.key for row in list_activities(conn, jane.id)}
        before |= {row.key for row in list_stage_changes(conn, jane.id)}
    with begin_write(store) as conn:
        token = erase_lead(conn, jane.id, at=ERASED_AT, reason="opted out").token
    with store.connect() as conn:
        after = {row.key for row in list_touches(conn, token)}
        after |= {row.key for row in list_activities(conn, token)}
        after |= {row.key for row in list_stage_changes(conn, token)}
    assert len(after) == len(before) == 4
    assert not before & after


def test_each_erasure_gets_its_own_token(store: Engine, people: tuple[LeadRow, LeadRow]) -> None:
    jane, other = people
    with begin_write(store) as conn:
        first = erase_lead(conn, jane.id, at=ERASED_AT, reason="opted out")
        second = erase_lead(conn, other.id, at=ERASED_AT, reason="opted out")
    assert first.token != second.token


def test_erasing_twice_is_a_conflict(store: Engine, people: tuple[LeadRow, LeadRow]) -> None:
    jane, _ = people
    with begin_write(store) as conn:
        token = erase_lead(conn, jane.id, at=ERASED_AT, reason="opted out").token
    with (
        pytest.raises(ConflictError, match=f"lead '{token}' was already erased on 2025-03-10"),
        begin_write(store) as conn,
    ):
        erase_lead(conn, token, at=ERASED_AT, reason="opted out")


def test_erasing_a_missing_lead_is_not_found(store: Engine) -> None:
    with pytest.raises(NotFoundError, match="no lead 'ghost'"), begin_write(store) as conn:
        erase_lead(conn, "ghost", at=ERASED_AT, reason="opted out")


@pytest.mark.parametrize(
    "reason",
    [
        "",
        "   ",
        "jane.holmgaard@kundeservice.dk asked by phone",
        "JANE.HOLMGAARD@kundeservice.dk",
        "Holmgaard asked us to",
        "asked by jane on the phone",
    ],
)
def test_the_reason_must_not_name_the_person(
    store: Engine, people: tuple[LeadRow, LeadRow], reason: str
) -> None:
    jane, _ = people
    with pytest.raises(LeadPactError, match="reason"), begin_write(store) as conn:
        erase_lead(conn, jane.id, at=ERASED_AT, reason=reason)
    with store.connect() as conn:
        assert get_lead(conn, jane.id).email == PERSON["email"]


def test_a_name_inside_another_word_is_fine(store: Engine, people: tuple[LeadRow, LeadRow]) -> None:
    jane, _ = people
    with begin_write(store) as conn:
        erase_lead(conn, jane.id, at=ERASED_AT, reason="opted out in January (Janet handled it)")


def test_purge_status(store: Engine, people: tuple[LeadRow, LeadRow]) -> None:
    jane, _ = people
    with begin_write(store) as conn:
        erase_lead(conn, jane.id, at=ERASED_AT, reason="opted out")
    expected = (
        PurgeStatus.COMPLETE if store.dialect.name == "sqlite" else PurgeStatus.LEFT_TO_VACUUM
    )
    assert purge_erased(store) is expected


def test_purge_reports_a_reader_that_holds_the_log(tmp_path: Path) -> None:
    path = tmp_path / "leadpact.db"
    engine = make_engine(sqlite_url(path), busy_timeout=timedelta(milliseconds=50))
    ensure_schema(engine)
    with begin_write(engine) as conn:
        add_lead(conn, LeadRow("a", "lead", T0, T0, email="a@b.dk"))
    with engine.connect() as reader, reader.begin():
        reader.execute(select(func.count()).select_from(leads)).scalar()
        with begin_write(engine) as conn:
            erase_lead(conn, "a", at=ERASED_AT, reason="opted out")
        assert purge_erased(engine) is PurgeStatus.BLOCKED
    assert purge_erased(engine) is PurgeStatus.COMPLETE
    engine.dispose()


# --- The bytes of the SQLite file ------------------------------------------------------------

#: id, email local part, first name, last name, stage, number of events
Person = tuple[str, str, str, str, str, int]
NAME = st.text(alphabet=string.ascii_letters + "æøåÆØÅé", min_size=6, max_size=14)
LOCAL = st.text(alphabet=string.ascii_lowercase + string.digits + "._", min_size=6, max_size=20)
PERSONS = st.lists(
    st.tuples(
        st.uuids().map(lambda u: u.hex),
        LOCAL,
        NAME,
        NAME,
        st.sampled_from(["lead", "mql", "sql", "won", "nurture"]),
        st.integers(0, 3),
    ),
    min_size=2,
    max_size=8,
    unique_by=lambda p: p[0],
)


#: Words an erasure writes itself (audit reason and details), which a random name might equal.
WRITTEN_BY_ERASURE = "opted out erase activities touches stage_changes deals audit_entries"


@pytest.fixture(scope="module")
def template_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated, empty SQLite workspace database to copy for each example."""
    path = tmp_path_factory.mktemp("template") / "leadpact.db"
    engine = make_engine(sqlite_url(path))
    ensure_schema(engine)
    engine.dispose()
    return path


# Each example writes a database file and syncs it (about 0.15 s here): 60 examples, not 200.
@settings(max_examples=60, suppress_health_check=[HealthCheck.too_slow])
@given(people=PERSONS, victim=st.integers(0, 7), checkpoint_first=st.booleans())
def test_no_byte_of_the_person_is_left_in_the_sqlite_files(
    template_db: Path, people: list[Person], victim: int, checkpoint_first: bool
) -> None:
    victim %= len(people)
    lead_id, local, first, last, _, _ = people[victim]
    email = f"{local}@{first.lower()}-mail.example"
    needles = [s.encode() for s in (lead_id, email, first, last)]
    template = template_db.read_bytes()
    others = " ".join(" ".join(map(str, p)) for i, p in enumerate(people) if i != victim)
    for needle in needles:
        # Only meaningful when the value is not also someone else's or part of the schema.
        assume(needle not in others.encode() and needle not in template)
        assume(needle.decode().casefold() not in WRITTEN_BY_ERASURE)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "leadpact.db"
        shutil.copy(template_db, path)
        engine = make_engine(sqlite_url(path))
        with begin_write(engine) as conn:
            for i, (pid, plocal, pfirst, plast, stage, events) in enumerate(people):
                lead = LeadRow(
                    pid,
                    stage,
                    T0,
                    T0,
                    email=email if i == victim else f"{plocal}@{pfirst.lower()}-mail.example",
                    first_name=pfirst,
                    last_name=plast,
                    title=f"{pfirst} {plast}, CTO",
                    company=f"{plast} A/S",
                )
                add_lead(conn, lead)
                for n in range(events):
                    at = T0 + timedelta(hours=n)
                    add_activity(conn, Activity(pid, "page_view", at, f"https://x/?{lead.email}"))
                    touch = Touch(pid, pfirst, Channel.EMAIL, at, TouchOutcome.SENT)
                    add_touch(conn, touch, note=f"wrote to {pfirst} {plast}")
                    add_stage_change(conn, StageChange(pid, None, stage, at, reason="import"))
        if checkpoint_first:
            engine.dispose()  # the last connection closing moves the data into the main file
        with engine.connect() as conn:
            before = stage_counts(conn)
        with begin_write(engine) as conn:
            erase_lead(conn, lead_id, at=ERASED_AT, reason="opted out")
        assert purge_erased(engine) is PurgeStatus.COMPLETE
        files = [path, path.with_name(path.name + "-wal")]
        contents = b"".join(f.read_bytes() for f in files if f.exists())
        with engine.connect() as conn:
            assert stage_counts(conn) == before
        engine.dispose()
    for needle in needles:
        assert needle not in contents


def stage_counts(conn: Connection) -> tuple[Counter[str], list[int]]:
    """Leads per stage, and the number of activities, touches and stage changes."""
    rows = conn.execute(text("SELECT stage, count(*) FROM leads GROUP BY stage")).all()
    stages: Counter[str] = Counter({str(stage): int(count) for stage, count in rows})
    totals = [
        int(conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())
        for table in ("activities", "touches", "stage_changes")
    ]
    return stages, totals
