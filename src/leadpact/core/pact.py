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
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator, model_validator

from leadpact.core.calendar import BusinessCalendar, CalendarSpec
from leadpact.core.conditions import ACTIVITY_TYPES
from leadpact.core.goals_spec import GoalsSpec
from leadpact.core.types import Duration, Ident, PositiveDuration, Rate, When
from leadpact.errors import NotFoundError

#: The schema version this code reads.
PACT_VERSION = 1


class Part(BaseModel):
    """Base of every part: frozen, unknown keys rejected."""

    model_config = ConfigDict(frozen=True, extra="forbid")


# --- 1. Overview and parties --------------------------------------------------------------


class Person(Part):
    """A named person: an owner, a point of contact, a manager, a rep."""

    name: str = Field(min_length=1, description="full name")
    email: str | None = Field(None, description="email address for alerts and reports")
    title: str | None = Field(None, description="job title")
    role: str | None = Field(None, description="role in this agreement, e.g. 'lead handover'")


class Party(Part):
    """A department that signs the agreement."""

    name: str = Field(min_length=1, description="department name, e.g. 'Marketing'")
    owner: Person = Field(description="the SLA owner who signs and approves versions")
    contacts: list[Person] = Field(default_factory=list, description="points of contact")
    responsibilities: list[str] = Field(
        default_factory=list, description="what this party is responsible for, in plain words"
    )


class Cadence(StrEnum):
    """How often something recurs."""

    DAILY = "daily"
    WEEKLY = "weekly"
    MONTHLY = "monthly"
    QUARTERLY = "quarterly"
    HALF_YEARLY = "half-yearly"
    YEARLY = "yearly"


class ReportingLine(Part):
    """Who reports what to whom, how often (points of contact of part 1)."""

    sender: Ident = Field(alias="from", description="party that reports")
    receiver: Ident = Field(alias="to", description="party that receives the report")
    report: str = Field(min_length=1, description="what is reported")
    every: Cadence = Field(description="how often")

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)


# --- 2. Ideal customer profile ------------------------------------------------------------


class IcpCriterion(Part):
    """A characteristic of the ideal customer, with its importance (1 = most important)."""

    id: Ident
    name: str = Field(min_length=1, description="criterion, e.g. 'Company size'")
    description: str = Field(min_length=1, description="the characteristic, e.g. '> 200 employees'")
    importance: int = Field(ge=1, le=5, description="1 (most important) to 5")
    when: When = Field(description="condition a lead must meet to match this criterion")


class Persona(Part):
    """A buyer persona, ranked primary (1), secondary (2) or tertiary (3)."""

    id: Ident
    name: str = Field(min_length=1, description="e.g. 'Dan the director'")
    rank: int = Field(ge=1, le=3, description="1 primary, 2 secondary, 3 tertiary")
    description: str | None = Field(None, description="who they are and what they look for")
    titles: list[str] = Field(
        min_length=1, description="job-title keywords that identify the persona (case-insensitive)"
    )


class Icp(Part):
    """Ideal customer profile: weighted criteria and at most three ranked personas."""

    criteria: list[IcpCriterion] = Field(min_length=1)
    personas: list[Persona] = Field(default_factory=list, max_length=3)

    @field_validator("personas")
    @classmethod
    def _ranks_unique(cls, personas: list[Persona]) -> list[Persona]:
        ranks = [p.rank for p in personas]
        if len(set(ranks)) != len(ranks):
            raise ValueError(f"each persona needs its own rank (1, 2, 3), found ranks {ranks}")
        return personas


# --- 3. Lead definitions, scoring, matrix ---------------------------------------------------


class StageSource(StrEnum):
    """Who decides that a lead is in a stage."""

    CRM = "crm"
    PACT = "pact"


class Outcome(StrEnum):
    """What reaching a stage means for the lead's journey."""

    OPEN = "open"
    WON = "won"
    LOST = "lost"
    RECYCLED = "recycled"
    DISQUALIFIED = "disqualified"


class StageDef(Part):
    """A funnel stage with its entry criteria on fit and behaviour."""

    id: Ident
    name: str = Field(min_length=1, description="e.g. 'Marketing qualified lead'")
    description: str = Field(min_length=1, description="the definition both teams agree on")
    source: StageSource = Field(
        StageSource.CRM,
        description="'crm': taken from the CRM's stage/date columns; 'pact': decided by `entry`",
    )
    entry: When | None = Field(None, description="entry criteria (needed when source is 'pact')")
    outcome: Outcome = Field(Outcome.OPEN, description="open, won, lost, recycled, disqualified")

    @model_validator(mode="after")
    def _pact_stage_has_entry(self) -> StageDef:
        if self.source is StageSource.PACT and self.entry is None:
            raise ValueError(f"stage {self.id!r} is decided by the pact and needs `entry` criteria")
        return self


