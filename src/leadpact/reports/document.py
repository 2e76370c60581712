"""The agreement document of a pact, translated: `build_document(pact, lang)`.

The document follows the sections of the Danish SLA template (seeds/): overview, ideal
customer, lead definitions, goals, lead handling, analysis and optimisation, validity,
signatures. Its structure lives in `document_model` (re-exported here), sections 1–4 are built
in `document_definitions` and 5–8 in `document_obligations`; all fixed text is translated
there. The writers in `document_writer` only lay the structure out as Markdown, HTML, PDF or
DOCX.
"""

from __future__ import annotations

from leadpact.core.pact import Pact
from leadpact.reports.document_definitions import (
    build_goals,
    build_ideal_customer,
    build_lead_definitions,
    build_overview,
)
from leadpact.reports.document_model import (
    Block,
    Bullets,
    Document,
    Facts,
    Heading,
    Paragraph,
    Section,
    Signature,
    Signatures,
    Table,
    VersionInfo,
)
from leadpact.reports.document_obligations import (
    build_analysis,
    build_handling,
    build_signatures,
    build_validity,
)
from leadpact.reports.i18n import Lang

__all__ = [
    "Block",
    "Bullets",
    "Document",
    "Facts",
    "Heading",
    "Paragraph",
    "Section",
    "Signature",
    "Signatures",
    "Table",
    "VersionInfo",
    "build_document",
]


def build_document(pact: Pact, lang: Lang, version: VersionInfo | None = None) -> Document:
    """Build the agreement document of `pact` in `lang`.

    Args:
        pact: the agreement.
        lang: the document language (`reports.i18n.get_lang`).
        version: the recorded version shown, with its approvals; None for a draft file.

    Returns:
        The translated, format-neutral document.
    """
    _ = lang._
    front = [(_("Company"), pact.company)]
    front.append((_("Parties"), lang.join([p.name for p in pact.parties.values()])))
    if version is not None:
        front.append((_("Version"), str(version.number)))
        if version.effective_on is not None:
            front.append((_("In force from"), lang.long_date(version.effective_on)))
        else:
            front.append((_("Status"), _("Draft: not yet approved by every party")))
    else:
        front.append((_("Status"), _("Draft: not yet approved by every party")))
    front.append((_("Valid from"), lang.long_date(pact.governance.valid_from)))
    builders = (
        ("overview", _("Overview of the agreement"), build_overview),
        ("icp", _("The ideal customer"), build_ideal_customer),
        ("leads", _("Lead definitions"), build_lead_definitions),
        ("goals", _("Goals"), build_goals),
        ("handling", _("Lead handling"), build_handling),
        ("analysis", _("Analysis and optimisation of performance"), build_analysis),
        ("validity", _("Validity"), build_validity),
        ("signatures", _("Signatures"), build_signatures),
    )
    sections = tuple(
        Section(i, key, title, tuple(build(pact, lang, version)))
        for i, (key, title, build) in enumerate(builders, start=1)
    )
    return Document(
        lang=lang.code,
        title=pact.title,
        company=pact.company,
        subtitle=_("Service Level Agreement (SLA)"),
        front=Facts(tuple(front)),
        sections=sections,
        labels={
            "page": _("Page %(page)s of %(pages)s"),
            "language": lang.code,
        },
    )
