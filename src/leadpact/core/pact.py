"""The agreement as a typed model: `Pact` and its parts, validated strictly and cross-checked.

Each part follows PRODUCT.md "The parts of the agreement": parties (1), ideal customer (2),
lead definitions, scoring and the fit x engagement matrix (3), goals (4), commitments and lead
handling (5), KPIs (6), governance (7) and commitments between any two parties (8). Calendars
and teams say when each side works. Models are frozen and reject unknown keys; references
between parts (a commitment's stage, a team's calendar) are checked by `Pact` as a whole.
"""

from __future__ import annotations

from datetime import date, timedelta
from enum import StrEnum
from typing import Literal

from pydantic import ConfigDict, Field, PrivateAttr, model_validator

from leadpact.core.calendar import BusinessCalendar, CalendarSpec
from leadpact.core.commitments import (
    AcceptanceCommitment,
    Commitment,
    DeliveryCommitment,
    DeliveryMetric,
    Disqualify,
    FollowUpCommitment,
    Handling,
    NonSqlContact,
    OptOut,
    QualityCommitment,
    ReportCommitment,
    ResponseCommitment,
    StageMove,
)
from leadpact.core.goals_spec import GoalsSpec
from leadpact.core.lead_definitions import (
    Action,
    EngagementRules,
    Grades,
    Icp,
    IcpCriterion,
    Matrix,
    Outcome,
    Persona,
    Quadrant,
    Scoring,
    StageDef,
    StageSource,
    Treatment,
)
from leadpact.core.part import Cadence, Part, Person
from leadpact.core.types import Duration, Ident
from leadpact.errors import NotFoundError

__all__ = [
    "PACT_VERSION",
    "AcceptanceCommitment",
    "Action",
    "Alerts",
    "Cadence",
    "Cancellation",
    "Commitment",
    "Consequence",
    "Costs",
    "DeliveryCommitment",
    "DeliveryMetric",
    "Disqualify",
    "EngagementRules",
    "FollowUpCommitment",
    "Governance",
    "Grades",
    "Handling",
    "Icp",
    "IcpCriterion",
    "Kpi",
    "KpiName",
    "Loc",
    "Matrix",
    "MissedGoal",
    "NonSqlContact",
    "OptOut",
    "Outcome",
    "Pact",
    "Part",
    "Party",
    "Person",
    "Persona",
    "Quadrant",
    "QualityCommitment",
    "ReferenceProblem",
    "ReportCommitment",
    "ReportingLine",
    "ResponseCommitment",
    "Review",
    "Scoring",
    "StageDef",
    "StageMove",
    "StageSource",
    "Team",
    "Treatment",
]

#: The schema version this code reads.
PACT_VERSION = 1


# --- 1. Overview and parties --------------------------------------------------------------


class Party(Part):
    """A department that signs the agreement."""

    name: str = Field(min_length=1, description="department name, e.g. 'Marketing'")
    owner: Person = Field(description="the SLA owner who signs and approves versions")
    contacts: list[Person] = Field(default_factory=list, description="points of contact")
    responsibilities: list[str] = Field(
        default_factory=list, description="what this party is responsible for, in plain words"
    )


class ReportingLine(Part):
    """Who reports what to whom, how often (points of contact of part 1)."""

    sender: Ident = Field(alias="from", description="party that reports")
    receiver: Ident = Field(alias="to", description="party that receives the report")
    report: str = Field(min_length=1, description="what is reported")
    every: Cadence = Field(description="how often")

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)


# --- Calendars and teams ----------------------------------------------------------------------


class Team(Part):
    """A team of one party, with its business calendar, manager and members."""

    party: Ident
    calendar: Ident
    manager: Person | None = Field(None, description="escalations go to the manager")
    members: list[Person] = Field(default_factory=list)


class Alerts(Part):
    """When the live service warns, escalates and reassigns."""

    warn_before: Duration = Field(
        default_factory=lambda: timedelta(minutes=30),
        description="warn this long before a deadline",
    )
    escalate_after: Duration | None = Field(
        default_factory=lambda: timedelta(hours=2), description="after a breach, to the manager"
    )
    reassign_after: Duration | None = Field(None, description="after a breach, to another rep")
    digest_at: str | None = Field("08:00", pattern=r"^\d\d:\d\d$", description="daily digest")


# --- 6. KPIs ------------------------------------------------------------------------------


