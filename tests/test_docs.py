"""The docs say what the code does: every command, option, setting and pact field is documented."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path
from typing import Any

import pytest
import typer.main

from leadpact.cli import app

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"


def load_reference_script():
    script = ROOT / "scripts" / "pact_reference.py"
    spec = importlib.util.spec_from_file_location("pact_reference", script)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def commands(group: Any, prefix: str = "leadpact") -> list[tuple[str, Any]]:
    """Every leaf command of the CLI tree with its full name (typer vendors its own click)."""
    found: list[tuple[str, Any]] = []
    if hasattr(group, "commands"):
        for name, sub in sorted(group.commands.items()):
            found.extend(commands(sub, f"{prefix} {name}"))
    else:
        found.append((prefix, group))
    return found


def cli_sections() -> dict[str, str]:
    text = (DOCS / "cli.md").read_text(encoding="utf-8")
    parts = re.split(r"^## (leadpact[^\n]*)$", text, flags=re.MULTILINE)
    return {parts[i].strip(): parts[i + 1] for i in range(1, len(parts), 2)}


ALL_COMMANDS = commands(typer.main.get_command(app))


def test_commands_were_found():
    names = [name for name, _ in ALL_COMMANDS]
    assert "leadpact pact check" in names
    assert "leadpact init" in names


@pytest.mark.parametrize(("name", "command"), ALL_COMMANDS, ids=[n for n, _ in ALL_COMMANDS])
def test_every_command_and_option_is_documented(name, command):
    sections = cli_sections()
    assert name in sections, f"docs/cli.md has no section '## {name}'"
    section = sections[name]
    for param in command.params:
        if param.param_type_name == "option" and param.name != "help":
            longest = max(param.opts, key=len)
            assert longest in section, f"{name}: option {longest} is not documented in docs/cli.md"


def test_pact_reference_is_current():
    module = load_reference_script()
    current = (DOCS / "pact-reference.md").read_text(encoding="utf-8")
    assert current == module.render(), "run: .venv/bin/python scripts/pact_reference.py"


def test_every_pact_field_has_a_description():
    module = load_reference_script()
    undocumented = [path for path, _, _, description in module.field_rows() if not description]
    assert undocumented == []


def test_every_setting_is_documented():
    from leadpact.settings import Settings

    text = (DOCS / "settings.md").read_text(encoding="utf-8")
    for name in Settings.model_fields:
        assert f"LEADPACT_{name.upper()}" in text, f"setting {name} is not in docs/settings.md"


def test_readme_links_resolve():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for target in re.findall(r"\]\(([^)#]+)\)", readme):
        if not target.startswith("http"):
            assert (ROOT / target).exists(), f"README links to missing {target}"
