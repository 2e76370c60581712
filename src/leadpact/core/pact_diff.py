"""The semantic diff of two versions of the agreement: what was added, removed or changed, told
as sentences about the agreement's named parts (not as YAML lines).

Pure: `now` and every figure are parameters; nothing here reads a clock, a file or a database.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Literal

from leadpact.core.pact import Pact

__all__ = [
    "Change",
    "diff_pacts",
]


@dataclass(frozen=True)
class Change:
    """One change between two versions of the agreement, told as a sentence by `str()`."""

    kind: Literal["added", "removed", "changed"]
    where: str
    field: str = ""
    before: str | None = None
    after: str | None = None
    item: str | None = None

    def __str__(self) -> str:
        if not self.field:
            return f"{self.where} {self.kind}"
        if self.item is not None:
            way = "to" if self.kind == "added" else "from"
            return f"{self.where}: {self.item} {self.kind} {way} {self.field}"
        if self.kind == "added":
            return f"{self.where}: {self.field} set to {self.after}"
        if self.kind == "removed":
            return f"{self.where}: {self.field} removed (was {self.before})"
        return f"{self.where}: {self.field} changed from {self.before} to {self.after}"


KeyFn = Callable[[dict[str, Any]], str]

#: Lists whose items are matched by a key, with the label of one item.
_KEYED_LISTS: dict[tuple[str, ...], tuple[str, KeyFn]] = {
    ("reporting",): (
        "Reporting line",
        lambda i: f"{i['from']} → {i['to']}: {_show(i['report'])}",
    ),
    ("icp", "criteria"): ("ICP criterion", lambda i: str(i["id"])),
    ("icp", "personas"): ("Persona", lambda i: str(i["id"])),
    ("stages",): ("Stage", lambda i: str(i["id"])),
    ("commitments",): ("Commitment", lambda i: str(i["id"])),
    ("kpis",): ("KPI", lambda i: str(i["kpi"])),
    ("goals", "targets"): (
        "Goal",
        lambda i: str(i["metric"]) + (f" ({i['segment']})" if i.get("segment") else ""),
    ),
    ("governance", "consequences"): (
        "Consequence",
        lambda i: (
            f"when {i['when']['goal']} is missed {i['when']['missed_periods']} periods running"
        ),
    ),
    ("governance", "cancellation"): (
        "Cancellation condition",
        lambda i: (
            f"when {i['when']['goal']} is missed {i['when']['missed_periods']} periods running"
        ),
    ),
}
#: Mappings whose entries are named parts of the agreement.
_KEYED_DICTS = {
    ("parties",): "Party",
    ("calendars",): "Calendar",
    ("teams",): "Team",
}
#: Fields compared as one value: a condition changes as a whole.
_ATOMIC = {("when",), ("entry",)}
_SECTION_NAMES = {
    "icp": "Ideal customer",
    "scoring": "Scoring",
    "matrix": "Matrix",
    "goals": "Goals",
    "handling": "Lead handling",
    "alerts": "Alerts",
    "costs": "Costs",
    "governance": "Governance",
}


def diff_pacts(old: Pact, new: Pact) -> list[Change]:
    """What changed in the agreement from `old` to `new`, part by part, in pact order.

    Named parts (parties, criteria, personas, stages, commitments, calendars, teams, KPIs,
    goal targets, consequences) are matched by their id, so a reordered list is no change.

    Example:
        >>> [str(c) for c in diff_pacts(p1, p2)]  # doctest: +SKIP
        ['Commitment p1-response: within changed from 2h to 1h', "Persona 'Dan the director' added"]
    """
    a = old.model_dump(mode="json", by_alias=True)
    b = new.model_dump(mode="json", by_alias=True)
    return list(_diff_section(a, b))


def _diff_section(a: dict[str, Any], b: dict[str, Any]) -> Iterator[Change]:
    for key in _keys(a, b):
        path = (key,)
        where = _SECTION_NAMES.get(key, "Agreement")
        yield from _diff_node(
            path, where, (key,) if where == "Agreement" else (), a.get(key), b.get(key)
        )


def _diff_node(
    path: tuple[str, ...], where: str, field: tuple[str, ...], a: Any, b: Any
) -> Iterator[Change]:
    if a == b:
        return
    if path in _KEYED_DICTS and isinstance(a, dict) and isinstance(b, dict):
        yield from _diff_items(_KEYED_DICTS[path], a, b)
    elif path in _KEYED_LISTS and isinstance(a, list) and isinstance(b, list):
        label, key_of = _KEYED_LISTS[path]
        yield from _diff_items(label, {key_of(i): i for i in a}, {key_of(i): i for i in b})
    elif isinstance(a, dict) and isinstance(b, dict) and path[-1:] not in _ATOMIC:
        for key in _keys(a, b):
            yield from _diff_node((*path, key), where, (*field, key), a.get(key), b.get(key))
    elif isinstance(a, list) and isinstance(b, list) and _scalars(a) and _scalars(b):
        name = ".".join(field)
        for item in a:
            if item not in b:
                yield Change("removed", where, name, item=_show(item))
        for item in b:
            if item not in a:
                yield Change("added", where, name, item=_show(item))
    elif a is None:
        yield Change("added", where, ".".join(field), after=_show(b))
    elif b is None:
        yield Change("removed", where, ".".join(field), before=_show(a))
    else:
        yield Change("changed", where, ".".join(field), _show(a), _show(b))


def _diff_items(label: str, a: dict[str, Any], b: dict[str, Any]) -> Iterator[Change]:
    for key in _keys(a, b):
        if key not in b:
            yield Change("removed", _item_label(label, key, a[key]))
        elif key not in a:
            yield Change("added", _item_label(label, key, b[key]))
        else:
            yield from _diff_node((), f"{label} {key}", (), a[key], b[key])


def _item_label(label: str, key: str, item: Any) -> str:
    name = item.get("name") if isinstance(item, dict) else None
    return f"{label} {_show(name)}" if isinstance(name, str) else f"{label} {key}"


def _keys(a: dict[str, Any], b: dict[str, Any]) -> list[str]:
    return list(a) + [k for k in b if k not in a]


def _scalars(items: list[Any]) -> bool:
    return all(not isinstance(i, dict | list) for i in items)


def _show(value: Any) -> str:
    if isinstance(value, str):
        return f"'{value}'" if " " in value or not value else value
    return json.dumps(value, ensure_ascii=False, separators=(", ", ": "))
