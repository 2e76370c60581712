"""Duration strings of the pact."""

from __future__ import annotations

from datetime import timedelta

import pytest

from leadpact.core.durations import format_duration, parse_duration


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2h", timedelta(hours=2)),
        ("1h30m", timedelta(minutes=90)),
        ("30m", timedelta(minutes=30)),
        ("3d", timedelta(days=3)),
        ("1w", timedelta(weeks=1)),
        ("45s", timedelta(seconds=45)),
        ("1.5h", timedelta(minutes=90)),
        (" 2H ", timedelta(hours=2)),
        ("0s", timedelta(0)),
    ],
)
def test_parse(text, expected):
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["2 hours", "2", "h", "", "2x", "-2h", "2h 30m"])
def test_parse_rejects_with_hint(text):
    with pytest.raises(ValueError, match=r'such as "30m", "2h"'):
        parse_duration(text)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (timedelta(minutes=90), "1h30m"),
        (timedelta(days=2, seconds=5), "2d5s"),
        (timedelta(0), "0s"),
        (timedelta(seconds=1.5), "1.5s"),
        (-timedelta(hours=2), "-2h"),
    ],
)
def test_format(value, expected):
    assert format_duration(value) == expected


@pytest.mark.parametrize("text", ["1h30m", "2d", "45s", "3d4h5m6s"])
def test_format_parse_round_trip(text):
    assert format_duration(parse_duration(text)) == text
