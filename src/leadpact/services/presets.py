"""What an import file means: the canonical columns, the CRM presets and mapping files.

A file is read through a `Mapping`: which source column feeds each canonical column, constant
values, how source values translate (lifecycle stages, activity types), the time zone of naive
timestamps and extra date formats. The canonical formats need no mapping; `hubspot`,
`salesforce` and `pipedrive` are built-in mappings for their standard exports; anything else
gets a mapping file (YAML), validated with file, line and field like the pact (docs/import.md).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping as MappingABC
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic_core import ErrorDetails

from leadpact.core.conditions import ACTIVITY_TYPES
from leadpact.core.models import Channel, TouchOutcome
from leadpact.core.pact import Pact
from leadpact.errors import LeadPactError, PactError, PactProblem


class Kind(StrEnum):
    """What an import file holds."""

    LEADS = "leads"
    ACTIVITIES = "activities"
    TOUCHES = "touches"
    DEALS = "deals"


ValueType = Literal[
    "text", "int", "number", "bool", "timestamp", "stage", "activity_type", "channel", "outcome"
]


@dataclass(frozen=True)
class Column:
    """One canonical column: its name, value type, whether every row needs it, and meaning."""

    name: str
    type: ValueType
    required: bool
    description: str


def _col(name: str, kind: ValueType, description: str, *, required: bool = False) -> Column:
    return Column(name, kind, required, description)


#: The canonical columns of each kind, in documentation order.
CANONICAL: dict[Kind, tuple[Column, ...]] = {
    Kind.LEADS: (
        _col("id", "text", "the lead's id in the source system (the upsert key)", required=True),
        _col("email", "text", "email address"),
        _col("first_name", "text", "first name"),
        _col("last_name", "text", "last name"),
        _col("title", "text", "job title (matched against the pact's personas)"),
        _col("company", "text", "company name"),
        _col("employees", "int", "number of employees"),
        _col("annual_revenue", "number", "annual revenue of the company"),
        _col("industry", "text", "industry"),
        _col("country", "text", "country or region, e.g. DK"),
        _col("source", "text", "where the lead came from, e.g. webinar"),
        _col("owner", "text", "the rep who owns the lead"),
        _col("team", "text", "the pact team that owns the lead"),
        _col("stage", "stage", "a stage id of the pact (default: the pact's first stage)"),
        _col("stage_at", "timestamp", "when the lead entered its stage (default: created_at)"),
        _col("created_at", "timestamp", "when the lead was created", required=True),
        _col("opted_out", "bool", "the person opted out (true/false)"),
    ),
    Kind.ACTIVITIES: (
        _col("lead_id", "text", "the lead's id (must be imported already)", required=True),
        _col("type", "activity_type", "one of: " + ", ".join(ACTIVITY_TYPES), required=True),
        _col("at", "timestamp", "when it happened", required=True),
        _col("url", "text", "page or asset"),
        _col("content", "text", "name of the content, form or event"),
    ),
    Kind.TOUCHES: (
        _col("lead_id", "text", "the lead's id (must be imported already)", required=True),
        _col("rep", "text", "the rep who made the touch"),
        _col("channel", "channel", "one of: " + ", ".join(Channel), required=True),
        _col("at", "timestamp", "when it happened", required=True),
        _col("outcome", "outcome", "one of: " + ", ".join(TouchOutcome), required=True),
        _col("note", "text", "free text"),
    ),
    Kind.DEALS: (
        _col("id", "text", "the deal's id in the source system (the upsert key)", required=True),
        _col("lead_id", "text", "the lead's id (must be imported already)", required=True),
        _col("stage", "stage", "a stage id of the pact; its outcome sets `won`", required=True),
        _col("amount", "number", "deal value"),
        _col("created_at", "timestamp", "when the deal was created", required=True),
        _col("closed_at", "timestamp", "when it was won or lost"),
    ),
}

#: Leads may also carry `became_<stage>_at` columns: when the lead entered that pact stage.
BECAME = re.compile(r"^became_([a-z][a-z0-9_-]*)_at$")


def columns_of(kind: Kind) -> dict[str, Column]:
    """The canonical columns of `kind` by name."""
    return {c.name: c for c in CANONICAL[kind]}


def column_for(kind: Kind, name: str) -> Column | None:
    """The canonical column `name` of `kind` (including `became_<stage>_at` for leads)."""
    found = columns_of(kind).get(name)
    if found is None and kind is Kind.LEADS and BECAME.match(name):
        return Column(name, "timestamp", False, "when the lead entered the stage")
    return found


def normalize(value: str) -> str:
    """The form source values are matched in: case-folded, letters and digits only."""
    return re.sub(r"[^0-9a-z]+", "", value.casefold())


class Mapping(BaseModel):
    """How the columns and values of a source file become canonical rows."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: Kind | None = Field(None, description="leads, activities, touches or deals")
    columns: dict[str, str] = Field(
        default_factory=dict, description="canonical column -> source column"
    )
    constants: dict[str, str | int | float | bool] = Field(
        default_factory=dict, description="canonical column -> the same value for every row"
    )
    stages: dict[str, str] = Field(
        default_factory=dict, description="source stage value -> stage id of the pact"
    )
    values: dict[str, dict[str, str]] = Field(
        default_factory=dict,
        description="canonical column -> {source value: canonical value} (types, channels)",
    )
    timezone: str | None = Field(
        None, description="IANA time zone of timestamps written without one (default UTC)"
    )
    date_formats: list[str] = Field(
        default_factory=list, description="strptime formats tried after ISO 8601"
    )
    delimiter: str | None = Field(None, description="CSV field separator (default: detected)")
    encoding: str = Field("utf-8", description="text encoding of a CSV file")
    sheet: str | None = Field(None, description="worksheet of an XLSX file (default: the first)")

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                ZoneInfo(value)
            except (ZoneInfoNotFoundError, ValueError):
                raise ValueError(
                    f"unknown time zone {value!r}; expected an IANA name such as Europe/Copenhagen"
                ) from None
        return value

    @field_validator("date_formats")
    @classmethod
    def _formats(cls, value: list[str]) -> list[str]:
        for fmt in value:
            if "%" not in fmt:
                raise ValueError(f"{fmt!r} is not a strptime format such as '%d/%m/%Y %H:%M'")
        return value

    @field_validator("delimiter")
    @classmethod
    def _one_char(cls, value: str | None) -> str | None:
        if value is not None and len(value) != 1:
            raise ValueError(f"expected one character such as ';', found {value!r}")
        return value

    def merged(self, other: Mapping) -> Mapping:
        """This mapping with `other`'s entries added on top (a mapping file over a preset)."""
        values = {k: dict(v) for k, v in self.values.items()}
        for column, table in other.values.items():
            values.setdefault(column, {}).update(table)
        fields = other.model_fields_set
        return Mapping(
            kind=other.kind or self.kind,
            columns={**self.columns, **other.columns},
            constants={**self.constants, **other.constants},
            stages={**self.stages, **other.stages},
            values=values,
            timezone=other.timezone if "timezone" in fields else self.timezone,
            date_formats=[*other.date_formats, *self.date_formats],
            delimiter=other.delimiter if "delimiter" in fields else self.delimiter,
            encoding=other.encoding if "encoding" in fields else self.encoding,
            sheet=other.sheet if "sheet" in fields else self.sheet,
        )


