"""The examples run exactly as their READMEs say, on the real data they name."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

from leadpact.cli import app

ROOT = Path(__file__).resolve().parents[1]
OLIST = ROOT / "examples" / "olist"
OLIST_DATA = Path("/work/shared/datasets/olist_marketing_funnel")
for parent in ROOT.parents:  # CI clones the repo with shared/ beside it
    if (parent / "shared" / "datasets" / "olist_marketing_funnel").is_dir():
        OLIST_DATA = parent / "shared" / "datasets" / "olist_marketing_funnel"
        break


def readme_commands(readme: Path) -> list[list[str]]:
    """The `leadpact` lines of the README's one shell block, as argument lists."""
    blocks = re.findall(r"```sh\n(.*?)```", readme.read_text(encoding="utf-8"), flags=re.DOTALL)
    assert len(blocks) == 1, "the README shows its commands in one ```sh block"
    lines = [line.strip() for line in blocks[0].splitlines() if line.strip()]
    assert all(line.startswith("leadpact ") for line in lines)
    return [shlex.split(os.path.expandvars(line))[1:] for line in lines]


@pytest.mark.skipif(not OLIST_DATA.is_dir(), reason="the Olist data set is not on this machine")
def test_olist_readme_commands_import_the_real_funnel(tmp_path, monkeypatch):
    folder = tmp_path / "olist"
    shutil.copytree(OLIST, folder)
    monkeypatch.chdir(folder)
    monkeypatch.setenv("OLIST_DATA", str(OLIST_DATA))
    monkeypatch.delenv("LEADPACT_DATABASE_URL", raising=False)
    monkeypatch.delenv("LEADPACT_WORKSPACE", raising=False)
    runner = CliRunner()
    outputs = []
    for args in readme_commands(folder / "README.md"):
        result = runner.invoke(app, args)
        assert result.exit_code == 0, (args, result.output)
        outputs.append(" ".join(result.output.split()))
    check, mqls, pages, deals = outputs
    assert "valid pact v1 for Olist" in check
    assert "8,000 rows read, 8,000 landed (8,000 new, 0 updated, 0 unchanged), 0 rejected" in mqls
    assert "dates without a time of day, read as midnight America/Sao_Paulo: 8,000 rows" in mqls
    assert "8,000 landed (8,000 new" in pages
    assert "842 rows read, 842 landed (842 new, 0 updated, 0 unchanged), 0 rejected" in deals
    assert "deals closed before their lead was created" in deals
    assert "1 row (line 669)" in deals
    # Each won deal moved its lead (an MQL) to won when the deal closed.
    assert "842 stage changes recorded in the stage history" in deals

    with sqlite3.connect(folder / "leadpact.db") as db:
        counts = [
            db.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
            for t in ("leads", "activities", "deals")
        ]
        won = db.execute("SELECT count(*) FROM deals WHERE won").fetchone()[0]
        sources = dict(db.execute("SELECT source, count(*) FROM leads GROUP BY source"))
        stages = dict(db.execute("SELECT stage, count(*) FROM leads GROUP BY stage"))
        moves = db.execute(
            "SELECT count(*) FROM stage_changes WHERE from_stage = 'mql' AND to_stage = 'won'"
        ).fetchone()[0]
        first = db.execute(
            "SELECT created_at FROM leads WHERE id = ?", ("dac32acd4db4c29c230538b72f8dd87d",)
        ).fetchone()[0]
    assert counts == [8000, 8000, 842]
    assert won == 842
    assert (sources["organic_search"], sources[None]) == (2296, 60)
    assert (stages, moves) == ({"mql": 8000 - 842, "won": 842}, 842)
    assert first.startswith("2018-02-01 02:00:00")  # midnight in São Paulo (UTC-2 in summer)

    again = runner.invoke(app, readme_commands(folder / "README.md")[3])
    assert again.exit_code == 0
    repeated = " ".join(again.output.split())
    assert "842 landed (0 new, 0 updated, 842 unchanged)" in repeated
    assert "stage changes" not in repeated
