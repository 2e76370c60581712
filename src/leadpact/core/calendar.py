"""Business calendars: measure business time by compiling opening hours into UTC open intervals.

A `CalendarSpec` (weekday hours, an IANA time zone, country holidays, company closures, extra
open days, special dates) is compiled, lazily and per year, into a sorted table of open
intervals in UTC with the cumulative business time before each one. Time zones, DST and
holidays are resolved once, in the compiler; `between` and `deadline` are then lookups
(`bisect` for one value, an O(1) bucket index plus numpy gathers for arrays).

Conventions (ARCHITECTURE.md, "Business calendars"; docs/calendars.md states them for users):
open intervals are half-open; a clock starting in closed time starts at the next opening; a
deadline landing on a closing time stays there; negative spans are negative; business time
is real elapsed time (a 24-hour day on a DST change is 23 h or 25 h); an overnight shift
belongs to the date it starts on; `open` dates beat holidays and closures, `special` beats
everything; a local time that occurs twice means its first occurrence, one skipped by a
forward jump means the moment of the jump; "24:00" is the next midnight.

Pure: stdlib, numpy, pydantic, holidays and `leadpact.errors` only. pandas and pyarrow inputs
are accepted by duck typing, never imported.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

import holidays as pyholidays
import numpy as np
import numpy.typing as npt
from pydantic import (
    ValidationError,
)

from leadpact.core.calendar_spec import (
    DAYS,
    CalendarSpec,
    HolidaySpec,
    Range,
    WeeklyHours,
    parse_hours,
    spec_problems,
)
from leadpact.errors import CalendarError

__all__ = [
    "DAYS",
    "BusinessCalendar",
    "CalendarSpec",
    "HolidaySpec",
    "OpenIntervals",
    "WeeklyHours",
    "parse_hours",
]


NS = 1_000_000_000
_US = timedelta(microseconds=1)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_NAT = int(np.iinfo(np.int64).min)
_FIRST_YEAR, _LAST_YEAR = 1900, 2200  # compiled years; queries must fall in 1901..2199 (UTC)
_MIN_NS = (datetime(_FIRST_YEAR + 1, 1, 1, tzinfo=UTC) - _EPOCH) // _US * 1000
_MAX_NS = (datetime(_LAST_YEAR, 1, 1, tzinfo=UTC) - _EPOCH) // _US * 1000
_MAX_SECONDS = 10**10  # beyond the calendars' range, and int64 nanoseconds overflow soon after
_MIN_SHIFT = 40  # bucket width 2**40 ns (about 18 min): about one opening per bucket
_MAX_BUCKETS_LOG2 = 18  # at most ~262,000 buckets (2 MB) per axis, so the index stays cached

Int64Array = npt.NDArray[np.int64]


# --------------------------------------------------------------------------- the compiled table


class OpenIntervals(NamedTuple):
    """Open intervals in UTC (`datetime64[ns]`), with business nanoseconds before each one."""

    open_at: npt.NDArray[np.datetime64]
    close_at: npt.NDArray[np.datetime64]
    business_before_ns: Int64Array


def _ns(at: datetime) -> int:
    return (at - _EPOCH) // _US * 1000


def _utc(ns: int) -> datetime:
    return _EPOCH + timedelta(microseconds=ns // 1000)


def _midnight(day: date) -> datetime:
    """The local wall-clock start of `day`: naive on purpose, read in the calendar's zone."""
    return datetime.combine(day, time())


def wall_ns(wall: datetime, zone: ZoneInfo) -> int:
    """The first instant at which the local clock shows `wall` or later (ARCHITECTURE.md)."""
    later = wall.replace(tzinfo=zone)  # fold=0: the first of two occurrences
    if later.astimezone(UTC).astimezone(zone).replace(tzinfo=None) == wall:
        return _ns(later)
    # Skipped by a forward jump: the answer is the jump, between the two possible readings.
    low = _ns(wall.replace(tzinfo=zone, fold=1)) // NS  # local clock still before `wall`
    high = _ns(later) // NS  # local clock already past `wall`
    while high - low > 1:
        middle = (low + high) // 2
        if datetime.fromtimestamp(middle, zone).replace(tzinfo=None) >= wall:
            high = middle
        else:
            low = middle
    return high * NS


def _merge(raw: list[tuple[int, int]]) -> list[list[int]]:
    merged: list[list[int]] = []
    for start, end in sorted(raw):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return merged


