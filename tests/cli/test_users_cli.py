"""`leadpact user ...` and `leadpact token ...`: the first admin, tokens shown once, errors."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from leadpact.cli import app

runner = CliRunner()
EXAMPLE = Path(__file__).resolve().parents[2] / "src" / "leadpact" / "data" / "pact.yaml"


def _workspace(tmp_path: Path) -> Path:
    (tmp_path / "pact.yaml").write_text(EXAMPLE.read_text(encoding="utf-8"), encoding="utf-8")
    return tmp_path


def test_a_first_admin_is_added_from_stdin(tmp_path: Path):
    ws = _workspace(tmp_path)
    args = [
        "user",
        "add",
        "ada",
        "--role",
        "admin",
        "--name",
        "Ada",
        "--password-stdin",
        "-w",
        str(ws),
    ]
    result = runner.invoke(app, args, input="a long password\n")
    assert result.exit_code == 0, result.output
    assert "added ada (admin)" in result.output
    listed = runner.invoke(app, ["user", "list", "--json", "-w", str(ws)])
    assert json.loads(listed.stdout)[0]["role"] == "admin"
    again = runner.invoke(app, args, input="a long password\n")
    assert again.exit_code == 1
    assert "there is already a user 'ada'" in again.output


def test_short_passwords_and_unknown_roles_are_one_line_errors(tmp_path: Path):
    ws = _workspace(tmp_path)
    short = runner.invoke(
        app, ["user", "add", "bo", "--password-stdin", "-w", str(ws)], input="short\n"
    )
    assert short.exit_code == 1
    assert "at least 10 characters" in short.output
    role = runner.invoke(
        app,
        ["user", "add", "bo", "--role", "boss", "--password-stdin", "-w", str(ws)],
        input="x" * 12,
    )
    assert role.exit_code == 1
    assert "unknown role 'boss'; expected one of admin, marketing, sales, viewer" in role.output


def test_a_token_is_printed_once_and_can_be_revoked(tmp_path: Path):
    ws = _workspace(tmp_path)
    created = runner.invoke(app, ["token", "create", "--name", "crm", "--json", "-w", str(ws)])
    assert created.exit_code == 0, created.output
    secret = json.loads(created.stdout)["token"]
    assert secret.startswith("lp_")
    listed = runner.invoke(app, ["token", "list", "--json", "-w", str(ws)])
    assert secret not in listed.stdout
    assert json.loads(listed.stdout)[0]["role"] == "marketing"
    assert runner.invoke(app, ["token", "revoke", "crm", "-w", str(ws)]).exit_code == 0
    gone = runner.invoke(app, ["token", "revoke", "crm", "-w", str(ws)])
    assert gone.exit_code == 1
    assert "no live token named 'crm'" in gone.output


def test_serve_reports_a_missing_workspace_in_one_line(tmp_path: Path):
    result = runner.invoke(app, ["serve", "-w", str(tmp_path / "nowhere"), "--port", "9"])
    assert result.exit_code == 1
    assert "no pact.yaml in" in result.output
