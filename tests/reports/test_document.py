"""The agreement document's structure and its plain sentences, built from the example pact."""

from __future__ import annotations

from datetime import date

import pytest

from leadpact.core.conditions import parse_condition
from leadpact.reports.document import (
    Bullets,
    Facts,
    Heading,
    Paragraph,
    Signatures,
    Table,
    VersionInfo,
    build_document,
)
from leadpact.reports.i18n import LANGUAGES, get_lang
from leadpact.reports.phrases import commitment_sentences, condition_text, hours_text

EN = get_lang("en")


def section(doc, key):
    return next(s for s in doc.sections if s.key == key)


def blocks(doc, key, kind):
    return [b for b in section(doc, key).blocks if isinstance(b, kind)]


def commitment(pact, cid):
    return next(c for c in pact.commitments if c.id == cid)


def revised(part, **changes):
    return type(part).model_validate({**part.model_dump(by_alias=True), **changes})


@pytest.mark.parametrize("code", LANGUAGES)
def test_the_document_follows_the_template_sections(pact, code):
    doc = build_document(pact, get_lang(code))
    assert [s.key for s in doc.sections] == [
        "overview",
        "icp",
        "leads",
        "goals",
        "handling",
        "analysis",
        "validity",
        "signatures",
    ]
    assert [s.number for s in doc.sections] == list(range(1, 9))
    assert doc.lang == code
    assert all(s.blocks for s in doc.sections)


def test_titles_in_danish_follow_the_danish_template(pact):
    doc = build_document(pact, get_lang("da"))
    assert [s.title for s in doc.sections][:4] == [
        "Overblik over aftalen",
        "Den ideelle kunde",
        "Definitioner på leads",
        "Målsætninger",
    ]
    icp = blocks(doc, "icp", Table)[0]
    assert icp.headers == ("Kriterie", "Karakteristik", "Vigtighed (1–5)")
    assert icp.rows[0] == ("Company size", "More than 200 employees", "1")
    goals = blocks(doc, "goals", Table)[0]
    assert goals.headers[0:2] == ("Beskrivelse", "Mål")
    assert goals.rows[-1] == (
        "Revenue from marketing leads",
        "600.000\u00a0kr.",
        "pr. måned",
        "31. december 2025",
    )


def test_icp_personas_and_matrix_tables(pact):
    doc = build_document(pact, EN)
    criteria, personas = blocks(doc, "icp", Table)
    assert [r[2] for r in criteria.rows] == ["1", "2", "3", "4"]
    assert [r[:2] for r in personas.rows] == [
        ("Dan the director", "Primary persona"),
        ("Hanne, head of sales", "Secondary persona"),
        ("Mads the marketer", "Tertiary persona"),
    ]
    matrix = next(t for t in blocks(doc, "leads", Table) if t.kind == "matrix")
    assert matrix.rows == (("Good fit", "2", "1"), ("Low fit", "4", "3"))
    swapped = pact.model_copy(
        update={"matrix": revised(pact.matrix, priority_2="low_fit_high_engagement")}
    )
    matrix = next(
        t for t in blocks(build_document(swapped, EN), "leads", Table) if t.kind == "matrix"
    )
    assert matrix.rows == (("Good fit", "3", "1"), ("Low fit", "4", "2"))


def test_stages_show_their_entry_criteria_in_words(pact):
    stages = next(
        t for t in blocks(build_document(pact, EN), "leads", Table) if t.headers[0] == "Stage"
    )
    rows = {r[0]: r[2] for r in stages.rows}
    assert rows["Lead"] == "recorded in the CRM"
    assert rows["Marketing qualified lead"] == (
        "fit grade is A or B and (engagement score is at least 40 or pricing page views is at "
        "least 1)"
    )