def _bucket_index(
    bounds: Int64Array, low: int, high: int, side: Any
) -> tuple[int, Int64Array, int]:
    """Index `bounds` by buckets of 2**shift over [low, high]; steps = most bounds in a bucket."""
    shift = max(_MIN_SHIFT, ((high - low) >> _MAX_BUCKETS_LOG2).bit_length())
    starts = low + (np.arange(((high - low) >> shift) + 2, dtype=np.int64) << shift)
    found = np.searchsorted(bounds, starts, side=side)
    index = np.minimum(found - (side == "right"), len(bounds) - 1).astype(np.int64)
    return shift, index[:-1], int(np.diff(found).max())


@dataclass(frozen=True)
class _Table:
    """Open intervals of local years first..last; exact for instants in [lo_ns, hi_ns]."""

    first_year: int
    last_year: int
    lo_ns: int
    hi_ns: int
    opens: Int64Array  # row 0 is an empty sentinel in the far past
    closes: Int64Array
    off: Int64Array  # opens - business before: B(t) = t - off inside an interval
    cum_end: Int64Array  # business time at each closing
    after: Int64Array  # the next row's opening
    opens_list: list[int]
    off_list: list[int]
    cum_end_list: list[int]
    b_hi: int
    t_shift: int
    t_index: Int64Array
    t_steps: int
    c_shift: int
    c_index: Int64Array
    c_steps: int

    @classmethod
    def build(cls, first: int, last: int, merged: list[list[int]], lo: int, hi: int) -> _Table:
        rows = np.array([[-(2**62), -(2**62)], *merged], dtype=np.int64)
        opens, closes = rows[:, 0].copy(), rows[:, 1].copy()
        cum_end = np.cumsum(closes - opens)
        off = opens - cum_end + (closes - opens)
        after = np.append(opens[1:], np.int64(2**62))
        index = int(np.searchsorted(opens, hi, side="right")) - 1
        b_hi = min(hi - int(off[index]), int(cum_end[index]))
        t_shift, t_index, t_steps = _bucket_index(opens, lo, hi, "right")
        c_shift, c_index, c_steps = _bucket_index(cum_end, 0, b_hi, "left")
        return cls(
            first_year=first,
            last_year=last,
            lo_ns=lo,
            hi_ns=hi,
            opens=opens,
            closes=closes,
            off=off,
            cum_end=cum_end,
            after=after,
            opens_list=opens.tolist(),
            off_list=off.tolist(),
            cum_end_list=cum_end.tolist(),
            b_hi=b_hi,
            t_shift=t_shift,
            t_index=t_index,
            t_steps=t_steps,
            c_shift=c_shift,
            c_index=c_index,
            c_steps=c_steps,
        )

    def business_at(self, at: int) -> int:
        """B(t): business ns from the table's origin to `at`."""
        row = bisect_right(self.opens_list, at) - 1
        return min(at - self.off_list[row], self.cum_end_list[row])

    def instant_at(self, target: int, probe: int) -> int:
        """The instant where B reaches `target`, found by the first closing with B >= `probe`."""
        return target + self.off_list[bisect_left(self.cum_end_list, probe)]

    def business_many(self, at: Int64Array) -> Int64Array:
        """B(t) for an array: bucket lookup, then a step per extra opening in the bucket."""
        row = self.t_index[(at - self.lo_ns) >> self.t_shift]
        for _ in range(self.t_steps):
            row += at >= self.after[row]
        out: Int64Array = at - self.off[row]
        np.minimum(out, self.cum_end[row], out=out)
        return out

    def instant_many(self, target: Int64Array, probe: Int64Array) -> Int64Array:
        """`instant_at` for arrays."""
        row = self.c_index[probe >> self.c_shift]
        for _ in range(self.c_steps):
            row += self.cum_end[row] < probe
        out: Int64Array = target + self.off[row]
        return out


# --------------------------------------------------------------------------- inputs


def _instant_ns(value: datetime, name: str) -> int:
    if value.utcoffset() is None:
        text = value.isoformat()
        raise CalendarError(
            f"{name} {text} is a naive datetime; give a time zone, e.g. {text}+01:00"
        )
    return _ns(value)


