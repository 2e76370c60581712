"""The agreement document as a format-neutral structure: numbered sections of typed blocks.

Paragraphs, headings, bullets, tables, facts and signature fields, grouped in sections, plus
`VersionInfo` (the recorded version the document shows). `document.build_document` fills it;
the writers in `document_writer` lay it out.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any, Literal


@dataclass(frozen=True)
class Paragraph:
    """A paragraph of running text; `note` paragraphs are set smaller."""

    text: str
    style: Literal["body", "note"] = "body"
    type: Literal["paragraph"] = "paragraph"


@dataclass(frozen=True)
class Heading:
    """A sub-heading inside a section."""

    text: str
    type: Literal["heading"] = "heading"


@dataclass(frozen=True)
class Bullets:
    """A list of sentences; `refs` (if any) name the pact part of each item, e.g. its id."""

    items: tuple[str, ...]
    refs: tuple[str, ...] = ()
    type: Literal["bullets"] = "bullets"


@dataclass(frozen=True)
class Table:
    """A table with a header row; `widths` are relative column widths."""

    headers: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    widths: tuple[int, ...] = ()
    kind: Literal["grid", "matrix"] = "grid"
    type: Literal["table"] = "table"


@dataclass(frozen=True)
class Facts:
    """Label–value pairs (validity dates, review cadence)."""

    items: tuple[tuple[str, str], ...]
    type: Literal["facts"] = "facts"


@dataclass(frozen=True)
class Signature:
    """One party's signature field."""

    party: str
    name: str
    title: str
    approved: str = ""


@dataclass(frozen=True)
class Signatures:
    """The signature block: one field per party, with the labels of its lines."""

    items: tuple[Signature, ...]
    name_label: str
    date_label: str
    signature_label: str
    type: Literal["signatures"] = "signatures"


Block = Paragraph | Heading | Bullets | Table | Facts | Signatures


@dataclass(frozen=True)
class Section:
    """A numbered section of the agreement."""

    number: int
    key: str
    title: str
    blocks: tuple[Block, ...]


@dataclass(frozen=True)
class Document:
    """The whole agreement, translated, ready to be written in any format."""

    lang: str
    title: str
    company: str
    subtitle: str
    front: Facts
    sections: tuple[Section, ...]
    labels: dict[str, str] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """The structure as plain data (for `--format json`)."""
        return asdict(self)


@dataclass(frozen=True)
class VersionInfo:
    """What the document says about the version it shows (from the workspace, if any)."""

    number: int
    state: str
    effective_on: date | None = None
    approvals: dict[str, str] = field(default_factory=dict)  # party id → "name, date"
