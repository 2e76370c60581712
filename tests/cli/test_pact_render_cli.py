"""`leadpact pact render` as a user runs it."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from leadpact.cli import app

EXAMPLE_PACT = Path(__file__).resolve().parents[2] / "src" / "leadpact" / "data" / "pact.yaml"
runner = CliRunner()


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    folder = tmp_path / "ws"
    folder.mkdir()
    shutil.copy(EXAMPLE_PACT, folder / "pact.yaml")
    return folder


def test_markdown_goes_to_standard_output(ws: Path):
    result = runner.invoke(app, ["pact", "render", str(ws / "pact.yaml"), "--lang", "da"])
    assert result.exit_code == 0, result.output
    assert "## 1. Overblik over aftalen" in result.output
    assert "## 8. Underskrifter" in result.output


def test_html_and_json_to_a_file(ws: Path, tmp_path: Path):
    target = tmp_path / "out" / "pact.html"
    result = runner.invoke(
        app, ["pact", "render", str(ws / "pact.yaml"), "-f", "html", "-l", "it", "-o", str(target)]
    )
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"wrote {target}")
    assert '<html lang="it">' in target.read_text(encoding="utf-8")
    data = runner.invoke(app, ["pact", "render", "-w", str(ws), "-f", "json"])
    assert json.loads(data.output)["sections"][0]["key"] == "overview"


def test_pdf_and_docx_default_to_a_named_file(ws: Path, tmp_path: Path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    pdf = runner.invoke(app, ["pact", "render", str(ws / "pact.yaml"), "-f", "pdf", "-l", "nl"])
    assert pdf.exit_code == 0, pdf.output
    assert (tmp_path / "pact.nl.pdf").read_bytes().startswith(b"%PDF-")
    docx = runner.invoke(app, ["pact", "render", str(ws / "pact.yaml"), "-f", "docx"])
    assert docx.exit_code == 0, docx.output
    assert (tmp_path / "pact.en.docx").read_bytes().startswith(b"PK")


def test_a_recorded_version_shows_its_approvals(ws: Path):
    def pact(*args: str):
        return runner.invoke(app, ["pact", *args, "-w", str(ws)])

    pact("commit", "-m", "v1", "--as-of", "2025-03-01T08:00Z")
    pact("approve", "1", "--party", "sales", "--by", "Lars Nielsen", "--as-of", "2025-03-02T08:00Z")
    result = pact("render", "--version", "1")
    assert result.exit_code == 0, result.output
    assert "- **Version:** 1" in result.output
    assert "Approved: Lars Nielsen, 2 March 2025" in result.output
    both = pact("render", str(ws / "pact.yaml"), "--version", "1")
    assert both.exit_code == 2
    missing = pact("render", "--version", "5")
    assert missing.exit_code == 1
    assert "there is no version 5" in missing.output


def test_an_invalid_file_or_language(ws: Path, tmp_path: Path):
    missing = runner.invoke(app, ["pact", "render", str(tmp_path / "nope.yaml")])
    assert missing.exit_code == 1
    assert "no such file" in missing.output
    language = runner.invoke(app, ["pact", "render", str(ws / "pact.yaml"), "--lang", "fr"])
    assert language.exit_code == 2
