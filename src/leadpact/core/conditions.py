"""Declarative conditions of the pact: `when: {fit_grade: [A, B], engagement: {gte: 40}}`.

A condition is data, never code. It is parsed once (`parse_condition`), validated against the
known lead fields (`LEAD_FIELDS`), and has one meaning wherever it is evaluated: `matches` for one
lead here, `evaluate_many` for columns of many leads (numpy); other batch engines compile the
same tree (`Condition.walk`) to their own expressions.

Grammar (a mapping; all its entries must hold):
    field: value              equality (text compares case-insensitively)
    field: [v1, v2]           membership
    field: {op: value, ...}   eq, ne, in, not_in, gt, gte, lt, lte, between, contains, exists
    all: [cond, ...]          every condition holds
    any: [cond, ...]          at least one holds
    not: cond                 the condition does not hold
A missing value (None) satisfies no comparison except `exists: false`, `ne` and `not_in`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import numpy as np
import numpy.typing as npt


class FieldType(StrEnum):
    """The kind of value a lead field holds."""

    NUMBER = "number"
    TEXT = "text"
    BOOL = "bool"


#: Activity types a lead's behaviour is recorded as (ARCHITECTURE: one vocabulary everywhere).
ACTIVITY_TYPES: tuple[str, ...] = (
    "page_view",
    "pricing_page_view",
    "content_download",
    "form_submission",
    "email_open",
    "email_click",
    "webinar",
    "demo_request",
    "event",
    "chat",
)

#: Fields a condition may test, with their types. `activities.<type>` counts that activity.
LEAD_FIELDS: dict[str, FieldType] = {
    "employees": FieldType.NUMBER,
    "annual_revenue": FieldType.NUMBER,
    "industry": FieldType.TEXT,
    "country": FieldType.TEXT,
    "source": FieldType.TEXT,
    "title": FieldType.TEXT,
    "persona": FieldType.TEXT,
    "fit": FieldType.NUMBER,
    "fit_grade": FieldType.TEXT,
    "engagement": FieldType.NUMBER,
    "priority": FieldType.NUMBER,
    "stage": FieldType.TEXT,
    "owner": FieldType.TEXT,
    "team": FieldType.TEXT,
    "attempts": FieldType.NUMBER,
    "connected": FieldType.BOOL,
    "opted_out": FieldType.BOOL,
    **{f"activities.{kind}": FieldType.NUMBER for kind in ACTIVITY_TYPES},
}


class Op(StrEnum):
    """Comparison operators of a field test."""

    EQ = "eq"
    NE = "ne"
    IN = "in"
    NOT_IN = "not_in"
    GT = "gt"
    GTE = "gte"
    LT = "lt"
    LTE = "lte"
    BETWEEN = "between"
    CONTAINS = "contains"
    EXISTS = "exists"


_ORDERED = {Op.GT, Op.GTE, Op.LT, Op.LTE, Op.BETWEEN}
_LOGIC = ("all", "any", "not")


class ConditionError(ValueError):
    """A condition does not follow the grammar; `path` is where, inside the condition."""

    def __init__(self, path: tuple[str | int, ...], message: str) -> None:
        self.path = path
        self.message = message
        where = ".".join(str(p) for p in path)
        super().__init__(f"{where}: {message}" if where else message)


@dataclass(frozen=True)
class FieldTest:
    """One field compared with a value: `employees >= 200`."""

    field: str
    op: Op
    value: Any

    def matches(self, facts: Mapping[str, Any]) -> bool:
        """Whether the lead's facts pass this test."""
        actual = facts.get(self.field)
        if self.op is Op.EXISTS:
            return (actual is not None) == bool(self.value)
        if actual is None:
            return self.op in (Op.NE, Op.NOT_IN)
        return _compare(self.op, _norm(actual), _norm_value(self.value))


@dataclass(frozen=True)
class All:
    """Every item holds (an empty `All` always holds)."""

    items: tuple[Condition, ...]

    def matches(self, facts: Mapping[str, Any]) -> bool:
        """Whether every item holds for the lead."""
        return all(item.matches(facts) for item in self.items)


@dataclass(frozen=True)
class AnyOf:
    """At least one item holds."""

    items: tuple[Condition, ...]

    def matches(self, facts: Mapping[str, Any]) -> bool:
        """Whether at least one item holds for the lead."""
        return any(item.matches(facts) for item in self.items)


@dataclass(frozen=True)
class Not:
    """The item does not hold."""

    item: Condition

    def matches(self, facts: Mapping[str, Any]) -> bool:
        """Whether the item fails for the lead."""
        return not self.item.matches(facts)


Condition = FieldTest | All | AnyOf | Not


def walk(condition: Condition) -> Iterator[FieldTest]:
    """Yield every field test in a condition tree (to list the fields it reads)."""
    if isinstance(condition, FieldTest):
        yield condition
    elif isinstance(condition, Not):
        yield from walk(condition.item)
    else:
        for item in condition.items:
            yield from walk(item)


