"""Read a `pact.yaml` into a `core.Pact`, turning every problem into `FILE:LINE: field: message`.

YAML is read with ruamel.yaml, which keeps the line of every key and list item; pydantic's
errors are collected (not raised one by one) and each location is mapped back to its line.
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
        return Pact.model_validate(_plain(tree))
    except ValidationError as err:
        problems = [p for e in err.errors() for p in _problems(e, tree, path)]
        raise PactError(sorted(problems, key=lambda p: (p.line or 0, p.field))) from None


def _read_yaml(text: str, path: str) -> Mapping[str, Any]:
    from ruamel.yaml import YAML
    from ruamel.yaml.error import MarkedYAMLError, YAMLError

    yaml = YAML(typ="rt")
    try:
        tree = yaml.load(text)
    except MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        line = mark.line + 1 if mark is not None else None
        what = err.problem or err.context or "invalid YAML"
        raise PactError([PactProblem(path, line, "", f"not valid YAML: {what}")]) from None
    except YAMLError as err:  # duplicate keys and other loader errors
        raise PactError([PactProblem(path, None, "", f"not valid YAML: {err}")]) from None
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


def _plain(node: Any) -> Any:
    """Copy ruamel's commented containers and scalar subclasses into plain Python values."""
    if isinstance(node, Mapping):
        return {_plain(k): _plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_plain(v) for v in node]
    for kind in (bool, int, float, str):
        if isinstance(node, kind):
            return kind(node)
    return node


def _problems(error: ErrorDetails, tree: Mapping[str, Any], path: str) -> list[PactProblem]:
    cause = error.get("ctx", {}).get("error")
    base = _user_loc(error["loc"], tree)
    if isinstance(cause, ReferenceProblem):
        return [_problem(tree, path, (*base, *loc), msg) for loc, msg in cause.problems]
    if isinstance(cause, ConditionError):
        return [_problem(tree, path, (*base, *cause.path), cause.message)]
    return [_problem(tree, path, base, _message(error, base))]


def _problem(tree: Mapping[str, Any], path: str, loc: Loc, message: str) -> PactProblem:
    return PactProblem(path, _line(tree, loc), ".".join(str(p) for p in loc), message)


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
        node = _child(node, part)
    return tuple(out)


_TAGS = {"response", "acceptance", "follow_up", "delivery", "quality", "report"}


def _child(node: Any, part: str | int) -> Any:
    if isinstance(node, Mapping):
        if part in node:
            return node[part]
        return node.get(str(part))
    if isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
        return node[part]
    return None


def _line(tree: Mapping[str, Any], loc: Loc) -> int:
    """The 1-based line of the deepest part of `loc` present in the file."""
    line = 1
    node: Any = tree
    for part in loc:
        try:
            if isinstance(node, Mapping):
                key = part if part in node else str(part)
                if key not in node:
                    break
                line = node.lc.key(key)[0] + 1
            elif isinstance(node, list) and isinstance(part, int) and part < len(node):
                line = node.lc.item(part)[0] + 1
            else:
                break
        except (AttributeError, KeyError, TypeError):  # plain values carry no position
            break
        node = _child(node, part)
    return line


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
