"""Compliance over SLA clocks: counts per status, attainment, median and p90 business time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from leadpact.core.compliance import quantile, summarize
from leadpact.core.sla import SlaResult, SlaStatus, Stop, timed_commitments

T0 = datetime(2025, 3, 6, 9, tzinfo=UTC)
HOUR = timedelta(hours=1)


def clock(
    status: SlaStatus,
    used: timedelta = HOUR,
    stopped_by: Stop | None = Stop.TOUCH,
    commitment_id: str = "p1-response",
    kind: str = "response",
) -> SlaResult:
    running = status in (SlaStatus.PENDING, SlaStatus.AT_RISK)
    return SlaResult(
        lead_id="l1",
        commitment_id=commitment_id,
        kind=kind,
        owner=None,
        calendar="sales-dk",
        started_at=T0,
        due_at=T0 + 2 * HOUR,
        stopped_at=None if running else T0 + used,
        stopped_by=None if running else stopped_by,
        status=status,
        time_left=HOUR if running else None,
        business_time_used=used,
    )


def test_counts_attainment_and_times_per_commitment():
    results = [
        clock(SlaStatus.MET, HOUR),
        clock(SlaStatus.MET, 2 * HOUR),
        clock(SlaStatus.BREACHED, 4 * HOUR),
        clock(SlaStatus.MET, 10 * HOUR, Stop.CLOSED),  # disqualified: no response time
        clock(SlaStatus.PENDING, 5 * HOUR),
        clock(SlaStatus.AT_RISK, 6 * HOUR),
        clock(SlaStatus.PENDING, commitment_id="mql-acceptance", kind="acceptance"),
    ]
    response, acceptance = summarize(results)
    assert (response.commitment_id, response.kind) == ("p1-response", "response")
    assert (response.pending, response.at_risk, response.met, response.breached) == (1, 1, 3, 1)
    assert response.total == 6
    assert response.attainment_rate == 0.75
    assert response.stopped == 3
    assert response.median_business_time == 2 * HOUR
    assert response.p90_business_time == timedelta(hours=3, minutes=36)  # 2 h + 0.8 x 2 h
    assert acceptance.attainment_rate is None  # nothing decided yet
    assert acceptance.median_business_time is None
    assert acceptance.p90_business_time is None


def test_commitments_given_come_first_even_without_clocks(pact):
    found = summarize([clock(SlaStatus.MET)], timed_commitments(pact))
    assert [c.commitment_id for c in found] == [
        "mql-acceptance",
        "p1-response",
        "sql-response",
        "sql-follow-up",
    ]
    assert [c.total for c in found] == [0, 1, 0, 0]
    assert found[3].kind == "follow_up"
    extra = summarize([clock(SlaStatus.MET, commitment_id="other")], timed_commitments(pact))
    assert extra[-1].commitment_id == "other"


@pytest.mark.parametrize(
    ("hours", "rate", "expected"),
    [
        ([3], 0.9, 3),
        ([1, 2], 0.5, 1.5),
        ([4, 1, 3, 2], 0.5, 2.5),
        ([1, 2, 3, 4, 5], 0.9, 4.6),
        ([1, 2, 3], 0.0, 1),
        ([1, 2, 3], 1.0, 3),
    ],
)
def test_quantile_interpolates_linearly(hours, rate, expected):
    assert quantile([timedelta(hours=h) for h in hours], rate) == timedelta(hours=expected)


def test_quantile_of_nothing_is_none():
    assert quantile([], 0.5) is None


@given(
    st.lists(st.integers(0, 10**12), min_size=1, max_size=50),
    st.sampled_from([0.1, 0.5, 0.9]),
)
def test_quantile_agrees_with_numpy(micros, rate):
    expected = np.quantile(np.array(micros, dtype=np.float64), rate)
    found = quantile([timedelta(microseconds=m) for m in micros], rate)
    assert found is not None
    assert abs(found / timedelta(microseconds=1) - expected) <= 1
