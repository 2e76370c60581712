"""Lifecycle: the transition table, `transition`, and the stages the pact decides."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import leadpact
from leadpact.core.conditions import parse_condition
from leadpact.core.lifecycle import (
    PACT_ACTOR,
    decide_stage,
    decide_stages,
    funnel,
    handover_stage,
    transition,
    transition_table,
)
from leadpact.core.pact import AcceptanceCommitment, Outcome, Pact, StageSource
from leadpact.errors import InvalidTransitionError, LeadPactError, NotFoundError
from leadpact.pact_file import parse_pact

EXAMPLE_TEXT = (Path(leadpact.__file__).parent / "data" / "pact.yaml").read_text("utf-8")
PACT = parse_pact(EXAMPLE_TEXT)
AT = datetime(2025, 6, 2, 10, 0, tzinfo=UTC)


def without_handover(pact: Pact) -> Pact:
    """No acceptance commitment and no stage called mql: the funnel's start is the handover."""
    stages = [s.model_copy(update={"id": "qualified"}) if s.id == "mql" else s for s in pact.stages]
    commitments = [c for c in pact.commitments if not isinstance(c, AcceptanceCommitment)]
    return pact.model_copy(update={"stages": stages, "commitments": commitments})


#: SQL leads that are not ready go back to MQL (PRODUCT.md part 5), not to nurture.
BACK_TO_MQL = parse_pact(EXAMPLE_TEXT.replace("not_ready: {to: nurture", "not_ready: {to: mql"))
PACTS = [PACT, BACK_TO_MQL, without_handover(PACT)]


def test_the_example_pacts_table():
    table = transition_table(PACT)
    assert table.allowed == {
        "lead": (
            "mql",
            "sal",
            "sql",
            "meeting",
            "proposal",
            "won",
            "lost",
            "nurture",
            "disqualified",
        ),
        "mql": ("sal", "sql", "meeting", "proposal", "won", "lost", "nurture", "disqualified"),
        "sal": ("sql", "meeting", "proposal", "won", "lost", "nurture", "disqualified"),
        "sql": ("meeting", "proposal", "won", "lost", "nurture", "disqualified"),
        "meeting": ("proposal", "won", "lost", "nurture", "disqualified"),
        "proposal": ("won", "lost", "nurture", "disqualified"),
        "won": (),
        "lost": (),
        "nurture": ("lead", "mql", "disqualified"),
        "disqualified": ("nurture",),
    }
    assert ("mql", "nurture") in table.needs_reason  # sales rejects an MQL
    assert ("mql", "disqualified") in table.needs_reason
    assert ("disqualified", "nurture") in table.needs_reason  # re-opening
    assert ("nurture", "mql") not in table.needs_reason  # re-entry
    assert ("mql", "sal") not in table.needs_reason  # acceptance


def test_not_ready_may_send_a_lead_back_in_the_funnel_with_a_reason():
    table = transition_table(BACK_TO_MQL)
    assert "mql" in table.allowed["sql"]
    assert ("sql", "mql") in table.needs_reason
    assert ("lead", "mql") not in table.needs_reason  # forward anyway
    assert ("sal", "mql") in table.needs_reason


def test_without_handover_stage_recycled_leads_restart_at_the_start():
    pact = without_handover(PACT)
    assert handover_stage(pact) is None
    assert transition_table(pact).allowed["nurture"] == ("lead", "disqualified")


def test_the_handover_stage_comes_from_the_acceptance_commitment():
    assert handover_stage(PACT) == "mql"
    commitments = [
        c.model_copy(update={"stage": "sal"}) if isinstance(c, AcceptanceCommitment) else c
        for c in PACT.commitments
    ]
    assert handover_stage(PACT.model_copy(update={"commitments": commitments})) == "sal"
    no_acceptance = [c for c in PACT.commitments if not isinstance(c, AcceptanceCommitment)]
    assert handover_stage(PACT.model_copy(update={"commitments": no_acceptance})) == "mql"


def test_without_disqualify_or_recycle_rules_only_side_stages_by_outcome_remain():
    handling = PACT.handling.model_copy(update={"disqualify": None, "recycle": None})
    table = transition_table(PACT.model_copy(update={"handling": handling}))
    assert table.allowed["sql"][-2:] == ("nurture", "disqualified")  # found by their outcome


