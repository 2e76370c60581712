"""Business calendars: the hand-derived golden table, the spec's validation, and edge paths."""

from __future__ import annotations

import functools
import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from pydantic import ValidationError
from ruamel.yaml import YAML

from leadpact.core.calendar import (
    BusinessCalendar,
    CalendarSpec,
    HolidaySpec,
    WeeklyHours,
    parse_hours,
)
from leadpact.core.durations import parse_duration
from leadpact.errors import CalendarError

CASES_FILE = Path(__file__).resolve().parents[1] / "data" / "calendar_cases.yaml"
CPH = ZoneInfo("Europe/Copenhagen")
WEEKDAYS = dict.fromkeys(("mon", "tue", "wed", "thu", "fri"), "09:00-17:00")


def _load_cases() -> dict[str, Any]:
    data: dict[str, Any] = YAML(typ="safe").load(CASES_FILE.read_text(encoding="utf-8"))
    return data


TABLE = _load_cases()


@functools.cache
def golden_calendar(name: str) -> BusinessCalendar:
    return BusinessCalendar.from_dict(TABLE["calendars"][name])


def signed_duration(text: str) -> timedelta:
    return -parse_duration(text[1:]) if text.startswith("-") else parse_duration(text)


def as_datetime64(at: datetime) -> np.ndarray:
    return np.array([at.astimezone(UTC).replace(tzinfo=None)], dtype="datetime64[ns]")


def calendar(**changes: Any) -> BusinessCalendar:
    spec: dict[str, Any] = {"timezone": "Europe/Copenhagen", "hours": WEEKDAYS}
    spec.update(changes)
    return BusinessCalendar.from_dict(spec)


# --------------------------------------------------------------------------- golden table


@pytest.mark.parametrize("case", TABLE["cases"], ids=[case["id"] for case in TABLE["cases"]])
def test_golden_case(case: dict[str, Any]) -> None:
    cal = golden_calendar(case["calendar"])
    start = datetime.fromisoformat(case["start"])
    if "within" in case:
        within = parse_duration(case["within"])
        due = datetime.fromisoformat(case["due"])
        assert cal.deadline(start, within) == due
        seconds = np.array([within.total_seconds()])
        assert cal.deadline_many(as_datetime64(start), seconds)[0] == as_datetime64(due)[0]
        assert cal.between(start, due) == within  # the round trip holds on every case
    else:
        end = datetime.fromisoformat(case["end"])
        expected = signed_duration(case["between"])
        assert cal.between(start, end) == expected
        exact = cal.between_many_ns(as_datetime64(start), as_datetime64(end))
        assert exact[0] == expected // timedelta(microseconds=1) * 1000


def test_golden_cases_have_unique_ids() -> None:
    ids = [case["id"] for case in TABLE["cases"]]
    assert len(ids) == len(set(ids))


# --------------------------------------------------------------------------- the spec