def _numpy(values: object) -> npt.NDArray[Any]:
    """numpy view of numpy, pandas or pyarrow values, duck-typed (core imports neither)."""
    if isinstance(values, np.ndarray):
        return values
    if type(values).__module__.partition(".")[0] == "pyarrow":
        return np.asarray(values.to_numpy(zero_copy_only=False))  # type: ignore[attr-defined]
    if getattr(getattr(values, "dtype", None), "tz", None) is not None:
        # tz-aware pandas: to_numpy with a naive dtype converts to UTC.
        return np.asarray(values.to_numpy(dtype="datetime64[ns]"))  # type: ignore[attr-defined]
    return np.asarray(values)


def _instants_ns(values: object, name: str) -> Int64Array:
    array = _numpy(values)
    if array.dtype.kind != "M":
        raise CalendarError(
            f"{name} must be UTC datetime64 values (numpy, pandas or pyarrow), not {array.dtype}"
        )
    return array.astype("datetime64[ns]").view(np.int64)


def _durations_ns(values: object, shape: tuple[int, ...]) -> Int64Array:
    array = _numpy(values)
    if array.dtype.kind == "m":
        out = array.astype("timedelta64[ns]").view(np.int64)
    elif array.dtype.kind in "iu" or (array.dtype.kind == "f" and np.isfinite(array).all()):
        if array.size and np.abs(array).max() > _MAX_SECONDS:
            raise CalendarError(f"seconds has values above {_MAX_SECONDS:.0e} (about 300 years)")
        exact = array.dtype.kind != "f"
        out = array.astype(np.int64) * NS if exact else np.rint(array * NS).astype(np.int64)
    else:
        raise CalendarError(f"seconds must be finite numbers or timedelta64, not {array.dtype}")
    if (out < 0).any():
        raise CalendarError("seconds has negative or missing values; give zero or more")
    try:
        return np.broadcast_to(out, shape)
    except ValueError:
        raise CalendarError(f"seconds has shape {out.shape}; starts has {shape}") from None


# --------------------------------------------------------------------------- the calendar


