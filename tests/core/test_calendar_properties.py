"""Business calendars: properties that hold for any instants, durations and DST time zones."""

from __future__ import annotations

import functools
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from leadpact.core.calendar import BusinessCalendar

# Zones with DST in both hemispheres, at 00:00, 01:00 UTC, 02:00 and 03:00 local, by 30 minutes
# (Lord Howe), with odd offsets (St John's, Chatham), and two without DST (Tehran, UTC).
ZONES = [
    "Europe/Copenhagen",
    "America/New_York",
    "Australia/Sydney",
    "Europe/London",
    "America/Santiago",
    "America/Havana",
    "Australia/Lord_Howe",
    "America/St_Johns",
    "Pacific/Chatham",
    "Asia/Tehran",
    "UTC",
]
WORKDAYS = ("mon", "tue", "wed", "thu", "fri")
WEEK = (*WORKDAYS, "sat", "sun")
HOURS: dict[str, dict[str, Any]] = {
    "office": {
        "hours": {**dict.fromkeys(WORKDAYS, "09:00-17:00"), "fri": "09:00-16:00"},
        "holidays": {"country": "US", "closed": ["2025-12-31"], "open": ["2025-07-04"]},
        "special": {"2024-12-24": "09:00-12:00", "2025-11-28": "closed"},
    },
    "split": {"hours": dict.fromkeys(WORKDAYS, "08:00-12:00,13:00-17:00")},
    "night": {"hours": dict.fromkeys(WORKDAYS, "22:00-06:00"), "holidays": {"country": "DK"}},
    "always": {"hours": dict.fromkeys(WEEK, "00:00-24:00")},
    "small-hours": {"hours": dict.fromkeys(WEEK, "00:30-03:00")},
    "odd": {"hours": dict.fromkeys(("mon", "wed", "sat"), "01:00-02:30,03:00-04:00,23:00-24:00")},
}
LOW, HIGH = datetime(2024, 1, 1), datetime(2026, 12, 31)
US = timedelta(microseconds=1)
PROPERTY = settings(suppress_health_check=[HealthCheck.too_slow])


@functools.cache
def calendar_for(zone: str, hours: str) -> BusinessCalendar:
    return BusinessCalendar.from_dict({"timezone": zone, **HOURS[hours]})


@functools.cache
def edges_of(cal: BusinessCalendar) -> list[datetime]:
    """Openings and closings in the test window: where the conventions matter."""
    table = cal.intervals(LOW.replace(tzinfo=UTC), HIGH.replace(tzinfo=UTC))
    stamps = np.concatenate([table.open_at, table.close_at]).astype("datetime64[us]")
    return [datetime.fromisoformat(str(stamp)).replace(tzinfo=UTC) for stamp in stamps]


calendars = st.builds(calendar_for, st.sampled_from(ZONES), st.sampled_from(sorted(HOURS)))
durations = st.one_of(
    st.just(timedelta(0)),
    st.sampled_from([US, timedelta(hours=1), timedelta(hours=8), timedelta(days=1)]),
    st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=40)),
)
nudges = st.one_of(
    st.sampled_from([timedelta(0), US, -US, timedelta(hours=1), -timedelta(hours=1)]),
    st.timedeltas(min_value=-timedelta(hours=3), max_value=timedelta(hours=3)),
)


@st.composite
def instants(draw: st.DrawFn, cal: BusinessCalendar) -> datetime:
    if draw(st.booleans()):
        at: datetime = draw(st.datetimes(min_value=LOW, max_value=HIGH, timezones=st.just(UTC)))
        return at
    return draw(st.sampled_from(edges_of(cal))) + draw(nudges)


@st.composite
def calendar_and_instants(draw: st.DrawFn, count: int) -> tuple[Any, ...]:
    cal = draw(calendars)
    return (cal, *(draw(instants(cal)) for _ in range(count)))


def as_datetime64(values: list[datetime]) -> np.ndarray:
    return np.array([v.astimezone(UTC).replace(tzinfo=None) for v in values], "datetime64[ns]")


@PROPERTY
@given(calendar_and_instants(1), durations)
def test_round_trip(drawn: tuple[BusinessCalendar, datetime], within: timedelta) -> None:
    cal, start = drawn
    due = cal.deadline(start, within)
    assert cal.between(start, due) == within
    assert due >= start
    if cal.is_open(start):
        assert cal.deadline(start, timedelta(0)) == start


@PROPERTY
@given(calendar_and_instants(1), durations, durations)
def test_deadline_is_monotonic_in_the_duration(
    drawn: tuple[BusinessCalendar, datetime], first: timedelta, second: timedelta
) -> None:
    cal, start = drawn
    shorter, longer = sorted([first, second])
    assert cal.deadline(start, shorter) <= cal.deadline(start, longer)


@PROPERTY
@given(calendar_and_instants(1), durations)
def test_deadline_is_open_or_exactly_a_closing(
    drawn: tuple[BusinessCalendar, datetime], within: timedelta
) -> None:
    cal, start = drawn
    due = cal.deadline(start, within)
    if within == timedelta(0):
        assert cal.is_open(due)  # the clock's start: never a closing
    else:
        assert cal.is_open(due) or cal.is_open(due - US)
        assert cal.between(start, due - US) < within  # the earliest such instant


@PROPERTY
@given(calendar_and_instants(2))
def test_between_is_antisymmetric_and_bounded(
    drawn: tuple[BusinessCalendar, datetime, datetime],
) -> None:
    cal, a, b = drawn
    assert cal.between(a, b) == -cal.between(b, a)
    early, late = sorted([a, b])
    assert timedelta(0) <= cal.between(early, late) <= late - early


@PROPERTY
@given(calendar_and_instants(3))
def test_between_is_additive(drawn: tuple[BusinessCalendar, datetime, datetime, datetime]) -> None:
    cal, a, b, c = drawn
    assert cal.between(a, b) + cal.between(b, c) == cal.between(a, c)


@PROPERTY
@given(calendars.flatmap(lambda cal: st.tuples(st.just(cal), st.data())))
def test_scalar_and_vectorized_paths_agree(drawn: tuple[BusinessCalendar, Any]) -> None:
    cal, data = drawn
    size = data.draw(st.integers(min_value=1, max_value=12))
    starts = [data.draw(instants(cal)) for _ in range(size)]
    ends = [data.draw(instants(cal)) for _ in range(size)]
    withins = [data.draw(durations) for _ in range(size)]
    exact = cal.between_many_ns(as_datetime64(starts), as_datetime64(ends))
    whole = cal.between_many(as_datetime64(starts), as_datetime64(ends))
    seconds = np.array([w // US for w in withins], dtype=np.int64).astype("timedelta64[us]")
    due = cal.deadline_many(as_datetime64(starts), seconds)
    for i, (start, end, within) in enumerate(zip(starts, ends, withins, strict=True)):
        span = cal.between(start, end)
        assert exact[i] == span // US * 1000
        toward_zero = abs(span) // timedelta(seconds=1)
        assert whole[i] == (toward_zero if span >= timedelta(0) else -toward_zero)
        assert due[i] == as_datetime64([cal.deadline(start, within)])[0]
