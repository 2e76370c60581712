"""Value objects: aware timestamps only, facts under condition names, stable stage-change keys."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta, timezone

import pytest

from leadpact.core.conditions import LEAD_FIELDS
from leadpact.core.models import (
    FACT_FIELDS,
    Activity,
    Channel,
    LeadFacts,
    StageChange,
    Touch,
    TouchOutcome,
    stage_change_key,
)
from leadpact.errors import LeadPactError

AT = datetime(2025, 3, 4, 9, 30, tzinfo=UTC)
NAIVE = datetime(2025, 3, 4, 9, 30)


@pytest.mark.parametrize(
    "make",
    [
        lambda: LeadFacts(id="x", stage="lead", stage_at=NAIVE, created_at=AT),
        lambda: LeadFacts(id="x", stage="lead", stage_at=AT, created_at=NAIVE),
        lambda: Activity("x", "page_view", NAIVE),
        lambda: Touch("x", "sofie", Channel.CALL, NAIVE, TouchOutcome.NO_ANSWER),
        lambda: StageChange("x", "lead", "mql", NAIVE),
    ],
)
def test_naive_timestamps_are_refused(make):
    with pytest.raises(LeadPactError, match="timezone-aware"):
        make()


def test_facts_use_condition_field_names_and_read_nan_as_missing():
    lead = LeadFacts(
        id="x",
        stage="mql",
        stage_at=AT,
        created_at=AT,
        employees=None,
        annual_revenue=math.nan,
        industry="Software",
    )
    facts = lead.facts()
    assert set(facts) == set(FACT_FIELDS)
    assert set(FACT_FIELDS) <= set(LEAD_FIELDS)
    assert facts["annual_revenue"] is None
    assert facts["industry"] == "Software"
    assert facts["stage"] == "mql"


@pytest.mark.parametrize(
    ("outcome", "connected"),
    [
        (TouchOutcome.CONNECTED, True),
        (TouchOutcome.MEETING_BOOKED, True),
        (TouchOutcome.REPLIED, True),
        (TouchOutcome.NOT_INTERESTED, True),
        (TouchOutcome.NO_ANSWER, False),
        (TouchOutcome.VOICEMAIL, False),
        (TouchOutcome.BREAK_UP, False),
        (TouchOutcome.SENT, False),
        (TouchOutcome.BOUNCED, False),
    ],
)
def test_which_outcomes_are_connections(outcome, connected):
    assert outcome.is_connection is connected


def test_enum_values_are_lowercase_strings():
    assert Channel("call") is Channel.CALL
    assert TouchOutcome("meeting_booked") is TouchOutcome.MEETING_BOOKED
    assert all(m.value == m.value.lower() for m in [*Channel, *TouchOutcome])


def test_stage_change_key_is_stable_across_time_zones():
    change = StageChange("lead-1", "lead", "mql", AT, reason=None, actor="pact")
    same_instant = AT.astimezone(timezone(timedelta(hours=2)))
    assert change.key == stage_change_key("lead-1", "mql", same_instant)
    assert len(change.key) == 64
    assert change.key != stage_change_key("lead-1", "sql", AT)
    assert change.key != stage_change_key("lead-2", "mql", AT)
    assert change.key != stage_change_key("lead-1", "mql", AT + timedelta(microseconds=1))