@dataclass(frozen=True)
class Source:
    """A mapping ready to use, with where it came from (for messages)."""

    mapping: Mapping
    #: Columns a preset names that may be missing from a file (exports differ by settings).
    optional: frozenset[str] = frozenset()
    #: The mapping file, and the line of each entry (for problems found once the kind is known).
    path: str | None = None
    lines: dict[tuple[str, str], int] = field(default_factory=dict)

    def problem(self, section: str, key: str, message: str) -> PactProblem:
        """A problem at `section.key` of the mapping file (or of the preset)."""
        where = self.path or "(preset)"
        return PactProblem(where, self.lines.get((section, key)), f"{section}.{key}", message)


# --- Presets ------------------------------------------------------------------------------

_HUBSPOT_STAGES = {
    "subscriber": "lead",
    "lead": "lead",
    "marketingqualifiedlead": "mql",
    "salesqualifiedlead": "sql",
    "opportunity": "proposal",
    "customer": "won",
    "evangelist": "won",
}

_SALESFORCE_STAGES = {
    "open - not contacted": "mql",
    "working - contacted": "sal",
    "closed - converted": "sql",
    "closed - not converted": "disqualified",
    "new": "lead",
    "open": "mql",
    "contacted": "sal",
    "working": "sal",
    "nurturing": "nurture",
    "qualified": "sql",
    "unqualified": "disqualified",
}

