"""Write an agreement `Document` as Markdown, HTML, PDF (WeasyPrint) or DOCX (python-docx).

Markdown and HTML come from the Jinja2 templates in `templates/`; the PDF is the HTML printed
by WeasyPrint (A4, page numbers); the DOCX is built with python-docx from the same structure.
No fixed text lives here: every word comes from the document (see `reports.document`).
"""

from __future__ import annotations

import io
import json
import re
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from leadpact.reports.document import (
    Block,
    Bullets,
    Document,
    Facts,
    Heading,
    Paragraph,
    Signatures,
    Table,
)

if TYPE_CHECKING:
    from jinja2 import Environment
    from markupsafe import Markup

SANS = '"Liberation Sans", Arial, "DejaVu Sans", sans-serif'
SERIF = '"Liberation Serif", "Times New Roman", "DejaVu Serif", serif'
MONO = '"Liberation Mono", "DejaVu Sans Mono", monospace'
_PLACEHOLDER = re.compile(r"%\((\w+)\)s")


class DocumentFormat(StrEnum):
    """The formats an agreement document can be written in."""

    MD = "md"
    HTML = "html"
    PDF = "pdf"
    DOCX = "docx"
    JSON = "json"


def write_document(doc: Document, fmt: DocumentFormat) -> bytes:
    """The document in `fmt`, as bytes (UTF-8 for the text formats)."""
    if fmt is DocumentFormat.MD:
        return to_markdown(doc).encode("utf-8")
    if fmt is DocumentFormat.HTML:
        return to_html(doc).encode("utf-8")
    if fmt is DocumentFormat.PDF:
        return to_pdf(doc)
    if fmt is DocumentFormat.DOCX:
        return to_docx(doc)
    return (json.dumps(doc.as_dict(), ensure_ascii=False, indent=2) + "\n").encode("utf-8")


# --------------------------------------------------------------------------- text formats


def environment() -> Environment:
    """The Jinja environment of the report templates (strict; HTML autoescaped)."""
    from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

    env = Environment(
        loader=PackageLoader("leadpact.reports", "templates"),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        keep_trailing_newline=True,
    )
    env.filters["cell"] = _md_cell
    env.filters["css"] = _css_text
    return env


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ") or " "


def _css_text(text: str) -> Markup:
    """Text for a CSS string inside <style>: quotes and backslashes escaped, no "<"."""
    from markupsafe import Markup

    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("<", "\\3c ")
    return Markup(escaped)


def _page_label(template: str) -> Markup:
    """`Page %(page)s of %(pages)s` as CSS content: "Page " counter(page) " of " counter(pages)."""
    parts: list[str] = []
    for i, piece in enumerate(_PLACEHOLDER.split(template)):
        if i % 2:
            parts.append(f"counter({piece})")
        elif piece:
            parts.append(f'"{_css_text(piece)}"')
    from markupsafe import Markup

    return Markup(" ".join(parts))


def to_markdown(doc: Document) -> str:
    """The document as Markdown (GitHub-flavoured tables)."""
    text = environment().get_template("document.md").render(doc=doc)
    return re.sub(r"\n{3,}", "\n\n", text).strip() + "\n"


def _groups(blocks: tuple[Block, ...]) -> list[tuple[bool, list[Block]]]:
    """Blocks in groups a page should not split: headings and paragraphs with what follows.

    Returns (keep, blocks) pairs; `keep` is False for groups too long to fit on one page.
    """
    groups: list[list[Block]] = [[]]
    for block in blocks:
        groups[-1].append(block)
        if not isinstance(block, Heading | Paragraph):
            groups.append([])
    return [(_size(g) <= 16, g) for g in groups if g]


def _size(group: list[Block]) -> int:
    size = 0
    for block in group:
        if isinstance(block, Table):
            size += len(block.rows) + 1
        elif isinstance(block, Bullets):
            size += 2 * len(block.items)
        elif isinstance(block, Facts):
            size += len(block.items)
        else:
            size += 2
    return size


def to_html(doc: Document) -> str:
    """The document as one self-contained HTML page, styled for screen and print."""
    from markupsafe import Markup

    return (
        environment()
        .get_template("document.html")
        .render(
            doc=doc,
            sans=Markup(SANS),
            serif=Markup(SERIF),
            mono=Markup(MONO),
            page_label=_page_label(doc.labels["page"]),
            groups=_groups,
        )
    )


def to_pdf(doc: Document) -> bytes:
    """The document as PDF: the HTML page printed by WeasyPrint on A4."""
    from weasyprint import HTML  # type: ignore[import-untyped]

    pdf = HTML(string=to_html(doc)).write_pdf(
        pdf_identifier=b"leadpact-agreement", uncompressed_pdf=False
    )
    assert pdf is not None  # write_pdf returns bytes when no target is given
    return bytes(pdf)


# --------------------------------------------------------------------------- DOCX

_ACCENT = (0x1F, 0x3A, 0x5F)


