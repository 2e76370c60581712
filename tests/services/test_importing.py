"""The import use-case on real files and real databases (SQLite always, PostgreSQL when set)."""

from __future__ import annotations

import csv
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from sqlalchemy import Table, func, select

from leadpact.clock import FixedClock
from leadpact.errors import LeadPactError, PactError
from leadpact.services import presets
from leadpact.services.importing import ImportReport, import_file
from leadpact.services.presets import Kind
from leadpact.services.workspace import Workspace, open_workspace
from leadpact.settings import Settings
from leadpact.store import tables

DATA = Path(__file__).resolve().parents[1] / "data" / "import"
EXAMPLE_PACT = Path(__file__).resolve().parents[2] / "src" / "leadpact" / "data" / "pact.yaml"
NOW = datetime(2025, 4, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def ws(tmp_path, db_url):
    """A workspace with the example pact on a fresh database, its clock at NOW."""
    folder = tmp_path / "ws"
    folder.mkdir()
    shutil.copy(EXAMPLE_PACT, folder / "pact.yaml")
    workspace = open_workspace(
        folder, settings=Settings(database_url=db_url), clock=FixedClock(NOW)
    )
    yield workspace
    workspace.close()


def rows(ws: Workspace, table: Table, order: str = "id") -> list[dict[str, Any]]:
    with ws.engine.connect() as conn:
        return [r._asdict() for r in conn.execute(select(table).order_by(table.c[order]))]


def count(ws: Workspace, table: Table) -> int:
    with ws.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar_one()


def load(ws: Workspace, name: str, **kwargs: Any) -> ImportReport:
    return import_file(ws, DATA / name, score=False, **kwargs)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


# --- Canonical files -------------------------------------------------------------------------


def test_canonical_leads_land_with_typed_values(ws):
    report = load(ws, "leads.csv")
    assert (report.kind, report.rows_read, report.landed, report.inserted) == (Kind.LEADS, 3, 3, 3)
    assert report.rejected == 0
    assert report.rejects_file is None
    got = {r["id"]: r for r in rows(ws, tables.leads)}
    assert got["L1"]["company"] == "Acme, Inc."
    assert got["L1"]["created_at"] == at("2025-03-03T08:30:00+00:00")
    assert got["L1"]["stage_at"] == got["L1"]["created_at"]
    assert got["L1"]["annual_revenue"] == 60_000_000
    assert got["L2"]["employees"] == 1200
    assert got["L2"]["stage"] == "sql"  # matched case-insensitively to the pact's stage id
    assert got["L3"]["stage"] == "lead"  # blank: the pact's first stage
    assert (got["L1"]["opted_out"], got["L2"]["opted_out"], got["L3"]["opted_out"]) == (
        False,
        False,
        True,
    )
    assert got["L3"]["owner"] is None
    naive = [n for n in report.notes if n.code == "naive:created_at"]
    assert naive[0].count == 1
    assert naive[0].lines == [4]


def test_importing_the_same_file_twice_changes_nothing(ws):
    for name in ("leads.csv", "activities.csv", "touches.csv", "deals.csv"):
        load(ws, name)
    before = {t.name: rows(ws, t) for t in (tables.leads, tables.deals)}
    events = {t.name: rows(ws, t, "key") for t in (tables.activities, tables.touches)}
    for name in ("leads.csv", "activities.csv", "touches.csv", "deals.csv"):
        again = load(ws, name)
        assert (again.inserted, again.updated) == (0, 0), name
        assert again.unchanged == again.landed > 0
    assert before == {t.name: rows(ws, t) for t in (tables.leads, tables.deals)}
    assert events == {t.name: rows(ws, t, "key") for t in (tables.activities, tables.touches)}
    assert count(ws, tables.imports) == 8


def test_a_changed_row_is_updated_and_a_new_stage_starts_now(ws, tmp_path):
    load(ws, "leads.csv")
    changed = tmp_path / "leads.csv"
    text = (DATA / "leads.csv").read_text()
    changed.write_text(text.replace("Sofie Dahl,sales-dk,mql", "Tom Reed,sales-us,sal"))
    report = import_file(ws, changed, score=False)
    assert (report.inserted, report.updated, report.unchanged) == (0, 1, 2)
    lead = {r["id"]: r for r in rows(ws, tables.leads)}["L1"]
    assert (lead["owner"], lead["team"], lead["stage"]) == ("Tom Reed", "sales-us", "sal")
    assert lead["stage_at"] == NOW  # the file says the stage changed, not when


def test_bad_rows_are_set_aside_with_their_line_and_reason(ws):
    report = load(ws, "leads_bad.csv")
    got = [(r.line, r.reason.split(" (")[0]) for r in report.examples]
    assert got == [
        (3, "id is empty"),
        (4, "created_at: 'next tuesday' is not a date and time"),
        (
            5,
            "stage: 'customer-ish' is not a known stage; expected one of lead, mql, sal, sql, "
            "meeting, proposal, won, lost, nurture, disqualified",
        ),
        (6, "malformed line: 3 fields, the header has 7"),
        (8, "employees: '12.5' is not a whole number"),
        (11, "malformed line: 8 fields, the header has 7"),
    ]
    assert (report.rows_read, report.landed, report.rejected) == (9, 3, 6)
    assert sorted(r["id"] for r in rows(ws, tables.leads)) == ["L1", "L10", "L8"]
    assert report.rejects_file == ws.directory / "rejects" / "leads_bad.rejects.csv"
    assert report.rejects_file is not None
    with report.rejects_file.open(newline="") as file:
        written = list(csv.DictReader(file))
    assert [int(r["line"]) for r in written] == [3, 4, 5, 6, 8, 11]
    assert written[3]["raw"] == "L6,too,few"
    assert written[4]["raw"] == 'L7,fay@x.example,"Fay\nMulti",Line,2025-03-03T09:30:00Z,lead,12.5'
    assert report.reasons["malformed line"] == 2
    date_only = next(n for n in report.notes if n.code == "date_only:created_at")
    assert (date_only.count, date_only.lines) == (1, [10])
    with ws.engine.connect() as conn:
        run = conn.execute(select(tables.imports)).one()
    assert (run.kind, run.rows_read, run.rows_landed, run.rows_rejected) == ("leads", 9, 3, 6)
    assert run.at == NOW


def test_a_clean_run_removes_the_stale_rejects_file(ws, tmp_path):
    target = tmp_path / "out" / "rejects.csv"
    load(ws, "leads_bad.csv", rejects=target)
    assert target.exists()
    fixed = tmp_path / "leads_bad.csv"
    fixed.write_text((DATA / "leads.csv").read_text())
    report = import_file(ws, fixed, rejects=target, score=False)
    assert report.rejected == 0
    assert not target.exists()


def test_activities_need_a_known_lead_and_type(ws):
    load(ws, "leads.csv")
    report = load(ws, "activities.csv")
    assert [(r.line, r.code) for r in report.examples] == [
        (5, "lead_id: lead not in the workspace"),
        (6, "unknown activity type"),
    ]
    assert "'L404'" in report.examples[0].reason
    stored = rows(ws, tables.activities, "at")
    assert [(a["lead_id"], a["type"]) for a in stored] == [
        ("L1", "pricing_page_view"),
        ("L1", "content_download"),
        ("L2", "demo_request"),  # "Demo Request" matched to the vocabulary
        ("L3", "webinar"),
    ]
    assert stored[2]["at"] == at("2025-03-06T10:00:00+00:00")
    assert all(len(a["key"]) == 64 for a in stored)
    assert next(n for n in report.notes if n.code == "date_only:at").lines == [7]


def test_touches_and_a_mapping_for_a_dialler_export(ws):
    load(ws, "leads.csv")
    report = load(ws, "touches.csv")
    assert [(r.line, r.code) for r in report.examples] == [
        (4, "unknown channel"),
        (5, "lead_id: lead not in the workspace"),
    ]
    assert report.landed == 3
    mapped = load(ws, "dialler.csv", mapping=DATA / "mapping_touches.yaml")
    assert mapped.kind is Kind.TOUCHES
    assert [(r.line, r.code) for r in mapped.examples] == [(4, "unknown channel")]
    stored = [t for t in rows(ws, tables.touches, "at") if t["rep"] == "Sofie Dahl"]
    dialled = [t for t in stored if t["at"].minute == 0 and t["at"].hour == 9]
    assert [(t["channel"], t["outcome"]) for t in dialled][-1] == ("call", "no_answer")
    # 10:00 in Copenhagen (CET) is 09:00 UTC
    assert at("2025-03-05T09:00:00+00:00") in [t["at"] for t in stored]


def test_deals_take_won_from_the_stage_outcome_and_report_odd_dates(ws):
    load(ws, "leads.csv")
    report = load(ws, "deals.csv")
    got = {d["id"]: d for d in rows(ws, tables.deals)}
    assert {k: v["won"] for k, v in got.items()} == {
        "D1": True,
        "D2": False,
        "D3": None,
        "D4": True,
    }
    assert got["D2"]["amount"] == 12500.5
    assert [(r.line, r.code) for r in report.examples] == [
        (6, "lead_id: lead not in the workspace")
    ]
    notes = {n.code: n for n in report.notes}
    assert notes["closed_before_created"].lines == [3]
    # D4 closed 2025-02-01, a month before its lead L1 was created
    assert notes["closed_before_lead"].lines == [3, 5]


def test_a_duplicate_id_keeps_the_last_line(ws, tmp_path):
    path = tmp_path / "dupes.csv"
    path.write_text(
        "id,created_at,owner\nL1,2025-03-01T10:00:00Z,First\nL1,2025-03-01T10:00:00Z,Second\n"
    )
    report = import_file(ws, path, score=False)
    assert report.landed == 1
    assert [r["owner"] for r in rows(ws, tables.leads)] == ["Second"]
    assert next(n for n in report.notes if n.code == "duplicate_id").lines == [2]


# --- Presets ----------------------------------------------------------------------------------


def test_hubspot_lifecycle_dates_become_stage_history(ws):
    report = load(ws, "hubspot_contacts.csv", preset="hubspot")
    assert [(r.line, r.code) for r in report.examples] == [(5, "unknown stage")]
    leads = {r["id"]: r for r in rows(ws, tables.leads)}
    assert {k: v["stage"] for k, v in leads.items()} == {"101": "won", "102": "mql", "103": "lead"}
    assert leads["101"]["stage_at"] == at("2025-02-03T16:45:00+00:00")
    assert leads["101"]["title"] == "CEO"
    history = [r for r in rows(ws, tables.stage_changes, "at") if r["lead_id"] == "101"]
    assert [(h["from_stage"], h["to_stage"]) for h in history] == [
        (None, "lead"),
        ("lead", "mql"),
        ("mql", "sql"),
        ("sql", "proposal"),
        ("proposal", "won"),
    ]
    assert history[1]["seconds_in_from"] == timedelta(days=2, hours=1, minutes=30).total_seconds()
    assert report.stage_changes == 7
    assert load(ws, "hubspot_contacts.csv", preset="hubspot").stage_changes == 0


def test_salesforce_statuses_and_us_dates(ws):
    report = load(ws, "salesforce_leads.csv", preset="salesforce")
    assert report.rejected == 0
    leads = {r["id"]: r for r in rows(ws, tables.leads)}
    assert [leads[k]["stage"] for k in sorted(leads)] == ["mql", "sal", "disqualified"]
    assert leads["00Q5g000001AbcD"]["created_at"] == at("2025-03-05T14:30:00+00:00")
    assert leads["00Q5g000001AbcE"]["employees"] == 1200
    assert next(n for n in report.notes if n.code == "date_only:created_at").lines == [3]


def test_pipedrive_persons_then_deals_are_told_apart_by_their_header(ws):
    persons = load(ws, "pipedrive_persons.csv", preset="pipedrive")
    deals = load(ws, "pipedrive_deals.csv", preset="pipedrive")
    assert (persons.kind, deals.kind) == (Kind.LEADS, Kind.DEALS)
    assert [r["stage"] for r in rows(ws, tables.leads)] == ["sql", "lead"]
    assert [(d["id"], d["lead_id"], d["stage"], d["won"]) for d in rows(ws, tables.deals)] == [
        ("31", "7", "won", True),
        ("32", "8", "proposal", None),
    ]


def test_a_mapping_file_over_a_preset_adds_a_time_zone(ws, tmp_path):
    extra = tmp_path / "zone.yaml"
    extra.write_text("timezone: Europe/Copenhagen\nstages: {Other: nurture}\n")
    report = load(ws, "hubspot_contacts.csv", preset="hubspot", mapping=extra)
    assert report.rejected == 0
    lead = {r["id"]: r for r in rows(ws, tables.leads)}["101"]
    assert lead["created_at"] == at("2025-01-06T08:00:00+00:00")


# --- Whole-file problems ------------------------------------------------------------------------


def test_a_broken_mapping_file_names_file_line_and_field(ws):
    with pytest.raises(PactError) as caught:
        load(ws, "leads.csv", mapping=DATA / "mapping_broken.yaml")
    got = [(p.line, p.field) for p in caught.value.problems]
    assert got == [(2, "colums"), (9, "timezone")]
    assert "did you mean 'columns'" in str(caught.value)
    assert "Mars/Olympus" in str(caught.value)


def test_a_mapping_that_does_not_fit_the_pact_or_kind(ws, tmp_path):
    with pytest.raises(PactError) as caught:
        load(ws, "leads.csv", mapping=DATA / "mapping_unknown.yaml")
    got = [(p.line, p.field) for p in caught.value.problems]
    assert got == [(4, "columns.emial"), (7, "stages.Hot")]
    assert str(DATA / "mapping_unknown.yaml") in str(caught.value)


@pytest.mark.parametrize(
    ("name", "kwargs", "message"),
    [
        ("missing.csv", {}, "no such file"),
        ("mapping_touches.yaml", {}, "cannot import .yaml"),
        ("leads.csv", {"mapping": DATA / "nope.yaml"}, "does not exist"),
        ("leads.csv", {"preset": "zoho"}, "unknown preset 'zoho'"),
        ("leads.csv", {"kind": Kind.ACTIVITIES}, "has no lead_id, type, at column"),
        ("dialler.csv", {}, "cannot tell what dialler.csv holds"),
        ("leads.csv", {"mapping": DATA / "mapping_touches.yaml"}, "has no column 'Contact'"),
    ],
)
def test_whole_file_problems_are_one_clear_error(ws, name, kwargs, message):
    with pytest.raises(LeadPactError, match=message):
        load(ws, name, **kwargs)
    assert count(ws, tables.imports) == 0


def test_an_empty_file_and_a_header_with_a_duplicate(ws, tmp_path):
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(LeadPactError, match="the file is empty"):
        import_file(ws, empty)
    twice = tmp_path / "twice.csv"
    twice.write_text("id,created_at,id\n")
    with pytest.raises(LeadPactError, match="'id' appears twice"):
        import_file(ws, twice)


def test_a_file_that_is_not_utf8_says_so_and_its_encoding_can_be_set(ws, tmp_path):
    path = tmp_path / "latin.csv"
    path.write_bytes("id;created_at;company\nL1;2025-03-01T10:00:00Z;Søstrene\n".encode("latin-1"))
    with pytest.raises(LeadPactError, match="cannot read the file"):
        import_file(ws, path, score=False)
    mapping = tmp_path / "latin.yaml"
    mapping.write_text("encoding: latin-1\n")
    report = import_file(ws, path, mapping=mapping, score=False)
    assert report.landed == 1
    assert rows(ws, tables.leads)[0]["company"] == "Søstrene"


# --- Other formats -------------------------------------------------------------------------------


def test_parquet_and_xlsx_land_like_the_csv(ws, tmp_path):
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq
    from openpyxl import Workbook

    table = pacsv.read_csv(DATA / "leads.csv")
    table = table.set_column(
        table.schema.get_field_index("created_at"),
        "created_at",
        pa.array([at("2025-03-03T08:30:00+00:00")] * 3, pa.timestamp("us", "UTC")),
    )
    pq.write_table(table, tmp_path / "leads.parquet")
    book = Workbook()
    sheet = book.create_sheet("leads", 0)
    sheet.append(["id", "created_at", "employees", "stage", "opted_out"])
    sheet.append(["X1", datetime(2025, 3, 3, 8, 30), 250, "mql", False])
    sheet.append([None, None, None, None, None])
    sheet.append(["X2", datetime(2025, 3, 4), 12.0, "SQL", True])
    sheet.append(["X3", "soon", 1, "lead", False])
    book.save(tmp_path / "leads.xlsx")

    parquet = import_file(ws, tmp_path / "leads.parquet", score=False)
    assert (parquet.landed, parquet.rejected) == (3, 0)
    xlsx = import_file(ws, tmp_path / "leads.xlsx", score=False)
    assert (xlsx.landed, xlsx.rejected) == (2, 1)
    assert xlsx.examples[0].line == 5  # Excel's row number; the blank row 3 still counts
    got = {r["id"]: r for r in rows(ws, tables.leads)}
    assert got["L2"]["created_at"] == at("2025-03-03T08:30:00+00:00")
    assert got["L2"]["employees"] == 1200
    assert (got["X1"]["employees"], got["X2"]["employees"]) == (250, 12)
    assert (got["X2"]["stage"], got["X2"]["opted_out"]) == ("sql", True)
    assert got["X1"]["created_at"] == at("2025-03-03T08:30:00+00:00")


def test_demo_company_imports_with_stage_history(ws, tmp_path):
    from leadpact.services.demo import generate

    paths = generate(seed=2, leads=300).write_csv(tmp_path / "demo")
    reports = {kind: import_file(ws, path, score=False) for kind, path in paths.items()}
    assert all(r.rejected == 0 for r in reports.values())
    assert count(ws, tables.leads) == 300
    assert reports["leads"].stage_changes == count(ws, tables.stage_changes) > 300
    assert count(ws, tables.activities) == reports["activities"].inserted


# --- Values -----------------------------------------------------------------------------------


def test_numbers_bools_and_value_maps():
    text = pa.array(["1,200", "1 200", "12.5", "abc", None, "1e3", "-7"])
    whole, bad = presets.parse_numbers(text, whole=True)
    assert whole.to_pylist() == [1200, 1200, None, None, None, 1000, -7]
    assert bad.to_pylist() == [False, False, True, True, False, False, False]
    real, bad = presets.parse_numbers(text, whole=False)
    assert real.to_pylist()[2] == 12.5
    flags, bad = presets.parse_bools(pa.array(["Yes", "n", "TRUE", "0", "maybe", None]))
    assert flags.to_pylist() == [True, False, True, False, None, None]
    assert bad.to_pylist() == [False, False, False, False, True, False]
    table: dict[str, str | None] = {"marketingqualifiedlead": "mql"}
    assert presets.map_values(
        pa.array(["Marketing Qualified Lead", "x", None]), table
    ).to_pylist() == [
        "mql",
        None,
        None,
    ]


def test_instants_follow_the_calendar_conventions_for_local_times():
    values = pa.array(
        [
            "2025-03-09 02:30",  # skipped by the spring-forward jump: the moment of the jump
            "2025-11-02 01:30",  # occurs twice: the first occurrence (EDT)
            "2025-03-01",
            "2025-03-01T10:00:00+02:00",
            "3/5/2025 2:30 PM",
            "never",
            None,
        ]
    )
    found = presets.parse_instants(values, "America/New_York", ["%m/%d/%Y %I:%M %p"])
    assert found.values.to_pylist()[:5] == [
        at("2025-03-09T07:00:00+00:00"),
        at("2025-11-02T05:30:00+00:00"),
        at("2025-03-01T05:00:00+00:00"),
        at("2025-03-01T08:00:00+00:00"),
        at("2025-03-05T19:30:00+00:00"),
    ]
    assert found.bad.to_pylist() == [False] * 5 + [True, False]
    assert found.date_only.to_pylist() == [False, False, True, False, False, False, False]
    assert found.naive.to_pylist() == [True, True, True, False, True, True, False]


def test_xlsx_sheet_choice_surplus_cells_and_a_file_that_is_no_workbook(ws, tmp_path):
    from openpyxl import Workbook

    book = Workbook()
    book.create_sheet("notes", 0).append(["nothing here"])
    sheet = book.create_sheet("Leads", 1)
    sheet.append(["id", "created_at"])
    sheet.append(["X1", "2025-03-03T08:30:00Z"])
    sheet.append(["X2", "2025-03-03T08:30:00Z", "stray"])
    book.save(tmp_path / "book.xlsx")
    mapping = tmp_path / "sheet.yaml"
    mapping.write_text("sheet: Leads\n")
    report = import_file(ws, tmp_path / "book.xlsx", mapping=mapping, score=False)
    assert (report.landed, report.rejected) == (1, 1)
    assert (report.examples[0].line, report.examples[0].code) == (3, "malformed row")
    mapping.write_text("sheet: Nope\n")
    with pytest.raises(LeadPactError, match="has no sheet 'Nope'; it has notes, Leads"):
        import_file(ws, tmp_path / "book.xlsx", mapping=mapping)
    (tmp_path / "fake.xlsx").write_text("id,created_at\n")
    with pytest.raises(LeadPactError, match="not an XLSX workbook"):
        import_file(ws, tmp_path / "fake.xlsx")
    (tmp_path / "fake.parquet").write_text("id,created_at\n")
    with pytest.raises(LeadPactError, match="not a Parquet file"):
        import_file(ws, tmp_path / "fake.parquet")


def test_mapping_files_that_are_not_yaml_or_name_values_outside_a_vocabulary(ws, tmp_path):
    broken = tmp_path / "broken.yaml"
    broken.write_text("kind: leads\ncolumns: [unclosed\n")
    with pytest.raises(PactError, match=r"broken.yaml:3: not valid YAML"):
        load(ws, "leads.csv", mapping=broken)
    listed = tmp_path / "list.yaml"
    listed.write_text("- kind\n")
    with pytest.raises(PactError, match="expected a mapping with kind, columns"):
        load(ws, "leads.csv", mapping=listed)
    wrong = tmp_path / "values.yaml"
    wrong.write_text("kind: touches\ncolumns: {lead_id: Contact}\nvalues:\n  channel: {Fax: fax}\n")
    with pytest.raises(PactError) as caught:
        load(ws, "dialler.csv", mapping=wrong)
    assert [(p.line, p.field) for p in caught.value.problems] == [(4, "values.channel")]
    assert "'fax' (for 'Fax') is not one of call, email, meeting, social" in str(caught.value)
    other = tmp_path / "other.yaml"
    other.write_text("kind: deals\n")
    with pytest.raises(PactError, match="the mapping is for deals, the import is of leads"):
        load(ws, "leads.csv", mapping=other, kind=Kind.LEADS)
