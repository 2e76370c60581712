"""Typed values from the text of an import file: numbers, true/false, vocabularies, instants.

Conversions work on whole Arrow columns (a file may hold millions of rows): each returns the
typed column and a mask of the values it could not read, never raising for one bad value.
The rules are those of docs/import.md ("Values").
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from leadpact.services.import_columns import normalize

_ZONED = r"\d:\d{2}(:\d{2}(\.\d+)?)?\s*([zZ]|[+-]\d{2}(:?\d{2})?)$"
_DATE_ONLY = r"^\d{4}-\d{2}-\d{2}$"
_NUMBER = r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$"
_THOUSANDS = r"^[+-]?\d{1,3}(,\d{3})+(\.\d+)?$"
_TRUE = ("true", "yes", "y", "1", "t", "x")
_FALSE = ("false", "no", "n", "0", "f")
UTC_US = "timestamp[us, tz=UTC]"


def clean_text(values: pa.Array) -> pa.Array:
    """Trim whitespace; an empty value becomes null."""
    trimmed = pc.utf8_trim_whitespace(values.cast(pa.string()))
    return pc.if_else(pc.equal(trimmed, ""), pa.scalar(None, pa.string()), trimmed)


def parse_numbers(values: pa.Array, *, whole: bool) -> tuple[pa.Array, pa.Array]:
    """Numbers written as 1200, 1,200, 1 200, 1200.0 or 1.2e3; `whole` asks for integers.

    Returns:
        The numbers (float64, or int64 when `whole`) and the mask of values that are not one.
    """
    text = pc.replace_substring_regex(values, "[\\s\u00a0_]", "")
    text = pc.if_else(
        pc.match_substring_regex(text, _THOUSANDS), pc.replace_substring(text, ",", ""), text
    )
    ok = pc.fill_null(pc.match_substring_regex(text, _NUMBER), True)
    numbers = pc.cast(pc.if_else(ok, text, pa.scalar(None, pa.string())), pa.float64())
    if not whole:
        finite = pc.fill_null(pc.is_finite(numbers), True)
        return numbers, pc.or_(pc.invert(ok), pc.invert(finite))
    integral = pc.fill_null(
        pc.and_(pc.equal(pc.floor(numbers), numbers), pc.less(pc.abs(numbers), 2**31)), True
    )
    good = pc.and_(ok, integral)
    return pc.cast(pc.if_else(good, numbers, None), pa.int64()), pc.invert(good)


def parse_bools(values: pa.Array) -> tuple[pa.Array, pa.Array]:
    """true/false, yes/no, y/n, 1/0 (any case); returns the booleans and the unreadable mask."""
    lower = pc.utf8_lower(values)
    true = pc.is_in(lower, pa.array(_TRUE))
    false = pc.is_in(lower, pa.array(_FALSE))
    bad = pc.and_(pc.is_valid(values), pc.invert(pc.or_(true, false)))
    return pc.if_else(pc.or_(true, false), true, pa.scalar(None, pa.bool_())), bad


def map_values(values: pa.Array, table: dict[str, str | None]) -> pa.Array:
    """Translate each value through `table` (keys `normalize`d); a value not in it becomes null."""
    unique = pc.unique(values)
    mapped = pa.array(
        [None if v is None else table.get(normalize(v)) for v in unique.to_pylist()], pa.string()
    )
    return pc.take(mapped, pc.index_in(values, unique))


@dataclass(frozen=True)
class Instants:
    """Timestamps read from text: UTC instants, and which values were unreadable or partial."""

    values: pa.Array
    bad: pa.Array
    date_only: pa.Array
    naive: pa.Array


def parse_instants(values: pa.Array, zone: str | None, formats: Sequence[str]) -> Instants:
    """Read ISO 8601 timestamps (or `formats`); values without an offset are in `zone` (UTC).

    A local time that occurs twice (clocks set back) is its first occurrence; one skipped by
    a forward jump is the moment of the jump (ARCHITECTURE.md, business calendars). A date
    without a time is midnight, and is marked in `date_only`.
    """
    present = pc.is_valid(values)
    zoned = pc.fill_null(pc.match_substring_regex(values, _ZONED), False)
    date_only = pc.fill_null(pc.match_substring_regex(values, _DATE_ONLY), False)
    naive = pc.and_(present, pc.invert(zoned))
    micros = np.zeros(len(values), dtype=np.int64)
    found = np.zeros(len(values), dtype=bool)
    dates = date_only.to_numpy(zero_copy_only=False).copy()
    for mask, local in ((zoned, None), (naive, zone or "UTC")):
        index = np.flatnonzero(mask.to_numpy(zero_copy_only=False))
        if not len(index):
            continue
        parsed, by_date = _parse_part(pc.take(values, pa.array(index)), local, formats)
        ok = parsed.is_valid().to_numpy(zero_copy_only=False)
        micros[index[ok]] = parsed.drop_null().cast(pa.int64()).to_numpy()
        found[index[ok]] = True
        dates[index[by_date]] = True
    instants = pa.array(micros, pa.int64(), mask=~found).cast(pa.timestamp("us", "UTC"))
    bad = pc.and_(present, pa.array(~found))
    return Instants(instants, bad, pa.array(dates), naive)


def _parse_part(
    text: pa.Array, zone: str | None, formats: Sequence[str]
) -> tuple[pa.Array, np.ndarray[Any, np.dtype[np.bool_]]]:
    """Parse values that all have an offset (`zone` None) or none (local to `zone`).

    Returns the instants, and which values a date-only format (no hour) read.
    """
    import pandas as pd

    target = pa.timestamp("us", "UTC")
    by_date = np.zeros(len(text), dtype=bool)
    try:  # the fast path: clean ISO 8601 throughout
        if zone is None:
            return pc.cast(text, target), by_date
        local = pc.cast(text, pa.timestamp("us"))
        instants = pc.assume_timezone(local, zone, ambiguous="earliest", nonexistent="latest")
        return instants, by_date
    except pa.ArrowInvalid:
        pass  # not clean ISO 8601 throughout: parse with the formats below
    series = pd.Series(text.to_numpy(zero_copy_only=False), dtype=object)
    parsed = pd.to_datetime(series, format="ISO8601", errors="coerce", utc=zone is None)
    for fmt in formats:
        missing = parsed.isna()
        if not missing.any():
            break
        again = pd.to_datetime(series[missing], format=fmt, errors="coerce", utc=zone is None)
        if not any(hour in fmt for hour in ("%H", "%I", "%X", "%T", "%c")):
            by_date |= (missing & again.reindex(series.index).notna()).to_numpy()
        parsed = parsed.where(~missing, again)
    if zone is not None:
        if parsed.dt.tz is not None:  # a format with %z inside a naive group
            parsed = parsed.dt.tz_convert("UTC")
        else:
            first = np.ones(len(parsed), dtype=bool)
            parsed = parsed.dt.tz_localize(zone, ambiguous=first, nonexistent="shift_forward")
    return pa.array(parsed.dt.tz_convert("UTC").dt.as_unit("us"), type=target), by_date
