"""The import use-case on real files and real databases (SQLite always, PostgreSQL when set)."""

from __future__ import annotations

import csv
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pytest
from sqlalchemy import Table, func, select
from tests.services.conftest import NOW

from leadpact.errors import ImportFileError, LeadPactError, MappingError
from leadpact.services import import_values
from leadpact.services.importing import ImportReport, Kind, import_file
from leadpact.services.workspace import Workspace, erase
from leadpact.store import tables

DATA = Path(__file__).resolve().parents[1] / "data" / "import"


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
    assert all(len(a["key"]) == 32 for a in stored)  # a 128-bit content hash (import_keys)
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


def test_won_and_lost_deals_move_their_leads_once(ws, tmp_path):
    load(ws, "leads.csv")
    report = load(ws, "deals.csv")
    leads = {r["id"]: r for r in rows(ws, tables.leads)}
    # L1 (mql) has two won deals: the first to close (D4) decides; L2 (sql) lost D2;
    # L3's deal is still open.
    assert (leads["L1"]["stage"], leads["L1"]["stage_at"]) == ("won", at("2025-02-01T09:00:00Z"))
    assert (leads["L2"]["stage"], leads["L2"]["stage_at"]) == ("lost", at("2025-03-01T12:00:00Z"))
    assert leads["L3"]["stage"] == "lead"
    assert report.stage_changes == 2
    history = {h["lead_id"]: h for h in rows(ws, tables.stage_changes)}
    assert {k: (h["from_stage"], h["to_stage"]) for k, h in history.items()} == {
        "L1": ("mql", "won"),
        "L2": ("sql", "lost"),
    }
    assert (history["L1"]["reason"], history["L1"]["actor"]) == ("deal D4 won", "import")
    assert history["L2"]["reason"] == "deal D2 lost"
    # Both closed before their lead entered its stage: the time spent there is unknown.
    assert history["L1"]["seconds_in_from"] is None
    from leadpact.core.models import stage_change_key

    assert history["L1"]["key"] == stage_change_key("L1", "won", at("2025-02-01T09:00:00Z"))
    again = load(ws, "deals.csv")
    assert (again.stage_changes, again.inserted, again.updated) == (0, 0, 0)
    assert count(ws, tables.stage_changes) == 2
    # A won deal without closed_at leaves its lead where it is, and says so.
    undated = tmp_path / "undated.csv"
    undated.write_text("id,lead_id,stage,created_at\nD9,L3,won,2025-03-12T09:00:00Z\n")
    report = import_file(ws, undated, score=False)
    assert report.stage_changes == 0
    assert {r["id"]: r for r in rows(ws, tables.leads)}["L3"]["stage"] == "lead"
    assert next(n for n in report.notes if n.code == "closed_without_date").lines == [2]


def test_a_deal_moves_only_a_lead_in_an_earlier_open_stage(ws, tmp_path):
    leads = tmp_path / "leads.csv"
    leads.write_text(
        "id,created_at,stage\n"
        "A,2025-03-01T09:00:00Z,nurture\n"  # recycled: no move to won
        "B,2025-03-01T09:00:00Z,lost\n"  # terminal
        "C,2025-03-01T09:00:00Z,proposal\n"
    )
    load_path = import_file(ws, leads, score=False)
    assert load_path.rejected == 0
    deals = tmp_path / "deals.csv"
    deals.write_text(
        "id,lead_id,stage,created_at,closed_at\n"
        "DA,A,won,2025-03-02T09:00:00Z,2025-03-05T09:00:00Z\n"
        "DB,B,won,2025-03-02T09:00:00Z,2025-03-05T09:00:00Z\n"
        "DC,C,won,2025-03-02T09:00:00Z,2025-03-05T09:00:00Z\n"
    )
    report = import_file(ws, deals, score=False)
    assert report.stage_changes == 1
    stages = {r["id"]: r["stage"] for r in rows(ws, tables.leads)}
    assert stages == {"A": "nurture", "B": "lost", "C": "won"}
    [change] = rows(ws, tables.stage_changes)
    assert change["seconds_in_from"] == timedelta(days=4).total_seconds()


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