def _norm(value: Any) -> Any:
    return value.casefold() if isinstance(value, str) else value


def _norm_value(value: Any) -> Any:
    if isinstance(value, list | tuple):
        return tuple(_norm(v) for v in value)
    return _norm(value)


def _compare(op: Op, actual: Any, value: Any) -> bool:
    if op is Op.EQ:
        return bool(actual == value)
    if op is Op.NE:
        return bool(actual != value)
    if op is Op.IN:
        return actual in value
    if op is Op.NOT_IN:
        return actual not in value
    if op is Op.CONTAINS:
        needles = value if isinstance(value, tuple) else (value,)
        return any(needle in str(actual) for needle in needles)
    if op is Op.BETWEEN:
        return bool(value[0] <= actual <= value[1])
    if op is Op.GT:
        return bool(actual > value)
    if op is Op.GTE:
        return bool(actual >= value)
    if op is Op.LT:
        return bool(actual < value)
    return bool(actual <= value)


def parse_condition(raw: object, path: tuple[str | int, ...] = ()) -> Condition:
    """Parse and validate a condition written in the pact.

    Args:
        raw: the mapping from the YAML file.
        path: where the condition sits inside a larger one (for error messages).

    Returns:
        The condition tree; a mapping with several entries becomes an `All`.

    Raises:
        ConditionError: the first problem found, with its path inside the condition.

    Example:
        >>> parse_condition({"employees": {"gte": 200}}).matches({"employees": 250})
        True
    """
    if not isinstance(raw, Mapping) or not raw:
        raise ConditionError(path, f"expected a non-empty mapping of field tests, found {raw!r}")
    items: list[Condition] = []
    for key, spec in raw.items():
        key_path = (*path, str(key))
        if key in ("all", "any"):
            if not isinstance(spec, list) or not spec:
                raise ConditionError(
                    key_path, f"expected a non-empty list of conditions, found {spec!r}"
                )
            parts = tuple(parse_condition(s, (*key_path, i)) for i, s in enumerate(spec))
            items.append(All(parts) if key == "all" else AnyOf(parts))
        elif key == "not":
            items.append(Not(parse_condition(spec, key_path)))
        else:
            items.extend(_parse_tests(str(key), spec, key_path))
    return items[0] if len(items) == 1 else All(tuple(items))


def _parse_tests(field: str, spec: object, path: tuple[str | int, ...]) -> list[Condition]:
    kind = LEAD_FIELDS.get(field)
    if kind is None:
        known = ", ".join(k for k in LEAD_FIELDS if not k.startswith("activities."))
        raise ConditionError(
            path,
            f"unknown field {field!r}; expected one of {known}, "
            f"or activities.<type> with a type among {', '.join(ACTIVITY_TYPES)}",
        )
    if isinstance(spec, Mapping):
        if not spec:
            raise ConditionError(path, "expected at least one operator, found an empty mapping")
        return [
            _parse_test(field, kind, str(op), value, (*path, str(op))) for op, value in spec.items()
        ]
    op = Op.IN if isinstance(spec, list) else Op.EQ
    return [_parse_test(field, kind, op.value, spec, path)]


def _parse_test(
    field: str, kind: FieldType, op_name: str, value: object, path: tuple[str | int, ...]
) -> FieldTest:
    try:
        op = Op(op_name)
    except ValueError:
        expected = ", ".join(o.value for o in Op)
        raise ConditionError(
            path, f"unknown operator {op_name!r}; expected one of {expected}"
        ) from None
    if op is Op.EXISTS:
        _check_type(value, FieldType.BOOL, path)
        return FieldTest(field, op, value)
    if op in _ORDERED and kind is not FieldType.NUMBER:
        raise ConditionError(path, f"{op.value!r} needs a number field; {field!r} is {kind.value}")
    if op in (Op.IN, Op.NOT_IN, Op.BETWEEN) or (op is Op.CONTAINS and isinstance(value, list)):
        if not isinstance(value, list) or not value:
            raise ConditionError(path, f"{op.value!r} expects a non-empty list, found {value!r}")
        if op is Op.BETWEEN and (len(value) != 2 or value[0] > value[1]):
            raise ConditionError(
                path, f"'between' expects [low, high] with low <= high, found {value!r}"
            )
        for item in value:
            _check_type(item, FieldType.TEXT if op is Op.CONTAINS else kind, path)
        return FieldTest(field, op, tuple(value))
    _check_type(value, FieldType.TEXT if op is Op.CONTAINS else kind, path)
    return FieldTest(field, op, value)


def _check_type(value: object, kind: FieldType, path: tuple[str | int, ...]) -> None:
    ok = {
        FieldType.NUMBER: isinstance(value, int | float) and not isinstance(value, bool),
        FieldType.TEXT: isinstance(value, str),
        FieldType.BOOL: isinstance(value, bool),
    }[kind]
    if not ok:
        raise ConditionError(path, f"expected a {kind.value} value, found {value!r}")