_US_DATES = ["%m/%d/%Y %I:%M %p", "%m/%d/%Y %H:%M:%S", "%m/%d/%Y %H:%M", "%m/%d/%Y"]

#: Built-in mappings by preset name and kind; the kind a file gets is found from its header.
PRESETS: dict[str, dict[Kind, Mapping]] = {
    "hubspot": {
        Kind.LEADS: Mapping(
            kind=Kind.LEADS,
            columns={
                "id": "Record ID",
                "email": "Email",
                "first_name": "First Name",
                "last_name": "Last Name",
                "title": "Job Title",
                "company": "Company Name",
                "employees": "Number of Employees",
                "annual_revenue": "Annual Revenue",
                "industry": "Industry",
                "country": "Country/Region",
                "source": "Original Source",
                "created_at": "Create Date",
                "owner": "Contact owner",
                "stage": "Lifecycle Stage",
                "became_lead_at": "Became a Lead Date",
                "became_mql_at": "Became a Marketing Qualified Lead Date",
                "became_sql_at": "Became a Sales Qualified Lead Date",
                "became_proposal_at": "Became an Opportunity Date",
                "became_won_at": "Became a Customer Date",
            },
            stages=_HUBSPOT_STAGES,
        ),
    },
    "salesforce": {
        Kind.LEADS: Mapping(
            kind=Kind.LEADS,
            columns={
                "id": "Lead ID",
                "email": "Email",
                "first_name": "First Name",
                "last_name": "Last Name",
                "title": "Title",
                "company": "Company",
                "employees": "No. of Employees",
                "annual_revenue": "Annual Revenue",
                "industry": "Industry",
                "country": "Country",
                "source": "Lead Source",
                "created_at": "Create Date",
                "owner": "Lead Owner",
                "stage": "Lead Status",
            },
            stages=_SALESFORCE_STAGES,
            date_formats=_US_DATES,
        ),
    },
    "pipedrive": {
        Kind.LEADS: Mapping(
            kind=Kind.LEADS,
            columns={
                "id": "Person - ID",
                "email": "Person - Email",
                "first_name": "Person - First name",
                "last_name": "Person - Last name",
                "title": "Person - Job title",
                "company": "Person - Organization",
                "owner": "Person - Owner",
                "created_at": "Person - Person created",
                "stage": "Person - Label",
                "source": "Person - Source",
            },
            stages={"hot": "sql", "warm": "mql", "cold": "lead", "customer": "won"},
        ),
        Kind.DEALS: Mapping(
            kind=Kind.DEALS,
            columns={
                "id": "Deal - ID",
                "lead_id": "Person - ID",
                "stage": "Deal - Status",
                "amount": "Deal - Value",
                "created_at": "Deal - Deal created",
                "closed_at": "Deal - Deal closed on",
            },
            stages={"open": "proposal", "won": "won", "lost": "lost"},
        ),
    },
}


def preset_source(name: str, header: Sequence[str], kind: Kind | None) -> Source:
    """The mapping of preset `name` for a file with this header.

    A preset with several kinds (pipedrive persons and deals) picks the one whose required
    source columns the header has, unless `kind` says which.

    Raises:
        LeadPactError: unknown preset, or it has no mapping for `kind`.
    """
    if name not in PRESETS:
        raise LeadPactError(f"unknown preset {name!r}; expected one of {', '.join(PRESETS)}")
    choices = PRESETS[name]
    if kind is not None:
        if kind not in choices:
            have = ", ".join(choices)
            raise LeadPactError(f"preset {name!r} reads {have}, not {kind.value}")
        mapping = choices[kind]
    else:
        present = set(header)
        mapping = max(
            choices.values(), key=lambda m: sum(source in present for source in m.columns.values())
        )
    optional = frozenset(c for c in mapping.columns if c != "id")
    return Source(mapping, optional)


