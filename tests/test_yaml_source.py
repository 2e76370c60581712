"""YAML with positions: syntax errors name their line, and any key or item can be found again."""

from __future__ import annotations

import pytest

from leadpact.errors import MappingError, PactError
from leadpact.yaml_source import child, line_of, parse_yaml, plain

TEXT = """\
kind: leads
columns:
  id: Contact
  email: Mail
stages:
  - lead
  - mql
flag: yes
count: 3
"""


def test_every_key_and_item_keeps_its_line():
    tree = parse_yaml(TEXT, "m.yaml")
    assert line_of(tree, ("kind",)) == 1
    assert line_of(tree, ("columns", "email")) == 4
    assert line_of(tree, ("stages", 1)) == 7
    # The deepest part present: a missing key points at its parent, a scalar at itself.
    assert line_of(tree, ("columns", "nope")) == 2
    assert line_of(tree, ("count", "below")) == 9
    assert line_of(tree, ("stages", 9)) == 5
    assert line_of(tree, ()) == 1


def test_plain_copies_into_python_values():
    value = plain(parse_yaml(TEXT, "m.yaml"))
    assert value == {
        "kind": "leads",
        "columns": {"id": "Contact", "email": "Mail"},
        "stages": ["lead", "mql"],
        "flag": "yes",
        "count": 3,
    }
    assert type(value["columns"]) is dict
    assert type(value["stages"]) is list
    assert type(value["count"]) is int


def test_child_finds_keys_given_as_numbers_and_list_items():
    tree = parse_yaml("'2': two\nitems: [a, b]\n", "m.yaml")
    assert child(tree, 2) == "two"
    assert child(tree["items"], 1) == "b"
    assert child(tree["items"], 5) is None
    assert child("scalar", "x") is None


def test_a_syntax_error_is_one_problem_with_its_line():
    with pytest.raises(PactError) as caught:
        parse_yaml("a: 1\nb: [unclosed\n", "p.yaml")
    [problem] = caught.value.problems
    assert (problem.path, problem.line, problem.field) == ("p.yaml", 3, "")
    assert problem.message.startswith("not valid YAML: ")


def test_the_error_class_is_the_callers():
    with pytest.raises(MappingError) as caught:
        parse_yaml("a: 1\na: 2\n", "m.yaml", MappingError)
    assert "not valid YAML" in str(caught.value)
    assert caught.value.problems[0].path == "m.yaml"


def test_an_empty_document_is_none():
    assert parse_yaml("", "m.yaml") is None
    assert parse_yaml("# only a comment\n", "m.yaml") is None