@pytest.mark.parametrize(
    ("text", "ranges"),
    [
        ("09:00-17:00", ((540, 1020),)),
        ("13:00-17:00, 08:00-12:00", ((480, 720), (780, 1020))),
        ("22:00-06:00", ((1320, 1800),)),
        ("00:00-24:00", ((0, 1440),)),
        ("12:00-00:00", ((720, 1440),)),
        ("08:00-12:00,12:00-13:00", ((480, 720), (720, 780))),
        ("closed", ()),
        ("", ()),
    ],
)
def test_parse_hours(text: str, ranges: tuple[tuple[int, int], ...]) -> None:
    assert parse_hours(text) == ranges


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("9-17", '"9-17" is not opening hours; expected "HH:MM-HH:MM", several separated by'),
        ("09:00-17:00,9:00-10:00", '"9:00-10:00" is not opening hours'),
        ("24:00-06:00", '"24:00-06:00" has a time that does not exist'),
        ("09:60-17:00", "does not exist"),
        ("09:00-25:00", "does not exist"),
        ("09:00-17:60", "does not exist"),
        ("09:00-24:30", "does not exist"),
        ("09:00-09:00", '"09:00-09:00" is empty; use "00:00-24:00" for a whole day'),
        ("08:00-12:00,11:00-13:00", "08:00-12:00,11:00-13:00 overlap"),
        ("22:00-06:00,23:00-23:30", "22:00-06:00,23:00-23:30 overlap"),
    ],
)
def test_parse_hours_rejects(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        parse_hours(text)


def test_weekly_hours_error_location_is_the_day() -> None:
    with pytest.raises(ValidationError) as caught:
        CalendarSpec.model_validate({"timezone": "UTC", "hours": {"mon": "x", "fri": "9-17"}})
    errors = caught.value.errors()
    assert [error["loc"] for error in errors] == [("hours", "mon"), ("hours", "fri")]
    assert '"9-17" is not opening hours' in errors[1]["msg"]


def test_weekly_hours_ranges_and_closed_days() -> None:
    hours = WeeklyHours(mon="09:00-17:00", sat="closed")
    assert hours.ranges()[0] == ((540, 1020),)
    assert hours.ranges()[5] == ()
    assert hours.ranges()[6] == ()


@pytest.mark.parametrize(
    ("hours", "message"),
    [
        ({}, "has no opening hours"),
        ({"mon": "closed", "tue": ""}, "has no opening hours"),
        ({"mon": "22:00-06:00", "tue": "05:00-12:00"}, "mon 22:00-06:00 runs into tue 05:00-12:00"),
        ({"sun": "20:00-02:00", "mon": "00:00-24:00"}, "sun 20:00-02:00 runs into mon 00:00-24:00"),
    ],
)
def test_weekly_hours_rejects_whole_weeks(hours: dict[str, str], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        WeeklyHours.model_validate(hours)


def test_night_shift_may_end_when_the_next_day_opens() -> None:
    hours = WeeklyHours(mon="22:00-06:00", tue="06:00-12:00")
    assert hours.ranges()[1] == ((360, 720),)


@pytest.mark.parametrize(
    ("holidays", "field", "message"),
    [
        ({"country": "XX"}, "country", "unknown country 'XX'; expected an ISO 3166-1 alpha-2"),
        ({"country": "XX", "subdivision": "YY"}, "country", "unknown country"),
        ({"subdivision": "CA"}, "subdivision", "needs a country"),
        ({"country": "DK", "subdivision": "X"}, "subdivision", "expected none: leave it out"),
        ({"country": "US", "subdivision": "ZZ"}, "subdivision", "expected one of AK, AL"),
        ({"closed": ["2024-02-30"]}, "closed", "date"),
    ],
)
def test_holiday_spec_rejects(holidays: dict[str, Any], field: str, message: str) -> None:
    with pytest.raises(ValidationError) as caught:
        HolidaySpec.model_validate(holidays)
    errors = caught.value.errors()
    assert len(errors) == 1
    assert errors[0]["loc"][0] == field
    assert message in errors[0]["msg"]


def test_holiday_spec_normalises_codes() -> None:
    spec = HolidaySpec.model_validate({"country": " us", "subdivision": "ca"})
    assert (spec.country, spec.subdivision) == ("US", "CA")
    assert HolidaySpec.model_validate({"country": None, "subdivision": None}).country is None


@pytest.mark.parametrize("zone", ["Europe/Copenhagn", "", "../etc/passwd", "Mars/Base"])
def test_calendar_spec_rejects_time_zones(zone: str) -> None:
    with pytest.raises(ValidationError) as caught:
        CalendarSpec.model_validate({"timezone": zone, "hours": WEEKDAYS})
    message = caught.value.errors()[0]["msg"]
    assert f"unknown time zone {zone!r}; expected an IANA name such as Europe/Copenhagen" in message


def test_special_error_location_is_the_date() -> None:
    with pytest.raises(ValidationError) as caught:
        CalendarSpec.model_validate(
            {"timezone": "UTC", "hours": WEEKDAYS, "special": {"2024-12-24": "9-12"}}
        )
    assert caught.value.errors()[0]["loc"] == ("special", "2024-12-24")


def test_specs_are_frozen_and_strict() -> None:
    spec = CalendarSpec.model_validate({"timezone": "UTC", "hours": WEEKDAYS})
    with pytest.raises(ValidationError):
        spec.timezone = "Europe/Copenhagen"  # type: ignore[misc]
    with pytest.raises(ValidationError, match="Extra inputs are not permitted"):
        CalendarSpec.model_validate({"timezone": "UTC", "hours": WEEKDAYS, "hollidays": {}})


def test_spec_round_trips_through_json() -> None:
    spec = golden_calendar("dk").spec
    assert CalendarSpec.model_validate_json(spec.model_dump_json()) == spec
    schema = CalendarSpec.model_json_schema()
    assert schema["additionalProperties"] is False
    assert "IANA" in schema["properties"]["timezone"]["description"]


def test_from_dict_lists_every_problem() -> None:
    data = {
        "timezone": "Europe/Copenhagn",
        "hours": {"fri": "9-16"},
        "holidays": {"country": "XX"},
        "extra": 1,
    }
    with pytest.raises(CalendarError) as caught:
        BusinessCalendar.from_dict(data)
    message = str(caught.value)
    assert message.startswith("invalid calendar: timezone: unknown time zone 'Europe/Copenhagn'")
    assert 'hours.fri: "9-16" is not opening hours' in message
    assert "holidays.country: unknown country 'XX'" in message
    assert "extra: Extra inputs are not permitted" in message


def test_from_dict_reports_a_non_mapping() -> None:
    with pytest.raises(CalendarError, match="invalid calendar: calendar: Input should be"):
        BusinessCalendar.from_dict(["not", "a", "mapping"])  # type: ignore[arg-type]


def test_calendar_built_from_a_spec() -> None:
    spec = CalendarSpec(timezone="Europe/Copenhagen", hours=WeeklyHours(mon="09:00-17:00"))
    cal = BusinessCalendar(spec)
    assert cal.spec is spec
    assert cal.timezone == CPH
    monday = datetime(2025, 3, 3, 9, tzinfo=CPH)
    assert cal.between(monday, monday + timedelta(days=7)) == timedelta(hours=8)


# --------------------------------------------------------------------------- scalar queries


def test_naive_datetimes_are_refused() -> None:
    cal = calendar()
    naive = datetime(2025, 3, 7, 15, 30)
    expected = "start 2025-03-07T15:30:00 is a naive datetime; give a time zone, e.g. "
    with pytest.raises(CalendarError, match=expected):
        cal.between(naive, datetime(2025, 3, 7, tzinfo=UTC))
    with pytest.raises(CalendarError, match="end 2025-03-07T15:30:00 is a naive"):
        cal.between(datetime(2025, 3, 7, tzinfo=UTC), naive)
    with pytest.raises(CalendarError, match=r"e\.g\. 2025-03-07T15:30:00\+01:00"):
        cal.deadline(naive, timedelta(hours=1))
    with pytest.raises(CalendarError, match="at 2025-03-07T15:30:00 is a naive"):
        cal.is_open(naive)


def test_negative_within_is_refused() -> None:
    with pytest.raises(CalendarError, match="within is negative"):
        calendar().deadline(datetime(2025, 3, 3, 10, tzinfo=CPH), timedelta(minutes=-1))


def test_is_open_and_next_open() -> None:
    cal = calendar()
    assert cal.is_open(datetime(2025, 3, 3, 9, tzinfo=CPH))
    assert cal.is_open(datetime(2025, 3, 3, 16, 59, 59, 999999, tzinfo=CPH))
    assert not cal.is_open(datetime(2025, 3, 3, 17, tzinfo=CPH))
    assert not cal.is_open(datetime(2025, 3, 8, 12, tzinfo=CPH))
    saturday = datetime(2025, 3, 8, 12, tzinfo=CPH)
    assert cal.next_open(saturday) == datetime(2025, 3, 10, 8, tzinfo=UTC)
    open_now = datetime(2025, 3, 3, 10, 15, tzinfo=CPH)
    assert cal.next_open(open_now) == open_now
    assert cal.next_open(open_now).tzinfo is UTC


def test_deadline_is_utc() -> None:
    due = calendar().deadline(datetime(2025, 3, 7, 16, tzinfo=CPH), timedelta(hours=2))
    assert due == datetime(2025, 3, 10, 9, tzinfo=UTC)  # Mon 10:00 CET
    assert due.tzinfo is UTC


def test_any_time_zone_of_the_input_is_accepted() -> None:
    cal = calendar()
    start = datetime(2025, 3, 3, 3, tzinfo=ZoneInfo("America/New_York"))  # 09:00 CET
    assert cal.between(start, start + timedelta(hours=2)) == timedelta(hours=2)


def test_deadline_far_ahead_compiles_later_years() -> None:
    cal = calendar()
    start = datetime(2025, 1, 6, 9, tzinfo=CPH)  # a Monday
    # 300 working weeks of 40 h: exactly 300 weeks later, at the Monday 09:00 opening.
    due = cal.deadline(start, timedelta(hours=40 * 300))
    friday = date(2025, 1, 10) + timedelta(weeks=299)  # the last day of week 300
    assert due == datetime(friday.year, friday.month, friday.day, 17, tzinfo=CPH)  # its closing
    assert cal.between(start, due) == timedelta(hours=40 * 300)


def test_queries_in_earlier_years_extend_the_table_backwards() -> None:
    cal = calendar()
    recent = datetime(2025, 3, 3, 10, tzinfo=CPH)
    assert cal.between(recent, recent + timedelta(hours=1)) == timedelta(hours=1)
    old = datetime(2010, 3, 1, 10, tzinfo=CPH)  # a Monday
    assert cal.between(old, old + timedelta(hours=1)) == timedelta(hours=1)
    whole_weeks = (recent - old) // timedelta(weeks=1)
    assert cal.between(old, old + timedelta(weeks=whole_weeks)) == timedelta(hours=40 * whole_weeks)


@pytest.mark.parametrize(
    "at",
    [
        datetime(1900, 12, 31, 23, tzinfo=UTC),
        datetime(2200, 1, 1, tzinfo=UTC),
    ],
)
def test_instants_outside_the_supported_range(at: datetime) -> None:
    inside = datetime(2025, 3, 3, tzinfo=UTC)
    with pytest.raises(CalendarError, match="outside the supported range"):
        calendar().between(inside, at)
    with pytest.raises(CalendarError, match="outside the supported range"):
        calendar().between(at, inside)


def test_the_edges_of_the_supported_range() -> None:
    cal = calendar()
    first = datetime(1901, 1, 1, tzinfo=UTC)
    last = datetime(2199, 12, 31, 23, 59, tzinfo=UTC)
    assert cal.between(first, first + timedelta(days=7)) == timedelta(hours=40)
    assert cal.next_open(last) > last


def test_no_deadline_before_the_end_of_the_range() -> None:
    cal = calendar()
    with pytest.raises(CalendarError, match="no deadline before the end of 2200"):
        cal.deadline(datetime(2199, 6, 1, tzinfo=UTC), timedelta(days=3650))


def test_closures_covering_a_year_push_deadlines_past_it() -> None:
    closed = [date(2026, 1, 1) + timedelta(days=n) for n in range(365)]
    cal = calendar(holidays={"closed": closed})
    due = cal.deadline(datetime(2025, 12, 31, 16, 30, tzinfo=CPH), timedelta(hours=1))
    assert due == datetime(2027, 1, 1, 9, 30, tzinfo=CPH)  # Fri 2027-01-01 is open


def test_hours_inside_a_dst_gap_vanish() -> None:
    # 02:00-02:30 does not exist on 2024-03-31 in Copenhagen; 03:00-04:00 does.
    cal = calendar(hours={"sun": "02:00-02:30,03:00-04:00"})
    sunday = datetime(2024, 3, 31, tzinfo=CPH)
    assert cal.between(sunday, sunday + timedelta(days=1)) == timedelta(hours=1)
    week_later = sunday + timedelta(days=7)
    assert cal.between(week_later, week_later + timedelta(days=1)) == timedelta(hours=1, minutes=30)


def test_special_hours_overlapping_a_night_shift_are_merged() -> None:
    # Monday's shift runs to Tue 06:00; Tuesday's special hours start at 05:00: 22:00-12:00.
    cal = calendar(hours={"mon": "22:00-06:00"}, special={"2025-03-04": "05:00-12:00"})
    monday = datetime(2025, 3, 3, tzinfo=CPH)
    assert cal.between(monday, monday + timedelta(days=2)) == timedelta(hours=14)


def test_subdivision_holidays_apply() -> None:
    # 2024-11-29 is a holiday in California (Day After Thanksgiving), not federally.
    us = {"timezone": "America/Los_Angeles", "hours": WEEKDAYS}
    federal = BusinessCalendar.from_dict({**us, "holidays": {"country": "US"}})
    california = BusinessCalendar.from_dict(
        {**us, "holidays": {"country": "US", "subdivision": "CA"}}
    )
    start = datetime(2024, 11, 29, 10, tzinfo=ZoneInfo("America/Los_Angeles"))
    assert federal.is_open(start)
    assert not california.is_open(start)


def test_intervals_lists_the_open_intervals() -> None:
    cal = calendar()
    monday = datetime(2025, 3, 3, 12, tzinfo=CPH)
    table = cal.intervals(monday, monday + timedelta(days=7))
    opens = table.open_at.astype("datetime64[s]").astype(str).tolist()
    assert opens[0] == "2025-03-03T08:00:00"  # Monday's interval overlaps the start
    assert opens[-1] == "2025-03-10T08:00:00"  # the next Monday opens before the end
    assert len(opens) == 6
    assert np.all(table.close_at - table.open_at == np.timedelta64(8, "h"))
    steps = np.diff(table.business_before_ns)
    assert np.all(steps == 8 * 3600 * 10**9)
    assert len(cal.intervals(monday, monday - timedelta(days=1)).open_at) == 0


# --------------------------------------------------------------------------- vectorized queries


def test_vectorized_accepts_numpy_pandas_and_pyarrow() -> None:
    cal = calendar()
    starts = pd.Series(pd.to_datetime(["2025-03-07T15:00:00", "2025-03-03T08:00:00"]))
    ends = pd.Series(pd.to_datetime(["2025-03-10T09:00:00", "2025-03-03T08:30:00"]))
    expected = np.array([7200, 1800])  # Fri 16:00-17:00 + Mon 09:00-10:00 CET; 30 min
    assert np.array_equal(cal.between_many(starts, ends), expected)  # naive pandas = UTC
    aware = starts.dt.tz_localize("UTC").dt.tz_convert("America/New_York")
    assert np.array_equal(cal.between_many(aware, ends), expected)
    assert np.array_equal(cal.between_many(starts.to_numpy(), ends.to_numpy()), expected)
    arrow = pa.array(starts.dt.tz_localize("UTC"))
    chunked = pa.chunked_array([arrow.slice(0, 1), arrow.slice(1)])
    assert np.array_equal(cal.between_many(arrow, ends), expected)
    assert np.array_equal(cal.between_many(chunked, pd.DatetimeIndex(ends)), expected)
    aware_index = pd.DatetimeIndex(aware)
    assert np.array_equal(cal.between_many(aware_index, pd.DatetimeIndex(ends)), expected)


def test_between_many_truncates_toward_zero() -> None:
    cal = calendar()
    starts = np.array(["2025-03-03T08:00:00", "2025-03-03T08:00:01.5"], dtype="datetime64[ns]")
    ends = np.array(["2025-03-03T08:00:01.5", "2025-03-03T08:00:00"], dtype="datetime64[ns]")
    assert cal.between_many(starts, ends).tolist() == [1, -1]
    assert cal.between_many_ns(starts, ends).tolist() == [1_500_000_000, -1_500_000_000]
    assert cal.between_many(starts, ends).dtype == np.int64


def test_nanoseconds_are_kept_in_the_vectorized_path() -> None:
    cal = calendar()
    start = np.array(["2025-03-03T08:00:00.000000001"], dtype="datetime64[ns]")
    due = cal.deadline_many(start, np.array([0.5]))
    assert due[0] == np.datetime64("2025-03-03T08:00:00.500000001", "ns")


@pytest.mark.parametrize(
    "seconds",
    [
        np.array([7200, 0]),
        np.array([7200.0, 0.0]),
        np.array([7200, 0], dtype=np.uint32),
        np.array([2, 0], dtype="timedelta64[h]"),
        pd.Series(pd.to_timedelta([7200, 0], unit="s")),
    ],
)
def test_deadline_many_duration_types(seconds: Any) -> None:
    cal = calendar()
    starts = np.array(["2025-03-07T15:00", "2025-03-08T12:00"], dtype="datetime64[ns]")
    due = cal.deadline_many(starts, seconds)
    assert due.dtype == np.dtype("datetime64[ns]")
    assert due.astype(str).tolist() == [
        "2025-03-10T09:00:00.000000000",  # Fri 16:00-17:00 CET, then Mon 09:00-10:00
        "2025-03-10T08:00:00.000000000",  # zero from Saturday: the Monday opening
    ]


def test_deadline_many_broadcasts_a_scalar() -> None:
    cal = calendar()
    starts = np.array(["2025-03-07T15:00", "2025-03-07T14:00"], dtype="datetime64[ns]")
    assert cal.deadline_many(starts, 3600).astype(str).tolist() == [
        "2025-03-07T16:00:00.000000000",  # lands on the 17:00 CET closing and stays
        "2025-03-07T15:00:00.000000000",
    ]


def test_deadline_many_far_ahead_compiles_later_years() -> None:
    cal = calendar()
    starts = np.array(["2025-01-06T08:00", "2025-01-06T08:00"], dtype="datetime64[ns]")
    due = cal.deadline_many(starts, np.array([3600, 40 * 300 * 3600]))
    expected = cal.deadline(datetime(2025, 1, 6, 8, tzinfo=UTC), timedelta(hours=40 * 300))
    assert due[1] == np.datetime64(expected.replace(tzinfo=None), "ns")


@pytest.mark.parametrize(
    ("seconds", "message"),
    [
        (np.array([1, -1]), "negative or missing"),
        (np.array([1, "NaT"], dtype="timedelta64[s]"), "negative or missing"),
        (np.array([1.0, np.nan]), "finite numbers or timedelta64, not float64"),
        (np.array(["1", "2"]), "finite numbers or timedelta64, not <U1"),
        (np.array([1, 10**11]), "above 1e\\+10"),
        (np.array([1, 2, 3]), r"seconds has shape \(3,\); starts has \(2,\)"),
    ],
)
def test_deadline_many_rejects_durations(seconds: Any, message: str) -> None:
    starts = np.array(["2025-03-07T15:00", "2025-03-08T12:00"], dtype="datetime64[ns]")
    with pytest.raises(CalendarError, match=message):
        calendar().deadline_many(starts, seconds)


def test_vectorized_rejects_bad_instants() -> None:
    cal = calendar()
    good = np.array(["2025-03-07T15:00"], dtype="datetime64[ns]")
    with pytest.raises(CalendarError, match="starts must be UTC datetime64 values"):
        cal.between_many(np.array([1]), good)
    with pytest.raises(CalendarError, match="ends must be UTC datetime64 values"):
        cal.between_many(good, np.array([datetime(2025, 3, 7, tzinfo=UTC)], dtype=object))
    with pytest.raises(CalendarError, match=r"starts has shape \(1,\) but ends has \(2,\)"):
        cal.between_many(good, np.concatenate([good, good]))
    with pytest.raises(CalendarError, match="missing instants"):
        cal.between_many(np.array(["NaT"], dtype="datetime64[ns]"), good)
    with pytest.raises(CalendarError, match="missing instants"):
        cal.deadline_many(np.array(["NaT"], dtype="datetime64[ns]"), 1)
    with pytest.raises(CalendarError, match="outside the supported range"):
        cal.deadline_many(np.array(["2250-01-01"], dtype="datetime64[ns]"), 1)


def test_vectorized_empty_inputs() -> None:
    cal = calendar()
    empty = np.array([], dtype="datetime64[ns]")
    assert cal.between_many(empty, empty).shape == (0,)
    assert cal.deadline_many(empty, np.array([], dtype=np.int64)).shape == (0,)


def test_dense_hours_need_several_steps_per_bucket() -> None:
    # 32 five-minute ranges every quarter hour: two openings share an index bucket.
    ranges = ",".join(
        f"{h:02d}:{m:02d}-{h:02d}:{m + 5:02d}" for h in range(8, 16) for m in (0, 15, 30, 45)
    )
    cal = calendar(hours={"mon": ranges})
    monday = datetime(2025, 3, 3, tzinfo=CPH)
    offsets = np.arange(0, 24 * 3600, 7 * 60 + 13)
    starts = np.array(monday.astimezone(UTC).replace(tzinfo=None), dtype="datetime64[ns]") + (
        offsets.astype("timedelta64[s]")
    )
    ends = starts + np.timedelta64(3, "h")
    exact = cal.between_many_ns(starts, ends)
    due = cal.deadline_many(starts, 600)
    for start, end, ns, when in zip(starts, ends, exact, due, strict=True):
        a = datetime.fromisoformat(str(start.astype("datetime64[us]"))).replace(tzinfo=UTC)
        b = datetime.fromisoformat(str(end.astype("datetime64[us]"))).replace(tzinfo=UTC)
        assert cal.between(a, b) == timedelta(microseconds=int(ns) // 1000)
        scalar = cal.deadline(a, timedelta(seconds=600))
        assert np.datetime64(scalar.replace(tzinfo=None), "ns") == when