# --- Mapping files --------------------------------------------------------------------------


def load_mapping(path: Path) -> Source:
    """Read and validate a mapping file (the parts that do not depend on the data).

    Raises:
        LeadPactError: the file is missing or unreadable.
        PactError: the YAML is invalid or an entry is wrong; each problem names file, line and
            field (the same form as pact problems).
    """
    from leadpact.pact_file import _line, _plain

    shown = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise LeadPactError(f"mapping file {shown} does not exist") from None
    except (OSError, UnicodeDecodeError) as err:
        raise LeadPactError(f"cannot read mapping file {shown}: {err}") from None
    tree = _read_tree(text, shown)
    try:
        mapping = Mapping.model_validate(_plain(tree))
    except ValidationError as err:
        problems = [_problem(e, tree, shown) for e in err.errors()]
        raise PactError(sorted(problems, key=lambda p: (p.line or 0, p.field))) from None
    lines = {
        (section, str(key)): _line(tree, (section, key))
        for section in ("columns", "constants", "stages", "values")
        for key in (tree.get(section) or {})
    }
    return Source(mapping, frozenset(), shown, lines)


def _problem(error: ErrorDetails, tree: MappingABC[str, Any], path: str) -> PactProblem:
    from leadpact.pact_file import _line

    loc = tuple(error["loc"])
    where = ".".join(str(part) for part in loc)
    if error["type"] == "extra_forbidden":
        known = list(Mapping.model_fields)
        hint = difflib.get_close_matches(str(loc[-1]), known, n=1)
        message = (
            f"unknown key {loc[-1]!r}; did you mean {hint[0]!r}?"
            if hint
            else f"unknown key {loc[-1]!r}; expected one of: {', '.join(known)}"
        )
    else:
        message = error["msg"].removeprefix("Value error, ")
        if error["type"] != "value_error":
            message = f"{message} (found {error.get('input')!r})"
    return PactProblem(path, _line(tree, loc), where, message)


def _read_tree(text: str, path: str) -> MappingABC[str, Any]:
    from ruamel.yaml import YAML
    from ruamel.yaml.error import MarkedYAMLError, YAMLError

    try:
        tree = YAML(typ="rt").load(text)
    except MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        line = mark.line + 1 if mark is not None else None
        what = err.problem or err.context or "invalid YAML"
        raise PactError([PactProblem(path, line, "", f"not valid YAML: {what}")]) from None
    except YAMLError as err:
        raise PactError([PactProblem(path, None, "", f"not valid YAML: {err}")]) from None
    if not isinstance(tree, MappingABC):
        raise PactError(
            [PactProblem(path, 1, "", "expected a mapping with kind, columns, constants, ...")]
        )
    return tree


def check_source(source: Source, kind: Kind, pact: Pact) -> None:
    """Check a mapping against the file's kind and the workspace pact.

    Raises:
        PactError: a column that `kind` does not have, a stage the pact does not define, or a
            value outside the vocabulary of its column.
    """
    mapping = source.mapping
    stages = [s.id for s in pact.stages]
    problems: list[PactProblem] = []
    if mapping.kind is not None and mapping.kind is not kind:
        problems.append(
            PactProblem(
                source.path or "(preset)",
                None,
                "kind",
                f"the mapping is for {mapping.kind.value}, the import is of {kind.value}",
            )
        )
    known = ", ".join(columns_of(kind))
    for section in ("columns", "constants", "values"):
        for name in getattr(mapping, section):
            column = column_for(kind, name)
            if column is None:
                problems.append(
                    source.problem(
                        section, name, f"{kind.value} have no column {name!r}; expected {known}"
                    )
                )
            elif (m := BECAME.match(name)) and m.group(1) not in stages and source.path:
                problems.append(
                    source.problem(
                        section, name, f"the pact has no stage {m.group(1)!r} ({', '.join(stages)})"
                    )
                )
    for value, stage in mapping.stages.items():
        if stage not in stages and source.path:
            problems.append(
                source.problem(
                    "stages", value, f"{stage!r} is not a stage of the pact ({', '.join(stages)})"
                )
            )
    for name, table in mapping.values.items():
        column = column_for(kind, name)
        allowed = vocabulary(column.type, pact) if column else None
        for value, target in table.items():
            if allowed is not None and target not in allowed:
                problems.append(
                    source.problem(
                        "values",
                        name,
                        f"{target!r} (for {value!r}) is not one of " + ", ".join(allowed),
                    )
                )
    if problems:
        raise PactError(problems)


