"""Catalogues are complete and in sync with the source; numbers, money, dates follow the locale."""

from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal
from io import BytesIO
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import read_mo, write_mo
from babel.messages.pofile import read_po

from leadpact.errors import NotFoundError
from leadpact.reports.i18n import LANGUAGES, LOCALE_DIR, get_lang

TRANSLATED = [code for code in LANGUAGES if code != "en"]
PLACEHOLDER = re.compile(r"%\(\w+\)s")


def catalogue(code: str):
    with (LOCALE_DIR / code / "LC_MESSAGES" / "leadpact.po").open("rb") as f:
        return read_po(f)


def template():
    with (LOCALE_DIR / "leadpact.pot").open("rb") as f:
        return read_po(f)


def test_the_template_holds_every_message_of_the_source():
    source = Path(LOCALE_DIR).parent
    found = {msg[2] if isinstance(msg[2], str) else msg[2][0] for msg in extract_from_dir(source)}
    in_template = {m.id if isinstance(m.id, str) else m.id[0] for m in template() if m.id}
    assert found == in_template, "run the pybabel commands in docs/document.md"


@pytest.mark.parametrize("code", TRANSLATED)
def test_every_message_is_translated_with_its_placeholders(code):
    ids = {m.id for m in template() if m.id}
    messages = [m for m in catalogue(code) if m.id]
    assert {m.id for m in messages} == ids
    for message in messages:
        assert not message.fuzzy, message.id
        singulars = [message.id] if isinstance(message.id, str) else list(message.id)
        strings = [message.string] if isinstance(message.string, str) else list(message.string)
        assert all(strings), f"{code}: {message.id!r} is not translated"
        expected = set(PLACEHOLDER.findall(singulars[-1]))
        for text in strings:
            assert set(PLACEHOLDER.findall(text)) == expected, (code, message.id, text)


@pytest.mark.parametrize("code", TRANSLATED)
def test_the_compiled_catalogue_matches_its_source(code):
    compiled = LOCALE_DIR / code / "LC_MESSAGES" / "leadpact.mo"
    with compiled.open("rb") as f:
        shipped = messages_of(read_mo(f))
    expected = BytesIO()
    write_mo(expected, catalogue(code))
    expected.seek(0)
    assert shipped == messages_of(read_mo(expected))


def messages_of(cat):
    return {str(m.id): str(m.string) for m in cat if m.id}


def test_danish_numbers_money_dates_and_times():
    da = get_lang("da")
    assert da.number(1234567.5) == "1.234.567,5"
    assert da.money(600000, "DKK") == "600.000\u00a0kr."
    assert da.money(Decimal("1234.5"), "EUR") == "1.234,50\u00a0€"
    assert da.percent(0.7) == "70\u00a0%"
    assert da.long_date(date(2025, 1, 1)) == "1. januar 2025"
    assert da.clock_time(9 * 60) == "09.00"
    assert da.clock_time(1440) == "24.00"
    assert da.weekday(0) == "mandag"
    assert da.zone("Europe/Copenhagen") == "København"
    assert da.join(["a", "b", "c"]) == "a, b og c"


@pytest.mark.parametrize(
    ("code", "money", "day", "percent"),
    [
        ("en", "DKK\u00a0600,000", "1 January 2025", "12.5%"),
        ("nl", "DKK\u00a0600.000", "1 januari 2025", "12,5%"),
        ("it", "600.000\u00a0DKK", "1 gennaio 2025", "12,5%"),
    ],
)
def test_other_locales(code, money, day, percent):
    lang = get_lang(code)
    assert lang.money(600000, "DKK") == money
    assert lang.long_date(date(2025, 1, 1)) == day
    assert lang.percent(0.125) == percent


def test_durations_use_the_largest_whole_unit_and_plurals():
    en, da = get_lang("en"), get_lang("da")
    assert en.duration(timedelta(days=30)) == "30 days"
    assert en.duration(timedelta(days=1)) == "1 day"
    assert en.duration(timedelta(hours=2)) == "2 hours"
    assert en.duration(timedelta(minutes=90)) == "90 minutes"
    assert da.duration(timedelta(days=1)) == "1 dag"
    assert en.business_duration(timedelta(hours=2)) == "2 business hours"
    assert en.business_duration(timedelta(hours=1)) == "1 business hour"
    assert en.business_duration(timedelta(minutes=90)) == "1.5 business hours"
    assert da.business_duration(timedelta(minutes=90)) == "1,5 arbejdstimer"
    assert en.business_duration(timedelta(minutes=45)) == "45 business minutes"
    assert get_lang("it").business_duration(timedelta(hours=8)) == "8 ore lavorative"


def test_an_unknown_language_is_a_clear_error():
    with pytest.raises(NotFoundError, match="no document language 'fr'; expected one of en, da"):
        get_lang("fr")


def test_a_time_zone_without_a_translated_city_uses_its_name():
    assert get_lang("da").zone("America/New_York") == "New York"