class EngagementRules(Part):
    """Points per activity type, their decay and caps."""

    points: dict[str, float] = Field(min_length=1, description="points per activity type")
    half_life: PositiveDuration | None = Field(None, description="points halve after this time")
    window: PositiveDuration | None = Field(None, description="only activities this recent count")
    cap: float = Field(100, gt=0, description="maximum engagement score")
    caps: dict[str, float] = Field(default_factory=dict, description="maximum points per type")

    @field_validator("points", "caps")
    @classmethod
    def _known_types(cls, value: dict[str, float]) -> dict[str, float]:
        unknown = sorted(set(value) - set(ACTIVITY_TYPES))
        if unknown:
            raise ValueError(
                f"unknown activity type {unknown[0]!r}; expected one of {', '.join(ACTIVITY_TYPES)}"
            )
        return value


class Grades(Part):
    """Fit score (0-100) at or above which a lead gets grade A, B or C; below C is D."""

    a: float = Field(80, ge=0, le=100, alias="A", description="lowest fit score of grade A")
    b: float = Field(60, ge=0, le=100, alias="B", description="lowest fit score of grade B")
    c: float = Field(40, ge=0, le=100, alias="C", description="lowest fit score of grade C")

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    @model_validator(mode="after")
    def _descending(self) -> Grades:
        if not self.a > self.b > self.c:
            raise ValueError(
                f"grade thresholds must fall A > B > C, found {self.a}, {self.b}, {self.c}"
            )
        return self


class Scoring(Part):
    """How fit (from the ICP) and engagement (from behaviour) are scored."""

    grades: Grades = Field(default_factory=Grades)
    engagement: EngagementRules


class Quadrant(StrEnum):
    """The two mixed quadrants of the fit x engagement matrix."""

    GOOD_FIT_LOW_ENGAGEMENT = "good_fit_low_engagement"
    LOW_FIT_HIGH_ENGAGEMENT = "low_fit_high_engagement"


class Action(StrEnum):
    """What happens to leads of a priority."""

    SALES = "sales"
    NURTURE = "nurture"
    EXCLUDE = "exclude"


class Treatment(Part):
    """The treatment of one priority."""

    action: Action = Field(description="sales, nurture or exclude")
    description: str = Field(min_length=1, description="the treatment in plain words")
    flow: str | None = Field(None, description="name of the nurture flow, if any")


class Matrix(Part):
    """The fit x engagement matrix: where 'high' starts and how each priority is treated."""

    fit_threshold: float = Field(ge=0, le=100, description="fit score at or above = good fit")
    engagement_threshold: float = Field(ge=0, description="engagement at or above = high")
    priority_2: Quadrant = Field(description="which mixed quadrant is priority 2 (the other is 3)")
    treatment: dict[Annotated[int, Field(ge=1, le=4)], Treatment]

    @field_validator("treatment")
    @classmethod
    def _all_priorities(cls, value: dict[int, Treatment]) -> dict[int, Treatment]:
        missing = sorted({1, 2, 3, 4} - set(value))
        if missing:
            raise ValueError(f"every priority 1-4 needs a treatment; missing {missing}")
        return value

    def priority(self, fit: float, engagement: float) -> int:
        """The priority (1-4) of a lead with these scores."""
        good_fit = fit >= self.fit_threshold
        high = engagement >= self.engagement_threshold
        if good_fit and high:
            return 1
        if not good_fit and not high:
            return 4
        quadrant = (
            Quadrant.GOOD_FIT_LOW_ENGAGEMENT if good_fit else Quadrant.LOW_FIT_HIGH_ENGAGEMENT
        )
        return 2 if quadrant is self.priority_2 else 3


# --- 5 and 8. Commitments between parties ---------------------------------------------------


class _Commitment(Part):
    id: Ident
    provider: Ident = Field(description="party that keeps the commitment")
    receiver: Ident = Field(description="party it is made to")
    description: str | None = Field(None, description="the commitment in plain words")


class ResponseCommitment(_Commitment):
    """Respond to leads within N business hours of entering a stage (per priority via `when`)."""

    kind: Literal["response"] = Field(description="response: a timed first response")
    stage: Ident = Field(description="the clock starts when a lead enters this stage")
    within: PositiveDuration = Field(description="business time allowed, e.g. 2h")
    calendar: Ident | None = Field(None, description="calendar; default: the owner's team's")
    when: When | None = Field(None, description="which leads it applies to, e.g. {priority: 1}")