def vocabulary(kind: ValueType, pact: Pact) -> tuple[str, ...] | None:
    """The values a column of this type may hold, or None when any value will do."""
    if kind == "stage":
        return tuple(s.id for s in pact.stages)
    if kind == "activity_type":
        return ACTIVITY_TYPES
    if kind == "channel":
        return tuple(Channel)
    if kind == "outcome":
        return tuple(TouchOutcome)
    return None


# --- Values -------------------------------------------------------------------------------
# Conversions work on whole Arrow columns (a file may hold millions of rows): each returns the
# typed column and a mask of the values it could not read, never raising for one bad value.

_ZONED = r"\d:\d{2}(:\d{2}(\.\d+)?)?\s*([zZ]|[+-]\d{2}(:?\d{2})?)$"
_DATE_ONLY = r"^\d{4}-\d{2}-\d{2}$"
_NUMBER = r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$"
_THOUSANDS = r"^[+-]?\d{1,3}(,\d{3})+(\.\d+)?$"
_TRUE = ("true", "yes", "y", "1", "t", "x")
_FALSE = ("false", "no", "n", "0", "f")
UTC_US = "timestamp[us, tz=UTC]"


def clean_text(values: pa.Array) -> pa.Array:
    """Trim whitespace; an empty value becomes null."""
    trimmed = pc.utf8_trim_whitespace(values.cast(pa.string()))
    return pc.if_else(pc.equal(trimmed, ""), pa.scalar(None, pa.string()), trimmed)


def parse_numbers(values: pa.Array, *, whole: bool) -> tuple[pa.Array, pa.Array]:
    """Numbers written as 1200, 1,200, 1 200, 1200.0 or 1.2e3; `whole` asks for integers.

    Returns:
        The numbers (float64, or int64 when `whole`) and the mask of values that are not one.
    """
    text = pc.replace_substring_regex(values, "[\\s\u00a0_]", "")
    text = pc.if_else(
        pc.match_substring_regex(text, _THOUSANDS), pc.replace_substring(text, ",", ""), text
    )
    ok = pc.fill_null(pc.match_substring_regex(text, _NUMBER), True)
    numbers = pc.cast(pc.if_else(ok, text, pa.scalar(None, pa.string())), pa.float64())
    if not whole:
        finite = pc.fill_null(pc.is_finite(numbers), True)
        return numbers, pc.or_(pc.invert(ok), pc.invert(finite))
    integral = pc.fill_null(
        pc.and_(pc.equal(pc.floor(numbers), numbers), pc.less(pc.abs(numbers), 2**31)), True
    )
    good = pc.and_(ok, integral)
    return pc.cast(pc.if_else(good, numbers, None), pa.int64()), pc.invert(good)


def parse_bools(values: pa.Array) -> tuple[pa.Array, pa.Array]:
    """true/false, yes/no, y/n, 1/0 (any case); returns the booleans and the unreadable mask."""
    lower = pc.utf8_lower(values)
    true = pc.is_in(lower, pa.array(_TRUE))
    false = pc.is_in(lower, pa.array(_FALSE))
    bad = pc.and_(pc.is_valid(values), pc.invert(pc.or_(true, false)))
    return pc.if_else(pc.or_(true, false), true, pa.scalar(None, pa.bool_())), bad