def test_a_repeated_lead_keeps_the_history_of_its_last_line(ws, tmp_path):
    text = (DATA / "hubspot_contacts.csv").read_text()
    first = text.splitlines()[1]
    path = tmp_path / "contacts.csv"
    path.write_text(text.replace("2025-01-08 10:30", "2025-01-07 10:30") + first + "\n")
    report = import_file(ws, path, preset="hubspot", score=False)
    assert next(n for n in report.notes if n.code == "duplicate_id").lines == [2]
    history = [r for r in rows(ws, tables.stage_changes, "at") if r["lead_id"] == "101"]
    assert [h["at"] for h in history][:2] == [
        at("2025-01-06T09:00:00Z"),
        at("2025-01-08T10:30:00Z"),
    ]
    assert report.stage_changes == 7


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
    # Deal 31 was won: its person moved from sql to won when the deal closed (docs/import.md).
    assert [r["stage"] for r in rows(ws, tables.leads)] == ["won", "lead"]
    assert rows(ws, tables.leads)[0]["stage_at"] == at("2025-04-01T12:00:00+00:00")
    assert deals.stage_changes == 1
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
    with pytest.raises(MappingError) as caught:
        load(ws, "leads.csv", mapping=DATA / "mapping_broken.yaml")
    got = [(p.line, p.field) for p in caught.value.problems]
    assert got == [(2, "colums"), (9, "timezone")]
    assert "did you mean 'columns'" in str(caught.value)
    assert "Mars/Olympus" in str(caught.value)


def test_a_mapping_that_does_not_fit_the_pact_or_kind(ws, tmp_path):
    with pytest.raises(MappingError) as caught:
        load(ws, "leads.csv", mapping=DATA / "mapping_unknown.yaml")
    got = [(p.line, p.field) for p in caught.value.problems]
    assert got == [(4, "columns.emial"), (7, "stages.Hot")]
    assert str(DATA / "mapping_unknown.yaml") in str(caught.value)


@pytest.mark.parametrize(
    ("name", "kwargs", "error", "message"),
    [
        ("missing.csv", {}, ImportFileError, "no such file"),
        ("mapping_touches.yaml", {}, ImportFileError, "cannot import .yaml"),
        ("leads.csv", {"mapping": DATA / "nope.yaml"}, MappingError, "does not exist"),
        ("leads.csv", {"preset": "zoho"}, LeadPactError, "unknown preset 'zoho'"),
        (
            "leads.csv",
            {"kind": Kind.ACTIVITIES},
            ImportFileError,
            "has no lead_id, type, at column",
        ),
        ("dialler.csv", {}, ImportFileError, "cannot tell what dialler.csv holds"),
        (
            "leads.csv",
            {"mapping": DATA / "mapping_touches.yaml"},
            ImportFileError,
            "has no column 'Contact'",
        ),
    ],
)
def test_whole_file_problems_are_one_clear_error(ws, name, kwargs, error, message):
    with pytest.raises(error, match=message) as caught:
        load(ws, name, **kwargs)
    if isinstance(caught.value, ImportFileError):
        assert caught.value.path.endswith(name)
    assert count(ws, tables.imports) == 0


def test_an_empty_file_and_a_header_with_a_duplicate(ws, tmp_path):
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(ImportFileError, match="the file is empty"):
        import_file(ws, empty)
    twice = tmp_path / "twice.csv"
    twice.write_text("id,created_at,id\n")
    with pytest.raises(ImportFileError, match="'id' appears twice"):
        import_file(ws, twice)


def test_a_file_that_is_not_utf8_says_so_and_its_encoding_can_be_set(ws, tmp_path):
    path = tmp_path / "latin.csv"
    path.write_bytes("id;created_at;company\nL1;2025-03-01T10:00:00Z;Søstrene\n".encode("latin-1"))
    with pytest.raises(ImportFileError, match="cannot read the file"):
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


def test_a_deal_file_updates_only_its_columns(ws, tmp_path):
    load(ws, "leads.csv")
    load(ws, "deals.csv")
    fewer = tmp_path / "deals.csv"
    fewer.write_text("id,lead_id,stage,created_at\nD3,L3,lost,2025-03-12T09:00:00Z\n")
    report = import_file(ws, fewer, score=False)
    assert (report.inserted, report.updated) == (0, 1)
    deal = {d["id"]: d for d in rows(ws, tables.deals)}["D3"]
    assert (deal["stage"], deal["won"], deal["amount"]) == ("lost", False, None)
    d2 = {d["id"]: d for d in rows(ws, tables.deals)}["D2"]
    assert d2["amount"] == 12500.5