class AcceptanceCommitment(_Commitment):
    """Accept or reject handed-over leads (SAL) within N business hours, with a reason."""

    kind: Literal["acceptance"] = Field(description="acceptance: accept or reject in time")
    stage: Ident = Field(description="the stage whose leads must be accepted, usually mql")
    within: PositiveDuration = Field(description="business time allowed, e.g. 8h")
    calendar: Ident | None = None
    when: When | None = None


class FollowUpCommitment(_Commitment):
    """At least K attempts over D business days before a lead may be recycled."""

    kind: Literal["follow_up"] = Field(description="follow_up: attempts before recycling")
    stage: Ident
    attempts: int = Field(ge=1, le=20, description="attempts required")
    over_days: int = Field(ge=1, description="business days the attempts are spread over")
    spacing: Duration | None = Field(None, description="minimum business time between attempts")
    break_up: bool = Field(False, description="the last attempt is a break-up email")
    unless_connected: bool = Field(True, description="stop counting once a touch connects")
    then: Ident | None = Field(None, description="stage leads move to after the last attempt")
    calendar: Ident | None = None
    when: When | None = None


class DeliveryMetric(StrEnum):
    """Volumes a party can promise."""

    LEADS = "leads"
    MQLS = "mqls"
    SQLS = "sqls"
    MEETINGS = "meetings"
    CUSTOMERS = "customers"
    REVENUE = "revenue"
    VALUE = "value"


class DeliveryCommitment(_Commitment):
    """Deliver a volume per period (marketing: N SQLs a month, a revenue contribution)."""

    kind: Literal["delivery"] = Field(description="delivery: a volume per period")
    metric: DeliveryMetric = Field(description="what is delivered")
    target: float = Field(gt=0, description="how many (or how much revenue) per period")
    period: Cadence = Field(description="the period the target is per")


class QualityCommitment(_Commitment):
    """Keep a quality rate (e.g. at least 70 % of MQLs accepted by sales)."""

    kind: Literal["quality"] = Field(description="quality: a rate kept per period")
    metric: Literal["acceptance_rate", "mql_to_sql_rate", "sql_to_won_rate"] = Field(
        description="the rate measured"
    )
    target: Rate = Field(description="the lowest acceptable rate, 0..1")
    period: Cadence = Field(description="the period the rate is measured over")


class ReportCommitment(_Commitment):
    """Send a report on a cadence (e.g. a monthly customer-friction report to service)."""

    kind: Literal["report"] = Field(description="report: a report sent on a cadence")
    report: str = Field(min_length=1, description="name of the report")
    every: Cadence
    due_within: Duration = Field(
        default_factory=lambda: timedelta(days=5),
        description="time after the period's end the report is due",
    )


Commitment = Annotated[
    ResponseCommitment
    | AcceptanceCommitment
    | FollowUpCommitment
    | DeliveryCommitment
    | QualityCommitment
    | ReportCommitment,
    Field(discriminator="kind"),
]


class NonSqlContact(Part):
    """Whether and how sales may contact leads that are not yet SQL."""

    allowed: bool = Field(description="whether sales may contact non-SQL leads")
    how: str | None = Field(None, description="how such contact happens")
    when: When | None = Field(None, description="which non-SQL leads may be contacted")


class StageMove(Part):
    """Where leads go under a handling rule."""

    to: Ident = Field(description="the stage the leads move to")
    description: str | None = Field(None, description="the rule in plain words")


class Disqualify(Part):
    """When leads are disqualified, and the reasons sales may give."""

    to: Ident = Field(description="the disqualified stage")
    reasons: list[str] = Field(min_length=1, description="reasons sales may give")
    when: When | None = Field(None, description="leads disqualified automatically")


class OptOut(Part):
    """Leads who opt out are deleted from the database within a time."""

    action: Literal["delete"] = Field("delete", description="opted-out leads are deleted")
    within: PositiveDuration = Field(
        default_factory=lambda: timedelta(days=30), description="deleted within this time"
    )


class Handling(Part):
    """Lead handling rules beside the timed commitments (part 5)."""

    handover: str = Field(min_length=1, description="how leads are handed over to sales")
    reject_reasons: list[str] = Field(
        default_factory=list, description="reasons sales may give when rejecting an MQL"
    )
    contact_non_sql: NonSqlContact
    not_ready: StageMove = Field(description="contacted leads that are not ready yet")
    recycle: StageMove | None = Field(None, description="where recycled leads go")
    disqualify: Disqualify | None = None
    opt_out: OptOut = Field(default_factory=OptOut)


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