def map_values(values: pa.Array, table: dict[str, str | None]) -> pa.Array:
    """Translate each value through `table` (keys `normalize`d); a value not in it becomes null."""
    unique = pc.unique(values)
    mapped = pa.array(
        [None if v is None else table.get(normalize(v)) for v in unique.to_pylist()], pa.string()
    )
    return pc.take(mapped, pc.index_in(values, unique))


@dataclass(frozen=True)
class Instants:
    """Timestamps read from text: UTC instants, and which values were unreadable or partial."""

    values: pa.Array
    bad: pa.Array
    date_only: pa.Array
    naive: pa.Array


def parse_instants(values: pa.Array, zone: str | None, formats: Sequence[str]) -> Instants:
    """Read ISO 8601 timestamps (or `formats`); values without an offset are in `zone` (UTC).

    A local time that occurs twice (clocks set back) is its first occurrence; one skipped by
    a forward jump is the moment of the jump (ARCHITECTURE.md, business calendars). A date
    without a time is midnight, and is marked in `date_only`.
    """
    present = pc.is_valid(values)
    zoned = pc.fill_null(pc.match_substring_regex(values, _ZONED), False)
    date_only = pc.fill_null(pc.match_substring_regex(values, _DATE_ONLY), False)
    naive = pc.and_(present, pc.invert(zoned))
    micros = np.zeros(len(values), dtype=np.int64)
    found = np.zeros(len(values), dtype=bool)
    dates = date_only.to_numpy(zero_copy_only=False).copy()
    for mask, local in ((zoned, None), (naive, zone or "UTC")):
        index = np.flatnonzero(mask.to_numpy(zero_copy_only=False))
        if not len(index):
            continue
        parsed, by_date = _parse_part(pc.take(values, pa.array(index)), local, formats)
        ok = parsed.is_valid().to_numpy(zero_copy_only=False)
        micros[index[ok]] = parsed.drop_null().cast(pa.int64()).to_numpy()
        found[index[ok]] = True
        dates[index[by_date]] = True
    instants = pa.array(micros, pa.int64(), mask=~found).cast(pa.timestamp("us", "UTC"))
    bad = pc.and_(present, pa.array(~found))
    return Instants(instants, bad, pa.array(dates), naive)


def _parse_part(
    text: pa.Array, zone: str | None, formats: Sequence[str]
) -> tuple[pa.Array, np.ndarray[Any, np.dtype[np.bool_]]]:
    """Parse values that all have an offset (`zone` None) or none (local to `zone`).

    Returns the instants, and which values a date-only format (no hour) read.
    """
    import pandas as pd

    target = pa.timestamp("us", "UTC")
    by_date = np.zeros(len(text), dtype=bool)
    try:  # the fast path: clean ISO 8601 throughout
        if zone is None:
            return pc.cast(text, target), by_date
        local = pc.cast(text, pa.timestamp("us"))
        instants = pc.assume_timezone(local, zone, ambiguous="earliest", nonexistent="latest")
        return instants, by_date
    except pa.ArrowInvalid:
        pass
    series = pd.Series(text.to_numpy(zero_copy_only=False), dtype=object)
    parsed = pd.to_datetime(series, format="ISO8601", errors="coerce", utc=zone is None)
    for fmt in formats:
        missing = parsed.isna()
        if not missing.any():
            break
        again = pd.to_datetime(series[missing], format=fmt, errors="coerce", utc=zone is None)
        if not any(hour in fmt for hour in ("%H", "%I", "%X", "%T", "%c")):
            by_date |= (missing & again.reindex(series.index).notna()).to_numpy()
        parsed = parsed.where(~missing, again)
    if zone is not None:
        if parsed.dt.tz is not None:  # a format with %z inside a naive group
            parsed = parsed.dt.tz_convert("UTC")
        else:
            first = np.ones(len(parsed), dtype=bool)
            parsed = parsed.dt.tz_localize(zone, ambiguous=first, nonexistent="shift_forward")
    return pa.array(parsed.dt.tz_convert("UTC").dt.as_unit("us"), type=target), by_date
