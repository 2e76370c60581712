"""Conditions: the grammar, its validation messages and its meaning for one lead."""

from __future__ import annotations

import pytest

from leadpact.core.conditions import (
    All,
    AnyOf,
    ConditionError,
    FieldTest,
    Not,
    Op,
    parse_condition,
    to_raw,
    walk,
)

LEAD = {
    "employees": 250,
    "industry": "Software",
    "country": "DK",
    "title": "Managing Director",
    "fit_grade": "A",
    "engagement": 35.5,
    "activities.pricing_page_view": 2,
    "connected": False,
    "owner": None,
}


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ({"employees": {"gte": 200}}, True),
        ({"employees": {"gt": 250}}, False),
        ({"employees": {"lt": 250}}, False),
        ({"employees": {"lte": 250}}, True),
        ({"employees": {"between": [100, 300]}}, True),
        ({"industry": "software"}, True),  # text compares case-insensitively
        ({"industry": {"ne": "software"}}, False),
        ({"industry": ["logistics", "SOFTWARE"]}, True),
        ({"industry": {"not_in": ["logistics"]}}, True),
        ({"title": {"contains": "director"}}, True),
        ({"title": {"contains": ["ceo", "owner"]}}, False),
        ({"owner": {"exists": False}}, True),
        ({"owner": {"exists": True}}, False),
        ({"owner": "sofie"}, False),  # a missing value satisfies no comparison...
        ({"owner": {"ne": "sofie"}}, True),  # ...except ne
        ({"owner": {"not_in": ["sofie"]}}, True),  # ...and not_in
        ({"connected": False}, True),
        ({"fit_grade": ["A", "B"], "engagement": {"gte": 40}}, False),
        (
            {"any": [{"engagement": {"gte": 40}}, {"activities.pricing_page_view": {"gte": 1}}]},
            True,
        ),
        ({"all": [{"country": "DK"}, {"employees": {"gte": 300}}]}, False),
        ({"not": {"country": "SE"}}, True),
    ],
)
def test_matches(raw, expected):
    assert parse_condition(raw).matches(LEAD) is expected


def test_several_entries_become_all():
    condition = parse_condition({"country": "DK", "employees": {"gte": 1, "lte": 10}})
    assert isinstance(condition, All)
    assert [t.op for t in walk(condition)] == [Op.EQ, Op.GTE, Op.LTE]


def test_walk_visits_every_test():
    condition = parse_condition({"not": {"any": [{"country": "DK"}, {"stage": "mql"}]}})
    assert isinstance(condition, Not)
    assert isinstance(condition.item, AnyOf)
    assert [t.field for t in walk(condition)] == ["country", "stage"]


@pytest.mark.parametrize(
    "raw",
    [
        {"employees": {"gte": 200}},
        {"industry": "software"},
        {"industry": {"in": ["a", "b"]}},
        {"all": [{"country": "DK"}, {"not": {"stage": "mql"}}]},
        {"any": [{"title": {"contains": ["ceo"]}}]},
    ],
)
def test_to_raw_round_trips(raw):
    condition = parse_condition(raw)
    assert parse_condition(to_raw(condition)) == condition


@pytest.mark.parametrize(
    ("raw", "path", "fragment"),
    [
        ({}, (), "non-empty mapping"),
        ("employees > 3", (), "non-empty mapping"),
        ({"colour": "red"}, ("colour",), "unknown field 'colour'"),
        ({"employees": {}}, ("employees",), "at least one operator"),
        ({"employees": {"greater": 3}}, ("employees", "greater"), "unknown operator 'greater'"),
        ({"industry": {"gte": 3}}, ("industry", "gte"), "needs a number field"),
        ({"employees": {"in": []}}, ("employees", "in"), "non-empty list"),
        ({"employees": {"between": [5, 1]}}, ("employees", "between"), "low <= high"),
        ({"employees": {"between": [1, 2, 3]}}, ("employees", "between"), "low <= high"),
        ({"employees": "many"}, ("employees",), "expected a number value"),
        ({"employees": True}, ("employees",), "expected a number value"),
        ({"connected": "yes"}, ("connected",), "expected a bool value"),
        ({"title": {"contains": 3}}, ("title", "contains"), "expected a text value"),
        ({"owner": {"exists": "yes"}}, ("owner", "exists"), "expected a bool value"),
        ({"any": []}, ("any",), "non-empty list of conditions"),
        ({"all": [{"nope": 1}]}, ("all", 0, "nope"), "unknown field"),
    ],
)
def test_invalid_conditions_say_where_and_what(raw, path, fragment):
    with pytest.raises(ConditionError) as info:
        parse_condition(raw)
    assert info.value.path == path
    assert fragment in info.value.message
    assert fragment in str(info.value)


def test_values_are_immutable_tuples():
    test = parse_condition({"country": ["DK", "SE"]})
    assert test == FieldTest("country", Op.IN, ("DK", "SE"))
