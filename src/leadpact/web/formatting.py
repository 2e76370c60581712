"""How numbers, instants and durations read on the pages (Jinja2 filters).

Instants are shown in UTC with the zone written out; business durations as "1h 05m" (or
"3d 4h" when long); rates as percentages; money with thousands separators. Missing values read
as an en dash. Everything here returns plain text: the templates escape it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

__all__ = ["FILTERS", "duration", "money", "number", "percent", "when"]

_ACRONYMS = {"mql", "mqls", "sql", "sqls", "sal", "roi", "kpi", "p90", "api"}
_DASH = "–"  # noqa: RUF001 - an en dash for missing values


def _num(value: Any) -> float | None:
    """A number from a number or its text (JSON money is text: "600000.00")."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return float(value)


def when(value: datetime | str | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """An instant as "2025-03-07 14:30 UTC"."""
    if value is None or value == "":
        return _DASH
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return f"{value:{fmt}} UTC" if value.tzinfo else f"{value:{fmt}}"


def duration(value: timedelta | float | int | None, *, signed: bool = False) -> str:
    """Seconds (or a timedelta) as "1h 05m", "3d 4h", "45s"; negative values as "-1h 05m"."""
    if value is None:
        return _DASH
    seconds = value.total_seconds() if isinstance(value, timedelta) else float(value)
    sign = "-" if seconds < 0 else ("+" if signed and seconds > 0 else "")
    left = int(abs(seconds))
    days, rest = divmod(left, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        text = f"{days}d {hours}h"
    elif hours:
        text = f"{hours}h {minutes:02d}m"
    elif minutes:
        text = f"{minutes}m {secs:02d}s"
    else:
        text = f"{secs}s"
    return sign + text


def percent(value: float | str | None, digits: int = 0) -> str:
    """A rate in 0..1 as "42 %"."""
    value = _num(value)
    if value is None:
        return _DASH
    return f"{value * 100:.{digits}f} %"


def number(value: float | int | str | None, digits: int = 0) -> str:
    """A count or measure with thousands separators."""
    value = _num(value)
    if value is None:
        return _DASH
    return f"{value:,.{digits}f}"


def money(value: float | int | str | None, currency: str = "") -> str:
    """An amount with thousands separators and the currency code."""
    value = _num(value)
    if value is None:
        return _DASH
    return f"{value:,.0f} {currency}".strip()


def kpi_value(value: float | None, unit: str, currency: str = "") -> str:
    """A KPI's value in its unit (rate, seconds, money, ratio or count)."""
    if value is None:
        return _DASH
    if unit == "rate":
        return percent(value, 1)
    if unit == "seconds":
        return duration(value)
    if unit == "money":
        return money(value, currency)
    if unit == "ratio":
        return f"{value:.2f}×"  # noqa: RUF001 - the multiplication sign
    return number(value, 1 if value % 1 else 0)


def label(value: str | None) -> str:
    """An identifier as words: "first_response_time" → "First response time"."""
    if not value:
        return _DASH
    words = value.replace("_", " ").replace("-", " ").split(" ")
    words = [w.upper() if w.lower() in _ACRONYMS else w for w in words]
    text = " ".join(words)
    return text[:1].upper() + text[1:]


FILTERS: dict[str, Callable[..., Any]] = {
    "when": when,
    "duration": duration,
    "percent": percent,
    "number": number,
    "money": money,
    "kpi_value": kpi_value,
    "label": label,
}
