"""Sections 1–4 of the agreement document: what is agreed on.

The overview (parties, reporting lines), the ideal customer, the lead definitions (priority
matrix, stages, scoring) and the goals, as translated blocks (`document.build_document`).
"""

from __future__ import annotations

from leadpact.core.pact import Action, Pact, Quadrant, StageSource
from leadpact.reports.document_model import (
    Block,
    Facts,
    Heading,
    Paragraph,
    Table,
    VersionInfo,
)
from leadpact.reports.i18n import Lang
from leadpact.reports.phrases import (
    activity_label,
    cadence_name,
    condition_text,
    metric_label,
    party_name,
    per_period,
)


def build_overview(pact: Pact, lang: Lang, version: VersionInfo | None) -> list[Block]:
    """Section 1: the parties, their owners and contacts, and who reports what to whom."""
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


def build_ideal_customer(pact: Pact, lang: Lang, version: VersionInfo | None) -> list[Block]:
    """Section 2: the ideal-customer criteria and the personas."""
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


def build_lead_definitions(pact: Pact, lang: Lang, version: VersionInfo | None) -> list[Block]:
    """Section 3: the priority matrix, the funnel stages and the scoring."""
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


def build_goals(pact: Pact, lang: Lang, version: VersionInfo | None) -> list[Block]:
    """Section 4: goal targets, reverse-funnel inputs, lead value, sales capacity."""
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
