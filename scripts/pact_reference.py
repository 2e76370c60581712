"""Write docs/pact-reference.md from the pact's JSON Schema and the shipped example pact.

Run `.venv/bin/python scripts/pact_reference.py` after changing the pact model;
tests/test_docs.py fails when the file is out of date or a field has no description.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from leadpact.pact_file import pact_schema  # noqa: E402

TARGET = ROOT / "docs" / "pact-reference.md"
EXAMPLE = ROOT / "src" / "leadpact" / "data" / "pact.yaml"

HEADER = """# Pact reference

Every field of `pact.yaml`, generated from the model (`scripts/pact_reference.py`; a test keeps
it current). Paths use `.` for nesting, `<name>` for a key you choose and `[]` for list items.
Durations are strings such as `30m`, `2h`, `1h30m`, `3d`; conditions are described in
[conditions.md](conditions.md); calendars in [calendars.md](calendars.md); the goals section in
[goals.md](goals.md). The example under each section is taken from the file `leadpact init` writes.
"""


def values_of(node: dict[str, Any]) -> dict[str, Any] | None:
    """The schema of a mapping's values (`additionalProperties` or `patternProperties`)."""
    if isinstance(node.get("additionalProperties"), dict):
        return dict(node["additionalProperties"])
    patterns = node.get("patternProperties")
    if isinstance(patterns, dict) and len(patterns) == 1:
        return dict(next(iter(patterns.values())))
    return None


def resolve(node: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    """Follow `$ref` and single-option `anyOf` (optional fields) to the described node."""
    while True:
        if "$ref" in node:
            node = schema["$defs"][node["$ref"].rsplit("/", 1)[-1]]
        elif "anyOf" in node:
            options = [o for o in node["anyOf"] if o.get("type") != "null"]
            if len(options) != 1:
                return node
            node = options[0]
        else:
            return node


def type_of(node: dict[str, Any], schema: dict[str, Any]) -> str:
    """A short type name for a schema node."""
    if "anyOf" in node:
        names = [type_of(o, schema) for o in node["anyOf"] if o.get("type") != "null"]
        return " or ".join(names) + (" or null" if len(names) < len(node["anyOf"]) else "")
    if "$ref" in node:
        target = resolve(node, schema)
        if "enum" in target:
            return "one of " + ", ".join(f"`{v}`" for v in target["enum"])
        return "mapping" if target.get("type") == "object" else type_of(target, schema)
    if "enum" in node:
        return "one of " + ", ".join(f"`{v}`" for v in node["enum"])
    if "const" in node:
        return f"`{node['const']}`"
    kind = node.get("type", "condition" if "description" in node else "any")
    if kind == "array":
        return f"list of {type_of(node.get('items', {}), schema)}"
    if kind == "object" and (values := values_of(node)) is not None:
        return f"mapping of name to {type_of(values, schema)}"
    if kind == "string" and node.get("format") == "date":
        return "date"
    if kind == "string" and "pattern" in node and "[wdhms]" in node["pattern"]:
        return "duration"
    return str(kind)


def describe(prop: dict[str, Any], schema: dict[str, Any]) -> str:
    """A field's description, else that of the model it holds (list items, mapping values)."""
    target = resolve(prop, schema)
    for node in (prop, target, target.get("items"), values_of(target)):
        if not isinstance(node, dict):
            continue
        text = node.get("description") or resolve(node, schema).get("description")
        if text:
            return str(text)
    return ""


def rows(
    node: dict[str, Any], schema: dict[str, Any], path: str, out: list[tuple[str, str, str, str]]
) -> None:
    """Append (path, type, required, description) for every field under `node`."""
    node = resolve(node, schema)
    if "oneOf" in node:  # a discriminated union: each variant's fields
        for option in node["oneOf"]:
            variant = resolve(option, schema)
            tag = variant["properties"]["kind"].get("const", "?")
            rows(variant, schema, f"{path} (kind: {tag})", out)
        return
    required = set(node.get("required", []))
    for name, prop in node.get("properties", {}).items():
        field_path = f"{path}.{name}" if path else name
        description = describe(prop, schema)
        kind = type_of(prop, schema)
        default = f" (default `{prop['default']}`)" if prop.get("default") is not None else ""
        out.append((field_path, kind, "yes" if name in required else "no" + default, description))
        target = resolve(prop, schema)
        if target.get("type") == "array" and isinstance(target.get("items"), dict):
            items = resolve(target["items"], schema)
            if "properties" in items or "oneOf" in items:
                rows(items, schema, f"{field_path}[]", out)
        elif target.get("type") == "object" and (mapped := values_of(target)) is not None:
            values = resolve(mapped, schema)
            if "properties" in values:
                rows(values, schema, f"{field_path}.<name>", out)
        elif "properties" in target or "oneOf" in target:
            rows(target, schema, field_path, out)


def example_sections() -> dict[str, str]:
    """The example pact cut into its top-level sections (comments kept)."""
    sections: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in EXAMPLE.read_text(encoding="utf-8").splitlines():
        if line and not line[0].isspace() and not line.startswith("#") and ":" in line:
            current = sections.setdefault(line.split(":", 1)[0], [])
        if current is not None and not (line.startswith("# ---") or line.startswith("#")):
            current.append(line)
    return {key: "\n".join(lines).rstrip() for key, lines in sections.items()}


def field_rows() -> list[tuple[str, str, str, str]]:
    """Every documented field of the pact, in file order."""
    schema = pact_schema()
    out: list[tuple[str, str, str, str]] = []
    rows(schema, schema, "", out)
    return out


def by_top(section_rows: list[tuple[str, str, str, str]]) -> list[str]:
    """The top-level keys of the given rows that the example has."""
    examples = example_sections()
    return [row[0] for row in section_rows if row[0] in examples]


def render() -> str:
    """The whole reference page."""
    examples = example_sections()
    by_section: dict[str, list[tuple[str, str, str, str]]] = {}
    all_rows = field_rows()
    top = {r[0] for r in all_rows if "." not in r[0] and "[" not in r[0]}
    nested = {r[0].split(".")[0].split("[")[0] for r in all_rows if r[0] not in top}
    for row in all_rows:
        section = row[0].split(".")[0].split("[")[0].split(" ")[0]
        by_section.setdefault(section if section in nested else "", []).append(row)
    parts = [HEADER]
    for section, section_rows in by_section.items():
        if not section:
            parts.append("\n## Top-level fields\n\nThe agreement's overview.\n")
        else:
            parts.append(f"\n## `{section}`\n\n{section_rows[0][3]}\n")
        parts.append("| field | type | required | description |\n| --- | --- | --- | --- |")
        for path, kind, required, description in section_rows:
            cell = description.replace("|", "\\|").replace("\n", " ")
            parts.append(f"| `{path}` | {kind.replace('|', '/')} | {required} | {cell} |")
        shown = [examples[k] for k in (by_top(section_rows) if not section else [section])]
        if shown:
            parts.append("\nExample:\n\n```yaml\n" + "\n".join(shown) + "\n```")
    return "\n".join(parts) + "\n"


if __name__ == "__main__":
    TARGET.write_text(render(), encoding="utf-8")
    print(f"wrote {TARGET.relative_to(ROOT)}")
