"""The agreement document as a format-neutral structure: sections of paragraphs and tables.

`build_document(pact, lang)` follows the sections of the Danish SLA template (seeds/):
overview, ideal customer, lead definitions, goals, lead handling, analysis and optimisation,
validity, signatures. All fixed text is translated here; the writers in `document_writer`
only lay the structure out as Markdown, HTML, PDF or DOCX.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any, Literal

from leadpact.core.governance_dates import next_review
from leadpact.core.pact import Action, KpiName, Pact, Quadrant, StageSource
from leadpact.reports.i18n import Lang
from leadpact.reports.phrases import (
    activity_label,
    cadence_name,
    commitment_sentences,
    condition_text,
    holidays_text,
    hours_text,
    kpi_label,
    metric_label,
    party_name,
    per_period,
    stage_label,
)


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
        ("overview", _("Overview of the agreement"), _overview),
        ("icp", _("The ideal customer"), _ideal_customer),
        ("leads", _("Lead definitions"), _lead_definitions),
        ("goals", _("Goals"), _goals),
        ("handling", _("Lead handling"), _handling),
        ("analysis", _("Analysis and optimisation of performance"), _analysis),
        ("validity", _("Validity"), _validity),
        ("signatures", _("Signatures"), _signatures),
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


# --------------------------------------------------------------------------- sections


def _overview(pact: Pact, lang: Lang, version: VersionInfo | None) -> list[Block]:
    _ = lang._
    names = lang.join([p.name for p in pact.parties.values()])
    blocks: list[Block] = [
        Paragraph(
            _(
                "This agreement is a Service Level Agreement (SLA) between %(parties)s of "
                "%(company)s.",
                parties=names,
                company=pact.company,
            )
        ),
        Paragraph(pact.purpose),
        Paragraph(_("New versions take effect when the owner of every party has approved them.")),
        Heading(_("Parties")),
    ]
    rows = []
    for party in pact.parties.values():
        owner = party.owner.name + (f", {party.owner.title}" if party.owner.title else "")
        contacts = "; ".join(c.name + (f" ({c.role})" if c.role else "") for c in party.contacts)
        rows.append((party.name, owner, contacts or "–", "; ".join(party.responsibilities) or "–"))
    blocks.append(
        Table(
            (_("Party"), _("Owner"), _("Points of contact"), _("Responsibilities")),
            tuple(rows),
            (2, 3, 3, 5),
        )
    )
    if pact.reporting:
        blocks.append(Heading(_("Who reports what to whom")))
        blocks.append(
            Table(
                (_("From"), _("To"), _("Report"), _("How often")),
                tuple(
                    (
                        party_name(pact, line.sender),
                        party_name(pact, line.receiver),
                        line.report,
                        cadence_name(lang, line.every.value),
                    )
                    for line in pact.reporting
                ),
                (2, 2, 5, 2),
            )
        )
    return blocks


def _ideal_customer(pact: Pact, lang: Lang, version: VersionInfo | None) -> list[Block]:
    _ = lang._
    blocks: list[Block] = [
        Paragraph(
            _(
                "The companies that marketing and sales focus on, by criteria of importance "
                "1 to 5, where 1 is the most important."
            )
        ),
        Table(
            (_("Criterion"), _("Characteristic"), _("Importance (1–5)")),
            tuple(
                (c.name, c.description, str(c.importance))
                for c in sorted(pact.icp.criteria, key=lambda c: c.importance)
            ),
            (3, 5, 2),
        ),
    ]
    if pact.icp.personas:
        ranks = {1: _("Primary persona"), 2: _("Secondary persona"), 3: _("Tertiary persona")}
        blocks.append(Heading(_("Personas")))
        blocks.append(
            Table(
                (_("Persona"), _("Priority"), _("Who they are"), _("Job titles")),
                tuple(
                    (p.name, ranks[p.rank], p.description or "–", ", ".join(p.titles))
                    for p in sorted(pact.icp.personas, key=lambda p: p.rank)
                ),
                (3, 2, 5, 4),
            )
        )
    return blocks


def _lead_definitions(pact: Pact, lang: Lang, version: VersionInfo | None) -> list[Block]:
    _ = lang._
    grades = pact.scoring.grades
    matrix = pact.matrix
    p2_good_fit = matrix.priority_2 is Quadrant.GOOD_FIT_LOW_ENGAGEMENT
    actions = {
        Action.SALES: _("to sales"),
        Action.NURTURE: _("nurture"),
        Action.EXCLUDE: _("kept out of the lead flow"),
    }
    blocks: list[Block] = [
        Heading(_("Priority matrix")),
        Paragraph(
            _(
                "A lead is a good fit from a fit score of %(fit)s (of 100) and highly engaged "
                "from an engagement score of %(engagement)s.",
                fit=lang.number(matrix.fit_threshold),
                engagement=lang.number(matrix.engagement_threshold),
            )
        ),
        Table(
            ("", _("Low engagement"), _("High engagement")),
            (
                (_("Good fit"), "2" if p2_good_fit else "3", "1"),
                (_("Low fit"), "4", "3" if p2_good_fit else "2"),
            ),
            (3, 3, 3),
            kind="matrix",
        ),
        Table(
            (_("Priority"), _("Treatment"), _("Action"), _("Nurture flow")),
            tuple(
                (str(p), t.description, actions[t.action], t.flow or "–")
                for p, t in sorted(matrix.treatment.items())
            ),
            (1, 6, 3, 2),
        ),
        Heading(_("Stages of the funnel")),
        Table(
            (_("Stage"), _("Definition"), _("Entry criteria")),
            tuple(
                (
                    s.name,
                    s.description,
                    condition_text(lang, pact, s.entry)
                    if s.source is StageSource.PACT and s.entry is not None
                    else _("recorded in the CRM"),
                )
                for s in pact.stages
            ),
            (3, 5, 5),
        ),
        Heading(_("Scoring")),
        Paragraph(
            _(
                "The fit score (0–100) weighs the ideal-customer criteria a lead meets by their "
                "importance. Fit grade A from a score of %(a)s, B from %(b)s, C from %(c)s; below "
                "that, D.",
                a=lang.number(grades.a),
                b=lang.number(grades.b),
                c=lang.number(grades.c),
            )
        ),
    ]
    engagement = pact.scoring.engagement
    notes = [
        _(
            "Engagement is scored from behaviour, up to %(cap)s points.",
            cap=lang.number(engagement.cap),
        )
    ]
    if engagement.half_life is not None:
        notes.append(
            _("Points halve every %(duration)s.", duration=lang.duration(engagement.half_life))
        )
    if engagement.window is not None:
        notes.append(
            _(
                "Activities older than %(duration)s do not count.",
                duration=lang.duration(engagement.window),
            )
        )
    blocks.append(Paragraph(" ".join(notes)))
    blocks.append(
        Table(
            (_("Activity"), _("Points"), _("At most")),
            tuple(
                (
                    activity_label(lang, kind).capitalize(),
                    lang.number(points),
                    lang.number(engagement.caps[kind]) if kind in engagement.caps else "–",
                )
                for kind, points in engagement.points.items()
            ),
            (5, 2, 2),
        )
    )
    return blocks


def _goals(pact: Pact, lang: Lang, version: VersionInfo | None) -> list[Block]:
    _ = lang._
    goals = pact.goals
    if goals is None:
        return [Paragraph(_("The agreement sets no goals."))]
    blocks: list[Block] = [
        Paragraph(
            _(
                "The goals are specific, measurable and time-bound, and are recalculated every "
                "month from the actual figures."
            )
        )
    ]
    if goals.targets:
        blocks.append(
            Table(
                (_("Description"), _("Goal"), _("Period"), _("Deadline")),
                tuple(
                    (
                        t.description or metric_label(lang, t.metric.value),
                        _goal_value(lang, pact, t.metric.value, float(t.target)),
                        per_period(lang, (t.period or goals.period).value),
                        lang.long_date(t.deadline),
                    )
                    for t in goals.targets
                ),
                (5, 3, 2, 3),
            )
        )
    if goals.inputs is not None:
        inputs = goals.inputs
        per = per_period(lang, goals.period.value)
        facts = [
            (_("Sales quota (%(per)s)", per=per), lang.money(inputs.quota, pact.currency)),
            (_("Share of revenue from marketing leads"), lang.percent(inputs.marketing_share)),
            (_("Average deal size"), lang.money(inputs.deal_size, pact.currency)),
            (_("Close rate from lead to customer"), lang.percent(inputs.close_rate)),
        ]
        if inputs.sales_cycle is not None:
            facts.append((_("Length of the sales cycle"), lang.duration(inputs.sales_cycle)))
        if inputs.lifetime_value is not None:
            facts.append(
                (_("Customer lifetime value"), lang.money(inputs.lifetime_value, pact.currency))
            )
        if inputs.website_traffic is not None:
            facts.append(
                (_("Website visits (%(per)s)", per=per), lang.number(inputs.website_traffic))
            )
        blocks.append(Heading(_("The reverse funnel: inputs")))
        blocks.append(Facts(tuple(facts)))
    if goals.values is not None and (goals.values.personas or goals.values.activities):
        names = {p.id: p.name for p in pact.icp.personas}
        rows = [(names.get(k, k), lang.number(v)) for k, v in goals.values.personas.items()]
        rows += [
            (activity_label(lang, k).capitalize(), lang.number(v))
            for k, v in goals.values.activities.items()
        ]
        blocks.append(Heading(_("Lead value")))
        blocks.append(
            Paragraph(_("A lead is worth its persona's value plus the value of what it has done."))
        )
        blocks.append(Table((_("Persona or activity"), _("Value")), tuple(rows), (5, 2)))
    if goals.capacity is not None:
        cap = goals.capacity
        blocks.append(Heading(_("Sales capacity")))
        blocks.append(
            Facts(
                (
                    (_("Sales reps"), lang.number(cap.reps)),
                    (
                        _(
                            "Selling hours per rep (%(per)s)",
                            per=per_period(lang, goals.period.value),
                        ),
                        lang.number(cap.hours_per_rep),
                    ),
                    (_("Minutes per attempt"), lang.number(cap.minutes_per_lead)),
                    (_("Attempts per lead"), lang.number(cap.attempts)),
                )
            )
        )
    return blocks


def _goal_value(lang: Lang, pact: Pact, metric: str, value: float) -> str:
    return lang.money(value, pact.currency) if metric == "revenue" else lang.number(value)


def _handling(pact: Pact, lang: Lang, version: VersionInfo | None) -> list[Block]:
    _ = lang._
    blocks: list[Block] = [
        Paragraph(
            _("What each party commits to, so that the common goals are reached."),
        )
    ]
    pairs = list(dict.fromkeys((c.provider, c.receiver) for c in pact.commitments))
    for provider, receiver in pairs:
        blocks.append(
            Heading(
                _(
                    "%(provider)s commits to %(receiver)s",
                    provider=party_name(pact, provider),
                    receiver=party_name(pact, receiver),
                )
            )
        )
        mine = [c for c in pact.commitments if (c.provider, c.receiver) == (provider, receiver)]
        blocks.append(
            Bullets(
                tuple(" ".join(commitment_sentences(lang, pact, c)) for c in mine),
                tuple(c.id for c in mine),
            )
        )
    handling = pact.handling
    rules = [_("Handover: %(text)s", text=handling.handover)]
    if handling.reject_reasons:
        rules.append(
            _(
                "Reasons for rejecting a handed-over lead: %(reasons)s.",
                reasons=", ".join(handling.reject_reasons),
            )
        )
    contact = handling.contact_non_sql
    if contact.allowed:
        text = _("Leads that are not yet sales qualified may be contacted")
        if contact.when is not None:
            text = _(
                "Leads that are not yet sales qualified may be contacted where %(condition)s",
                condition=condition_text(lang, pact, contact.when),
            )
        rules.append(text + (f": {contact.how}." if contact.how else "."))
    else:
        rules.append(_("Leads that are not yet sales qualified are not contacted by sales."))
    rules.append(
        _(
            "Contacted leads that are not ready to buy move to %(stage)s.",
            stage=stage_label(pact, handling.not_ready.to),
        )
    )
    if handling.recycle is not None:
        rules.append(
            _("Recycled leads move to %(stage)s.", stage=stage_label(pact, handling.recycle.to))
        )
    if handling.disqualify is not None:
        dq = handling.disqualify
        rules.append(
            _(
                "Disqualified leads move to %(stage)s; the reasons are: %(reasons)s.",
                stage=stage_label(pact, dq.to),
                reasons=", ".join(dq.reasons),
            )
        )
        if dq.when is not None:
            rules.append(
                _(
                    "Leads are disqualified automatically where %(condition)s.",
                    condition=condition_text(lang, pact, dq.when),
                )
            )
    rules.append(
        _(
            "Leads who opt out are deleted from the database within %(duration)s; only "
            "anonymous counts are kept.",
            duration=lang.duration(handling.opt_out.within),
        )
    )
    blocks.append(Heading(_("Handling rules")))
    blocks.append(Bullets(tuple(rules)))
    blocks.append(Heading(_("Business hours")))
    blocks.append(Paragraph(_("Response times are measured in business time on these calendars.")))
    teams_of: dict[str, list[str]] = {}
    for name, team in pact.teams.items():
        teams_of.setdefault(team.calendar, []).append(name)
    blocks.append(
        Table(
            (_("Calendar"), _("Teams"), _("Opening hours"), _("Closed on")),
            tuple(
                (
                    name,
                    ", ".join(teams_of.get(name, [])) or "–",
                    hours_text(lang, spec),
                    holidays_text(lang, spec),
                )
                for name, spec in pact.calendars.items()
            ),
            (2, 2, 6, 4),
        )
    )
    alerts = pact.alerts
    notes = [
        _(
            "The lead owner is warned %(duration)s before a deadline.",
            duration=lang.duration(alerts.warn_before),
        )
    ]
    if alerts.escalate_after is not None:
        notes.append(
            _(
                "A missed deadline is escalated to the team's manager after %(duration)s.",
                duration=lang.duration(alerts.escalate_after),
            )
        )
    if alerts.reassign_after is not None:
        notes.append(
            _(
                "A lead whose deadline was missed is reassigned after %(duration)s.",
                duration=lang.duration(alerts.reassign_after),
            )
        )
    blocks.append(Heading(_("Alerts")))
    blocks.append(Bullets(tuple(notes)))
    return blocks


def _kpi_target(lang: Lang, pact: Pact, kpi: KpiName, target: float | None) -> str:
    if target is None:
        return "–"
    if kpi in (KpiName.REVENUE, KpiName.COST_PER_CUSTOMER):
        return lang.money(target, pact.currency)
    if kpi is KpiName.FIRST_RESPONSE_TIME:
        from datetime import timedelta

        return lang.business_duration(timedelta(seconds=target))
    if kpi is KpiName.MARKETING_ROI:
        return lang._("%(num)s× the marketing spend", num=lang.number(target))
    return lang.percent(target)


def _analysis(pact: Pact, lang: Lang, version: VersionInfo | None) -> list[Block]:
    _ = lang._
    blocks: list[Block] = [
        Paragraph(
            _(
                "Both teams follow these key figures to see the progress and the effect of the "
                "joint effort."
            )
        ),
        Table(
            (_("KPI"), _("Target"), _("Note")),
            tuple(
                (
                    kpi_label(lang, k.kpi),
                    _kpi_target(lang, pact, k.kpi, k.target),
                    k.description or "–",
                )
                for k in pact.kpis
            ),
            (4, 3, 5),
        ),
    ]
    facts = []
    if pact.costs is not None:
        facts.append(
            (
                _("Marketing spend (%(per)s)", per=per_period(lang, pact.costs.period.value)),
                lang.money(pact.costs.marketing, pact.currency),
            )
        )
    if pact.governance.weekly_status:
        facts.append((_("Weekly status meeting"), pact.governance.weekly_status))
    if facts:
        blocks.append(Facts(tuple(facts)))
    return blocks


def _validity(pact: Pact, lang: Lang, version: VersionInfo | None) -> list[Block]:
    _ = lang._
    g = pact.governance
    if g.valid_until is not None:
        valid = _(
            "This agreement is valid from %(start)s until %(end)s.",
            start=lang.long_date(g.valid_from),
            end=lang.long_date(g.valid_until),
        )
    else:
        valid = _(
            "This agreement is valid from %(start)s until it is renewed.",
            start=lang.long_date(g.valid_from),
        )
    blocks: list[Block] = [
        Paragraph(valid),
        Paragraph(
            _(
                "%(owner)s is responsible for regular reviews of this document. Its content may "
                "be changed as needed, provided the primary stakeholders agree and every "
                "affected party is informed.",
                owner=g.document_owner,
            )
        ),
        Facts(
            (
                (_("Document owner"), g.document_owner),
                (_("Reviews"), cadence_name(lang, g.review.cadence)),
                (_("Last review"), lang.long_date(g.review.last)),
                (_("Next review"), lang.long_date(next_review(g.review))),
            )
        ),
    ]

    def goal_name(goal: str) -> str:
        if goal in {c.id for c in pact.commitments}:
            return _("Commitment %(id)s", id=goal)
        return metric_label(lang, goal)

    def missed(goal: str, periods: int) -> str:
        return lang.ngettext(
            "%(goal)s missed in %(num)s month",
            "%(goal)s missed %(num)s months running",
            periods,
            goal=goal_name(goal),
        )

    if g.consequences:
        blocks.append(Heading(_("Consequences when a goal is missed")))
        blocks.append(
            Table(
                (_("When"), _("Consequence")),
                tuple(
                    (missed(c.when.goal, c.when.missed_periods), c.action) for c in g.consequences
                ),
                (2, 3),
            )
        )
    if g.cancellation:
        blocks.append(Heading(_("Cancellation conditions")))
        blocks.append(
            Table(
                (_("When"), _("What may happen")),
                tuple(
                    (missed(c.when.goal, c.when.missed_periods), c.description)
                    for c in g.cancellation
                ),
                (2, 3),
            )
        )
    return blocks


def _signatures(pact: Pact, lang: Lang, version: VersionInfo | None) -> list[Block]:
    _ = lang._
    approvals = version.approvals if version is not None else {}
    items = tuple(
        Signature(
            party=party.name,
            name=party.owner.name,
            title=party.owner.title or "",
            approved=_("Approved: %(when)s", when=approvals[pid]) if pid in approvals else "",
        )
        for pid, party in pact.parties.items()
    )
    return [
        Paragraph(
            _(
                "Every party signs the agreement, including parties that did not take part in "
                "writing it."
            )
        ),
        Signatures(items, _("Name"), _("Date"), _("Signature")),
    ]
