"""A business calendar as written in the pact: time zone, weekday hours, holidays, special dates.

Validation errors are `ValueError`s raised inside field validators so the pact loader can point
at the exact line (`calendars.sales-dk.hours.fri`). `core.calendar` compiles these specs.
"""

from __future__ import annotations

import functools
import re
from datetime import date
from itertools import pairwise
from typing import Annotated, Self
from zoneinfo import ZoneInfo

import holidays as pyholidays
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

__all__ = [
    "DAYS",
    "HOURS_HINT",
    "CalendarSpec",
    "HolidaySpec",
    "Range",
    "WeeklyHours",
    "parse_hours",
    "spec_problems",
]

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
HOURS_HINT = 'expected "HH:MM-HH:MM", several separated by commas'
_RANGE = re.compile(r"^(\d{2}):(\d{2})-(\d{2}):(\d{2})$")
Range = tuple[int, int]  # minutes after the local midnight of the shift's date; end may pass 1440


def _clock(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _show(span: Range) -> str:
    start, end = span
    return f"{_clock(start)}-{_clock(end if end <= 1440 else end - 1440)}"


def parse_hours(text: str) -> tuple[Range, ...]:
    """Parse one day's opening hours into sorted (start, end) minutes after local midnight.

    Args:
        text: "09:00-17:00", split "08:00-12:00,13:00-17:00", overnight "22:00-06:00" (ends
            the next day), "00:00-24:00"; "" or "closed" for a closed day.

    Returns:
        The ranges, sorted; an overnight range ends past 1440.

    Raises:
        ValueError: the text is not opening hours, or two ranges overlap.

    Example:
        >>> parse_hours("08:00-12:00,22:00-06:00")
        ((480, 720), (1320, 1800))
    """
    if text.strip().lower() in ("", "closed"):
        return ()
    ranges: list[Range] = []
    for part in text.split(","):
        piece = part.strip()
        match = _RANGE.match(piece)
        if match is None:
            raise ValueError(f'"{piece}" is not opening hours; {HOURS_HINT}')
        h1, m1, h2, m2 = (int(group) for group in match.groups())
        if h1 > 23 or m1 > 59 or h2 > 24 or m2 > 59 or (h2 == 24 and m2 > 0):
            raise ValueError(
                f'"{piece}" has a time that does not exist; expected 00:00 to 23:59 '
                '("24:00" only as a closing time)'
            )
        start, end = h1 * 60 + m1, h2 * 60 + m2
        if end == start:
            raise ValueError(f'"{piece}" is empty; use "00:00-24:00" for a whole day')
        ranges.append((start, end if end > start else end + 1440))
    ranges.sort()
    for first, second in pairwise(ranges):
        if second[0] < first[1]:
            raise ValueError(f"{_show(first)},{_show(second)} overlap; give each hour once")
    return tuple(ranges)


def _check_hours(value: str) -> str:
    parse_hours(value)
    return value


def _day_help(day: str) -> str:
    return (
        f'{day} hours, local time: "09:00-17:00", split "08:00-12:00,13:00-17:00", '
        'overnight "22:00-06:00", "00:00-24:00"; missing or "closed" = closed'
    )


class WeeklyHours(BaseModel):
    """Opening hours per weekday, local time; a missing day is closed."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    mon: str | None = Field(None, description=_day_help("Monday"))
    tue: str | None = Field(None, description=_day_help("Tuesday"))
    wed: str | None = Field(None, description=_day_help("Wednesday"))
    thu: str | None = Field(None, description=_day_help("Thursday"))
    fri: str | None = Field(None, description=_day_help("Friday"))
    sat: str | None = Field(None, description=_day_help("Saturday"))
    sun: str | None = Field(None, description=_day_help("Sunday"))

    @field_validator(*DAYS)
    @classmethod
    def _check_day(cls, value: str | None) -> str | None:
        return None if value is None else _check_hours(value)

    @model_validator(mode="after")
    def _check_week(self) -> Self:
        week = self.ranges()
        if not any(week):
            raise ValueError('has no opening hours; give at least one day, e.g. mon: "09:00-17:00"')
        for number, day in enumerate(week):
            after = week[(number + 1) % 7]
            if day and after and day[-1][1] - 1440 > after[0][0]:
                later = DAYS[(number + 1) % 7]
                raise ValueError(
                    f"{DAYS[number]} {_show(day[-1])} runs into {later} {_show(after[0])}; "
                    f"an overnight shift must end by {later}'s first opening"
                )
        return self

    def ranges(self) -> tuple[tuple[Range, ...], ...]:
        """The parsed ranges per weekday, Monday first (index = `date.weekday()`)."""
        return tuple(parse_hours(getattr(self, day) or "") for day in DAYS)


@functools.cache
def _supported_countries() -> dict[str, list[str]]:
    return dict(pyholidays.list_supported_countries())


class HolidaySpec(BaseModel):
    """Public holidays of a country (the `holidays` package), closures and extra open days."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    country: str | None = Field(
        None,
        description="ISO 3166-1 alpha-2 code whose public holidays close the calendar, e.g. DK",
    )
    subdivision: str | None = Field(
        None, description="state or region for regional holidays, e.g. CA (needs country)"
    )
    closed: list[date] = Field(
        default_factory=list, description="extra closed dates, e.g. company closures"
    )
    open: list[date] = Field(
        default_factory=list,
        description="dates open with their weekday's hours, even when a holiday or closed",
    )

    @field_validator("country")
    @classmethod
    def _check_country(cls, value: str | None) -> str | None:
        if value is None:
            return None
        code = value.strip().upper()
        if code not in _supported_countries():
            raise ValueError(
                f"unknown country {value!r}; expected an ISO 3166-1 alpha-2 code "
                "such as DK, NL, IT, US"
            )
        return code

    @field_validator("subdivision")
    @classmethod
    def _check_subdivision(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None or "country" not in info.data:
            return value  # nothing to check, or the country itself was invalid (reported)
        country = info.data["country"]
        if country is None:
            raise ValueError(f"subdivision {value!r} needs a country; add holidays.country")
        known = {code.upper(): code for code in _supported_countries()[country]}
        found = known.get(value.strip().upper())
        if found is None:
            expected = f"one of {', '.join(known.values())}" if known else "none: leave it out"
            raise ValueError(f"unknown subdivision {value!r} of {country}; expected {expected}")
        return found


class CalendarSpec(BaseModel):
    """One calendar of the pact file: time zone, weekly hours, holidays, special dates."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    timezone: str = Field(description="IANA time zone of the hours, e.g. Europe/Copenhagen")
    hours: WeeklyHours = Field(description="opening hours per weekday; a missing day is closed")
    holidays: HolidaySpec = Field(
        default_factory=HolidaySpec,
        description="public holidays of a country, company closures and extra open days",
    )
    special: dict[date, Annotated[str, AfterValidator(_check_hours)]] = Field(
        default_factory=dict,
        description='dates with their own hours, or "closed"; beats holidays, closed and open',
    )

    @field_validator("timezone")
    @classmethod
    def _check_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ValueError, KeyError):  # ZoneInfoNotFoundError is a KeyError
            raise ValueError(
                f"unknown time zone {value!r}; expected an IANA name such as Europe/Copenhagen"
            ) from None
        return value


def spec_problems(err: ValidationError) -> list[str]:
    out = []
    for item in err.errors():
        where = ".".join(str(part) for part in item["loc"]) or "calendar"
        cause = item.get("ctx", {}).get("error")
        out.append(f"{where}: {cause if isinstance(cause, ValueError) else item['msg']}")
    return out
