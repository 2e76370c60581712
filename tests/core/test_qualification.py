"""Dating the pact's moves: the instant a lead qualified, from its history (hand-derived cases
and a property against the scalar path)."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import assume, event, given
from hypothesis import strategies as st

import leadpact
from leadpact.core import qualification
from leadpact.core.conditions import ACTIVITY_TYPES
from leadpact.core.lifecycle import decide_stage, decision_fields
from leadpact.core.models import FACT_FIELDS, Activity, LeadFacts
from leadpact.core.pact import EngagementRules, Pact
from leadpact.core.qualification import qualified_at, reaches
from leadpact.core.scoring import score, score_many, score_many_at, scored_facts, type_codes
from leadpact.errors import LeadPactError
from leadpact.pact_file import parse_pact

EXAMPLE_TEXT = (Path(leadpact.__file__).parent / "data" / "pact.yaml").read_text("utf-8")
PACT = parse_pact(EXAMPLE_TEXT)
#: Disqualifies leads sales tried twice without reaching them (touch facts).
GHOSTS = parse_pact(
    EXAMPLE_TEXT.replace(
        "when: {fit_grade: D, engagement: {lt: 5}}",
        "when: {attempts: {gte: 2}, connected: false}",
    )
)
NOW = datetime(2025, 6, 2, 12, 0, tzinfo=UTC)
DAY = timedelta(days=1)
US = timedelta(microseconds=1)

GOOD_FIT: dict[str, Any] = {
    "employees": 250,
    "industry": "Software",
    "country": "DK",
    "title": "CEO",
}
JUNK: dict[str, Any] = {"employees": 5, "industry": "retail", "country": "US", "title": "Student"}


def with_rules(pact: Pact, **changes: Any) -> Pact:
    rules = EngagementRules(**(pact.scoring.engagement.model_dump() | changes))
    return pact.model_copy(
        update={"scoring": pact.scoring.model_copy(update={"engagement": rules})}
    )


def lead(lead_id: str = "l1", **facts: Any) -> LeadFacts:
    base: dict[str, Any] = {
        "id": lead_id,
        "stage": "lead",
        "stage_at": NOW - 300 * DAY,
        "created_at": NOW - 300 * DAY,
    }
    return LeadFacts(**(base | facts))


def naive(at: datetime) -> datetime:
    return at.astimezone(UTC).replace(tzinfo=None)


def objects(values: list[Any]) -> np.ndarray:
    array = np.empty(len(values), dtype=object)
    array[:] = values
    return array


def date(
    leads: list[LeadFacts],
    activities: list[Activity],
    targets: list[str],
    pact: Pact = PACT,
    *,
    touches: list[tuple[str, datetime, bool]] | None = None,
    now: datetime = NOW,
) -> list[datetime]:
    """`qualified_at` for value objects; `since` is the later of creation and stage entry."""
    touches = touches or []
    position = {x.id: i for i, x in enumerate(leads)}
    columns = {"id": objects([x.id for x in leads])}
    columns |= {name: objects([getattr(x, name) for x in leads]) for name in FACT_FIELDS}
    history: dict[str, np.ndarray] = {
        "lead": np.array([position.get(a.lead_id, len(leads)) for a in activities], dtype=np.int64),
        "type": type_codes(objects([a.type for a in activities])),
        "at": np.array([naive(a.at) for a in activities], dtype="datetime64[us]"),
    }
    made: dict[str, np.ndarray] = {
        "lead": np.array([position[lead_id] for lead_id, _, _ in touches], dtype=np.int64),
        "at": np.array([naive(at) for _, at, _ in touches], dtype="datetime64[us]"),
        "connected": np.array([c for _, _, c in touches], dtype=np.bool_),
    }
    since = np.array([naive(max(x.created_at, x.stage_at)) for x in leads], "datetime64[us]")
    found = qualified_at(columns, history, objects(targets), since, pact, now=now, touches=made)
    return [d.replace(tzinfo=UTC) for d in found.astype("datetime64[us]").tolist()]


def webinar(at: datetime, lead_id: str = "l1") -> Activity:
    return Activity(lead_id, "webinar", at)


# --- Hand-derived cases ----------------------------------------------------------------------


def test_the_activity_that_crosses_the_threshold_dates_the_move():
    # Webinars earn 20 points, halving every 30 days. After the second one (5 days after
    # the first) engagement is 20 * 0.5**(5/30) + 20 = 37.8 < 40; the third (2 days later)
    # brings 20 * 0.5**(7/30) + 20 * 0.5**(2/30) + 20 = 56.1 >= 40: an MQL from then on.
    first = NOW - 10 * DAY
    acts = [
        webinar(first),
        webinar(first + 5 * DAY),
        webinar(first + 7 * DAY),
        Activity("l1", "page_view", NOW - DAY),
    ]
    assert date([lead(**GOOD_FIT)], acts, ["mql"]) == [first + 7 * DAY]


def test_a_score_that_decayed_below_the_threshold_between_activities_lapsed():
    # Three downloads (45 points) made the lead an MQL 60 days ago; five days later decay
    # took it below 40 (45 * 0.5**(5.1/30)); two webinars 10 days ago lifted it to
    # 45 * 0.5**(50/30) + 40 = 54 and it stays above 40 until now: dated at the webinars.
    acts = [Activity("l1", "content_download", NOW - 60 * DAY) for _ in range(3)]
    acts += [webinar(NOW - 10 * DAY), webinar(NOW - 10 * DAY)]
    assert date([lead(**GOOD_FIT)], acts, ["mql"]) == [NOW - 10 * DAY]


def test_decay_dates_a_disqualification_to_the_microsecond():
    # A junk lead's only webinar (20 points) decays below the rule's 5 points after two
    # half-lives: exactly 5.0 at 60 days (not below), below 5 one microsecond later.
    acts = [webinar(NOW - 100 * DAY)]
    assert date([lead(**JUNK)], acts, ["disqualified"]) == [NOW - 40 * DAY + US]


def test_decay_before_the_next_activity_dates_the_move_before_it():
    # As above, and a page view (1 point) 10 days ago: engagement was already below 5
    # then (2.5 + 1), so the page view is not the date; the decay crossing is.
    acts = [webinar(NOW - 100 * DAY), Activity("l1", "page_view", NOW - 10 * DAY)]
    assert date([lead(**JUNK)], acts, ["disqualified"]) == [NOW - 40 * DAY + US]


def test_a_lapse_between_two_decay_crossings_dates_the_later_one():
    # Decay took the junk lead below 5 points 40 days before NOW (its first webinar, w1, was
    # 60 days old); a second webinar w2, 80 days after w1, lifted it above; decided 50 days
    # after NOW, the lead is below 5 again since 0.5**((t - w2)/30d) * (20 * 0.5**(80/30) + 20)
    # fell below 5, about 66.3 days after w2 (w1 is still inside the window).
    w1, w2 = NOW - 100 * DAY, NOW - 20 * DAY
    factor = 5 / (20 * 0.5 ** (80 / 30) + 20)
    crossing = w2 + timedelta(days=30 * math.log(factor, 0.5))
    [found] = date([lead(**JUNK)], [webinar(w1), webinar(w2)], ["disqualified"], now=NOW + 50 * DAY)
    assert crossing - US <= found <= crossing + US


def test_a_lead_qualifying_by_fit_alone_is_dated_at_creation_or_stage_entry():
    created = NOW - 30 * DAY
    newer = lead("new", created_at=created, stage_at=created, **JUNK)
    moved = lead("moved", created_at=created, stage_at=NOW - 3 * DAY, **JUNK)
    assert date([newer, moved], [], ["disqualified", "disqualified"]) == [
        created,
        NOW - 3 * DAY,
    ]


def test_never_before_the_lead_entered_its_stage():
    # The pricing-page view 20 days ago qualified the lead for MQL; it entered its current
    # stage 5 days ago (say, recycled back to `lead`): dated then.
    entered = NOW - 5 * DAY
    acts = [Activity("l1", "pricing_page_view", NOW - 20 * DAY)]
    assert date([lead(stage_at=entered, **GOOD_FIT)], acts, ["mql"]) == [entered]


def test_a_lapsed_qualification_is_dated_at_its_latest_start():
    # A pricing-page view makes a good-fit lead an MQL while it is inside the 180-day window;
    # the first one left the window (180 days and 1 µs after it), the second came later.
    first, second = NOW - 250 * DAY, NOW - 30 * DAY
    acts = [
        Activity("l1", "pricing_page_view", first),
        Activity("l1", "pricing_page_view", second),
    ]
    assert date([lead(**GOOD_FIT)], acts, ["mql"]) == [second]


def test_an_activity_leaving_the_window_can_qualify_a_lead():
    # Without decay a junk lead keeps its webinar's 20 points until the webinar is more than
    # 180 days old: disqualified one microsecond after it is exactly 180 days old.
    pact = with_rules(PACT, half_life=None)
    acts = [webinar(NOW - 200 * DAY)]
    assert date([lead(**JUNK)], acts, ["disqualified"], pact) == [NOW - 20 * DAY + US]


def test_touches_date_a_rule_on_attempts():
    # Two attempts without a connection disqualify: the second attempt dates the move.
    tries = [
        ("a", NOW - 9 * DAY, False),
        ("a", NOW - 4 * DAY, False),
        ("b", NOW - 20 * DAY, False),
        ("b", NOW - 8 * DAY, False),
        ("b", NOW - 2 * DAY, False),
    ]
    found = date([lead("a"), lead("b")], [], ["disqualified"] * 2, GHOSTS, touches=tries)
    assert found == [NOW - 4 * DAY, NOW - 8 * DAY]


def test_touches_are_ignored_when_no_rule_tests_them():
    # The example pact's rules read no touch facts: a connection changes nothing.
    tries = [("l1", NOW - 200 * DAY, True)]
    assert date([lead(**JUNK)], [], ["disqualified"], touches=tries) == [NOW - 300 * DAY]


def test_a_stage_entry_after_now_gives_now():
    future = lead(stage_at=NOW + DAY, created_at=NOW + DAY, **JUNK)
    assert date([future], [], ["disqualified"]) == [NOW]


def test_a_rule_met_only_at_now_is_dated_now():
    acts = [Activity("l1", "pricing_page_view", NOW)]
    assert date([lead(**GOOD_FIT)], acts, ["mql"]) == [NOW]


def test_activities_after_now_and_without_instant_are_ignored():
    pact = with_rules(PACT, half_life=None)
    acts = [webinar(NOW - 200 * DAY), webinar(NOW + DAY)]
    columns = {"id": objects(["l1"])} | {
        f: objects([getattr(lead(**JUNK), f)]) for f in FACT_FIELDS
    }
    history: dict[str, np.ndarray] = {
        "lead": np.array([0, 0, 0]),
        "type": type_codes(objects(["webinar", "webinar", "webinar"])),
        "at": np.array([naive(a.at) for a in acts] + ["NaT"], dtype="datetime64[us]"),
    }
    since = np.array([naive(NOW - 300 * DAY)], dtype="datetime64[us]")
    found = qualified_at(columns, history, objects(["disqualified"]), since, pact, now=NOW)
    assert found.tolist() == [naive(NOW - 20 * DAY + US)]


def test_fit_that_depends_on_activities_is_scored_at_each_instant():
    # Revenue's criterion (weight 2) replaced by "two webinars": a retail company in Denmark
    # with 250 employees has fit (5 + 3) / 14 = 57 (grade C) until its second webinar makes it
    # (5 + 3 + 2) / 14 = 71 (B); its pricing-page view already met the engagement part.
    pact = parse_pact(
        EXAMPLE_TEXT.replace(
            "when: {annual_revenue: {gte: 50000000}}", "when: {activities.webinar: {gte: 2}}"
        )
    )
    one = lead(employees=250, industry="retail", country="DK", title="CEO")
    acts = [
        Activity("l1", "pricing_page_view", NOW - 20 * DAY),
        webinar(NOW - 10 * DAY),
        webinar(NOW - 5 * DAY),
    ]
    assert date([one], acts, ["mql"], pact) == [NOW - 5 * DAY]


def test_a_rule_on_priority_is_dated_where_the_priority_changed():
    # MQL = grade A or B and priority 1 (good fit, engagement >= 40): as in the first case,
    # the third webinar takes engagement past 40.
    pact = parse_pact(EXAMPLE_TEXT.replace("- {engagement: {gte: 40}}", "- {priority: 1}"))
    first = NOW - 10 * DAY
    acts = [webinar(first), webinar(first + 5 * DAY), webinar(first + 7 * DAY)]
    assert date([lead(**GOOD_FIT)], acts, ["mql"], pact) == [first + 7 * DAY]


def test_a_score_that_rises_as_it_decays_is_found_by_bisection():
    # With a negative type, a capped sum can make engagement rise as everything decays: six
    # page views (10 points each, capped at 20) and an email open worth -10 give 20 - 10 * f
    # while 60 * f >= 20 (f = 0.5 ** (age / 30 days)): 10 at first, exactly 15 when f = 0.5,
    # 30 days later. An MQL entry at 15 points holds from then until f < 0.3 (52 days).
    pact = with_rules(
        parse_pact(EXAMPLE_TEXT.replace("{engagement: {gte: 40}}", "{engagement: {gte: 15}}")),
        points={"page_view": 10, "email_open": -10},
        caps={"page_view": 20},
    )
    start = NOW - 40 * DAY
    acts = [Activity("l1", "page_view", start) for _ in range(6)]
    acts.append(Activity("l1", "email_open", start))
    assert date([lead(**GOOD_FIT)], acts, ["mql"], pact) == [start + 30 * DAY]


def test_a_move_past_the_target_counts_as_reaching_it():
    decided = objects(["sql", "mql", "lead", "disqualified", "won", "nurture"])
    targets = objects(["mql", "mql", "mql", "mql", "nurture", "nurture"])
    assert reaches(decided, targets, PACT).tolist() == [True, True, False, False, False, True]


def test_many_small_batches_give_the_same_dates(monkeypatch):
    first = NOW - 10 * DAY
    leads = [lead(f"l{i}", **GOOD_FIT) for i in range(4)] + [lead("junk", **JUNK)]
    acts = [webinar(first + k * DAY, f"l{i}") for i in range(4) for k in (0, 5, 6 + i)]
    acts.append(webinar(NOW - 100 * DAY, "junk"))
    targets = ["mql"] * 4 + ["disqualified"]
    expected = date(leads, acts, targets)
    monkeypatch.setattr(qualification, "PAIRS", 2)
    assert date(leads, acts, targets) == expected
    assert expected[:4] == [first + (6 + i) * DAY for i in range(4)]


def test_activities_of_unknown_types_change_nothing():
    # Code 99 and -1 (unknown types) and a chat (no points, not tested) are ignored.
    one = lead(**JUNK)
    columns = {"id": objects(["l1"])} | {f: objects([getattr(one, f)]) for f in FACT_FIELDS}
    history: dict[str, np.ndarray] = {
        "lead": np.zeros(4, dtype=np.int64),
        "type": np.array([99, -1, ACTIVITY_TYPES.index("chat"), 99], dtype=np.int16),
        "at": np.array([naive(NOW - k * DAY) for k in (50, 40, 30, 20)], "datetime64[us]"),
    }
    since = np.array([naive(NOW - 100 * DAY)], dtype="datetime64[us]")
    found = qualified_at(columns, history, objects(["disqualified"]), since, PACT, now=NOW)
    assert found.tolist() == [naive(NOW - 100 * DAY)]


def test_no_leads():
    assert date([], [], []) == []


def test_naive_now_is_refused():
    with pytest.raises(LeadPactError, match="timezone-aware 'now'"):
        date([lead()], [], ["mql"], now=NOW.replace(tzinfo=None))


def test_activities_of_unknown_leads_are_refused():
    with pytest.raises(ValueError, match=r"event lead positions must lie in 0\.\.0"):
        date([lead()], [Activity("l1", "webinar", NOW), Activity("l2", "webinar", NOW)], ["mql"])


def test_decision_fields_list_what_the_rules_test():
    assert decision_fields(PACT) == {
        "fit_grade",
        "engagement",
        "activities.pricing_page_view",
        "activities.demo_request",
        "stage",
    }
    assert {"attempts", "connected"} <= decision_fields(GHOSTS)
    assert GHOSTS.handling.disqualify is not None
    rule = GHOSTS.handling.disqualify.model_copy(update={"when": None})
    manual = GHOSTS.model_copy(
        update={"handling": GHOSTS.handling.model_copy(update={"disqualify": rule})}
    )
    assert decision_fields(manual) == decision_fields(PACT)  # the stage entries only


def test_scoring_at_each_leads_own_instant_is_scoring_at_that_instant():
    leads = [lead("a", **GOOD_FIT), lead("b", **JUNK)]
    acts = [webinar(NOW - 3 * DAY, "a"), webinar(NOW - 50 * DAY, "b"), webinar(NOW, "b")]
    columns = {"id": objects(["a", "b"])}
    columns |= {f: objects([getattr(x, f) for x in leads]) for f in FACT_FIELDS}
    history: dict[str, np.ndarray] = {
        "lead": np.array([0, 1, 1]),
        "type": type_codes(objects(["webinar"] * 3)),
        "at": np.array([naive(a.at) for a in acts], dtype="datetime64[us]"),
    }
    instants = [NOW - DAY, NOW - 7 * DAY]
    each = score_many_at(
        columns, history, PACT, at=np.array([naive(t) for t in instants], "M8[us]")
    )
    for i, at in enumerate(instants):
        alone = score_many(columns, history, PACT, now=at)
        assert each.engagement[i] == alone.engagement[i]
        assert each.fit[i] == alone.fit[i]
        assert each.counts["webinar"][i] == alone.counts["webinar"][i]
    with pytest.raises(ValueError, match="one instant per lead"):
        score_many_at(columns, history, PACT, at=np.array([naive(NOW)], "M8[us]"))
    with pytest.raises(ValueError, match="one instant per lead"):
        score_many_at(columns, history, PACT, at=np.array([naive(NOW), "NaT"], "M8[us]"))


# --- Properties ------------------------------------------------------------------------------


def holds(one: LeadFacts, acts, touches, target: str, pact: Pact, at: datetime) -> bool:
    """Does the scalar path, as of `at`, take the lead to `target` (or past it)?"""
    result = score(one, sorted(acts, key=lambda a: a.at), pact, now=at)
    made = [t for t in touches if t[1] <= at]
    extra = {"attempts": len(made), "connected": any(c for _, _, c in made)}
    decided = decide_stage(scored_facts(one, result, **extra), one.stage, pact)
    return bool(reaches(objects([decided]), objects([target]), pact)[0])


def change_instants(acts, touches, pact: Pact) -> list[datetime]:
    """Where a lead's facts change: activities, window exits, touches (if the rules read
    them)."""
    window = pact.scoring.engagement.window
    found = [a.at for a in acts]
    if decision_fields(pact) & {"attempts", "connected"}:
        found += [t[1] for t in touches]
    return found + ([a.at + window + US for a in acts] if window is not None else [])


def instants(first_day: int, last_day: int) -> st.SearchStrategy[datetime]:
    """Instants (to the microsecond) from `first_day` to `last_day` days after NOW."""
    micros = st.integers(first_day * 86_400 * 10**6, last_day * 86_400 * 10**6)
    return micros.map(lambda us: NOW + timedelta(microseconds=us))


#: Leads mostly enter their stage well before their activities; now and then after NOW.
entries = st.one_of(instants(-400, -100), instants(-100, 3))
#: Activities and touches: the last 250 days, now and then just after NOW.
HAPPENED = instants(-250, 2)
fits = st.sampled_from([GOOD_FIT, JUNK, GOOD_FIT | {"country": "US"}])
kinds = st.sampled_from(
    [
        "webinar",
        "pricing_page_view",
        "page_view",
        "demo_request",
        "email_open",
        "content_download",
        "chat",  # no points: counted, changes nothing the rules read
        "unknown",  # ignored
    ]
)
pacts = st.sampled_from(
    [
        PACT,
        GHOSTS,
        with_rules(PACT, half_life=None),
        with_rules(PACT, window=None),
        with_rules(PACT, half_life=timedelta(days=3), window=timedelta(days=20)),
    ]
)


def drawn_lead(
    fits: st.SearchStrategy[dict[str, Any]],
    kinds: st.SearchStrategy[str],
    entries: st.SearchStrategy[datetime] = entries,
    happened: st.SearchStrategy[datetime] = HAPPENED,
) -> st.SearchStrategy[tuple[LeadFacts, list[tuple[str, datetime]], list[Any]]]:
    """A lead (created and entering its stage at `entries`) with its activities and touches
    (at `happened`); the lead id is set later."""
    return st.builds(
        lambda fit, stage, created, entered, acts, touches: (
            lead(stage=stage, created_at=created, stage_at=max(created, entered), **fit),
            acts,
            touches,
        ),
        fits,
        st.sampled_from(["lead", "lead", "mql", "sal"]),
        entries,
        entries,
        st.lists(st.tuples(kinds, happened), max_size=10),
        st.lists(st.tuples(happened, st.booleans()), max_size=4),
    )


any_lead = drawn_lead(st.sampled_from([GOOD_FIT, JUNK, GOOD_FIT | {"country": "US"}]), kinds)
#: Junk leads with a few big activities: disqualified once decay takes them below 5 points.
fading_lead = drawn_lead(
    st.just(JUNK),
    st.sampled_from(["webinar", "content_download"]),
    entries=instants(-400, -200),
    happened=instants(-250, -40),
)


@given(pact=pacts, drawn=st.lists(any_lead, min_size=1, max_size=4))
def test_the_date_is_in_bounds_and_starts_the_qualification_that_lasts(pact, drawn):
    check_dates(pact, drawn)


@given(pact=pacts, drawn=st.lists(fading_lead, min_size=1, max_size=3))
def test_dates_found_by_decay_start_the_qualification_that_lasts(pact, drawn):
    check_dates(pact, drawn)


def check_dates(pact: Pact, drawn: list[tuple[LeadFacts, list[Any], list[Any]]]) -> None:
    """Each move's date lies between `since` and NOW, the lead qualifies there, at every later
    change of its facts and just before each, and (after `since`) did not one microsecond
    before the date."""
    leads, activities, touches, targets = [], [], [], []
    for i, (facts, acts, made) in enumerate(drawn):
        one = lead(
            f"l{i}", **{f: getattr(facts, f) for f in (*FACT_FIELDS, "created_at", "stage_at")}
        )
        mine = [Activity(one.id, kind, at) for kind, at in acts]
        tries = [(one.id, at, connected) for at, connected in made]
        to = decide_stage(
            scored_facts(
                one,
                score(one, sorted(mine, key=lambda a: a.at), pact, now=NOW),
                attempts=sum(t[1] <= NOW for t in tries),
                connected=any(c for _, at, c in tries if at <= NOW),
            ),
            one.stage,
            pact,
        )
        if to != one.stage:
            leads.append(one)
            activities += mine
            touches += tries
            targets.append(to)
    assume(leads)
    found = date(leads, activities, targets, pact, touches=touches)
    for one, target, at in zip(leads, targets, found, strict=True):
        since = min(max(one.created_at, one.stage_at), NOW)
        assert since <= at <= NOW
        acts = [a for a in activities if a.lead_id == one.id]
        made = [t for t in touches if t[0] == one.id]
        changes = change_instants(acts, made, pact)
        event("since" if at == since else "a change" if at in changes else "decay or now")
        assert holds(one, acts, made, target, pact, at)
        if at > since:  # the qualification starts here: it did not hold just before
            assert not holds(one, acts, made, target, pact, at - US)
        for later in changes:
            if at <= later <= NOW:
                assert holds(one, acts, made, target, pact, later)
            if at < later <= NOW:  # nor did decay interrupt it (points are not negative)
                assert holds(one, acts, made, target, pact, later - US)
