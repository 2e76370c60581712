"""Architecture rules: layer contracts, one wall-clock reader, a light CLI import, public API."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import leadpact

SRC = Path(leadpact.__file__).resolve().parent
NOW_CALLS = {"now", "today", "utcnow"}


def test_import_contracts_hold():
    bin_dir = Path(sys.executable).parent
    result = subprocess.run(
        [str(bin_dir / "lint-imports")], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


def wall_clock_reads(path: Path) -> list[int]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    lines = []
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in NOW_CALLS
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id in {"datetime", "date"}
        ):
            lines.append(node.lineno)
    return lines


def test_only_clock_reads_the_wall_clock():
    offenders = {
        str(path.relative_to(SRC)): lines
        for path in SRC.rglob("*.py")
        if path.name != "clock.py" and (lines := wall_clock_reads(path))
    }
    assert offenders == {}


def test_cli_import_stays_light():
    code = (
        "import sys, leadpact.cli; "
        "heavy = {'pandas', 'pyarrow', 'sqlalchemy', 'ruamel', 'holidays', 'numpy'}; "
        "print(sorted(m for m in heavy if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"


def test_public_api():
    assert sorted(leadpact.__all__) == [
        "BusinessCalendar",
        "LeadPactError",
        "Pact",
        "PactError",
        "__version__",
        "load_pact",
    ]
    for name in leadpact.__all__:
        assert hasattr(leadpact, name)


def test_every_module_has_a_docstring():
    missing = [
        str(path.relative_to(SRC))
        for path in SRC.rglob("*.py")
        if ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) is None
    ]
    assert missing == []
