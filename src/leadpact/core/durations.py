"""Parse and format the pact's duration strings ("2h", "1h30m", "3d", "1w", "45m", "30s").

A day here is 24 hours of elapsed time; *business* time is always measured by a
`BusinessCalendar`, never by this module.
"""

from __future__ import annotations

import re
from datetime import timedelta

_PART = re.compile(r"(\d+(?:\.\d+)?)(w|d|h|m|s)")
_WHOLE = re.compile(r"^(?:\d+(?:\.\d+)?(?:w|d|h|m|s))+$")
_UNIT_SECONDS = {"w": 604800, "d": 86400, "h": 3600, "m": 60, "s": 1}

DURATION_HINT = 'a duration such as "30m", "2h", "1h30m", "3d" or "1w" (units w, d, h, m, s)'


def parse_duration(text: str) -> timedelta:
    """Parse a duration string.

    Args:
        text: units w, d, h, m, s, largest first or in any order, without spaces: "1h30m".

    Returns:
        The duration as a `timedelta`.

    Raises:
        ValueError: the text is not a duration; the message says what is expected.

    Example:
        >>> parse_duration("1h30m")
        datetime.timedelta(seconds=5400)
    """
    compact = text.strip().lower()
    if not _WHOLE.match(compact):
        raise ValueError(f"{text!r} is not {DURATION_HINT}")
    seconds = sum(float(n) * _UNIT_SECONDS[u] for n, u in _PART.findall(compact))
    return timedelta(seconds=seconds)


def format_duration(value: timedelta) -> str:
    """Format a duration in the pact's notation, largest unit first: 5400 s → "1h30m".

    Negative durations get a leading "-"; zero is "0s". Weeks are not used (days instead),
    so the text reads naturally in reports.
    """
    total = value.total_seconds()
    sign = "-" if total < 0 else ""
    remaining = abs(total)
    parts: list[str] = []
    for unit in ("d", "h", "m"):
        size = _UNIT_SECONDS[unit]
        count, remaining = divmod(remaining, size)
        if count:
            parts.append(f"{int(count)}{unit}")
    if remaining or not parts:
        seconds = f"{remaining:.3f}".rstrip("0").rstrip(".")
        parts.append(f"{seconds}s")
    return sign + "".join(parts)