def test_a_response_commitment_reads_as_a_plain_sentence(pact):
    single = pact.model_copy(
        update={"teams": {k: t for k, t in pact.teams.items() if k != "sales-us"}}
    )
    assert commitment_sentences(EN, single, commitment(pact, "p1-response")) == [
        "Sales contacts every SQL where priority is 1 within 2 business hours, Monday to "
        "Thursday 09:00–17:00; Friday 09:00–16:00, Copenhagen time."
    ]
    assert commitment_sentences(get_lang("da"), single, commitment(pact, "p1-response")) == [
        "Sales kontakter hvert SQL, hvor prioritet er 1, inden for 2 arbejdstimer, mandag til "
        "torsdag 09.00–17.00; fredag 09.00–16.00, tidszone København."
    ]


def test_a_party_with_two_calendars_points_to_the_business_hours(pact):
    (sentence,) = commitment_sentences(EN, pact, commitment(pact, "mql-acceptance"))
    assert sentence == (
        "Sales accepts or rejects every MQL, with a reason, within 8 business hours, in the "
        "business hours of the lead owner's team (sales-dk or sales-us; see “Business hours”)."
    )


def test_an_explicit_calendar_wins(pact):
    c = revised(commitment(pact, "sql-response"), calendar="marketing-dk")
    (sentence,) = commitment_sentences(EN, pact, c)
    assert sentence.endswith("Monday to Thursday 08:30–16:30; Friday 08:30–15:00, Copenhagen time.")


def test_every_commitment_kind_has_sentences(pact):
    texts = {c.id: " ".join(commitment_sentences(EN, pact, c)) for c in pact.commitments}
    assert texts["mql-delivery"] == "Marketing delivers at least 80 MQLs to Sales every month."
    assert texts["mql-quality"] == (
        "Marketing keeps the share of handed-over leads that are accepted at 70% or more, "
        "measured every month."
    )
    assert texts["sql-follow-up"].startswith(
        "Sales makes at least 3 attempts to reach every SQL over 10 business days, "
    )
    assert texts["sql-follow-up"].endswith(
        "Attempts are at least 8 business hours apart. The last attempt is a break-up email. "
        "The attempts stop once the lead has been reached. Leads not reached after the last "
        "attempt move to Recycled to nurture."
    )
    assert texts["friction-report"] == (
        "Sales sends Customer Service the report “Customer friction report” every month, at the "
        "latest 5 days after the period ends."
    )


@pytest.mark.parametrize(
    ("metric", "target", "expected"),
    [
        ("leads", 200, "at least 200 leads"),
        ("sqls", 40, "at least 40 SQLs"),
        ("meetings", 12, "at least 12 booked meetings"),
        ("customers", 10, "at least 10 new customers"),
        ("revenue", 600000, "at least DKK\u00a0600,000 in revenue"),
        ("value", 5000, "leads worth at least 5,000 value points"),
    ],
)
def test_delivery_sentences_per_metric(pact, metric, target, expected):
    c = revised(commitment(pact, "mql-delivery"), metric=metric, target=target, period="weekly")
    assert commitment_sentences(EN, pact, c) == [
        f"Marketing delivers {expected} to Sales every week."
    ]


def test_a_single_follow_up_attempt_is_singular(pact):
    c = revised(
        commitment(pact, "sql-follow-up"),
        attempts=1,
        over_days=1,
        spacing=None,
        break_up=False,
        unless_connected=False,
        then=None,
        when={"priority": 1},
        calendar="sales-dk",
    )
    assert commitment_sentences(EN, pact, c) == [
        "Sales makes at least 1 attempt to reach every SQL where priority is 1 over 1 business "
        "day, Monday to Thursday 09:00–17:00; Friday 09:00–16:00, Copenhagen time."
    ]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ({"employees": {"between": [50, 500]}}, "number of employees is between 50 and 500"),
        ({"annual_revenue": {"gt": 1000000}}, "annual revenue is above DKK\u00a01,000,000"),
        ({"engagement": {"lt": 5}}, "engagement score is below 5"),
        ({"attempts": {"lte": 3}}, "follow-up attempts is at most 3"),
        ({"country": {"ne": "DK"}}, "country is not DK"),
        ({"industry": {"not_in": ["retail", "gov"]}}, "industry is not retail or gov"),
        ({"title": {"contains": "head"}}, "job title contains head"),
        ({"source": {"exists": True}}, "lead source is known"),
        ({"persona": {"exists": False}}, "persona is unknown"),
        ({"connected": True, "opted_out": False}, "reached is yes and opted out is no"),
        ({"not": {"stage": "sql"}}, "not (stage is SQL)"),
        ({"stage": "nurture"}, "stage is Recycled to nurture"),
        ({"activities.webinar": {"gte": 1}}, "webinars is at least 1"),
        (
            {"any": [{"fit": {"gte": 80}}, {"all": [{"owner": "ann"}, {"team": "dk"}]}]},
            "fit score is at least 80 or (lead owner is ann and team is dk)",
        ),
    ],
)
def test_conditions_in_words(pact, raw, expected):
    assert condition_text(EN, pact, parse_condition(raw)) == expected