class KpiName(StrEnum):
    """The KPIs a pact can choose from (PRODUCT.md part 6)."""

    LEAD_TO_MQL_RATE = "lead_to_mql_rate"
    MQL_TO_MEETING_RATE = "mql_to_meeting_rate"
    FIRST_RESPONSE_TIME = "first_response_time"
    NO_SHOW_RATE = "no_show_rate"
    WIN_RATE = "win_rate"
    REVENUE = "revenue"
    LEAD_TO_CUSTOMER_RATE = "lead_to_customer_rate"
    MARKETING_ROI = "marketing_roi"
    COST_PER_CUSTOMER = "cost_per_customer"


class Kpi(Part):
    """One KPI with its target."""

    kpi: KpiName
    target: float | None = Field(None, description="rate 0..1, money, or seconds")
    description: str | None = Field(None, description="how the KPI is measured")


class Costs(Part):
    """Marketing costs for ROI and cost per customer."""

    marketing: float = Field(ge=0, description="marketing spend per period")
    period: Cadence = Cadence.MONTHLY


# --- 7. Governance ---------------------------------------------------------------------------


class MissedGoal(Part):
    """A goal or commitment missed a number of periods running."""

    goal: str = Field(description="a goal metric (leads, mqls, ...) or a commitment id")
    missed_periods: int = Field(ge=1, description="periods missed running")


class Consequence(Part):
    """A formal consequence when a goal is missed."""

    when: MissedGoal = Field(description="the goal missed and for how long")
    action: str = Field(min_length=1, description="what happens then")


class Cancellation(Part):
    """A condition under which the agreement may be cancelled."""

    when: MissedGoal = Field(description="the goal missed and for how long")
    description: str = Field(min_length=1, description="what either party may then do")


class Review(Part):
    """Review cadence with the last review date."""

    cadence: Literal["monthly", "quarterly", "half-yearly"] = Field(description="how often")
    last: date = Field(description="date of the last review")


class Governance(Part):
    """Validity, reviews, weekly status, consequences and cancellation conditions."""

    document_owner: str = Field(min_length=1, description="responsible for regular reviews")
    valid_from: date = Field(description="the agreement applies from this date")
    valid_until: date | None = Field(None, description="and until this date (open if empty)")
    review: Review
    weekly_status: str | None = Field(None, description="when and who meets weekly")
    consequences: list[Consequence] = Field(default_factory=list)
    cancellation: list[Cancellation] = Field(default_factory=list)

    @model_validator(mode="after")
    def _dates_in_order(self) -> Governance:
        if self.valid_until is not None and self.valid_until < self.valid_from:
            raise ValueError(
                f"valid_until {self.valid_until} is before valid_from {self.valid_from}"
            )
        return self


# --- The whole agreement ---------------------------------------------------------------------

Loc = tuple[str | int, ...]


class ReferenceProblem(ValueError):
    """Parts of a pact name things that are not defined; `problems` holds (location, message)."""

    def __init__(self, problems: list[tuple[Loc, str]]) -> None:
        self.problems = problems
        super().__init__("; ".join(f"{'.'.join(map(str, loc))}: {msg}" for loc, msg in problems))