def to_docx(doc: Document) -> bytes:
    """The document as a Word file: headings, tables with a header row, signature fields."""
    from docx import Document as new_docx
    from docx.enum.table import WD_TABLE_ALIGNMENT
    from docx.shared import Cm, Pt, RGBColor

    word = new_docx()
    section = word.sections[0]
    section.page_height, section.page_width = Cm(29.7), Cm(21.0)
    section.left_margin = section.right_margin = Cm(2.0)
    section.top_margin, section.bottom_margin = Cm(2.2), Cm(2.4)
    normal = word.styles["Normal"]
    normal.font.name = "Liberation Serif"
    normal.font.size = Pt(10.5)
    for name, size in (("Title", 22), ("Heading 1", 14), ("Heading 2", 11.5)):
        style = word.styles[name]
        style.font.name = "Liberation Sans"
        style.font.size = Pt(size)
        style.font.color.rgb = RGBColor(*_ACCENT)
    props = word.core_properties
    props.title, props.subject, props.language = doc.title, doc.subtitle, doc.lang
    props.author = doc.company

    kicker = word.add_paragraph()
    run = kicker.add_run(doc.subtitle.upper())
    run.bold, run.font.size, run.font.color.rgb = True, Pt(9), RGBColor(*_ACCENT)
    word.add_heading(doc.title, level=0)
    _docx_facts(word, doc.front)
    for part in doc.sections:
        word.add_heading(f"{part.number}. {part.title}", level=1)
        for block in part.blocks:
            if isinstance(block, Paragraph):
                paragraph = word.add_paragraph(block.text)
                if block.style == "note":
                    for run in paragraph.runs:
                        run.italic = True
            elif isinstance(block, Heading):
                word.add_heading(block.text, level=2)
            elif isinstance(block, Bullets):
                for i, item in enumerate(block.items):
                    paragraph = word.add_paragraph(item, style="List Bullet")
                    if block.refs:
                        ref = paragraph.add_run(f"  {block.refs[i]}")
                        ref.font.size, ref.font.color.rgb = Pt(7.5), RGBColor(0x77, 0x77, 0x77)
            elif isinstance(block, Facts):
                _docx_facts(word, block)
            elif isinstance(block, Table):
                table = _docx_table(word, block)
                table.alignment = WD_TABLE_ALIGNMENT.LEFT
            elif isinstance(block, Signatures):
                _docx_signatures(word, block)
    out = io.BytesIO()
    word.save(out)
    return out.getvalue()


def _docx_facts(word: Any, facts: Facts) -> None:
    for label, value in facts.items:
        paragraph = word.add_paragraph()
        paragraph.paragraph_format.space_after = 0
        paragraph.add_run(f"{label}: ").bold = True
        paragraph.add_run(value)
    word.add_paragraph()


def _docx_table(word: Any, block: Table) -> Any:
    from docx.shared import Cm, Pt

    table = word.add_table(rows=1, cols=len(block.headers))
    table.style = "Table Grid"
    widths = block.widths or (1,) * len(block.headers)
    total = sum(widths)
    for cell, header in zip(table.rows[0].cells, block.headers, strict=True):
        cell.text = ""
        run = cell.paragraphs[0].add_run(header)
        run.bold, run.font.size = True, Pt(9)
        _shade(cell, "EEF2F7")
    _repeat_header(table.rows[0])
    for row in block.rows:
        cells = table.add_row().cells
        for cell, value in zip(cells, row, strict=True):
            cell.text = ""
            cell.paragraphs[0].add_run(value).font.size = Pt(9)
    for i, width in enumerate(widths):
        for row in table.rows:
            row.cells[i].width = Cm(17.0 * width / total)
    word.add_paragraph()
    return table


def _shade(cell: Any, fill: str) -> None:
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    shading = OxmlElement("w:shd")
    shading.set(qn("w:val"), "clear")
    shading.set(qn("w:color"), "auto")
    shading.set(qn("w:fill"), fill)
    cell._tc.get_or_add_tcPr().append(shading)


def _repeat_header(row: Any) -> None:
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    header = OxmlElement("w:tblHeader")
    header.set(qn("w:val"), "true")
    row._tr.get_or_add_trPr().append(header)


def _docx_signatures(word: Any, block: Signatures) -> None:
    from docx.shared import Pt

    table = word.add_table(rows=0, cols=2)
    cells: list[Any] = []
    for i, sig in enumerate(block.items):
        if i % 2 == 0:
            cells = table.add_row().cells
        cell = cells[i % 2]
        cell.text = ""
        head = cell.paragraphs[0].add_run(sig.party)
        head.bold, head.font.size = True, Pt(10.5)
        who = cell.add_paragraph(sig.name + (f", {sig.title}" if sig.title else ""))
        who.runs[0].font.size = Pt(9.5)
        if sig.approved:
            cell.add_paragraph(sig.approved).runs[0].font.size = Pt(8.5)
        for label in (block.date_label, block.signature_label):
            cell.add_paragraph()
            line = cell.add_paragraph("_" * 34)
            line.paragraph_format.space_after = 0
            cell.add_paragraph(label).runs[0].font.size = Pt(8)
