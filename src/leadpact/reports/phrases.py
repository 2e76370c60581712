"""Plain-language phrases of the agreement: commitments, conditions and opening hours.

Each function turns one part of a `Pact` into translated text for the agreement document,
e.g. "Sales contacts every SQL where priority is 1 within 2 business hours, Monday to
Thursday 09:00–17:00; Friday 09:00–16:00, Copenhagen time." Words the pact's authors wrote
(names, descriptions) are kept as written; everything else comes from the catalogues.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from leadpact.core.calendar import CalendarSpec
from leadpact.core.conditions import All, AnyOf, Condition, FieldTest, Not, Op
from leadpact.core.pact import (
    AcceptanceCommitment,
    Cadence,
    Commitment,
    DeliveryCommitment,
    DeliveryMetric,
    FollowUpCommitment,
    KpiName,
    Pact,
    QualityCommitment,
    ReportCommitment,
    ResponseCommitment,
)
from leadpact.reports.i18n import Lang

Msg = Callable[[Lang], str]


# --------------------------------------------------------------------------- vocabularies


def field_label(lang: Lang, field: str) -> str:
    """The name of a lead field as a reader says it ("number of employees")."""
    labels = {
        "employees": lang._("number of employees"),
        "annual_revenue": lang._("annual revenue"),
        "industry": lang._("industry"),
        "country": lang._("country"),
        "source": lang._("lead source"),
        "title": lang._("job title"),
        "persona": lang._("persona"),
        "fit": lang._("fit score"),
        "fit_grade": lang._("fit grade"),
        "engagement": lang._("engagement score"),
        "priority": lang._("priority"),
        "stage": lang._("stage"),
        "owner": lang._("lead owner"),
        "team": lang._("team"),
        "attempts": lang._("follow-up attempts"),
        "connected": lang._("reached"),
        "opted_out": lang._("opted out"),
    }
    if field.startswith("activities."):
        return activity_label(lang, field.removeprefix("activities."))
    return labels[field]


def activity_label(lang: Lang, kind: str) -> str:
    """The name of an activity type, counted ("pricing page views")."""
    return {
        "page_view": lang._("page views"),
        "pricing_page_view": lang._("pricing page views"),
        "content_download": lang._("content downloads"),
        "form_submission": lang._("form submissions"),
        "email_open": lang._("email opens"),
        "email_click": lang._("email clicks"),
        "webinar": lang._("webinars"),
        "demo_request": lang._("demo requests"),
        "event": lang._("events"),
        "chat": lang._("chats"),
    }[kind]


def every(lang: Lang, cadence: Cadence) -> str:
    """How often, as an adverbial phrase ("every month")."""
    return {
        Cadence.DAILY: lang._("every day"),
        Cadence.WEEKLY: lang._("every week"),
        Cadence.MONTHLY: lang._("every month"),
        Cadence.QUARTERLY: lang._("every quarter"),
        Cadence.HALF_YEARLY: lang._("every six months"),
        Cadence.YEARLY: lang._("every year"),
    }[cadence]


def cadence_name(lang: Lang, cadence: str) -> str:
    """A cadence as a table value ("Half-yearly")."""
    return {
        "daily": lang._("Daily"),
        "weekly": lang._("Weekly"),
        "monthly": lang._("Monthly"),
        "quarterly": lang._("Quarterly"),
        "half-yearly": lang._("Half-yearly"),
        "yearly": lang._("Yearly"),
    }[cadence]


def per_period(lang: Lang, period: str) -> str:
    """A goal period ("month") or cadence ("monthly") as "per month"."""
    return {
        "day": lang._("per day"),
        "week": lang._("per week"),
        "month": lang._("per month"),
        "quarter": lang._("per quarter"),
        "half-year": lang._("per half-year"),
        "year": lang._("per year"),
    }[_PERIOD_OF_CADENCE.get(period, period)]


_PERIOD_OF_CADENCE = {
    "daily": "day",
    "weekly": "week",
    "monthly": "month",
    "quarterly": "quarter",
    "half-yearly": "half-year",
    "yearly": "year",
}


def metric_label(lang: Lang, metric: str) -> str:
    """A goal metric as a table label ("MQLs")."""
    return {
        "leads": lang._("Leads"),
        "mqls": lang._("MQLs"),
        "sqls": lang._("SQLs"),
        "meetings": lang._("Meetings"),
        "customers": lang._("Customers"),
        "revenue": lang._("Revenue"),
        "value": lang._("Lead value"),
    }[metric]


def kpi_label(lang: Lang, kpi: KpiName) -> str:
    """The name of a KPI."""
    return {
        KpiName.LEAD_TO_MQL_RATE: lang._("Lead-to-MQL rate"),
        KpiName.MQL_TO_MEETING_RATE: lang._("MQL-to-meeting rate"),
        KpiName.FIRST_RESPONSE_TIME: lang._("First response time"),
        KpiName.NO_SHOW_RATE: lang._("No-show rate"),
        KpiName.WIN_RATE: lang._("Win rate"),
        KpiName.REVENUE: lang._("Revenue"),
        KpiName.LEAD_TO_CUSTOMER_RATE: lang._("Lead-to-customer rate"),
        KpiName.MARKETING_ROI: lang._("ROI on marketing leads"),
        KpiName.COST_PER_CUSTOMER: lang._("Cost per customer"),
    }[kpi]


def stage_label(pact: Pact, stage_id: str) -> str:
    """A stage as written in sentences: short ids (mql, sql) in capitals, else its name."""
    if len(stage_id) <= 4 and stage_id.isalpha():
        return stage_id.upper()
    return next((s.name for s in pact.stages if s.id == stage_id), stage_id)


def party_name(pact: Pact, party_id: str) -> str:
    """The display name of a party."""
    return pact.parties[party_id].name


# --------------------------------------------------------------------------- conditions


def condition_text(lang: Lang, pact: Pact, condition: Condition) -> str:
    """A condition in words: "fit grade is A or B and engagement score is at least 40"."""
    if isinstance(condition, FieldTest):
        return _test_text(lang, pact, condition)
    if isinstance(condition, Not):
        return lang._("not (%(condition)s)", condition=condition_text(lang, pact, condition.item))
    parts = [_nested(lang, pact, item) for item in condition.items]
    if isinstance(condition, AnyOf):
        return _join_or(lang, parts)
    return lang.join(parts)


def _nested(lang: Lang, pact: Pact, item: Condition) -> str:
    text = condition_text(lang, pact, item)
    if isinstance(item, All | AnyOf) and len(item.items) > 1:
        return f"({text})"
    return text


def _join_or(lang: Lang, parts: list[str]) -> str:
    from babel.lists import format_list

    return format_list(parts, style="or", locale=lang.locale)


def _value_text(lang: Lang, pact: Pact, field: str, value: Any) -> str:
    if isinstance(value, bool):
        return lang._("yes") if value else lang._("no")
    if isinstance(value, int | float):
        if field == "annual_revenue":
            return lang.money(value, pact.currency)
        return lang.number(value)
    if field == "stage":
        return stage_label(pact, str(value))
    return str(value)


def _test_text(lang: Lang, pact: Pact, test: FieldTest) -> str:
    field = field_label(lang, test.field)

    def show(value: Any) -> str:
        return _value_text(lang, pact, test.field, value)

    if test.op is Op.EXISTS:
        if test.value:
            return lang._("%(field)s is known", field=field)
        return lang._("%(field)s is unknown", field=field)
    if test.op in (Op.IN, Op.NOT_IN, Op.CONTAINS):
        values = _join_or(
            lang,
            [show(v) for v in test.value] if isinstance(test.value, tuple) else [show(test.value)],
        )
        if test.op is Op.IN:
            return lang._("%(field)s is %(value)s", field=field, value=values)
        if test.op is Op.NOT_IN:
            return lang._("%(field)s is not %(value)s", field=field, value=values)
        return lang._("%(field)s contains %(value)s", field=field, value=values)
    if test.op is Op.BETWEEN:
        low, high = test.value
        return lang._(
            "%(field)s is between %(low)s and %(high)s", field=field, low=show(low), high=show(high)
        )
    templates = {
        Op.EQ: lang._("%(field)s is %(value)s", field=field, value=show(test.value)),
        Op.NE: lang._("%(field)s is not %(value)s", field=field, value=show(test.value)),
        Op.GT: lang._("%(field)s is above %(value)s", field=field, value=show(test.value)),
        Op.GTE: lang._("%(field)s is at least %(value)s", field=field, value=show(test.value)),
        Op.LT: lang._("%(field)s is below %(value)s", field=field, value=show(test.value)),
        Op.LTE: lang._("%(field)s is at most %(value)s", field=field, value=show(test.value)),
    }
    return templates[test.op]


# --------------------------------------------------------------------------- opening hours


def hours_text(lang: Lang, spec: CalendarSpec) -> str:
    """Weekly hours and time zone: "Monday to Thursday 09:00–17:00; Friday 09:00–16:00, ..."."""
    week = spec.hours.ranges()
    groups: list[tuple[int, int]] = []
    for day, ranges in enumerate(week):
        if not ranges:
            continue
        if groups and groups[-1][1] == day - 1 and week[groups[-1][0]] == ranges:
            groups[-1] = (groups[-1][0], day)
        else:
            groups.append((day, day))
    parts = []
    for first, last in groups:
        if first == last:
            days = lang.weekday(first)
        elif last == first + 1:
            days = lang.join([lang.weekday(first), lang.weekday(last)])
        else:
            days = lang._(
                "%(first)s to %(last)s", first=lang.weekday(first), last=lang.weekday(last)
            )
        spans = [
            f"{lang.clock_time(start)}–{lang.clock_time(end % 1440 if end > 1440 else end)}"
            for start, end in week[first]
        ]
        parts.append(f"{days} {lang.join(spans)}")
    return lang._(
        "%(hours)s, %(zone)s",
        hours="; ".join(parts),
        zone=lang._("%(city)s time", city=lang.zone(spec.timezone)),
    )


def holidays_text(lang: Lang, spec: CalendarSpec) -> str:
    """Which days are closed beside the weekly hours (public holidays, company closures)."""
    parts = []
    if spec.holidays.country is not None:
        country = lang.locale.territories.get(spec.holidays.country, spec.holidays.country)
        parts.append(lang._("public holidays in %(country)s", country=country))
    if spec.holidays.closed:
        parts.append(
            lang._(
                "company closures on %(dates)s",
                dates=lang.join([lang.long_date(d) for d in spec.holidays.closed]),
            )
        )
    return lang.join(parts) if parts else lang._("none")


def _calendars_for(pact: Pact, c: Commitment) -> list[tuple[str, str]]:
    """(team, calendar) pairs a timed commitment is measured on."""
    explicit = getattr(c, "calendar", None)
    if explicit is not None:
        return [("", explicit)]
    return [(name, team.calendar) for name, team in pact.teams.items() if team.party == c.provider]


def _hours_clause(lang: Lang, pact: Pact, c: Commitment) -> str:
    pairs = _calendars_for(pact, c)
    calendars = list(dict.fromkeys(cal for _, cal in pairs))
    if len(calendars) == 1:
        return hours_text(lang, pact.calendars[calendars[0]])
    return lang._(
        "in the business hours of the lead owner's team (%(teams)s; see “Business hours”)",
        teams=_join_or(lang, [team for team, _ in pairs]),
    )


# --------------------------------------------------------------------------- commitments


def _whom(lang: Lang, pact: Pact, stage: str, when: Condition | None) -> str:
    label = stage_label(pact, stage)
    if when is None:
        return label
    return lang._(
        "%(stage)s where %(condition)s", stage=label, condition=condition_text(lang, pact, when)
    )


def commitment_sentences(lang: Lang, pact: Pact, c: Commitment) -> list[str]:
    """The commitment as one or more plain sentences, in the document's language."""
    provider, receiver = party_name(pact, c.provider), party_name(pact, c.receiver)
    if isinstance(c, ResponseCommitment):
        return [
            lang._(
                "%(provider)s contacts every %(whom)s within %(within)s, %(hours)s.",
                provider=provider,
                whom=_whom(lang, pact, c.stage, c.when),
                within=lang.business_duration(c.within),
                hours=_hours_clause(lang, pact, c),
            )
        ]
    if isinstance(c, AcceptanceCommitment):
        return [
            lang._(
                "%(provider)s accepts or rejects every %(whom)s, with a reason, within "
                "%(within)s, %(hours)s.",
                provider=provider,
                whom=_whom(lang, pact, c.stage, c.when),
                within=lang.business_duration(c.within),
                hours=_hours_clause(lang, pact, c),
            )
        ]
    if isinstance(c, FollowUpCommitment):
        return _follow_up(lang, pact, c, provider)
    if isinstance(c, DeliveryCommitment):
        return [
            lang._(
                "%(provider)s delivers %(what)s to %(receiver)s %(every)s.",
                provider=provider,
                what=_delivery_what(lang, pact, c),
                receiver=receiver,
                every=every(lang, c.period),
            )
        ]
    if isinstance(c, QualityCommitment):
        metric = {
            "acceptance_rate": lang._("the share of handed-over leads that are accepted"),
            "mql_to_sql_rate": lang._("the share of MQLs that become SQLs"),
            "sql_to_won_rate": lang._("the share of SQLs that are won"),
        }[c.metric]
        return [
            lang._(
                "%(provider)s keeps %(metric)s at %(rate)s or more, measured %(every)s.",
                provider=provider,
                metric=metric,
                rate=lang.percent(c.target),
                every=every(lang, c.period),
            )
        ]
    return [_report(lang, c, provider, receiver)]


