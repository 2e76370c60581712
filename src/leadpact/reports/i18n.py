"""Translation and locale formatting for documents: gettext catalogues and Babel formats.

`Lang` bundles the gettext translations of one language (catalogues in `locale/`, domain
`leadpact`; English is the source language) with Babel's number, currency, date, time and
list formats of its locale. English uses the `en_GB` locale: a 24-hour clock and day-month-
year dates, as in the European source documents.

Mark fixed text with `lang._("...")` and `lang.ngettext("...", "...", n)` so that
`pybabel extract` finds it (docs/document.md, "Translations").
"""

from __future__ import annotations

import gettext
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, time, timedelta
from decimal import Decimal
from functools import cache
from pathlib import Path

from babel import Locale
from babel.dates import format_date, format_time, get_day_names
from babel.lists import format_list
from babel.numbers import format_decimal, parse_pattern
from babel.support import Translations

from leadpact.errors import NotFoundError

#: Document languages: those of the source documents.
LANGUAGES = ("en", "da", "nl", "it")
DOMAIN = "leadpact"
LOCALE_DIR = Path(__file__).parent / "locale"
_LOCALES = {"en": "en_GB", "da": "da_DK", "nl": "nl_NL", "it": "it_IT"}
_LETTER_THEN_DIGIT = re.compile(r"^([^\W\d]+)(\d)")
_DIGIT_THEN_LETTER = re.compile(r"(\d)([^\W\d_]+)$")


@dataclass(frozen=True)
class Lang:
    """One document language: translated fixed text and the locale's formats."""

    code: str
    locale: Locale
    translations: gettext.NullTranslations

    def _(self, message: str, **values: object) -> str:
        """The translation of `message`, with `%(name)s` placeholders filled from `values`."""
        text = self.translations.gettext(message)
        return text % values if values else text

    def ngettext(self, singular: str, plural: str, n: int, **values: object) -> str:
        """The singular or plural translation for `n`; `%(num)s` is `n` in the locale."""
        text = self.translations.ngettext(singular, plural, n)
        return text % {"num": self.number(n), **values}

    # --- formats ------------------------------------------------------------------------

    def number(self, value: float | Decimal | int, digits: int = 2) -> str:
        """A number with the locale's separators, at most `digits` decimals."""
        rounded = round(Decimal(str(value)), digits).normalize()
        return format_decimal(rounded, format=None, locale=self.locale, decimal_quantization=False)

    def money(self, value: float | Decimal | int, currency: str) -> str:
        """An amount in a currency: no decimals for whole amounts, else two (600.000 kr.)."""
        pattern = parse_pattern(self.locale.currency_formats["standard"].pattern)
        whole = Decimal(str(value)) == Decimal(str(value)).to_integral_value()
        pattern.frac_prec = (0, 0) if whole else (2, 2)
        text = pattern.apply(value, self.locale, currency=currency, currency_digits=False)
        # CLDR's currency spacing: a letter code next to a digit gets a no-break space.
        text = _LETTER_THEN_DIGIT.sub("\\1\u00a0\\2", text)
        return _DIGIT_THEN_LETTER.sub("\\1\u00a0\\2", text)

    def percent(self, rate: float) -> str:
        """A rate in 0..1 as a percentage (70 %)."""
        pattern = parse_pattern(self.locale.percent_formats[None].pattern)
        pattern.frac_prec = (0, 1)
        return str(pattern.apply(rate, self.locale))

    def long_date(self, day: date) -> str:
        """A date written out (1. januar 2025)."""
        return format_date(day, format="long", locale=self.locale)

    def clock_time(self, minutes: int) -> str:
        """A wall-clock time from minutes after midnight (09.00 in Danish, 24:00 allowed)."""
        if minutes >= 1440:
            return format_time(_clock(0), format="short", locale=self.locale).replace("00", "24", 1)
        return format_time(_clock(minutes), format="short", locale=self.locale)

    def weekday(self, index: int) -> str:
        """The weekday's name, Monday = 0, as written mid-sentence in the language."""
        return str(get_day_names("wide", locale=self.locale)[index])

    def join(self, items: Sequence[str]) -> str:
        """Items as a list in a sentence (a, b and c)."""
        return format_list(list(items), locale=self.locale) if items else ""

    def zone(self, timezone: str) -> str:
        """The exemplar city of an IANA time zone in the language (København, New York)."""
        city = self.locale.time_zones.get(timezone, {}).get("city")
        return str(city) if city else timezone.rsplit("/", 1)[-1].replace("_", " ")

    def duration(self, value: timedelta) -> str:
        """An elapsed time in its largest whole unit (30 days, 2 hours, 90 minutes)."""
        seconds = int(value.total_seconds())
        if seconds and seconds % 86400 == 0:
            return self.ngettext("%(num)s day", "%(num)s days", seconds // 86400)
        if seconds and seconds % 3600 == 0:
            return self.ngettext("%(num)s hour", "%(num)s hours", seconds // 3600)
        return self.ngettext("%(num)s minute", "%(num)s minutes", round(seconds / 60))

    def business_duration(self, value: timedelta) -> str:
        """Business time: minutes under an hour, else hours (2 business hours, 1.5 ...)."""
        seconds = value.total_seconds()
        if seconds < 3600:
            return self.ngettext(
                "%(num)s business minute", "%(num)s business minutes", round(seconds / 60)
            )
        hours = seconds / 3600
        if hours == int(hours):
            return self.ngettext("%(num)s business hour", "%(num)s business hours", int(hours))
        return self._("%(num)s business hours", num=self.number(hours))


def _clock(minutes: int) -> time:
    return time(minutes // 60, minutes % 60)


@cache
def get_lang(code: str) -> Lang:
    """The document language with this code (en, da, nl, it).

    Raises:
        NotFoundError: LeadPact has no documents in that language.
    """
    if code not in _LOCALES:
        raise NotFoundError(
            f"no document language {code!r}; expected one of {', '.join(LANGUAGES)}"
        )
    locale = Locale.parse(_LOCALES[code])
    translations: gettext.NullTranslations = (
        gettext.NullTranslations()
        if code == "en"
        else Translations.load(str(LOCALE_DIR), [code], DOMAIN)
    )
    return Lang(code, locale, translations)
