"""One meaning for conditions: `evaluate_many` over columns agrees with `matches` lead by lead."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from leadpact.core.conditions import evaluate_many, parse_condition

NUMBER_FIELDS = ("employees", "engagement")
TEXT_FIELDS = ("industry", "title")
BOOL_FIELDS = ("connected",)
WORDS = ("software", "Software", "SOFTWARE", "logistics", "Sales Director", "dir", "", "ß", "ss")
NUMBERS = (-1, 0, 1, 2.5, 200, 250, 1e9)


def number_test(field):
    value = st.sampled_from(NUMBERS)
    values = st.lists(value, min_size=1, max_size=3)
    between = st.tuples(value, value).map(lambda t: sorted(t))
    return st.one_of(
        value.map(lambda v: {field: v}),
        values.map(lambda v: {field: v}),
        st.tuples(st.sampled_from(["eq", "ne", "gt", "gte", "lt", "lte"]), value).map(
            lambda t: {field: {t[0]: t[1]}}
        ),
        st.tuples(st.sampled_from(["in", "not_in"]), values).map(lambda t: {field: {t[0]: t[1]}}),
        between.map(lambda v: {field: {"between": v}}),
        st.sampled_from(["0", "5", ".", "nan"]).map(lambda v: {field: {"contains": v}}),
        st.booleans().map(lambda v: {field: {"exists": v}}),
    )


def text_test(field):
    value = st.sampled_from(WORDS)
    values = st.lists(value, min_size=1, max_size=3)
    return st.one_of(
        value.map(lambda v: {field: v}),
        values.map(lambda v: {field: v}),
        st.tuples(st.sampled_from(["eq", "ne", "contains"]), value).map(
            lambda t: {field: {t[0]: t[1]}}
        ),
        st.tuples(st.sampled_from(["in", "not_in", "contains"]), values).map(
            lambda t: {field: {t[0]: t[1]}}
        ),
        st.booleans().map(lambda v: {field: {"exists": v}}),
    )


def bool_test(field):
    value = st.booleans()
    return st.one_of(
        value.map(lambda v: {field: v}),
        st.tuples(st.sampled_from(["eq", "ne"]), value).map(lambda t: {field: {t[0]: t[1]}}),
        st.lists(value, min_size=1, max_size=2).map(lambda v: {field: {"not_in": v}}),
        value.map(lambda v: {field: {"exists": v}}),
    )


LEAF = st.one_of(
    *(number_test(f) for f in NUMBER_FIELDS),
    *(text_test(f) for f in TEXT_FIELDS),
    *(bool_test(f) for f in BOOL_FIELDS),
    number_test("priority"),  # a field no lead column holds
)
RAW_CONDITIONS = st.recursive(
    LEAF,
    lambda inner: st.one_of(
        st.lists(inner, min_size=1, max_size=3).map(lambda v: {"all": v}),
        st.lists(inner, min_size=1, max_size=3).map(lambda v: {"any": v}),
        inner.map(lambda v: {"not": v}),
    ),
    max_leaves=6,
)


def objects(values):
    """An object array holding exactly these Python values."""
    array = np.empty(len(values), dtype=object)
    array[:] = values
    return array


@st.composite
def lead_columns(draw):
    """Columns for a few leads, each field in one of the shapes a batch engine may hand over."""
    n = draw(st.integers(min_value=0, max_value=8))
    columns = {}
    for field in NUMBER_FIELDS:
        shape = draw(st.sampled_from(["float", "int", "object"]))
        if shape == "int":
            values = draw(st.lists(st.sampled_from([0, 1, 199, 200, 250]), min_size=n, max_size=n))
            columns[field] = np.array(values, dtype=np.int64)
            continue
        values = draw(
            st.lists(st.sampled_from([*NUMBERS, 199.5, None, math.nan]), min_size=n, max_size=n)
        )
        if shape == "float":
            columns[field] = np.array(
                [math.nan if v is None else v for v in values], dtype=np.float64
            )
        else:
            columns[field] = objects(values)
    for field in TEXT_FIELDS:
        values = draw(
            st.lists(
                st.sampled_from([*WORDS, "Director of software", None]), min_size=n, max_size=n
            )
        )
        columns[field] = objects(values)
    for field in BOOL_FIELDS:
        if draw(st.booleans()):
            columns[field] = np.array(draw(st.lists(st.booleans(), min_size=n, max_size=n)))
        else:
            values = draw(st.lists(st.sampled_from([True, False, None]), min_size=n, max_size=n))
            columns[field] = objects(values)
    return n, columns


def facts_of(columns, i):
    """The scalar facts of lead i: what `LeadFacts.facts` gives (NaN read as missing)."""
    facts = {}
    for field, column in columns.items():
        value = column.tolist()[i]
        facts[field] = None if isinstance(value, float) and math.isnan(value) else value
    return facts


@given(raw=RAW_CONDITIONS, data=lead_columns())
def test_batch_and_scalar_agree(raw, data):
    n, columns = data
    condition = parse_condition(raw)
    batch = evaluate_many(condition, columns, n)
    assert batch.dtype == np.bool_
    assert batch.shape == (n,)
    assert batch.tolist() == [condition.matches(facts_of(columns, i)) for i in range(n)]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ({"employees": {"gte": 200}}, [True, False, False]),
        ({"employees": {"exists": False}}, [False, True, False]),
        ({"employees": {"ne": 10}}, [True, True, False]),
        ({"employees": {"not_in": [10]}}, [True, True, False]),
        ({"employees": {"between": [5, 250]}}, [True, False, True]),
        ({"industry": "SOFTWARE"}, [True, False, False]),
        ({"industry": {"contains": "war"}}, [True, False, False]),
        ({"industry": {"ne": "software"}}, [False, True, True]),
        ({"industry": "software", "employees": {"lt": 300}}, [True, False, False]),
        ({"any": [{"industry": "software"}, {"employees": 10}]}, [True, False, True]),
        ({"not": {"industry": ["software", "logistics"]}}, [False, True, False]),
        ({"owner": {"exists": False}}, [True, True, True]),  # no column: missing for all
        ({"owner": "sofie"}, [False, False, False]),
    ],
)
def test_evaluate_many_examples(raw, expected):
    columns = {
        "employees": np.array([250.0, math.nan, 10.0]),
        "industry": np.array(["Software", None, "Logistics"], dtype=object),
    }
    assert evaluate_many(parse_condition(raw), columns, 3).tolist() == expected


def test_text_test_on_an_all_missing_numeric_column():
    # A data frame turns a text column with no values into floats (all NaN).
    columns = {"industry": np.array([math.nan, math.nan])}
    condition = parse_condition({"industry": {"ne": "software"}})
    assert evaluate_many(condition, columns, 2).tolist() == [True, True]


def test_text_columns_may_be_numpy_strings():
    columns = {"country": np.array(["dk", "SE", "DK"])}
    condition = parse_condition({"country": ["DK", "NO"]})
    assert evaluate_many(condition, columns, 3).tolist() == [True, False, True]


def test_a_column_of_the_wrong_length_is_refused():
    condition = parse_condition({"employees": {"gte": 1}})
    with pytest.raises(ValueError, match="'employees' has 2 values, expected 3"):
        evaluate_many(condition, {"employees": np.array([1.0, 2.0])}, 3)


def test_no_leads_give_an_empty_answer():
    condition = parse_condition({"industry": "software"})
    result = evaluate_many(condition, {"industry": np.array([], dtype=object)}, 0)
    assert result.shape == (0,)
