"""How a report's values are written in charts and pages: numbers, money, rates, durations,
periods and stage names, in the report's language (`Labels`).

Values are formatted here, not by Vega, so the charts read the same in the browser, in PNG and
in PDF; the report page and the weekly report write their figures with the same labels.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from leadpact.core.pact import KpiName
from leadpact.reports.i18n import Lang, get_lang
from leadpact.reports.phrases import kpi_label, metric_label

__all__ = ["Labels", "Report"]

#: A report: the JSON contract of `services.reporting.build_report` (docs/report.md).
Report = Mapping[str, Any]
_ACRONYMS = {"mql", "sal", "sql", "sqo", "pql"}


@dataclass(frozen=True)
class Labels:
    """How the report's values are written: numbers, money, rates, durations, periods."""

    lang: Lang
    currency: str
    period: str

    @classmethod
    def of(cls, report: Report, lang: str = "en") -> Labels:
        """The labels of a report (its currency and period length)."""
        meta = report.get("meta", {})
        return cls(get_lang(lang), meta.get("currency", "EUR"), meta.get("period", "month"))

    def count(self, value: float | None) -> str:
        """A count or other plain figure (1,234; 12.5)."""
        return "–" if value is None else self.lang.number(value, 1 if abs(value) < 100 else 0)

    def money(self, value: float | None) -> str:
        """An amount in the report's currency, whole units."""
        return "–" if value is None else self.lang.money(round(value), self.currency)

    def money_short(self, value: float | None) -> str:
        """An amount, compact (DKK 684.7K), for chart subtitles."""
        from babel.numbers import format_compact_currency

        if value is None:
            return "–"
        text = format_compact_currency(
            value, self.currency, locale=self.lang.locale, fraction_digits=1
        )
        return str(text).replace(self.currency, self.currency + "\u00a0", 1)

    def rate(self, value: float | None) -> str:
        """A 0..1 rate as a percentage (35.2%)."""
        return "–" if value is None else self.lang.percent(value)

    def rate_short(self, value: float | None) -> str:
        """A 0..1 rate as a whole percentage (35%), for labels on bars."""
        from babel.numbers import parse_pattern

        if value is None:
            return "–"
        pattern = parse_pattern(self.lang.locale.percent_formats[None].pattern)
        pattern.frac_prec = (0, 0)
        return str(pattern.apply(value, self.lang.locale))

    def hours(self, seconds: float | None) -> str:
        """Business time: minutes under an hour, else hours with one decimal."""
        if seconds is None:
            return "–"
        if seconds < 3600:
            return f"{self.lang.number(seconds / 60, 0)} min"
        return f"{self.lang.number(seconds / 3600, 1)} h"

    def days(self, value: float | None) -> str:
        """A number of days, one decimal under ten."""
        if value is None:
            return "–"
        return f"{self.lang.number(value, 1 if value < 10 else 0)} days"

    def value(self, value: float | None, unit: str | None) -> str:
        """A value in its report unit (rate, seconds, money, ratio, count)."""
        if unit == "rate":
            return self.rate(value)
        if unit == "seconds":
            return self.hours(value)
        if unit == "money":
            return self.money(value)
        if unit == "ratio":
            return "–" if value is None else f"{self.lang.number(value, 2)}×"
        return self.count(value)

    def metric(self, metric: str) -> str:
        """A goal metric's name (MQLs, Revenue)."""
        return metric_label(self.lang, metric)

    def kpi(self, kpi: str) -> str:
        """A KPI's name."""
        try:
            return kpi_label(self.lang, KpiName(kpi))
        except ValueError:
            return kpi.replace("_", " ").capitalize()

    def day(self, on: str | date) -> str:
        """A day, short (17 Dec 2025)."""
        from babel.dates import format_date

        day = date.fromisoformat(on) if isinstance(on, str) else on
        return str(format_date(day, "d MMM y", locale=self.lang.locale))

    def instant(self, at: str) -> str:
        """An ISO instant as day and UTC time (17 Dec 2025 12:00 UTC)."""
        moment = datetime.fromisoformat(at)
        return f"{self.day(moment.date())} {moment:%H:%M} UTC"

    def bucket(self, start: str, period: str | None = None) -> str:
        """A trend bucket by its first day: Dec 2025, Q4 2025, 1 Dec (weeks and days)."""
        from babel.dates import format_date

        kind = period or self.period
        day = date.fromisoformat(start)
        locale = self.lang.locale
        if kind == "month" and day.day == 1:
            return str(format_date(day, "MMM y", locale=locale))
        if kind == "quarter" and day.day == 1 and day.month in (1, 4, 7, 10):
            return f"Q{(day.month - 1) // 3 + 1} {day.year}"
        if kind in ("day", "week"):
            return str(format_date(day, "d MMM", locale=locale))
        return self.day(day)

    def span(self, start: str, end: str) -> str:
        """A report period in words: December 2025, week of 1 Dec 2025, 1–14 Dec 2025."""
        from babel.dates import format_date

        first, last = date.fromisoformat(start), date.fromisoformat(end)
        locale = self.lang.locale
        if self.period == "month" and first.day == 1:
            return str(format_date(first, "MMMM y", locale=locale))
        if self.period == "quarter" and first.day == 1 and first.month in (1, 4, 7, 10):
            return f"Q{(first.month - 1) // 3 + 1} {first.year}"
        if self.period == "day":
            return self.day(first)
        if self.period == "week" and first.weekday() == 0:
            return f"week {first.isocalendar()[1]} ({self.day(first)} – {self.day(last)})"
        return f"{self.day(first)} – {self.day(last)}"

    def span_of(self, start: str, end: str) -> str:
        """Any period by its bounds: a calendar month, an ISO week, a quarter, a day, or a
        range of days."""
        import calendar

        from babel.dates import format_date

        first, last = date.fromisoformat(start), date.fromisoformat(end)
        month_end = calendar.monthrange(first.year, first.month)[1]
        if first == last:
            return self.day(first)
        if first.day == 1 and last == first.replace(day=month_end):
            return str(format_date(first, "MMMM y", locale=self.lang.locale))
        if first.weekday() == 0 and (last - first).days == 6:
            return f"week {first.isocalendar()[1]}, {self.day(first)}"
        if first.day == 1 and first.month in (1, 4, 7, 10) and (last - first).days in range(89, 93):
            return f"Q{(first.month - 1) // 3 + 1} {first.year}"
        return f"{self.day(first)} – {self.day(last)}"

    def stage_short_id(self, stage_id: str) -> str:
        """A stage id as written in titles when its name is not at hand (MQL, meeting)."""
        return stage_id.upper() if stage_id in _ACRONYMS else stage_id

    def stage(self, report: Report, stage_id: str) -> str:
        """A stage's name from the report's funnel."""
        for s in report.get("funnel", {}).get("stages", []):
            if s["stage"] == stage_id:
                return str(s["name"])
        return stage_id

    def stage_short(self, report: Report, stage_id: str) -> str:
        """A stage as written in sentences: the funnel's acronyms (MQL, SAL, SQL) in capitals,
        else its name."""
        if stage_id in _ACRONYMS:
            return stage_id.upper()
        return self.stage(report, stage_id)
