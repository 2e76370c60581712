"""How an import file maps to the canonical formats: CRM presets and mapping files.

A file is read through a `Mapping`: which source column feeds each canonical column
(`services.import_columns`), constant values, how source values translate (lifecycle stages,
activity types), the time zone of naive timestamps and extra date formats. The canonical
formats need no mapping; `hubspot`, `salesforce` and `pipedrive` are built-in mappings for
their standard exports; anything else gets a mapping file (YAML), validated with file, line
and field like the pact (docs/import.md).
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping as MappingABC
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic_core import ErrorDetails

from leadpact.core.pact import Pact
from leadpact.errors import LeadPactError, MappingError, PactProblem
from leadpact.services.import_columns import (
    BECAME,
    CANONICAL,
    Column,
    Kind,
    column_for,
    columns_of,
    normalize,
    vocabulary,
)

# The canonical columns are re-exported: callers read a file's meaning from one place.
__all__ = [
    "BECAME",
    "CANONICAL",
    "PRESETS",
    "Column",
    "Kind",
    "Mapping",
    "Source",
    "check_source",
    "column_for",
    "columns_of",
    "load_mapping",
    "normalize",
    "preset_source",
    "vocabulary",
]


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
        MappingError: the file is missing, unreadable or not YAML, or an entry is wrong; each
            problem names file, line and field (the same form as pact problems).
    """
    from leadpact.yaml_source import line_of, parse_yaml, plain

    shown = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise MappingError(
            [PactProblem(shown, None, "", "the mapping file does not exist")]
        ) from None
    except (OSError, UnicodeDecodeError) as err:
        raise MappingError([PactProblem(shown, None, "", f"cannot read the file: {err}")]) from None
    tree = parse_yaml(text, shown, MappingError)
    if not isinstance(tree, MappingABC):
        raise MappingError(
            [PactProblem(shown, 1, "", "expected a mapping with kind, columns, constants, ...")]
        )
    try:
        mapping = Mapping.model_validate(plain(tree))
    except ValidationError as err:
        problems = [_problem(e, tree, shown) for e in err.errors()]
        raise MappingError(sorted(problems, key=lambda p: (p.line or 0, p.field))) from None
    lines = {
        (section, str(key)): line_of(tree, (section, key))
        for section in ("columns", "constants", "stages", "values")
        for key in (tree.get(section) or {})
    }
    return Source(mapping, frozenset(), shown, lines)


def _problem(error: ErrorDetails, tree: MappingABC[str, Any], path: str) -> PactProblem:
    from leadpact.yaml_source import line_of

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
    return PactProblem(path, line_of(tree, loc), where, message)


def check_source(source: Source, kind: Kind, pact: Pact) -> None:
    """Check a mapping against the file's kind and the workspace pact.

    Raises:
        MappingError: a column that `kind` does not have, a stage the pact does not define, or
            a value outside the vocabulary of its column.
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
        raise MappingError(problems)