# --- Large files ------------------------------------------------------------------------------


def many_leads(path: Path, n: int, *, bad_line: int | None = None) -> Path:
    """A leads file of `n` rows (L0...), with a malformed line after row `bad_line`."""
    lines = ["id,email,created_at,stage"]
    for i in range(n):
        lines.append(f"L{i},l{i}@x.example,2025-03-01T09:{i % 60:02d}:00Z,mql")
        if bad_line is not None and i == bad_line:
            lines.append("broken,line")
    path.write_text("\n".join(lines) + "\n")
    return path


def many_activities(path: Path, n: int, leads: int) -> Path:
    lines = ["lead_id,type,at,url"]
    for i in range(n):
        lines.append(f"L{i % leads},page_view,2025-03-02T10:00:{i % 60:02d}Z,https://x.example/{i}")
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture
def small_blocks(monkeypatch):
    """Read CSV files in blocks of 4 KiB (many batches), commit every 500 rows in bulk."""
    from leadpact.services import import_csv, import_store

    monkeypatch.setattr(import_csv, "BLOCK_BYTES", 4096)
    monkeypatch.setattr(import_store, "COMMIT_ROWS", 500)


def index_names(ws: Workspace, table: str) -> set[str]:
    from sqlalchemy import inspect

    return {str(i["name"]) for i in inspect(ws.engine).get_indexes(table)}


def test_a_bulk_import_builds_the_indexes_of_an_empty_table_at_the_end(
    ws, tmp_path, monkeypatch, small_blocks
):
    from leadpact.services import import_writer, importing

    monkeypatch.setattr(importing, "BULK_BYTES", 0)
    monkeypatch.setattr(import_writer, "_READ_ALL_IDS", 0)  # every lead id read at once
    before = {t: index_names(ws, t) for t in ("leads", "activities")}
    dropped: list[str] = []
    original = import_writer.Writer.write

    def write(self, chunk):  # the indexes are gone while the rows land
        dropped.append(",".join(sorted(index_names(ws, self.target.name))))
        return original(self, chunk)

    monkeypatch.setattr(import_writer.Writer, "write", write)
    leads = import_file(ws, many_leads(tmp_path / "leads.csv", 1500), score=False)
    assert (leads.landed, leads.inserted, leads.rejected) == (1500, 1500, 0)
    path = many_activities(tmp_path / "activities.csv", 3000, leads=1600)
    report = import_file(ws, path, score=False)
    # Rows 1501-1600 of the file name L1500...L1599, which are not leads.
    assert report.rejected == 100
    assert report.landed == report.inserted == 3000 - report.rejected
    assert report.examples[0].line == 1502
    assert report.examples[0].reason.startswith("lead_id: no lead 'L1500' in the workspace")
    assert {t: index_names(ws, t) for t in ("leads", "activities")} == before
    assert "ix_activities_lead_at" not in dropped[-1]
    assert len(dropped) > 5  # many batches, in transactions of several batches each
    assert count(ws, tables.activities) == report.inserted
    again = import_file(ws, path, score=False)
    assert (again.inserted, again.rejected) == (0, report.rejected)


def test_leads_added_or_erased_during_an_import_are_seen(ws, tmp_path, monkeypatch, small_blocks):
    from leadpact.services import import_writer

    monkeypatch.setattr(import_writer, "_READ_ALL_IDS", 0)  # every lead id read at once
    import_file(ws, many_leads(tmp_path / "leads.csv", 100), score=False)
    path = many_activities(tmp_path / "activities.csv", 2000, leads=102)
    original = import_writer.Writer.write
    seen: list[int] = []

    def write(self, chunk):  # meanwhile, L100 and L101 are added and L5 is erased
        seen.append(len(chunk.lines))
        if len(seen) == 2:
            with ws.engine.begin() as conn:
                conn.execute(
                    tables.leads.insert(),
                    [
                        {"id": f"L{i}", "stage": "lead", "stage_at": NOW, "created_at": NOW}
                        for i in (100, 101)
                    ],
                )
            erase(ws, lead_id="L5", reason="opted out")
        return original(self, chunk)

    monkeypatch.setattr(import_writer.Writer, "write", write)
    report = import_file(ws, path, score=False)
    first = seen[0]
    # Set aside: rows of L100/L101 before they existed (rejected), rows of L5 after it was
    # erased (suppressed: the erasure put L5 on the suppression list).
    early = [i for i in range(first) if i % 102 >= 100]
    late = [i for i in range(first, 2000) if i % 102 == 5]
    assert report.rejected == len(early)
    assert report.suppressed == len(late) > 0
    assert report.suppressed_lines == [i + 2 for i in late[:10]]
    assert report.inserted == 2000 - report.rejected - report.suppressed
    with ws.engine.connect() as conn:
        leads = set(conn.execute(select(tables.activities.c.lead_id).distinct()).scalars())
    assert "L5" not in leads
    assert {"L100", "L101"} <= leads