def test_opening_hours_group_equal_days(pact):
    weekend = revised(
        pact.calendars["sales-dk"],
        hours={
            "mon": "09:00-17:00",
            "tue": "09:00-17:00",
            "thu": "22:00-06:00",
            "sat": "10:00-14:00",
        },
    )
    assert hours_text(EN, weekend) == (
        "Monday and Tuesday 09:00–17:00; Thursday 22:00–06:00; Saturday 10:00–14:00, "
        "Copenhagen time"
    )
    whole = revised(pact.calendars["sales-dk"], hours={"sun": "00:00-24:00"})
    assert hours_text(get_lang("it"), whole) == "domenica 00:00–24:00, fuso orario di Copenaghen"


def test_handling_rules_and_business_hours(pact):
    doc = build_document(pact, EN)
    rules = blocks(doc, "handling", Bullets)[-2].items
    assert rules[-1] == (
        "Leads who opt out are deleted from the database within 30 days; only anonymous counts "
        "are kept."
    )
    assert (
        "Leads are disqualified automatically where fit grade is D and engagement score is below 5."
        in rules
    )
    calendars = next(t for t in blocks(doc, "handling", Table) if t.headers[0] == "Calendar")
    assert (
        calendars.rows[0][3]
        == "public holidays in Denmark and company closures on 31 December 2025"
    )
    assert calendars.rows[2][1] == "marketing"
    headings = [h.text for h in blocks(doc, "handling", Heading)]
    assert headings[:3] == [
        "Marketing commits to Sales",
        "Sales commits to Marketing",
        "Sales commits to Customer Service",
    ]
    assert blocks(doc, "handling", Bullets)[2].refs == ("friction-report",)


def test_handling_without_optional_rules(pact):
    handling = revised(
        pact.handling,
        contact_non_sql={"allowed": False},
        recycle=None,
        disqualify=None,
        reject_reasons=[],
    )
    alerts = revised(pact.alerts, escalate_after=None, reassign_after=None)
    calendars = {**pact.calendars, "spare": revised(pact.calendars["sales-us"], holidays={})}
    bare = pact.model_copy(update={"handling": handling, "alerts": alerts, "calendars": calendars})
    doc = build_document(bare, EN)
    rules = blocks(doc, "handling", Bullets)[-2].items
    assert "Leads that are not yet sales qualified are not contacted by sales." in rules
    assert not any(r.startswith(("Recycled", "Disqualified", "Reasons")) for r in rules)
    assert blocks(doc, "handling", Bullets)[-1].items == (
        "The lead owner is warned 30 minutes before a deadline.",
    )
    calendar_rows = next(
        t for t in blocks(doc, "handling", Table) if t.headers[0] == "Calendar"
    ).rows
    assert calendar_rows[-1][1:] == ("–", calendar_rows[-1][2], "none")
    contact = revised(pact.handling.contact_non_sql, when=None, how=None)
    open_contact = pact.model_copy(
        update={"handling": revised(pact.handling, contact_non_sql=contact)}
    )
    rules = blocks(build_document(open_contact, EN), "handling", Bullets)[-2].items
    assert "Leads that are not yet sales qualified may be contacted." in rules


