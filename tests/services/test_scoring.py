"""Rescoring a workspace database in bulk, and explaining one lead, on SQLite and PostgreSQL."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import insert, select, update

import leadpact
from leadpact.core.models import Activity, Channel, Touch, TouchOutcome
from leadpact.errors import NotFoundError
from leadpact.pact_file import parse_pact
from leadpact.services.scoring import explain, rescore
from leadpact.services.scoring_writer import DISQUALIFY_REASON
from leadpact.store.engine import make_engine
from leadpact.store.events import add_activity, add_touch
from leadpact.store.migrations import upgrade
from leadpact.store.tables import leads, stage_changes

EXAMPLE_TEXT = (Path(leadpact.__file__).parent / "data" / "pact.yaml").read_text("utf-8")
PACT = parse_pact(EXAMPLE_TEXT)
NOW = datetime(2025, 6, 2, 12, 0, tzinfo=UTC)
DAY = timedelta(days=1)
GOOD_FIT = {"employees": 250, "industry": "Software", "country": "DK", "title": "CEO"}


@pytest.fixture
def engine(db_url):
    engine = make_engine(db_url)
    upgrade(engine)
    yield engine
    engine.dispose()


def add(conn, lead_id, *, stage="lead", activities=(), **facts):
    row = {"id": lead_id, "stage": stage, "stage_at": NOW - 10 * DAY, "created_at": NOW - 20 * DAY}
    conn.execute(insert(leads).values(row | {"opted_out": False} | facts))
    for kind, age in activities:
        add_activity(conn, Activity(lead_id, kind, NOW - age))


def stored(conn, lead_id):
    return conn.execute(select(leads).where(leads.c.id == lead_id)).mappings().one()


def changes(conn):
    query = select(stage_changes).order_by(stage_changes.c.lead_id, stage_changes.c.at)
    return [dict(row) for row in conn.execute(query).mappings()]


def test_rescore_stores_what_explain_computes(engine):
    with engine.begin() as conn:
        add(conn, "a", activities=[("pricing_page_view", 30 * DAY), ("page_view", DAY)], **GOOD_FIT)
        add(
            conn,
            "b",
            title="Marketing manager",
            employees=300,
            industry="logistics",
            activities=[("webinar", 2 * DAY)],
        )
        add(
            conn,
            "c",
            activities=[("email_open", i * DAY) for i in (1, 2, 3)] + [("demo_request", 400 * DAY)],
        )
        add(conn, "d", employees=10, industry="retail", annual_revenue=1e8, title="Head of Sales")
    with engine.begin() as conn:
        summary = rescore(conn, PACT, now=NOW)
    assert summary.leads == 4
    with engine.connect() as conn:
        for lead_id in "abcd":
            row = stored(conn, lead_id)
            one = explain(conn, PACT, lead_id, now=NOW)
            assert row["fit"] == one.fit
            assert row["fit_grade"] == one.fit_grade
            assert row["persona"] == one.persona
            assert row["engagement"] == pytest.approx(one.engagement, rel=1e-12)
            assert row["priority"] == one.priority
            assert row["scored_at"] == NOW
    assert summary.grades == {"A": 1, "B": 1, "D": 2}
    assert sum(summary.priorities.values()) == 4


def test_the_pact_moves_leads_and_records_why(engine):
    with engine.begin() as conn:
        add(conn, "hot", activities=[("demo_request", DAY)], **GOOD_FIT)
        add(conn, "warm", activities=[("pricing_page_view", DAY)], **GOOD_FIT)
        add(conn, "junk")
        add(
            conn,
            "accepted",
            stage="sal",
            activities=[("pricing_page_view", i * DAY) for i in (1, 2)],
            **GOOD_FIT,
        )
        add(conn, "customer", stage="won", activities=[("demo_request", DAY)], **GOOD_FIT)
    with engine.begin() as conn:
        summary = rescore(conn, PACT, now=NOW)
    assert summary.moves == {
        ("lead", "sql"): 1,
        ("lead", "mql"): 1,
        ("lead", "disqualified"): 1,
        ("sal", "sql"): 1,
    }
    assert summary.moved == 4
    with engine.connect() as conn:
        assert {i: stored(conn, i)["stage"] for i in ("hot", "warm", "junk", "customer")} == {
            "hot": "sql",
            "warm": "mql",
            "junk": "disqualified",
            "customer": "won",
        }
        assert stored(conn, "hot")["stage_at"] == NOW - DAY  # its demo request qualified it
        assert stored(conn, "customer")["stage_at"] == NOW - 10 * DAY
        recorded = changes(conn)
    assert [(c["lead_id"], c["from_stage"], c["to_stage"]) for c in recorded] == [
        ("accepted", "sal", "sql"),
        ("hot", "lead", "sql"),
        ("junk", "lead", "disqualified"),
        ("warm", "lead", "mql"),
    ]
    hot = recorded[1]
    assert (hot["at"], hot["actor"], hot["seconds_in_from"]) == (NOW - DAY, "pact", 9 * 86400.0)
    assert hot["reason"] == "pact: entry criteria of sql met"
    assert recorded[2]["reason"] == DISQUALIFY_REASON
    # Fit alone disqualifies the junk lead: from when it entered its stage (after creation).
    assert recorded[2]["at"] == NOW - 10 * DAY
    # The accepted lead met the SQL rule (two pricing-page views) with its second view.
    assert (recorded[0]["at"], recorded[0]["seconds_in_from"]) == (NOW - DAY, 9 * 86400.0)
    assert recorded[3]["at"] == NOW - DAY


def test_rescoring_again_changes_nothing(engine):
    with engine.begin() as conn:
        add(conn, "hot", activities=[("demo_request", DAY)], **GOOD_FIT)
    with engine.begin() as conn:
        rescore(conn, PACT, now=NOW)
    for now in (NOW, NOW + DAY):
        with engine.begin() as conn:
            assert rescore(conn, PACT, now=now).moves == {}
    with engine.connect() as conn:
        assert len(changes(conn)) == 1
        assert stored(conn, "hot")["scored_at"] == NOW + DAY


def test_opted_out_leads_are_scored_but_not_moved(engine):
    with engine.begin() as conn:
        add(conn, "gone", opted_out=True, activities=[("demo_request", DAY)], **GOOD_FIT)
    with engine.begin() as conn:
        assert rescore(conn, PACT, now=NOW).moves == {}
    with engine.connect() as conn:
        row = stored(conn, "gone")
    assert (row["stage"], row["priority"]) == ("lead", 1)


def test_erased_leads_are_left_alone(engine):
    with engine.begin() as conn:
        add(conn, "erased", activities=[("demo_request", DAY)], **GOOD_FIT)
        conn.execute(update(leads).where(leads.c.id == "erased").values(erased_at=NOW - DAY))
    with engine.begin() as conn:
        summary = rescore(conn, PACT, now=NOW)
    assert (summary.leads, summary.activities, summary.moves) == (0, 0, {})
    with engine.connect() as conn:
        row = stored(conn, "erased")
    assert (row["stage"], row["scored_at"], row["fit"]) == ("lead", None, None)


def test_only_activities_that_can_count_are_read(engine):
    with engine.begin() as conn:
        add(conn, "a", activities=[("webinar", -DAY), ("webinar", 181 * DAY), ("webinar", DAY)])
    with engine.begin() as conn:
        summary = rescore(conn, PACT, now=NOW)
    assert summary.activities == 1
    with engine.connect() as conn:
        assert stored(conn, "a")["engagement"] == pytest.approx(20 * 0.5 ** (1 / 30))


def test_stage_rules_may_test_sales_touches(engine):
    pact = parse_pact(
        EXAMPLE_TEXT.replace(
            "when: {fit_grade: D, engagement: {lt: 5}}",
            "when: {attempts: {gte: 2}, connected: false}",
        )
    )
    with engine.begin() as conn:
        add(conn, "ghost")
        add(conn, "talked")
        add(conn, "once")
        for lead_id, outcomes in (
            ("ghost", [TouchOutcome.NO_ANSWER, TouchOutcome.VOICEMAIL]),
            ("talked", [TouchOutcome.NO_ANSWER, TouchOutcome.CONNECTED]),
            ("once", [TouchOutcome.NO_ANSWER]),
        ):
            for i, outcome in enumerate(outcomes):
                add_touch(conn, Touch(lead_id, "sofie", Channel.CALL, NOW - (i + 1) * DAY, outcome))
        add_touch(conn, Touch("once", "sofie", Channel.CALL, NOW + DAY, TouchOutcome.NO_ANSWER))
    with engine.begin() as conn:
        summary = rescore(conn, pact, now=NOW)
    assert summary.moves == {("lead", "disqualified"): 1}
    with engine.connect() as conn:
        assert stored(conn, "ghost")["stage"] == "disqualified"
        # Dated at its second attempt (the rule needs two), not at the rescore.
        assert [(c["lead_id"], c["at"]) for c in changes(conn)] == [("ghost", NOW - DAY)]


def test_an_empty_workspace(engine):
    with engine.begin() as conn:
        summary = rescore(conn, PACT, now=NOW)
    assert summary.as_dict() == {
        "scored_at": NOW,
        "leads": 0,
        "activities": 0,
        "moved": 0,
        "moves": [],
        "priorities": {},
        "grades": {},
    }


def test_summary_as_json_data(engine):
    with engine.begin() as conn:
        add(conn, "hot", activities=[("demo_request", DAY)], **GOOD_FIT)
        summary = rescore(conn, PACT, now=NOW)
    data = summary.as_dict()
    assert data["moves"] == [{"from": "lead", "to": "sql", "leads": 1}]
    assert data["priorities"] == {"1": 1}
    assert data["grades"] == {"A": 1}


def test_explain_an_unknown_lead(engine):
    with engine.connect() as conn, pytest.raises(NotFoundError, match="no lead 'nope'"):
        explain(conn, PACT, "nope", now=NOW)


def test_without_window_every_past_activity_is_read_in_small_chunks(engine, monkeypatch):
    from leadpact.services import bulk

    monkeypatch.setattr(bulk, "CHUNK", 2)
    pact = parse_pact(EXAMPLE_TEXT.replace("    window: 180d", ""))
    assert pact.scoring.engagement.window is None
    with engine.begin() as conn:
        for lead_id in "abcde":
            add(conn, lead_id, activities=[("webinar", 400 * DAY), ("webinar", DAY)])
    with engine.begin() as conn:
        summary = rescore(conn, pact, now=NOW)
    assert (summary.leads, summary.activities) == (5, 10)
    with engine.connect() as conn:
        for lead_id in "abcde":
            assert stored(conn, lead_id)["engagement"] == pytest.approx(
                explain(conn, pact, lead_id, now=NOW).engagement
            )


def test_touches_of_erased_leads_are_ignored(engine):
    pact = parse_pact(
        EXAMPLE_TEXT.replace(
            "when: {fit_grade: D, engagement: {lt: 5}}", "when: {attempts: {gte: 1}}"
        )
    )
    with engine.begin() as conn:
        add(conn, "erased")
        add_touch(conn, Touch("erased", "sofie", Channel.CALL, NOW - DAY, TouchOutcome.NO_ANSWER))
        conn.execute(update(leads).where(leads.c.id == "erased").values(erased_at=NOW - DAY))
    with engine.begin() as conn:
        assert rescore(conn, pact, now=NOW).moves == {}


def test_a_temporary_table_left_on_the_connection_is_replaced(engine):
    with engine.begin() as conn:
        add(conn, "hot", activities=[("demo_request", DAY)], **GOOD_FIT)
        conn.exec_driver_sql("CREATE TEMPORARY TABLE leadpact_new_scores (other INTEGER)")
        conn.exec_driver_sql("CREATE TEMPORARY TABLE leadpact_stage_moves (other INTEGER)")
        assert rescore(conn, PACT, now=NOW).moves == {("lead", "sql"): 1}
    with engine.connect() as conn:
        assert stored(conn, "hot")["priority"] == 1


def test_rescoring_some_leads_leaves_the_others(engine, monkeypatch):
    from leadpact.services import scoring

    monkeypatch.setattr(scoring, "ID_BATCH", 1)
    with engine.begin() as conn:
        add(conn, "hot", activities=[("demo_request", DAY)], **GOOD_FIT)
        add(conn, "warm", activities=[("pricing_page_view", DAY)], **GOOD_FIT)
        add(conn, "cold", activities=[("demo_request", DAY)], **GOOD_FIT)
        for lead_id in ("hot", "cold"):
            add_touch(
                conn, Touch(lead_id, "sofie", Channel.CALL, NOW - DAY, TouchOutcome.NO_ANSWER)
            )
    pact = parse_pact(
        EXAMPLE_TEXT.replace(
            "when: {fit_grade: D, engagement: {lt: 5}}", "when: {attempts: {gte: 5}}"
        )
    )
    with engine.begin() as conn:
        summary = rescore(conn, pact, now=NOW, lead_ids=["warm", "hot", "nope", "hot"])
    assert (summary.leads, summary.activities) == (2, 2)
    assert summary.moves == {("lead", "sql"): 1, ("lead", "mql"): 1}
    assert summary.grades == {"A": 2}
    assert summary.priorities == {1: 1, 2: 1}
    with engine.connect() as conn:
        assert stored(conn, "cold")["scored_at"] is None
        assert stored(conn, "cold")["stage"] == "lead"
        assert stored(conn, "warm")["scored_at"] == NOW
    with engine.begin() as conn:
        assert rescore(conn, pact, now=NOW, lead_ids=[]).leads == 0


# --- Dating the pact's moves after importing history ---------------------------------------------

HISTORY_NOW = datetime(2025, 4, 1, 12, 0, tzinfo=UTC)

LEADS_CSV = """\
id,title,employees,industry,country,created_at,owner,team,stage,became_sal_at
warm,CEO,250,software,DK,2024-10-01T09:00:00Z,Sofie Dahl,sales-dk,lead,
hot,CEO,400,logistics,SE,2024-11-01T09:00:00Z,Sofie Dahl,sales-dk,lead,
junk,Student,5,retail,US,2024-11-03T08:00:00Z,,,lead,
faded,Student,5,retail,US,2024-10-03T08:00:00Z,,,lead,
accepted,CEO,300,software,NO,2024-10-05T08:00:00Z,Emil Storm,sales-dk,sal,2025-01-06T15:00:00Z
"""
ACTIVITIES_CSV = """\
lead_id,type,at
warm,page_view,2025-01-10T10:00:00Z
warm,pricing_page_view,2025-02-15T10:00:00Z
warm,page_view,2025-03-01T10:00:00Z
hot,page_view,2025-03-02T10:00:00Z
hot,demo_request,2025-03-28T14:30:00Z
faded,content_download,2025-01-01T00:00:00Z
accepted,pricing_page_view,2024-12-20T10:00:00Z
accepted,pricing_page_view,2025-01-02T10:00:00Z
"""


@pytest.fixture
def history_ws(tmp_path, db_url):
    """A workspace with the example pact and a few months of imported history, caught up by
    the rescore the import runs (the workspace clock at HISTORY_NOW)."""
    from leadpact.clock import FixedClock
    from leadpact.services.importing import import_file
    from leadpact.services.workspace import open_workspace
    from leadpact.settings import Settings

    folder = tmp_path / "ws"
    folder.mkdir()
    (folder / "pact.yaml").write_text(EXAMPLE_TEXT, encoding="utf-8")
    (tmp_path / "leads.csv").write_text(LEADS_CSV, encoding="utf-8")
    (tmp_path / "activities.csv").write_text(ACTIVITIES_CSV, encoding="utf-8")
    settings = Settings(database_url=db_url)
    workspace = open_workspace(folder, settings=settings, clock=FixedClock(HISTORY_NOW))
    import_file(workspace, tmp_path / "leads.csv", score=False)
    report = import_file(workspace, tmp_path / "activities.csv")
    assert report.scored
    yield workspace
    workspace.close()


def pact_changes(conn):
    query = select(stage_changes).where(stage_changes.c.actor == "pact")
    return {row["lead_id"]: dict(row) for row in conn.execute(query).mappings()}


def utc(text):
    return datetime.fromisoformat(text).astimezone(UTC)


def test_a_catch_up_rescore_dates_moves_when_the_leads_qualified(history_ws):
    with history_ws.engine.connect() as conn:
        moves = pact_changes(conn)
        stage = {row.id: (row.stage, row.stage_at) for row in conn.execute(select(leads))}
    assert {lead_id: (c["from_stage"], c["to_stage"]) for lead_id, c in moves.items()} == {
        "warm": ("lead", "mql"),
        "hot": ("lead", "sql"),
        "junk": ("lead", "disqualified"),
        "faded": ("lead", "disqualified"),
        "accepted": ("sal", "sql"),
    }
    # The pricing-page view made the good-fit lead an MQL; the demo request made an SQL.
    assert moves["warm"]["at"] == utc("2025-02-15T10:00:00Z")
    assert moves["hot"]["at"] == utc("2025-03-28T14:30:00Z")
    # A junk lead with no activity qualified for disqualification when it was created.
    assert moves["junk"]["at"] == utc("2024-11-03T08:00:00Z")
    # 15 points decay below 5 after log2(3) half-lives of 30 days: 47.55 days.
    crossing = utc("2025-01-01T00:00:00Z") + timedelta(days=30 * math.log2(3))
    assert abs(moves["faded"]["at"] - crossing) < timedelta(seconds=1)
    # Two pricing-page views met the SQL rule on 2 January, before the lead entered `sal`
    # (the CRM's "became SAL" date): dated at its entry into `sal`, not before.
    assert moves["accepted"]["at"] == utc("2025-01-06T15:00:00Z")
    assert moves["accepted"]["seconds_in_from"] == 0.0
    assert (
        moves["warm"]["seconds_in_from"]
        == (utc("2025-02-15T10:00:00Z") - utc("2024-10-01T09:00:00Z")).total_seconds()
    )
    for lead_id, change in moves.items():
        assert stage[lead_id] == (change["to_stage"], change["at"])


def test_sla_clocks_start_when_the_leads_qualified(history_ws):
    from leadpact.services.sla import sla_status

    clocks = {(c.lead_id, c.commitment_id): c for c in sla_status(history_ws, HISTORY_NOW)}
    acceptance = clocks[("warm", "mql-acceptance")]
    assert acceptance.started_at == utc("2025-02-15T10:00:00Z")
    assert acceptance.status.value == "breached"  # nobody accepted it in six weeks
    started = {c.started_at for (lead_id, _), c in clocks.items() if lead_id == "hot"}
    assert started == {utc("2025-03-28T14:30:00Z")}


def test_rescoring_some_leads_dates_their_moves_too(engine):
    with engine.begin() as conn:
        add(conn, "hot", activities=[("demo_request", 3 * DAY)], **GOOD_FIT)
        add(conn, "warm", activities=[("pricing_page_view", 2 * DAY)], **GOOD_FIT)
    with engine.begin() as conn:
        rescore(conn, PACT, now=NOW, lead_ids=["warm"])
    with engine.connect() as conn:
        assert [(c["lead_id"], c["at"]) for c in changes(conn)] == [("warm", NOW - 2 * DAY)]