def test_rows_of_a_lead_removed_after_the_check_are_set_aside(ws, monkeypatch):
    if ws.engine.dialect.name != "postgresql":
        pytest.skip("SQLite holds the write lock from the lead check to the insert")
    from leadpact.services import import_writer

    load(ws, "leads.csv")
    known = import_writer.Writer._known
    calls: list[int] = []

    def stale_check(self, chunk):  # as if L404 existed when checked and was gone at insert
        calls.append(1)
        return np.ones(len(chunk.lines), bool) if len(calls) == 1 else known(self, chunk)

    monkeypatch.setattr(import_writer.Writer, "_known", stale_check)
    report = load(ws, "activities.csv")
    assert (report.landed, report.inserted) == (4, 4)
    assert [(r.line, r.code) for r in report.examples] == [
        (5, "lead_id: lead not in the workspace"),
        (6, "unknown activity type"),
    ]
    assert "L404" not in {a["lead_id"] for a in rows(ws, tables.activities)}


def test_indexes_an_interrupted_bulk_import_left_out_come_back(ws, tmp_path):
    from sqlalchemy import text

    with ws.engine.begin() as conn:
        conn.execute(text("DROP INDEX ix_leads_owner"))
    assert "ix_leads_owner" not in index_names(ws, "leads")
    load(ws, "leads.csv")
    assert "ix_leads_owner" in index_names(ws, "leads")


def test_a_malformed_line_after_many_rows_keeps_every_line_number(ws, tmp_path, small_blocks):
    # The file is read on all cores until the malformed line; then again on one thread,
    # passing over the rows already landed.
    path = many_leads(tmp_path / "leads.csv", 2000, bad_line=1700)
    report = import_file(ws, path, score=False)
    assert (report.rows_read, report.landed, report.inserted) == (2001, 2000, 2000)
    assert [(r.line, r.code) for r in report.examples] == [(1703, "malformed line")]
    assert count(ws, tables.leads) == 2000
    with ws.engine.connect() as conn:
        last = conn.execute(select(tables.leads).where(tables.leads.c.id == "L1999")).one()
    assert last.email == "l1999@x.example"


def test_a_row_with_a_repeated_id_in_a_later_batch_is_an_update(ws, tmp_path, small_blocks):
    path = many_leads(tmp_path / "leads.csv", 1000)
    with path.open("a") as file:
        file.write("L5,changed@x.example,2025-03-01T09:05:00Z,mql\n")
    report = import_file(ws, path, score=False)
    assert (report.landed, report.inserted, report.updated) == (1001, 1000, 1)
    with ws.engine.connect() as conn:
        lead = conn.execute(select(tables.leads).where(tables.leads.c.id == "L5")).one()
    assert lead.email == "changed@x.example"


# --- Keys -------------------------------------------------------------------------------------


def test_event_keys_are_pinned_and_the_same_for_one_record_and_a_column():
    from leadpact.services import import_keys as keys

    instant = at("2025-03-05T10:00:00+00:00")
    columns = [
        pa.array(["L1", "L2", None, ""]),
        pa.array(["page_view", "webinar", "chat", "chat"]),
        pa.array([instant, instant, None, instant], pa.timestamp("us", "UTC")),
        pa.array(["https://x.example/ø" * 3, None, "", "a"]),
        pa.array([1.5, None, -2.0, 0.0]),
        pa.array([True, False, None, True]),
        pa.array([7, None, -1, 2**40], pa.int64()),
    ]
    vector = keys.record_keys(columns).to_pylist()
    one = [keys.record_key([c[i].as_py() for c in columns]) for i in range(4)]
    assert vector == one
    assert len(set(vector)) == 4
    assert all(len(k) == 32 for k in vector)
    # Stored keys: a change here makes a re-import add every event again.
    assert keys.record_key(["L1", "page_view", instant, None]) == (
        "aa4ee3d60596a3d6fee506dc4ca3a890"
    )
    assert keys.record_key([""]) != keys.record_key([None]) != keys.record_key(["\x00"])
    assert keys.record_key(["a", "b"]) != keys.record_key(["b", "a"])


