"""Events in the store: idempotent writes by key, ordering, core mappings, the audit log."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import Engine

from leadpact.core.models import Activity, Channel, StageChange, Touch, TouchOutcome
from leadpact.errors import NotFoundError
from leadpact.store.engine import begin_write
from leadpact.store.events import (
    activity_key,
    add_activity,
    add_audit,
    add_stage_change,
    add_touch,
    content_key,
    list_activities,
    list_audit,
    list_stage_changes,
    list_touches,
    touch_key,
)
from leadpact.store.leads import LeadRow, add_lead

T0 = datetime(2025, 3, 7, 14, 30, tzinfo=UTC)
LeadFactory = Callable[..., LeadRow]


@pytest.fixture
def lead(store: Engine, make_lead: LeadFactory) -> str:
    with begin_write(store) as conn:
        add_lead(conn, make_lead("a"))
    return "a"


def test_touches_are_stored_once_per_key(store: Engine, lead: str) -> None:
    call = Touch(lead, "rep-a", Channel.CALL, T0, TouchOutcome.NO_ANSWER)
    email = Touch(lead, "rep-a", Channel.EMAIL, T0 - timedelta(hours=1), TouchOutcome.SENT)
    with begin_write(store) as conn:
        assert add_touch(conn, call, note="left no message") is True
        assert add_touch(conn, call, note="corrected note") is False
        assert add_touch(conn, email) is True
    with store.connect() as conn:
        stored = list_touches(conn, lead)
    assert [row.touch() for row in stored] == [email, call]  # oldest first
    assert stored[1].note == "left no message"
    assert stored[1].key == touch_key(call)


def test_a_source_key_wins_over_the_content_hash(store: Engine, lead: str) -> None:
    call = Touch(lead, "rep-a", Channel.CALL, T0, TouchOutcome.CONNECTED)
    with begin_write(store) as conn:
        assert add_touch(conn, call, key="hubspot:call:1") is True
        assert add_touch(conn, call) is True  # a different key: stored again
        assert add_touch(conn, call, key="hubspot:call:1") is False
    with store.connect() as conn:
        assert list_touches(conn, lead)[0].key == "hubspot:call:1"


def test_activities_are_stored_once_per_key(store: Engine, lead: str) -> None:
    view = Activity(lead, "pricing_page_view", T0, url="https://nordlys.dk/pricing")
    demo = Activity(lead, "demo_request", T0 + timedelta(minutes=5), content="Call me")
    with begin_write(store) as conn:
        assert add_activity(conn, view) is True
        assert add_activity(conn, view) is False
        assert add_activity(conn, demo, key="form:42") is True
    with store.connect() as conn:
        stored = list_activities(conn, lead)
    assert [row.activity() for row in stored] == [view, demo]
    assert [row.key for row in stored] == [activity_key(view), "form:42"]


def test_stage_changes_use_the_core_key(store: Engine, lead: str) -> None:
    change = StageChange(lead, "lead", "mql", T0, reason="fit A, engagement 45", actor="engine")
    with begin_write(store) as conn:
        assert add_stage_change(conn, change, seconds_in_from=3600.0) is True
        assert add_stage_change(conn, change) is False
    with store.connect() as conn:
        (stored,) = list_stage_changes(conn, lead)
    assert stored.change() == change
    assert stored.key == change.key
    assert stored.seconds_in_from == 3600.0


def test_events_for_a_missing_lead_are_not_found(store: Engine, lead: str) -> None:
    with begin_write(store) as conn:
        with pytest.raises(NotFoundError, match="no lead 'ghost'"):
            add_touch(conn, Touch("ghost", None, Channel.CALL, T0, TouchOutcome.SENT))
        with pytest.raises(NotFoundError, match="no lead 'ghost'"):
            add_activity(conn, Activity("ghost", "page_view", T0))
        with pytest.raises(NotFoundError, match="no lead 'ghost'"):
            add_stage_change(conn, StageChange("ghost", None, "lead", T0))
        # The transaction goes on (PostgreSQL would abort it without the savepoint).
        assert add_activity(conn, Activity(lead, "page_view", T0)) is True
    with store.connect() as conn:
        assert len(list_activities(conn, lead)) == 1


def test_content_key_is_about_the_instant_not_the_zone() -> None:
    cph = T0.astimezone(timezone(timedelta(hours=1)))
    assert content_key("touch", "a", cph) == content_key("touch", "a", T0)
    assert content_key("touch", "a", T0) != content_key("touch", "b", T0)
    assert content_key("touch", "a", T0) != content_key("activity", "a", T0)
    assert len(content_key("x")) == 64


def test_content_key_refuses_naive_datetimes() -> None:
    with pytest.raises(ValueError, match="naive datetime"):
        content_key("touch", datetime(2025, 3, 7, 14, 30))


def test_audit_log(store: Engine) -> None:
    with begin_write(store) as conn:
        first = add_audit(conn, T0, "approve", "v3", "signed", {"party": "sales"})
        second = add_audit(conn, T0 + timedelta(1), "erase", "erased-1", "opted out")
        add_audit(conn, T0 - timedelta(1), "approve", "v2", None, None)
    assert second == first + 1
    with store.connect() as conn:
        everything = list_audit(conn)
        assert [entry.subject for entry in everything] == ["v2", "v3", "erased-1"]
        assert everything[1].details == {"party": "sales"}
        assert everything[1].at == T0
        assert [e.subject for e in list_audit(conn, action="approve")] == ["v2", "v3"]
        assert [e.action for e in list_audit(conn, subject="erased-1")] == ["erase"]


def test_other_integrity_errors_are_not_disguised(store: Engine, lead: str) -> None:
    from sqlalchemy.exc import IntegrityError

    from leadpact.store._writes import insert_new
    from leadpact.store.tables import touches

    values = {"key": "k", "lead_id": lead, "channel": None, "at": T0, "outcome": "sent"}
    with pytest.raises(IntegrityError), begin_write(store) as conn:
        insert_new(conn, touches, "key", values)