class Pact(Part):
    """The whole agreement. Load it from YAML with `leadpact.load_pact`."""

    version: Literal[1] = Field(description="schema version of this file (1)")
    company: str = Field(min_length=1, description="the company the agreement is for")
    title: str = Field(min_length=1, description="title of the agreement document")
    purpose: str = Field(min_length=1, description="why the parties make this agreement")
    currency: str = Field(pattern=r"^[A-Z]{3}$", description="ISO 4217 code, e.g. DKK")
    parties: dict[Ident, Party] = Field(
        min_length=2, description="the departments that sign, by id (two or more)"
    )
    reporting: list[ReportingLine] = Field(
        default_factory=list, description="points of contact: who reports what to whom"
    )
    icp: Icp
    stages: list[StageDef] = Field(min_length=2)
    scoring: Scoring
    matrix: Matrix
    goals: GoalsSpec | None = None
    commitments: list[Commitment] = Field(
        min_length=1, description="what each party commits to another, measurably"
    )
    handling: Handling
    calendars: dict[Ident, CalendarSpec] = Field(
        min_length=1, description="business calendars by id (see calendars.md)"
    )
    teams: dict[Ident, Team] = Field(
        min_length=1, description="teams by id, each with its party and calendar"
    )
    kpis: list[Kpi] = Field(min_length=5, max_length=7, description="5 to 7 KPIs")
    costs: Costs | None = None
    alerts: Alerts = Field(default_factory=Alerts)
    governance: Governance

    _calendars: dict[str, BusinessCalendar] = PrivateAttr(default_factory=dict)

    @model_validator(mode="after")
    def _references(self) -> Pact:
        problems = list(self._reference_problems())
        if problems:
            raise ReferenceProblem(problems)
        return self

    def _reference_problems(self) -> list[tuple[Loc, str]]:
        stages = [s.id for s in self.stages]
        problems: list[tuple[Loc, str]] = []

        def need(kind: str, value: str | None, known: list[str], loc: Loc) -> None:
            if value is not None and value not in known:
                problems.append(
                    (loc, f"{kind} {value!r} is not defined; expected one of {', '.join(known)}")
                )

        parties = list(self.parties)
        calendars = list(self.calendars)
        for i, line in enumerate(self.reporting):
            need("party", line.sender, parties, ("reporting", i, "from"))
            need("party", line.receiver, parties, ("reporting", i, "to"))
        for kind, ids in (("stage", stages), ("criterion", [c.id for c in self.icp.criteria])):
            dupes = sorted({x for x in ids if ids.count(x) > 1})
            if dupes:
                problems.append(
                    (
                        (kind + "s" if kind == "stage" else "icp",),
                        f"{kind} {dupes[0]!r} is defined twice",
                    )
                )
        for i, c in enumerate(self.commitments):
            need("party", c.provider, parties, ("commitments", i, "provider"))
            need("party", c.receiver, parties, ("commitments", i, "receiver"))
            if c.provider == c.receiver:
                problems.append(
                    (("commitments", i, "receiver"), "a commitment is made to another party")
                )
            need("stage", getattr(c, "stage", None), stages, ("commitments", i, "stage"))
            need("stage", getattr(c, "then", None), stages, ("commitments", i, "then"))
            need(
                "calendar", getattr(c, "calendar", None), calendars, ("commitments", i, "calendar")
            )
        ids = [c.id for c in self.commitments]
        dupes = sorted({x for x in ids if ids.count(x) > 1})
        if dupes:
            problems.append((("commitments",), f"commitment {dupes[0]!r} is defined twice"))
        need("stage", self.handling.not_ready.to, stages, ("handling", "not_ready", "to"))
        if self.handling.recycle is not None:
            need("stage", self.handling.recycle.to, stages, ("handling", "recycle", "to"))
        if self.handling.disqualify is not None:
            need("stage", self.handling.disqualify.to, stages, ("handling", "disqualify", "to"))
        for name, team in self.teams.items():
            need("party", team.party, parties, ("teams", name, "party"))
            need("calendar", team.calendar, calendars, ("teams", name, "calendar"))
        kpis = [k.kpi for k in self.kpis]
        if len(set(kpis)) != len(kpis):
            problems.append((("kpis",), "each KPI may be listed once"))
        goal_names = [m.value for m in DeliveryMetric] + ids
        missed = [("consequences", i, c.when) for i, c in enumerate(self.governance.consequences)]
        missed += [("cancellation", i, c.when) for i, c in enumerate(self.governance.cancellation)]
        for part, i, when in missed:
            need("goal", when.goal, goal_names, ("governance", part, i, "when", "goal"))
        if self.goals is not None and self.goals.values is not None:
            personas = [p.id for p in self.icp.personas]
            for persona in self.goals.values.personas:
                need("persona", persona, personas, ("goals", "values", "personas", persona))
        return problems

    def calendar(self, name: str) -> BusinessCalendar:
        """The business calendar called `name`, compiled once and kept.

        Raises:
            NotFoundError: the pact has no calendar of that name.
        """
        if name not in self.calendars:
            known = ", ".join(self.calendars)
            raise NotFoundError(f"the pact has no calendar {name!r}; it has: {known}")
        if name not in self._calendars:
            self._calendars[name] = BusinessCalendar(self.calendars[name])
        return self._calendars[name]

    def stage(self, stage_id: str) -> StageDef:
        """The stage definition with this id.

        Raises:
            NotFoundError: no such stage.
        """
        for stage in self.stages:
            if stage.id == stage_id:
                return stage
        raise NotFoundError(f"the pact defines no stage {stage_id!r}")