def test_text_hashes_do_not_depend_on_the_other_values_of_the_column():
    from leadpact.services import import_keys as keys

    words = ["", "a", "abcdefgh", "abcdefghi", "x" * 40, "æøå" * 5]
    alone = [keys.text_lanes(pa.array([w])) for w in words]
    together = keys.text_lanes(pa.array(words))
    sliced = keys.text_lanes(pa.array(["skip", *words]).slice(1))
    for i in range(len(words)):
        assert (together[0][i], together[1][i]) == (alone[i][0][0], alone[i][1][0])
        assert (sliced[0][i], sliced[1][i]) == (alone[i][0][0], alone[i][1][0])
    assert len({int(a) for a in together[0]}) == len(words)


# --- Values -----------------------------------------------------------------------------------


def test_numbers_bools_and_value_maps():
    text = pa.array(["1,200", "1 200", "12.5", "abc", None, "1e3", "-7"])
    whole, bad = import_values.parse_numbers(text, whole=True)
    assert whole.to_pylist() == [1200, 1200, None, None, None, 1000, -7]
    assert bad.to_pylist() == [False, False, True, True, False, False, False]
    real, bad = import_values.parse_numbers(text, whole=False)
    assert real.to_pylist()[2] == 12.5
    flags, bad = import_values.parse_bools(pa.array(["Yes", "n", "TRUE", "0", "maybe", None]))
    assert flags.to_pylist() == [True, False, True, False, None, None]
    assert bad.to_pylist() == [False, False, False, False, True, False]
    table: dict[str, str | None] = {"marketingqualifiedlead": "mql"}
    assert import_values.map_values(
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
    found = import_values.parse_instants(values, "America/New_York", ["%m/%d/%Y %I:%M %p"])
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
    with pytest.raises(ImportFileError, match="has no sheet 'Nope'; it has notes, Leads"):
        import_file(ws, tmp_path / "book.xlsx", mapping=mapping)
    (tmp_path / "fake.xlsx").write_text("id,created_at\n")
    with pytest.raises(ImportFileError, match="not an XLSX workbook"):
        import_file(ws, tmp_path / "fake.xlsx")
    (tmp_path / "fake.parquet").write_text("id,created_at\n")
    with pytest.raises(ImportFileError, match="not a Parquet file"):
        import_file(ws, tmp_path / "fake.parquet")


def test_mapping_files_that_are_not_yaml_or_name_values_outside_a_vocabulary(ws, tmp_path):
    broken = tmp_path / "broken.yaml"
    broken.write_text("kind: leads\ncolumns: [unclosed\n")
    with pytest.raises(MappingError, match=r"broken.yaml:3: not valid YAML"):
        load(ws, "leads.csv", mapping=broken)
    listed = tmp_path / "list.yaml"
    listed.write_text("- kind\n")
    with pytest.raises(MappingError, match="expected a mapping with kind, columns"):
        load(ws, "leads.csv", mapping=listed)
    wrong = tmp_path / "values.yaml"
    wrong.write_text("kind: touches\ncolumns: {lead_id: Contact}\nvalues:\n  channel: {Fax: fax}\n")
    with pytest.raises(MappingError) as caught:
        load(ws, "dialler.csv", mapping=wrong)
    assert [(p.line, p.field) for p in caught.value.problems] == [(4, "values.channel")]
    assert "'fax' (for 'Fax') is not one of call, email, meeting, social" in str(caught.value)
    other = tmp_path / "other.yaml"
    other.write_text("kind: deals\n")
    with pytest.raises(MappingError, match="the mapping is for deals, the import is of leads"):
        load(ws, "leads.csv", mapping=other, kind=Kind.LEADS)