class BusinessCalendar:
    """Business time under one `CalendarSpec`: between two instants, and deadlines.

    Example:
        >>> cal = BusinessCalendar.from_dict(
        ...     {"timezone": "Europe/Copenhagen", "hours": {"mon": "09:00-17:00"}}
        ... )
        >>> cal.between(datetime(2025, 3, 3, 8, tzinfo=UTC), datetime(2025, 3, 3, 9, tzinfo=UTC))
        datetime.timedelta(seconds=3600)

    The method examples use `sales_dk` of docs/calendars.md (Mon-Thu 09:00-17:00, Fri
    09:00-16:00, Europe/Copenhagen, DK holidays).
    """

    def __init__(self, spec: CalendarSpec) -> None:
        self.spec = spec
        self.timezone = ZoneInfo(spec.timezone)
        self._week = spec.hours.ranges()
        self._special = {day: parse_hours(text) for day, text in spec.special.items()}
        self._closed = frozenset(spec.holidays.closed)
        self._open = frozenset(spec.holidays.open)
        self._years: dict[int, list[tuple[int, int]]] = {}
        self._table: _Table | None = None

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> BusinessCalendar:
        """Validate a calendar entry of the pact file and build its calendar.

        Raises:
            CalendarError: the entry is invalid; the message lists every problem.

        Example:
            >>> BusinessCalendar.from_dict({"timezone": "UTC", "hours": {"mon": "9-17"}})
            Traceback (most recent call last):
            leadpact.errors.CalendarError: invalid calendar: hours.mon: "9-17" is not opening ...
        """
        try:
            spec = CalendarSpec.model_validate(data)
        except ValidationError as err:
            raise CalendarError("invalid calendar: " + "; ".join(spec_problems(err))) from None
        return cls(spec)

    # ------------------------------------------------------------------ scalar API

    def between(self, start: datetime, end: datetime) -> timedelta:
        """Business time from `start` to `end` (negative when `end` is earlier).

        Args:
            start: a tz-aware instant.
            end: a tz-aware instant.

        Returns:
            The open time in [start, end), exact to the microsecond.

        Raises:
            CalendarError: a naive datetime, or an instant outside 1901..2199.

        Example:
            >>> friday_1600 = datetime(2025, 3, 7, 16, tzinfo=ZoneInfo("Europe/Copenhagen"))
            >>> sales_dk.between(friday_1600, friday_1600 + timedelta(days=3))  # Mon 16:00
            datetime.timedelta(seconds=25200)
        """
        begin, finish = _instant_ns(start, "start"), _instant_ns(end, "end")
        table = self._covering(min(begin, finish), max(begin, finish))
        return timedelta(
            microseconds=(table.business_at(finish) - table.business_at(begin)) // 1000
        )

    def deadline(self, start: datetime, within: timedelta) -> datetime:
        """The instant at which `within` business time has passed since `start`, in UTC.

        From closed time the clock starts at the next opening; zero `within` gives that
        opening (or `start` itself when open); a deadline on a closing time stays there.

        Raises:
            CalendarError: a naive `start`, a negative `within`, or no such instant by 2200.

        Example:
            >>> friday_1600 = datetime(2025, 3, 7, 16, tzinfo=ZoneInfo("Europe/Copenhagen"))
            >>> sales_dk.deadline(friday_1600, timedelta(hours=2))  # Mon 11:00 local
            datetime.datetime(2025, 3, 10, 10, 0, tzinfo=datetime.timezone.utc)
        """
        begin = _instant_ns(start, "start")
        if within < timedelta(0):
            raise CalendarError(f"within is negative (-{-within}); give zero or more business time")
        seconds = within // _US * 1000
        table = self._covering(begin, begin)
        while True:
            target = table.business_at(begin) + seconds
            probe = target + (seconds == 0)  # zero: the first opening strictly after B
            if probe <= table.b_hi:
                return _utc(table.instant_at(target, probe))
            table = self._extended(table, probe)

    def is_open(self, at: datetime) -> bool:
        """Whether `at` lies in an open interval ([opening, closing)).

        Example:
            >>> sales_dk.is_open(datetime(2025, 3, 7, 15, 59, tzinfo=ZoneInfo("Europe/Copenhagen")))
            True
        """
        moment = _instant_ns(at, "at")
        table = self._covering(moment, moment)
        row = bisect_right(table.opens_list, moment) - 1
        return moment < int(table.closes[row])

    def next_open(self, at: datetime) -> datetime:
        """`at` itself (in UTC) when open, else the next opening: where a clock would start.

        Example:
            >>> sales_dk.next_open(datetime(2025, 3, 8, 12, tzinfo=UTC))  # Saturday
            datetime.datetime(2025, 3, 10, 8, 0, tzinfo=datetime.timezone.utc)
        """
        return self.deadline(at, timedelta(0))

    def intervals(self, start: datetime, end: datetime) -> OpenIntervals:
        """The open intervals that overlap [start, end), for joins in SQL engines.

        `business_before_ns` is relative to an origin of this call; only differences matter.

        Example:
            >>> week = sales_dk.intervals(monday, monday + timedelta(days=7))
            >>> week.open_at[0], week.close_at[0]
        """
        begin, finish = _instant_ns(start, "start"), _instant_ns(end, "end")
        table = self._covering(begin, max(begin, finish))
        rows = slice(
            int(np.searchsorted(table.closes, begin, side="right")),
            int(np.searchsorted(table.opens, finish, side="left")),
        )
        return OpenIntervals(
            table.opens[rows].view("datetime64[ns]"),
            table.closes[rows].view("datetime64[ns]"),
            (table.cum_end - (table.closes - table.opens))[rows],
        )

    # ------------------------------------------------------------------ vectorized API

    def between_many_ns(self, starts: object, ends: object) -> Int64Array:
        """`between` for arrays, in exact nanoseconds (int64).

        Args:
            starts: UTC instants: numpy datetime64 (naive = UTC), a pandas Series or index
                (tz-aware or naive UTC), a pyarrow timestamp array or chunked array.
            ends: the same kind and shape.

        Example:
            >>> sales_dk.between_many_ns(np.array(["2025-03-07T15:00"], "datetime64[ns]"),
            ...                          np.array(["2025-03-10T09:00"], "datetime64[ns]"))
            array([3600000000000])
        """
        begin, finish = _instants_ns(starts, "starts"), _instants_ns(ends, "ends")
        if begin.shape != finish.shape:
            raise CalendarError(f"starts has shape {begin.shape} but ends has {finish.shape}")
        if begin.size == 0:
            return np.zeros(begin.shape, dtype=np.int64)
        low = min(int(begin.min()), int(finish.min()))
        table = self._covering(low, max(int(begin.max()), int(finish.max())))
        out = table.business_many(finish)
        out -= table.business_many(begin)
        return out

    def between_many(self, starts: object, ends: object) -> Int64Array:
        """`between` for arrays, in whole seconds (int64), truncated toward zero.

        Truncation keeps `between_many(a, b) == -between_many(b, a)`; use `between_many_ns`
        for the exact value.

        Example:
            >>> sales_dk.between_many(starts, ends)  # e.g. array([3600, -1, 0])
        """
        exact = self.between_many_ns(starts, ends)
        whole: Int64Array = np.abs(exact) // NS
        np.negative(whole, out=whole, where=exact < 0)
        return whole

    def deadline_many(self, starts: object, seconds: object) -> npt.NDArray[np.datetime64]:
        """`deadline` for arrays: UTC `datetime64[ns]`.

        Args:
            starts: UTC instants, as for `between_many_ns`.
            seconds: business seconds per start (integers exact; floats rounded to the
                nanosecond), or timedelta64; a scalar applies to every start.

        Raises:
            CalendarError: negative or missing durations, missing starts (NaT), bad shapes.

        Example:
            >>> sales_dk.deadline_many(np.array(["2025-03-07T14:00"], "datetime64[ns]"), 7200)
            array(['2025-03-10T09:00:00.000000000'], dtype='datetime64[ns]')
        """
        begin = _instants_ns(starts, "starts")
        within = _durations_ns(seconds, begin.shape)
        if begin.size == 0:
            return np.empty(begin.shape, dtype="datetime64[ns]")
        table = self._covering(int(begin.min()), int(begin.max()))
        while True:
            target = table.business_many(begin)
            target += within
            probe = target + (within == 0)
            highest = int(probe.max())
            if highest <= table.b_hi:
                return table.instant_many(target, probe).view("datetime64[ns]")
            table = self._extended(table, highest)

    # ------------------------------------------------------------------ compiling

    def _covering(self, low: int, high: int) -> _Table:
        """A table exact for every instant in [low, high], compiling more years if needed."""
        table = self._table
        if table is not None and table.lo_ns <= low and high <= table.hi_ns:
            return table
        if low == _NAT:
            raise CalendarError("missing instants (NaT); drop or fill them first")
        if low < _MIN_NS or high >= _MAX_NS:
            outside = _utc(low if low < _MIN_NS else high).isoformat()
            raise CalendarError(
                f"{outside} is outside the supported range of business calendars "
                "(1901-01-01 to 2199-12-31 UTC)"
            )
        first, last = _utc(low).year - 1, _utc(high).year + 1
        if table is not None:
            first, last = min(first, table.first_year), max(last, table.last_year)
        return self._compile(first, last)

    def _extended(self, table: _Table, probe: int) -> _Table:
        """A table whose business time reaches `probe`, compiling later years."""
        if table.last_year >= _LAST_YEAR:
            raise CalendarError(f"no deadline before the end of {_LAST_YEAR}; check the calendar")
        per_year = max(1, table.b_hi // (table.last_year - table.first_year + 1))
        years = (probe - table.b_hi) // per_year + 1
        return self._compile(table.first_year, min(_LAST_YEAR, table.last_year + years))

    def _compile(self, first: int, last: int) -> _Table:
        raw: list[tuple[int, int]] = []
        for year in range(first, last + 1):
            if year not in self._years:
                self._years[year] = self._year_intervals(year)
            raw.extend(self._years[year])
        lo = wall_ns(_midnight(date(first, 1, 2)), self.timezone)
        hi = wall_ns(_midnight(date(last, 12, 31)), self.timezone)
        self._table = _Table.build(first, last, _merge(raw), lo, hi)
        return self._table

    def _year_intervals(self, year: int) -> list[tuple[int, int]]:
        """UTC intervals of the shifts that start on a local date of `year`."""
        country = self.spec.holidays.country
        public: Mapping[date, str] = (
            {}
            if country is None
            else pyholidays.country_holidays(
                country, subdiv=self.spec.holidays.subdivision, years=year
            )
        )
        out = []
        day = date(year, 1, 1)
        while day.year == year:
            midnight = _midnight(day)
            for start, end in self._ranges_on(day, public):
                opens = wall_ns(midnight + timedelta(minutes=start), self.timezone)
                closes = wall_ns(midnight + timedelta(minutes=end), self.timezone)
                if closes > opens:  # a shift inside a DST gap is empty
                    out.append((opens, closes))
            day += timedelta(days=1)
        return out

    def _ranges_on(self, day: date, public: Mapping[date, str]) -> tuple[Range, ...]:
        # Precedence: special date > `open` > closures and public holidays > weekday hours.
        if day in self._special:
            return self._special[day]
        if day not in self._open and (day in self._closed or day in public):
            return ()
        return self._week[day.weekday()]