def to_raw(condition: Condition) -> dict[str, Any]:
    """Write a condition back in the pact's notation (for documents and JSON)."""
    if isinstance(condition, FieldTest):
        if condition.op is Op.EQ:
            return {condition.field: condition.value}
        value = list(condition.value) if isinstance(condition.value, tuple) else condition.value
        return {condition.field: {condition.op.value: value}}
    if isinstance(condition, Not):
        return {"not": to_raw(condition.item)}
    key = "all" if isinstance(condition, All) else "any"
    return {key: [to_raw(item) for item in condition.items]}


# --- Batch evaluation: the same meaning over columns of many leads ---------------------------


def evaluate_many(
    condition: Condition, columns: Mapping[str, npt.NDArray[Any]], n: int
) -> npt.NDArray[np.bool_]:
    """Evaluate a condition for `n` leads at once, with the meaning of `matches`.

    Args:
        condition: a parsed condition.
        columns: one array of length `n` per field the condition reads. Numbers may be numeric
            arrays (NaN = missing) or object arrays; text and flags object arrays (None or NaN =
            missing). A field with no column is missing for every lead.
        n: the number of leads.

    Returns:
        A boolean array: element i is `condition.matches(facts of lead i)`.

    Raises:
        ValueError: a column's length is not `n`.

    Example:
        >>> import numpy as np
        >>> cond = parse_condition({"employees": {"gte": 200}})
        >>> evaluate_many(cond, {"employees": np.array([250.0, np.nan, 10.0])}, 3).tolist()
        [True, False, False]
    """
    return _evaluate(condition, columns, n, {})


_Codes = tuple[list[Any], npt.NDArray[np.intp]]


def _evaluate(
    condition: Condition,
    columns: Mapping[str, npt.NDArray[Any]],
    n: int,
    factorized: dict[str, _Codes],
) -> npt.NDArray[np.bool_]:
    if isinstance(condition, FieldTest):
        return _evaluate_test(condition, columns, n, factorized)
    if isinstance(condition, Not):
        return ~_evaluate(condition.item, columns, n, factorized)
    every = isinstance(condition, All)
    result = np.full(n, every, dtype=np.bool_)
    for item in condition.items:
        part = _evaluate(item, columns, n, factorized)
        result = (result & part) if every else (result | part)
    return result


def _evaluate_test(
    test: FieldTest,
    columns: Mapping[str, npt.NDArray[Any]],
    n: int,
    factorized: dict[str, _Codes],
) -> npt.NDArray[np.bool_]:
    column = columns.get(test.field)
    if column is None:
        return np.full(n, test.matches({}), dtype=np.bool_)
    if len(column) != n:
        raise ValueError(f"column {test.field!r} has {len(column)} values, expected {n}")
    if column.dtype.kind in "biuf" and test.op is not Op.CONTAINS and _numeric(test.value):
        return _compare_numbers(test.op, column, test.value)
    # Text and mixed columns: answer each distinct value once with the scalar rule itself,
    # so both paths share one meaning (case-folding, missing values, contains).
    if test.field not in factorized:
        factorized[test.field] = _factorize(column)
    uniques, codes = factorized[test.field]
    answers = np.fromiter(
        (test.matches({test.field: None if _is_nan(u) else u}) for u in uniques),
        dtype=np.bool_,
        count=len(uniques),
    )
    return answers[codes]


def _factorize(column: npt.NDArray[Any]) -> _Codes:
    index: dict[Any, int] = {}
    codes = np.fromiter(
        (index.setdefault(v, len(index)) for v in column.tolist()),
        dtype=np.intp,
        count=len(column),
    )
    return list(index), codes


def _numeric(value: Any) -> bool:
    values = value if isinstance(value, tuple) else (value,)
    return all(isinstance(v, int | float) for v in values)  # bool is an int


def _is_nan(value: Any) -> bool:
    return isinstance(value, float) and value != value


def _compare_numbers(op: Op, column: npt.NDArray[Any], value: Any) -> npt.NDArray[np.bool_]:
    missing = np.isnan(column) if column.dtype.kind == "f" else np.zeros(len(column), np.bool_)
    if op is Op.EXISTS:
        return np.asarray(missing != bool(value))
    # NaN compares false with everything and unequal to everything, which is exactly the
    # rule for missing values: only `ne` and `not_in` hold.
    if op is Op.IN:
        return np.isin(column, value)
    if op is Op.NOT_IN:
        return ~np.isin(column, value)
    if op is Op.BETWEEN:
        return np.asarray((column >= value[0]) & (column <= value[1]))
    comparisons = {
        Op.EQ: np.equal,
        Op.NE: np.not_equal,
        Op.GT: np.greater,
        Op.GTE: np.greater_equal,
        Op.LT: np.less,
        Op.LTE: np.less_equal,
    }
    return np.asarray(comparisons[op](column, value), dtype=np.bool_)
