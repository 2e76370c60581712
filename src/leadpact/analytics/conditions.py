"""Compile the pact's declarative conditions to Ibis boolean expressions.

The same tree that `core.conditions` evaluates for one lead (`matches`) or for numpy columns
(`evaluate_many`) becomes a column expression here, with the same meaning: text compares
case-insensitively, and a missing value (NULL) satisfies no comparison except
``exists: false``, ``ne`` and ``not_in``. SQL's three-valued logic is closed off at every field
test (a test is always TRUE or FALSE, never NULL), so ``not`` and ``any`` behave as in Python.
Text is lower-cased with the engine's ``lower`` where Python uses ``str.casefold``: the two
differ only outside ASCII for letters such as "ß".
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import ibis
import ibis.expr.types as ir

from leadpact.core.conditions import All, Condition, FieldTest, Not, Op, walk

__all__ = ["compile_condition", "fields_read"]


def fields_read(condition: Condition) -> set[str]:
    """The lead fields a condition tests."""
    return {test.field for test in walk(condition)}


def compile_condition(condition: Condition, columns: Mapping[str, ir.Value]) -> ir.BooleanValue:
    """The condition as a boolean column expression over `columns` (field name → column).

    A field without a column is missing (NULL) for every row, as in `evaluate_many`.
    """
    if isinstance(condition, FieldTest):
        return _test(condition, columns.get(condition.field))
    if isinstance(condition, Not):
        return ~compile_condition(condition.item, columns)
    parts = [compile_condition(item, columns) for item in condition.items]
    if not parts:  # an empty `All` always holds, an empty `AnyOf` never
        return ibis.literal(isinstance(condition, All))
    return ibis.and_(*parts) if isinstance(condition, All) else ibis.or_(*parts)


def _text(value: Any) -> Any:
    return value.casefold() if isinstance(value, str) else value


def _test(test: FieldTest, column: ir.Value | None) -> ir.BooleanValue:
    if column is None:
        return ibis.literal(test.matches({}))
    if test.op is Op.EXISTS:
        return column.notnull() if test.value else column.isnull()
    value = test.value
    values = value if isinstance(value, tuple) else (value,)
    is_text = any(isinstance(v, str) for v in values)
    subject: Any = column.cast("string").lower() if is_text else column
    wanted = tuple(_text(v) for v in values)
    op = test.op
    if op is Op.NE:
        return column.isnull() | (subject != wanted[0]).fill_null(True)
    if op is Op.NOT_IN:
        return column.isnull() | ~subject.isin(list(wanted)).fill_null(False)
    if op is Op.EQ:
        result = subject == wanted[0]
    elif op is Op.IN:
        result = subject.isin(list(wanted))
    elif op is Op.CONTAINS:
        text = column.cast("string").lower()
        result = ibis.or_(*(text.contains(needle) for needle in wanted))
    elif op is Op.BETWEEN:
        result = (subject >= wanted[0]) & (subject <= wanted[1])
    elif op is Op.GT:
        result = subject > wanted[0]
    elif op is Op.GTE:
        result = subject >= wanted[0]
    elif op is Op.LT:
        result = subject < wanted[0]
    else:
        result = subject <= wanted[0]
    return result.fill_null(False)
