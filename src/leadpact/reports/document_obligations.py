"""Sections 5–8 of the agreement document: how the parties keep the agreement.

Lead handling (commitments, handling rules, business hours, alerts), analysis (KPIs and their
targets), validity (review, consequences, cancellation) and signatures, as translated blocks
(`document.build_document`).
"""

from __future__ import annotations

from leadpact.core.governance_dates import next_review
from leadpact.core.pact import KpiName, Pact
from leadpact.reports.document_model import (
    Block,
    Bullets,
    Facts,
    Heading,
    Paragraph,
    Signature,
    Signatures,
    Table,
    VersionInfo,
)
from leadpact.reports.i18n import Lang
from leadpact.reports.phrases import (
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


def build_handling(pact: Pact, lang: Lang, version: VersionInfo | None) -> list[Block]:
    """Section 5: commitments, handling rules, business hours and alerts."""
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


def build_analysis(pact: Pact, lang: Lang, version: VersionInfo | None) -> list[Block]:
    """Section 6: the KPIs with their targets, marketing spend, status meeting."""
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


def build_validity(pact: Pact, lang: Lang, version: VersionInfo | None) -> list[Block]:
    """Section 7: validity, reviews, consequences and cancellation conditions."""
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


def build_signatures(pact: Pact, lang: Lang, version: VersionInfo | None) -> list[Block]:
    """Section 8: one signature field per party, with its approval if recorded."""
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
