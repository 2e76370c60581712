"""YAML read with the line of every key and item: the source text of pact and mapping files.

ruamel.yaml's round-trip loader keeps positions, so a problem found later (by pydantic, or by
checks against the data) can name the line it comes from. Syntax errors become one problem
with the line ruamel points at. Used by `pact_file` and by the import's mapping files
(`services.presets`); it imports only `errors`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from leadpact.errors import PactError, PactProblem


def parse_yaml(text: str, path: str, error: type[PactError] = PactError) -> Any:
    """The YAML document in `text`, its containers carrying their positions.

    Args:
        text: the file's text.
        path: names the file in problems.
        error: the error class to raise (`PactError`, or a subclass such as `MappingError`).

    Returns:
        ruamel's tree: commented maps and sequences (which know their lines), or a scalar, or
        None for an empty document.

    Raises:
        PactError: (or `error`) the text is not valid YAML; one problem, with the line.
    """
    from ruamel.yaml import YAML
    from ruamel.yaml.error import MarkedYAMLError, YAMLError

    yaml = YAML(typ="rt")
    try:
        return yaml.load(text)
    except MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        line = mark.line + 1 if mark is not None else None
        what = err.problem or err.context or "invalid YAML"
        raise error([PactProblem(path, line, "", f"not valid YAML: {what}")]) from None
    except YAMLError as err:  # duplicate keys and other loader errors
        raise error([PactProblem(path, None, "", f"not valid YAML: {err}")]) from None


def plain(node: Any) -> Any:
    """Copy ruamel's commented containers and scalar subclasses into plain Python values."""
    if isinstance(node, Mapping):
        return {plain(k): plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [plain(v) for v in node]
    for kind in (bool, int, float, str):
        if isinstance(node, kind):
            return kind(node)
    return node


def child(node: Any, part: str | int) -> Any:
    """The entry `part` of a mapping (also when a key is given as int) or list, else None."""
    if isinstance(node, Mapping):
        if part in node:
            return node[part]
        return node.get(str(part))
    if isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
        return node[part]
    return None


def line_of(tree: Mapping[str, Any], loc: Sequence[str | int]) -> int:
    """The 1-based line of the deepest part of `loc` present in the file."""
    line = 1
    node: Any = tree
    for part in loc:
        marks: Any = node  # ruamel's containers carry their positions in `.lc`
        try:
            if isinstance(node, Mapping):
                key = part if part in node else str(part)
                if key not in node:
                    break
                line = marks.lc.key(key)[0] + 1
            elif isinstance(node, list) and isinstance(part, int) and part < len(node):
                line = marks.lc.item(part)[0] + 1
            else:
                break
        except (AttributeError, KeyError, TypeError):  # plain values carry no position
            break
        node = child(node, part)
    return line