def test_funnel_leaves_out_side_stages():
    assert [s.id for s in funnel(PACT)] == [
        "lead",
        "mql",
        "sal",
        "sql",
        "meeting",
        "proposal",
        "won",
        "lost",
    ]


def test_transition_records_the_move():
    change = transition("mql", "sal", lead_id="l1", at=AT, pact=PACT, actor="sofie")
    assert (change.lead_id, change.from_stage, change.to_stage) == ("l1", "mql", "sal")
    assert (change.at, change.reason, change.actor) == (AT, None, "sofie")


def test_rejecting_an_mql_needs_a_reason():
    with pytest.raises(LeadPactError, match="from 'mql' to 'nurture' needs a reason"):
        transition("mql", "nurture", lead_id="l1", at=AT, pact=PACT)
    with pytest.raises(LeadPactError, match="needs a reason"):
        transition("mql", "nurture", lead_id="l1", at=AT, pact=PACT, reason="   ")
    change = transition("mql", "nurture", lead_id="l1", at=AT, pact=PACT, reason=" no budget ")
    assert change.reason == "no budget"


@pytest.mark.parametrize(
    ("start", "target"),
    [("sql", "mql"), ("won", "lost"), ("lost", "nurture"), ("mql", "mql"), ("nurture", "sql")],
)
def test_disallowed_moves_raise_with_the_allowed_ones(start, target):
    with pytest.raises(InvalidTransitionError) as caught:
        transition(start, target, lead_id="l1", at=AT, pact=PACT, reason="because")
    error = caught.value
    assert (error.from_stage, error.to_stage) == (start, target)
    assert error.allowed == list(transition_table(PACT).allowed[start])
    assert f"cannot move to {target!r}" in str(error)


def test_unknown_stages_are_not_found():
    with pytest.raises(NotFoundError, match="no stage 'prospect'"):
        transition("prospect", "mql", lead_id="l1", at=AT, pact=PACT)
    with pytest.raises(NotFoundError, match="no stage 'prospect'"):
        transition("lead", "prospect", lead_id="l1", at=AT, pact=PACT)


@given(
    pact=st.sampled_from(PACTS),
    steps=st.lists(st.tuples(st.integers(0, 9), st.booleans()), max_size=25),
)
def test_random_walks_keep_the_invariants(pact, steps):
    table = transition_table(pact)
    ids = [s.id for s in pact.stages]
    outcome = {s.id: s.outcome for s in pact.stages}
    stage = ids[0]
    at = AT
    for choice, give_reason in steps:
        target = ids[choice % len(ids)]
        at += timedelta(hours=1)
        reason = "checked with the lead" if give_reason else None
        if target not in table.allowed[stage]:
            with pytest.raises(InvalidTransitionError):
                transition(stage, target, lead_id="l1", at=at, pact=pact, reason=reason)
            continue
        if not give_reason and (stage, target) in table.needs_reason:
            with pytest.raises(LeadPactError, match="needs a reason"):
                transition(stage, target, lead_id="l1", at=at, pact=pact)
            continue
        change = transition(stage, target, lead_id="l1", at=at, pact=pact, reason=reason)
        assert (change.from_stage, change.to_stage, change.at) == (stage, target, at)
        assert outcome[stage] not in (Outcome.WON, Outcome.LOST)  # terminal stays terminal
        stage = target
    if outcome[stage] in (Outcome.WON, Outcome.LOST):
        assert table.allowed[stage] == ()


# --- Stages the pact decides ------------------------------------------------------------------

QUALIFIED = {"fit_grade": "A", "engagement": 45.0, "activities.pricing_page_view": 0}
DEMO = QUALIFIED | {"activities.demo_request": 1}
JUNK = {"fit_grade": "D", "engagement": 1.0}


