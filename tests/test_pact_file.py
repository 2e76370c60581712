"""Loading pact files: every problem gets `FILE:LINE: field.path: message`, never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from leadpact.errors import PactError
from leadpact.pact_file import load_pact, pact_schema, parse_pact


def line_of(text: str, fragment: str) -> int:
    """1-based line of the first line containing `fragment`."""
    for number, line in enumerate(text.splitlines(), start=1):
        if fragment in line:
            return number
    raise AssertionError(f"{fragment!r} not in text")


def problems(text: str) -> list[tuple[int | None, str, str]]:
    with pytest.raises(PactError) as info:
        parse_pact(text, "p.yaml")
    return [(p.line, p.field, p.message) for p in info.value.problems]


def mutate(text: str, old: str, new: str) -> str:
    assert text.count(old) >= 1, old
    return text.replace(old, new, 1)


def test_example_is_valid(example_text):
    pact = parse_pact(example_text)
    assert pact.company == "Nordlys Software ApS"
    assert len(pact.parties) == 3


@pytest.mark.parametrize(
    ("old", "new", "marker", "field", "fragment"),
    [
        # unknown key, with a suggestion
        (
            "  fit_threshold: 60",
            "  fit_treshold: 60",
            "fit_treshold",
            "matrix.fit_treshold",
            "did you mean 'fit_threshold'?",
        ),
        # unknown key without a close match lists what is allowed
        (
            "costs: {marketing: 150000, period: monthly}",
            "costs: {marketing: 150000, period: monthly, zzz: 1}",
            "costs:",
            "costs.zzz",
            "expected one of: marketing, period",
        ),
        # wrong type
        (
            "  fit_threshold: 60",
            "  fit_threshold: high",
            "fit_threshold: high",
            "matrix.fit_threshold",
            "found 'high'",
        ),
        # bad duration
        (
            "    within: 8h\n    description: Sales accepts",
            "    within: 8 hours\n    description: Sales accepts",
            "within: 8 hours",
            "commitments.3.within",
            '"2h"',
        ),
        # a stage referenced but not defined
        (
            "    then: nurture",
            "    then: recycled",
            "then: recycled",
            "commitments.6.then",
            "stage 'recycled' is not defined",
        ),
        # a calendar referenced but not defined
        (
            "    calendar: sales-us\n    manager",
            "    calendar: sales-uk\n    manager",
            "calendar: sales-uk",
            "teams.sales-us.calendar",
            "calendar 'sales-uk' is not defined",
        ),
        # overlapping hours
        (
            'fri: "08:00-12:00,13:00-16:00"}',
            'fri: "08:00-12:00,11:00-16:00"}',
            "11:00-16:00",
            "calendars.sales-us.hours.fri",
            "overlap",
        ),
        # unknown time zone
        (
            "timezone: America/New_York",
            "timezone: America/New_Yrok",
            "New_Yrok",
            "calendars.sales-us.timezone",
            "unknown time zone",
        ),
        # unknown country
        (
            "holidays: {country: US}",
            "holidays: {country: XX}",
            "country: XX",
            "calendars.sales-us.holidays.country",
            "unknown country",
        ),
        # a condition on an unknown field, pointing inside the condition
        (
            "      when: {employees: {gte: 200}}",
            "      when: {staff: {gte: 200}}",
            "staff:",
            "icp.criteria.0.when.staff",
            "unknown field 'staff'",
        ),
        # a missing required field
        (
            "  document_owner: Mette Holm\n",
            "",
            "governance:",
            "governance.document_owner",
            "required field is missing",
        ),
        # importance out of range
        (
            "      importance: 4",
            "      importance: 6",
            "importance: 6",
            "icp.criteria.3.importance",
            "less than or equal to 5",
        ),
        # an unknown commitment kind
        ("    kind: report", "    kind: memo", "- id: friction-report", "commitments.7", "'memo'"),
    ],
)
def test_each_problem_has_line_field_and_message(example_text, old, new, marker, field, fragment):
    text = mutate(example_text, old, new)
    found = problems(text)
    matching = [p for p in found if p[1] == field]
    assert matching, found
    line, _, message = matching[0]
    assert fragment in message
    assert line == line_of(text, marker)


def test_kpi_list_of_wrong_size(example_text):
    text = mutate(example_text, "  - {kpi: revenue, target: 600000}\n", "")
    text = mutate(text, "  - {kpi: marketing_roi, target: 3.0}\n", "")
    found = problems(text)
    assert [(p[1], p[0]) for p in found] == [("kpis", line_of(text, "kpis:"))]
    assert found[0][2] == "expected at least 5 entries, found 4"


def test_every_problem_is_reported_together(example_text):
    text = mutate(example_text, "  fit_threshold: 60", "  fit_threshold: high")
    text = mutate(text, "timezone: America/New_York", "timezone: Mars/Base")
    text = mutate(text, "  cap: 100", "  cap: lots")
    fields = {p[1] for p in problems(text)}
    assert {
        "matrix.fit_threshold",
        "calendars.sales-us.timezone",
        "scoring.engagement.cap",
    } <= fields


@pytest.mark.parametrize(
    ("text", "line", "fragment"),
    [
        ("", 1, "the file is empty"),
        ("# only a comment\n", 1, "the file is empty"),
        ("- a\n- b\n", 1, "found a list"),
        ("version: 1\ncompany: [unclosed\n", 3, "not valid YAML"),
        ("a: 1\na: 2\n", None, "not valid YAML"),
    ],
)
def test_empty_and_non_yaml_files(text, line, fragment):
    found = problems(text)
    assert len(found) == 1
    assert found[0][0] == line or line is None
    assert fragment in found[0][2]


def test_problem_renders_as_file_line_field_message(example_text):
    text = mutate(example_text, "  fit_threshold: 60", "  fit_threshold: high")
    with pytest.raises(PactError) as info:
        parse_pact(text, "pact.yaml")
    assert str(info.value).startswith(
        f"pact.yaml:{line_of(text, 'fit_threshold')}: matrix.fit_threshold: Input should be"
    )


def test_problem_without_line_or_field_reads_plainly(tmp_path: Path):
    with pytest.raises(PactError) as info:
        load_pact(tmp_path / "nope.yaml")
    assert str(info.value) == f"{tmp_path / 'nope.yaml'}: no such file"


def test_missing_and_unreadable_files(tmp_path: Path):
    with pytest.raises(PactError, match="no such file"):
        load_pact(tmp_path / "nope.yaml")
    binary = tmp_path / "bin.yaml"
    binary.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(PactError, match="cannot read the file"):
        load_pact(binary)


def test_schema_describes_every_section():
    schema = pact_schema()
    assert schema["title"] == "LeadPact pact.yaml"
    for section in (
        "parties",
        "icp",
        "stages",
        "matrix",
        "goals",
        "commitments",
        "calendars",
        "kpis",
        "governance",
    ):
        assert section in schema["properties"]
