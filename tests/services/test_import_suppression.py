"""An erased person stays erased: a later import sets their rows aside (suppressed, by line)."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Table, func, select

from leadpact.services.importing import ImportReport, import_file
from leadpact.services.workspace import Workspace, erase
from leadpact.store import tables
from leadpact.store.suppression import SuppressionList

DATA = Path(__file__).resolve().parents[1] / "data" / "import"
#: tests/data/import/leads.csv: L2 (bo@beta.example) is on line 3.
BO_LINE = 3


def load(ws: Workspace, path: Path | str) -> ImportReport:
    return import_file(ws, path if isinstance(path, Path) else DATA / path, score=False)


def column(ws: Workspace, table: Table, name: str) -> list[Any]:
    with ws.engine.connect() as conn:
        return sorted(conn.execute(select(table.c[name])).scalars(), key=str)


def count(ws: Workspace, table: Table) -> int:
    with ws.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar_one()


def leads_file(path: Path, rows: list[tuple[str, str]]) -> Path:
    """A leads file of (id, email) rows created at NOW."""
    with path.open("w", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(["id", "email", "first_name", "created_at"])
        for lead_id, email in rows:
            writer.writerow([lead_id, email, "Someone", "2025-03-01T09:00:00Z"])
    return path


def test_an_erased_person_is_not_imported_again_and_the_others_land(ws):
    load(ws, "leads.csv")
    erase(ws, lead_id="L2", reason="opted out")
    report = load(ws, "leads.csv")
    assert (report.rows_read, report.landed, report.unchanged) == (3, 2, 2)
    assert (report.rejected, report.suppressed) == (0, 1)
    assert report.suppressed_lines == [BO_LINE]
    assert report.rejects_file is None  # suppressed rows are not rejects: no file
    ids = column(ws, tables.leads, "id")
    assert "L2" not in ids
    assert [i for i in ids if not i.startswith("erased-")] == ["L1", "L3"]
    assert "bo@beta.example" not in column(ws, tables.leads, "email")
    as_json = report.as_dict()
    assert (as_json["suppressed"], as_json["suppressed_lines"]) == (1, [BO_LINE])
    assert "bo@beta.example" not in repr(as_json)


def test_a_new_id_with_the_erased_email_or_the_old_id_with_a_new_email_is_suppressed(ws, tmp_path):
    load(ws, "leads.csv")
    erase(ws, email="BO@beta.example", reason="opted out")
    path = leads_file(
        tmp_path / "again.csv",
        [
            ("L9", " Bo@Beta.Example "),  # line 2: another CRM record, same person
            ("L2", "bo.lund@private.example"),  # line 3: the erased record, a new address
            ("L10", "new@delta.example"),  # line 4: somebody else
            ("L11", ""),  # line 5: no email
        ],
    )
    report = load(ws, path)
    assert report.suppressed_lines == [2, 3]
    assert (report.landed, report.inserted, report.rejected) == (2, 2, 0)
    ids = column(ws, tables.leads, "id")
    assert {"L9", "L2"}.isdisjoint(ids)
    assert {"L10", "L11"} <= set(ids)


def test_events_and_deals_of_an_erased_lead_are_suppressed_not_rejected(ws):
    for name in ("leads.csv", "activities.csv", "touches.csv", "deals.csv"):
        load(ws, name)
    erase(ws, lead_id="L1", reason="opted out")
    expected = {
        # file: (suppressed lines: L1's rows, rejected lines)
        "activities.csv": ([2, 3], [5, 6]),  # L404 and an unknown type: rejected as before
        "touches.csv": ([2, 3], [4, 5]),  # a carrier pigeon, and L404
        "deals.csv": ([2, 5], [6]),
    }
    for name, (suppressed, rejected) in expected.items():
        report = load(ws, name)
        assert report.suppressed_lines == suppressed, name
        assert [r.line for r in report.examples] == rejected, name
        assert report.inserted == 0, name  # nothing new, and L1 is not back
        assert report.rejects_file is not None
        written = report.rejects_file.read_text()
        assert "nordlys.example/pricing" not in written  # L1's rows are not copied anywhere
        assert "Replied, wants a demo" not in written
    assert "L1" not in column(ws, tables.leads, "id")


def test_with_nobody_erased_an_import_hashes_nothing(ws, monkeypatch):
    def refuse(*args: object) -> list[bool]:
        raise AssertionError("hashed a column although the list is empty")

    monkeypatch.setattr(SuppressionList, "matches", refuse)
    report = load(ws, "leads.csv")
    assert report.landed == 3
    assert load(ws, "activities.csv").rejected == 2  # L404 and an unknown type
    load(ws, "leads.csv")
    erase(ws, lead_id="L3", reason="opted out")
    with pytest.raises(AssertionError, match="hashed a column"):
        load(ws, "leads.csv")


def test_someone_erased_while_the_import_runs_is_set_aside_from_then_on(ws, tmp_path, monkeypatch):
    from leadpact.services import import_csv, import_writer

    monkeypatch.setattr(import_csv, "BLOCK_BYTES", 4096)  # many chunks
    rows = [(f"L{i}", f"l{i}@x.example") for i in range(600)]
    load(ws, leads_file(tmp_path / "leads.csv", rows))
    changed = leads_file(tmp_path / "changed.csv", [(i, e.upper()) for i, e in rows])
    original = import_writer.Writer.write
    erased: list[str] = []

    def write(self, chunk):  # the chunk is prepared (and screened) already: erase one of it
        if not erased:
            erased.append(chunk.values["id"][5].as_py())
            erase(ws, lead_id=erased[0], reason="opted out")
        return original(self, chunk)

    monkeypatch.setattr(import_writer.Writer, "write", write)
    report = load(ws, changed)
    line = int(erased[0][1:]) + 2
    assert (report.suppressed, report.suppressed_lines) == (1, [line])
    assert (report.updated, report.rejected) == (599, 0)
    assert erased[0] not in column(ws, tables.leads, "id")
    assert f"l{erased[0][1:]}@x.example".upper() not in column(ws, tables.leads, "email")


def test_the_stage_history_of_a_suppressed_row_is_not_written(ws, tmp_path):
    path = tmp_path / "leads.csv"
    path.write_text(
        "id,email,created_at,stage,became_mql_at\n"
        "H1,h1@x.example,2025-03-01T09:00:00Z,mql,2025-03-02T09:00:00Z\n"
        "H2,h2@x.example,2025-03-01T09:00:00Z,mql,2025-03-02T09:00:00Z\n"
    )
    load(ws, path)
    erase(ws, lead_id="H1", reason="opted out")
    assert count(ws, tables.stage_changes) == 2
    with ws.engine.begin() as conn:  # the history is gone: the file brings H2's back, not H1's
        conn.execute(tables.stage_changes.delete())
    report = load(ws, path)
    assert report.suppressed_lines == [2]
    assert report.stage_changes == 1
    assert set(column(ws, tables.stage_changes, "lead_id")) == {"H2"}