def test_goals_kpis_and_validity(pact):
    doc = build_document(pact, EN)
    inputs = blocks(doc, "goals", Facts)[0].items
    assert inputs[0] == ("Sales quota (per month)", "DKK\u00a01,200,000")
    assert ("Close rate from lead to customer", "5%") in inputs
    kpis = blocks(doc, "analysis", Table)[0]
    assert (
        "First response time",
        "2 business hours",
        "Median business seconds to first touch",
    ) in kpis.rows
    assert ("ROI on marketing leads", "3× the marketing spend", "–") in kpis.rows
    facts = dict(blocks(doc, "validity", Facts)[0].items)
    assert facts == {
        "Document owner": "Mette Holm",
        "Reviews": "Half-yearly",
        "Last review": "1 January 2025",
        "Next review": "1 July 2025",
    }
    consequences, cancellation = blocks(doc, "validity", Table)
    assert consequences.rows[1][0] == "Commitment p1-response missed 2 months running"
    assert cancellation.rows == (
        (
            "MQLs missed 3 months running",
            "Either party may call an extraordinary review and renegotiate the agreement",
        ),
    )
    assert blocks(doc, "validity", Paragraph)[0].text == (
        "This agreement is valid from 1 January 2025 until 31 December 2025."
    )


def test_a_lean_pact(pact):
    kpis = [
        revised(k, target=t)
        for k, t in zip(pact.kpis[:5], [None, 0.3, 7200, 0.25, 600000], strict=True)
    ]
    kpis.append(revised(pact.kpis[0], kpi="cost_per_customer", target=15000))
    goals = revised(pact.goals, targets=[], inputs=None, values=None, capacity=None)
    governance = revised(
        pact.governance, valid_until=None, consequences=[], cancellation=[], weekly_status=None
    )
    lean = pact.model_copy(
        update={"goals": goals, "governance": governance, "costs": None, "kpis": kpis}
    )
    doc = build_document(lean, EN)
    assert blocks(doc, "goals", Paragraph)[0].text.startswith("The goals are specific")
    assert not blocks(doc, "goals", Table)
    assert blocks(doc, "analysis", Table)[0].rows[0][1] == "–"
    assert blocks(doc, "analysis", Table)[0].rows[-1][1] == "DKK\u00a015,000"
    assert not blocks(doc, "analysis", Facts)
    assert not blocks(doc, "validity", Table)
    assert blocks(doc, "validity", Paragraph)[0].text == (
        "This agreement is valid from 1 January 2025 until it is renewed."
    )
    none = build_document(pact.model_copy(update={"goals": None}), EN)
    assert blocks(none, "goals", Paragraph)[0].text == "The agreement sets no goals."


def test_signatures_show_approvals_of_a_recorded_version(pact):
    draft = build_document(pact, EN)
    assert dict(draft.front.items)["Status"] == "Draft: not yet approved by every party"
    (block,) = blocks(draft, "signatures", Signatures)
    assert [(s.party, s.name, s.approved) for s in block.items] == [
        ("Marketing", "Mette Holm", ""),
        ("Sales", "Lars Nielsen", ""),
        ("Customer Service", "Anna Kruse", ""),
    ]
    version = VersionInfo(
        2, "in force", date(2025, 3, 15), {"sales": "Lars Nielsen, 15 March 2025"}
    )
    doc = build_document(pact, EN, version)
    front = dict(doc.front.items)
    assert front["Version"] == "2"
    assert front["In force from"] == "15 March 2025"
    (block,) = blocks(doc, "signatures", Signatures)
    assert block.items[1].approved == "Approved: Lars Nielsen, 15 March 2025"
    pending = build_document(pact, EN, VersionInfo(3, "pending approval"))
    assert dict(pending.front.items)["Status"] == "Draft: not yet approved by every party"


def test_the_structure_is_plain_data(pact):
    data = build_document(pact, EN).as_dict()
    assert data["sections"][0]["blocks"][0]["type"] == "paragraph"
    assert data["labels"]["page"] == "Page %(page)s of %(pages)s"