def _report(lang: Lang, c: ReportCommitment, provider: str, receiver: str) -> str:
    return lang._(
        "%(provider)s sends %(receiver)s the report “%(report)s” %(every)s, at the latest "
        "%(due)s after the period ends.",
        provider=provider,
        receiver=receiver,
        report=c.report,
        every=every(lang, c.every),
        due=lang.duration(c.due_within),
    )


def _delivery_what(lang: Lang, pact: Pact, c: DeliveryCommitment) -> str:
    target = c.target
    if c.metric is DeliveryMetric.REVENUE:
        return lang._("at least %(amount)s in revenue", amount=lang.money(target, pact.currency))
    count = lang.number(target)
    return {
        DeliveryMetric.LEADS: lang._("at least %(num)s leads", num=count),
        DeliveryMetric.MQLS: lang._("at least %(num)s MQLs", num=count),
        DeliveryMetric.SQLS: lang._("at least %(num)s SQLs", num=count),
        DeliveryMetric.MEETINGS: lang._("at least %(num)s booked meetings", num=count),
        DeliveryMetric.CUSTOMERS: lang._("at least %(num)s new customers", num=count),
        DeliveryMetric.VALUE: lang._("leads worth at least %(num)s value points", num=count),
    }[c.metric]


def _follow_up(lang: Lang, pact: Pact, c: FollowUpCommitment, provider: str) -> list[str]:
    days = lang.ngettext("%(num)s business day", "%(num)s business days", c.over_days)
    sentences = [
        lang.ngettext(
            "%(provider)s makes at least %(num)s attempt to reach every %(whom)s over %(days)s, "
            "%(hours)s.",
            "%(provider)s makes at least %(num)s attempts to reach every %(whom)s over %(days)s, "
            "%(hours)s.",
            c.attempts,
            provider=provider,
            whom=_whom(lang, pact, c.stage, c.when),
            days=days,
            hours=_hours_clause(lang, pact, c),
        )
    ]
    if c.spacing is not None and c.spacing.total_seconds() > 0:
        sentences.append(
            lang._(
                "Attempts are at least %(spacing)s apart.",
                spacing=lang.business_duration(c.spacing),
            )
        )
    if c.break_up:
        sentences.append(lang._("The last attempt is a break-up email."))
    if c.unless_connected:
        sentences.append(lang._("The attempts stop once the lead has been reached."))
    if c.then is not None:
        sentences.append(
            lang._(
                "Leads not reached after the last attempt move to %(stage)s.",
                stage=stage_label(pact, c.then),
            )
        )
    return sentences
