"""Leads and their deals in the store: get, find, list and add, as typed rows.

Functions take a SQLAlchemy `Connection` inside the caller's transaction (services own it) and
return frozen `LeadRow`/`DealRow` values; timestamps are tz-aware UTC on every backend.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, RowMapping, Select, func, select

from leadpact.core.models import LeadFacts
from leadpact.errors import ConflictError, NotFoundError
from leadpact.store._writes import insert_new
from leadpact.store.tables import deals, leads


@dataclass(frozen=True, slots=True)
class LeadRow:
    """One stored lead: who they are (personal, erasable) and anonymous facts about them."""

    id: str
    stage: str
    stage_at: datetime
    created_at: datetime
    email: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    title: str | None = None
    company: str | None = None
    employees: int | None = None
    annual_revenue: float | None = None
    industry: str | None = None
    country: str | None = None
    source: str | None = None
    owner: str | None = None
    team: str | None = None
    opted_out: bool = False
    erased_at: datetime | None = None
    persona: str | None = None
    fit: float | None = None
    fit_grade: str | None = None
    engagement: float | None = None
    priority: int | None = None
    scored_at: datetime | None = None
    row_hash: str | None = None

    def facts(self) -> LeadFacts:
        """The core value object scoring and stage rules take."""
        return LeadFacts(
            id=self.id,
            stage=self.stage,
            stage_at=self.stage_at,
            created_at=self.created_at,
            email=self.email,
            title=self.title,
            company=self.company,
            employees=self.employees,
            annual_revenue=self.annual_revenue,
            industry=self.industry,
            country=self.country,
            source=self.source,
            owner=self.owner,
            team=self.team,
            opted_out=self.opted_out,
        )


@dataclass(frozen=True, slots=True)
class DealRow:
    """One opportunity of a lead and its outcome."""

    id: str
    lead_id: str
    stage: str
    created_at: datetime
    amount: float | None = None
    closed_at: datetime | None = None
    won: bool | None = None


def get_lead(conn: Connection, lead_id: str) -> LeadRow:
    """The lead with this id.

    Raises:
        NotFoundError: there is no such lead.
    """
    lead = find_lead(conn, lead_id)
    if lead is None:
        raise NotFoundError(f"no lead {lead_id!r} in this workspace")
    return lead


def find_lead(conn: Connection, lead_id: str) -> LeadRow | None:
    """The lead with this id, or None."""
    row = conn.execute(select(leads).where(leads.c.id == lead_id)).mappings().first()
    return None if row is None else _lead(row)


def find_lead_by_email(conn: Connection, email: str) -> LeadRow | None:
    """The oldest lead with this email (compared case-insensitively), or None."""
    found = list_leads(conn, email=email)
    return found[0] if found else None


def list_leads(
    conn: Connection,
    *,
    stage: str | None = None,
    owner: str | None = None,
    priority: int | None = None,
    email: str | None = None,
) -> list[LeadRow]:
    """Leads matching every filter given, oldest first (`created_at`, then id).

    `email` matches case-insensitively and ignores surrounding spaces: a CRM may store
    "Jane@Example.com" for the person who asked to be forgotten as jane@example.com.
    """
    query: Select[Any] = select(leads)
    if stage is not None:
        query = query.where(leads.c.stage == stage)
    if owner is not None:
        query = query.where(leads.c.owner == owner)
    if priority is not None:
        query = query.where(leads.c.priority == priority)
    if email is not None:
        query = query.where(func.lower(leads.c.email) == email.strip().lower())
    query = query.order_by(leads.c.created_at, leads.c.id)
    return [_lead(row) for row in conn.execute(query).mappings()]


def add_lead(conn: Connection, lead: LeadRow) -> None:
    """Store a new lead.

    Raises:
        ConflictError: a lead with this id is already stored.
    """
    if not insert_new(conn, leads, "id", asdict(lead)):
        raise ConflictError(f"a lead {lead.id!r} is already stored")


def list_deals(conn: Connection, lead_id: str) -> list[DealRow]:
    """The deals of one lead, oldest first."""
    query = select(deals).where(deals.c.lead_id == lead_id).order_by(deals.c.created_at, deals.c.id)
    return [DealRow(**row) for row in conn.execute(query).mappings()]


def add_deal(conn: Connection, deal: DealRow) -> bool:
    """Store a deal unless one with its id exists; True when stored.

    Raises:
        NotFoundError: `deal.lead_id` names no lead.
    """
    return insert_new(conn, deals, "id", asdict(deal))


_LEAD_FIELDS = tuple(f.name for f in fields(LeadRow))


def _lead(row: RowMapping) -> LeadRow:
    return LeadRow(**{name: row[name] for name in _LEAD_FIELDS})
