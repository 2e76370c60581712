"""The agreement written as Markdown, HTML, PDF and DOCX, in every language, from the example."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from io import BytesIO
from typing import ClassVar

import pytest
from babel.messages.pofile import read_po

from leadpact.reports.document import build_document
from leadpact.reports.document_writer import DocumentFormat, to_markdown, write_document
from leadpact.reports.i18n import LANGUAGES, LOCALE_DIR, get_lang

PLACEHOLDER = re.compile(r"%\(\w+\)s")


def english_fragments(pact_text: str, translated: dict[str, str]) -> set[str]:
    """Literal pieces of English fixed text worth looking for in a translated document.

    Left out: pieces the pact's authors also wrote (the pact is in English) and pieces the
    translation keeps unchanged (KPI, Persona, Status...).
    """
    with (LOCALE_DIR / "leadpact.pot").open("rb") as f:
        ids = [m.id for m in read_po(f) if m.id]
    fragments = set()
    for msgid in ids:
        for singular in [msgid] if isinstance(msgid, str) else msgid:
            for piece in PLACEHOLDER.split(singular):
                piece = piece.strip(" ,.:;()“”")
                if (
                    len(piece) >= 4
                    and piece.lower() not in pact_text.lower()
                    and piece not in translated.get(singular, "")
                ):
                    fragments.add(piece)
    return fragments


def translations(code: str) -> dict[str, str]:
    with (LOCALE_DIR / code / "LC_MESSAGES" / "leadpact.po").open("rb") as f:
        out = {}
        for m in read_po(f):
            if m.id:
                ids = [m.id] if isinstance(m.id, str) else list(m.id)
                strings = [m.string] if isinstance(m.string, str) else list(m.string or ())
                out.update(dict(zip(ids, strings, strict=False)))
        return out


@pytest.mark.parametrize("code", [c for c in LANGUAGES if c != "en"])
def test_no_english_fixed_text_is_left_in_a_translated_document(pact, example_text, code):
    text = to_markdown(build_document(pact, get_lang(code)))
    fragments = english_fragments(example_text, translations(code))
    assert len(fragments) > 100  # the check looks for something
    left = sorted(f for f in fragments if re.search(rf"\b{re.escape(f)}\b", text))
    assert left == []


def test_english_fixed_text_is_found_in_the_english_document(pact, example_text):
    # The check above can fail: the same fragments are there in English.
    text = to_markdown(build_document(pact, get_lang("en")))
    fragments = english_fragments(example_text, translations("da"))
    found = [f for f in fragments if re.search(rf"\b{re.escape(f)}\b", text)]
    assert len(found) > 80


@pytest.mark.parametrize("code", LANGUAGES)
def test_markdown_has_every_section_and_table(pact, code):
    doc = build_document(pact, get_lang(code))
    text = to_markdown(doc)
    assert text.startswith(f"# {pact.title}\n")
    headings = re.findall(r"^## (\d)\. (.+)$", text, flags=re.M)
    assert headings == [(str(s.number), s.title) for s in doc.sections]
    separators = re.findall(r"^\|( --- \|)+$", text, flags=re.M)
    assert len(separators) == 14
    assert not re.search(r"[ \t]+$", text, flags=re.M)
    assert "`p1-response`" in text


class _Checker(HTMLParser):
    VOID: ClassVar[set[str]] = {"meta", "col", "br", "img", "link", "hr"}

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.seen: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.seen.append(tag)
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag):
        assert self.stack, tag
        assert self.stack[-1] == tag, (tag, self.stack[-5:])
        self.stack.pop()


def test_html_is_well_formed_and_escaped(pact):
    named = pact.model_copy(update={"company": 'Nordlys "<Software>" & Co'})
    html = write_document(build_document(named, get_lang("nl")), DocumentFormat.HTML).decode()
    checker = _Checker()
    checker.feed(html)
    assert checker.stack == []
    assert checker.seen.count("table") == 14
    assert '<html lang="nl">' in html
    assert "Nordlys &#34;&lt;Software&gt;&#34; &amp; Co" in html
    assert 'content: "Nordlys \\"\\3c Software>\\" & Co"' in html
    assert 'content: "Pagina " counter(page) " van " counter(pages)' in html


def test_json_is_the_structure(pact):
    data = json.loads(write_document(build_document(pact, get_lang("it")), DocumentFormat.JSON))
    assert data["lang"] == "it"
    assert data["sections"][6]["title"] == "Validità"


@pytest.mark.parametrize("code", LANGUAGES)
def test_pdf_parses_with_every_section(pact, code):
    from pypdf import PdfReader

    doc = build_document(pact, get_lang(code))
    reader = PdfReader(BytesIO(write_document(doc, DocumentFormat.PDF)))
    assert 4 <= len(reader.pages) <= 10
    text = " ".join(page.extract_text() for page in reader.pages)
    flat = re.sub(r"\s+", " ", text)
    for s in doc.sections:
        assert re.sub(r"\s+", " ", s.title) in flat
    assert pact.parties["service"].owner.name in flat
    last = re.sub(r"\s+", " ", reader.pages[-1].extract_text())
    page_word = doc.labels["page"].split("%")[0].strip()
    assert f"{page_word} {len(reader.pages)}" in last


@pytest.mark.parametrize("code", LANGUAGES)
def test_docx_parses_with_headings_tables_and_signatures(pact, code):
    from docx import Document as open_docx

    doc = build_document(pact, get_lang(code))
    word = open_docx(BytesIO(write_document(doc, DocumentFormat.DOCX)))
    headings = [p.text for p in word.paragraphs if p.style and p.style.name == "Heading 1"]
    assert headings == [f"{s.number}. {s.title}" for s in doc.sections]
    assert len(word.tables) == 15  # 14 tables and the signature grid
    header = word.tables[0].rows[0]
    assert [c.text for c in header.cells] == list(
        next(b for b in doc.sections[0].blocks if b.type == "table").headers
    )
    signatures = word.tables[-1]
    assert signatures.rows[0].cells[0].paragraphs[0].text == "Marketing"
    assert word.core_properties.language == code
    bullets = [p for p in word.paragraphs if p.style and p.style.name == "List Bullet"]
    assert any(p.text.endswith("p1-response") for p in bullets)