@pytest.mark.parametrize(
    ("facts", "current", "expected"),
    [
        (QUALIFIED, "lead", "mql"),
        (DEMO, "lead", "sql"),  # lead -> mql -> sql in one decision: stable
        (DEMO, "sal", "sql"),
        (QUALIFIED, "sql", "sql"),  # never backwards
        ({"fit_grade": "C", "engagement": 90.0}, "lead", "lead"),
        (JUNK, "lead", "disqualified"),  # marketing's junk is disqualified automatically
        (JUNK, "mql", "disqualified"),
        (JUNK, "sal", "sal"),  # sales owns it now: no automatic disqualification
        (JUNK | {"activities.demo_request": 1}, "mql", "sql"),  # qualified past the handover
        (DEMO, "won", "won"),
        (DEMO, "nurture", "nurture"),
        (DEMO, "disqualified", "disqualified"),
        (DEMO, "prospect", "prospect"),  # a stage the pact does not define: left alone
    ],
)
def test_decide_stage(facts, current, expected):
    assert decide_stage(facts, current, PACT) == expected
    stages = decide_stages(columns_of([facts]), np.array([current], dtype=object), PACT)
    assert stages.tolist() == [expected]


def test_without_handover_only_the_first_stage_is_disqualified_automatically():
    pact = without_handover(PACT)
    assert decide_stage(JUNK, "lead", pact) == "disqualified"
    assert decide_stage(JUNK, "qualified", pact) == "qualified"


def test_without_automatic_disqualification_junk_stays():
    assert PACT.handling.disqualify is not None
    rule = PACT.handling.disqualify.model_copy(update={"when": None})
    pact = PACT.model_copy(
        update={"handling": PACT.handling.model_copy(update={"disqualify": rule})}
    )
    assert decide_stage(JUNK, "lead", pact) == "lead"
    assert decide_stages(columns_of([JUNK]), np.array(["lead"], dtype=object), pact)[0] == "lead"


def test_a_terminal_stage_decided_by_the_pact_ends_the_decision():
    won = parse_condition({"activities.demo_request": {"gte": 3}})
    stages = [
        s.model_copy(update={"source": StageSource.PACT, "entry": won}) if s.id == "won" else s
        for s in PACT.stages
    ]
    pact = PACT.model_copy(update={"stages": stages})
    facts = DEMO | {"activities.demo_request": 3}
    assert decide_stage(facts, "lead", pact) == "won"
    assert decide_stages(columns_of([facts]), np.array(["lead"], dtype=object), pact)[0] == "won"


def columns_of(facts_list):
    fields = sorted({f for facts in facts_list for f in facts})
    result = {}
    for field in fields:
        array = np.empty(len(facts_list), dtype=object)
        array[:] = [facts.get(field) for facts in facts_list]
        result[field] = array
    return result


facts_strategy = st.fixed_dictionaries(
    {
        "fit_grade": st.sampled_from(["A", "B", "C", "D", None]),
        "engagement": st.sampled_from([0.0, 4.9, 5.0, 39.9, 40.0, 80.0, None]),
        "activities.pricing_page_view": st.integers(0, 3),
        "activities.demo_request": st.integers(0, 2),
    }
)
stage_ids = st.sampled_from([*(s.id for s in PACT.stages), "prospect"])


@given(
    pact=st.sampled_from(PACTS), leads=st.lists(st.tuples(facts_strategy, stage_ids), max_size=8)
)
def test_decisions_agree_are_allowed_and_stable(pact, leads):
    stage_ids_of_pact = {s.id for s in pact.stages}
    currents = [c if c in stage_ids_of_pact or c == "prospect" else "lead" for _, c in leads]
    batch = decide_stages(
        columns_of([f for f, _ in leads]), np.array(currents, dtype=object), pact
    ).tolist()
    table = transition_table(pact)
    order = [s.id for s in funnel(pact)]
    for (facts, _), current, decided in zip(leads, currents, batch, strict=True):
        assert decide_stage(facts, current, pact) == decided  # one meaning
        if decided != current:
            assert decided in table.allowed[current]  # only moves the table allows
            transition(
                current, decided, lead_id="l1", at=AT, pact=pact, reason="pact", actor=PACT_ACTOR
            )
            if decided in order:
                assert order.index(decided) > order.index(current)  # never backwards
        assert decide_stage(facts, decided, pact) == decided  # stable
