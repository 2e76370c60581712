"""Read a `pact.yaml` into a `core.Pact`, turning every problem into `FILE:LINE: field: message`.

YAML is read with ruamel.yaml, which keeps the line of every key and list item
(`yaml_source`); pydantic's errors are collected (not raised one by one) and each location is
mapped back to its line.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from leadpact.core.conditions import ConditionError
from leadpact.core.pact import Loc, Pact, ReferenceProblem
from leadpact.errors import PactError, PactProblem
from leadpact.yaml_source import child, line_of, parse_yaml, plain


def load_pact(path: str | Path) -> Pact:
    """Load and validate a pact file.

    Args:
        path: the `pact.yaml` to read.

    Returns:
        The validated agreement.

    Raises:
        PactError: the file is missing, empty, not YAML, or invalid; `problems` lists every
            problem with its line and field path.
    """
    file = Path(path)
    shown = str(path)
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise PactError([PactProblem(shown, None, "", "no such file")]) from None
    except (OSError, UnicodeDecodeError) as err:
        raise PactError([PactProblem(shown, None, "", f"cannot read the file: {err}")]) from None
    return parse_pact(text, shown)


def parse_pact(text: str, path: str = "<pact>") -> Pact:
    """Validate pact YAML given as text (`path` names it in messages).

    Raises:
        PactError: as `load_pact`.
    """
    tree = _read_yaml(text, path)
    try:
        return Pact.model_validate(plain(tree))
    except ValidationError as err:
        problems = [p for e in err.errors() for p in _problems(e, tree, path)]
        raise PactError(sorted(problems, key=lambda p: (p.line or 0, p.field))) from None


def _read_yaml(text: str, path: str) -> Mapping[str, Any]:
    tree = parse_yaml(text, path)
    if tree is None:
        raise PactError(
            [PactProblem(path, 1, "", "the file is empty; expected a pact (see `leadpact init`)")]
        )
    if not isinstance(tree, Mapping):
        found = "list" if isinstance(tree, list) else f"{type(tree).__name__} value"
        raise PactError(
            [PactProblem(path, 1, "", f"expected a mapping of pact sections, found a {found}")]
        )
    return tree


def _problems(error: ErrorDetails, tree: Mapping[str, Any], path: str) -> list[PactProblem]:
    cause = error.get("ctx", {}).get("error")
    base = _user_loc(error["loc"], tree)
    if isinstance(cause, ReferenceProblem):
        return [_problem(tree, path, (*base, *loc), msg) for loc, msg in cause.problems]
    if isinstance(cause, ConditionError):
        return [_problem(tree, path, (*base, *cause.path), cause.message)]
    return [_problem(tree, path, base, _message(error, base))]


def _problem(tree: Mapping[str, Any], path: str, loc: Loc, message: str) -> PactProblem:
    return PactProblem(path, line_of(tree, loc), ".".join(str(p) for p in loc), message)


def _user_loc(loc: tuple[int | str, ...], tree: Mapping[str, Any]) -> Loc:
    """Drop the parts pydantic adds that are not in the file (union tags, `[key]` markers)."""
    out: list[str | int] = []
    node: Any = tree
    for part in loc:
        if (
            isinstance(node, Mapping)
            and part not in node
            and isinstance(part, str)
            and (part.startswith("function-") or part in _TAGS or "[" in part)
        ):
            continue
        out.append(part)
        node = child(node, part)
    return tuple(out)


_TAGS = {"response", "acceptance", "follow_up", "delivery", "quality", "report"}


def _message(error: ErrorDetails, loc: Loc) -> str:
    kind = error["type"]
    found = error.get("input")
    if kind == "extra_forbidden":
        key = str(loc[-1]) if loc else "?"
        known = _known_keys(loc[:-1])
        hint = difflib.get_close_matches(key, known, n=1)
        if hint:
            return f"unknown key {key!r}; did you mean {hint[0]!r}?"
        if known:
            return f"unknown key {key!r}; expected one of: {', '.join(known)}"
        return f"unknown key {key!r}"
    if kind == "missing":
        return "required field is missing"
    ctx = error.get("ctx", {})
    if kind == "too_short":
        return f"expected at least {ctx['min_length']} entries, found {ctx['actual_length']}"
    if kind == "too_long":
        return f"expected at most {ctx['max_length']} entries, found {ctx['actual_length']}"
    message = error["msg"]
    if message.startswith("Value error, "):
        message = message[len("Value error, ") :]
    if kind == "value_error":
        return message
    return f"{message} (found {_shown(found)})"


def _shown(value: object) -> str:
    """A short rendering of a found value for messages."""
    if isinstance(value, list | dict):
        return f"{len(value)} {'items' if isinstance(value, list) else 'keys'}"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _known_keys(loc: Loc) -> list[str]:
    """Field names allowed at `loc`, read from the JSON Schema of `Pact`."""
    schema = _schema()
    node: dict[str, Any] = schema
    for part in loc:
        node = _resolve(node, schema)
        if isinstance(part, int):
            node = node.get("items", {})
        elif "properties" in node and part in node["properties"]:
            node = node["properties"][part]
        elif isinstance(node.get("additionalProperties"), dict):
            node = node["additionalProperties"]
        else:
            return []
    node = _resolve(node, schema)
    return list(node.get("properties", {}))


def _resolve(node: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while True:
        if "$ref" in node:
            node = schema["$defs"][node["$ref"].rsplit("/", 1)[-1]]
        elif "anyOf" in node:
            options = [o for o in node["anyOf"] if o.get("type") != "null"]
            node = options[0] if len(options) == 1 else {}
        elif "allOf" in node and len(node["allOf"]) == 1:
            node = node["allOf"][0]
        else:
            return node


_SCHEMA: dict[str, Any] = {}


def _schema() -> dict[str, Any]:
    if not _SCHEMA:
        _SCHEMA.update(pact_schema())
    return _SCHEMA


def pact_schema() -> dict[str, Any]:
    """The JSON Schema of `pact.yaml` (for editors and `leadpact pact schema`)."""
    schema = Pact.model_json_schema(by_alias=True)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "LeadPact pact.yaml"
    return schema
