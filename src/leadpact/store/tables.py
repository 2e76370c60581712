"""The tables of a workspace database (SQLAlchemy Core); timestamps are UTC.

Every imported record has a stable key (`leads.id` is the source's id; activities and touches a
content hash in `key`) so re-importing a file changes nothing. Personal data lives only in
`leads` (email, names, title) and in free text of activities/touches (`url`, `content`, `rep`
notes), which erasure anonymises (`store.erasure`); `suppressions` keeps only salted hashes of
an erased person's email and id, so that a later import cannot bring them back
(`store.suppression`). The Alembic revisions in `migrations/`
create exactly these tables; a test compares the two on SQLite and PostgreSQL.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    false,
)

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)


class UtcDateTime(TypeDecorator[datetime]):
    """A tz-aware UTC timestamp on every backend.

    SQLite has no time zones: values are stored as naive UTC text, so they are converted to UTC
    on the way in and marked UTC on the way out. A naive datetime is refused (it is a bug: the
    store never guesses a time zone).
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value.isoformat()}: the store needs tz-aware UTC")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)  # type: ignore[no-any-return]
        return value.astimezone(UTC)  # type: ignore[no-any-return]


def _lead_ref() -> Column[str]:
    """`lead_id`: deleted with its lead, and renamed with it when erasure anonymises the id."""
    return Column(
        "lead_id",
        String(200),
        ForeignKey("leads.id", ondelete="CASCADE", onupdate="CASCADE"),
        nullable=False,
    )


#: People and their company facts; scores are written by the scoring pipeline.
leads = Table(
    "leads",
    metadata,
    Column("id", String(200), primary_key=True),
    Column("email", String(320), nullable=True),
    Column("first_name", String(200), nullable=True),
    Column("last_name", String(200), nullable=True),
    Column("title", String(300), nullable=True),
    Column("company", String(300), nullable=True),
    Column("employees", Integer, nullable=True),
    Column("annual_revenue", Float, nullable=True),
    Column("industry", String(200), nullable=True),
    Column("country", String(100), nullable=True),
    Column("source", String(200), nullable=True),
    Column("owner", String(200), nullable=True),
    Column("team", String(100), nullable=True),
    Column("stage", String(50), nullable=False),
    Column("stage_at", UtcDateTime(), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("opted_out", Boolean, nullable=False, default=False, server_default=false()),
    Column("erased_at", UtcDateTime(), nullable=True),
    Column("persona", String(100), nullable=True),
    Column("fit", Float, nullable=True),
    Column("fit_grade", String(1), nullable=True),
    Column("engagement", Float, nullable=True),
    Column("priority", Integer, nullable=True),
    Column("scored_at", UtcDateTime(), nullable=True),
    Column("row_hash", String(64), nullable=True),
    Index("ix_leads_stage", "stage"),
    Index("ix_leads_owner", "owner"),
    Index("ix_leads_email", "email"),
)

#: Behaviour: page views, downloads, form submissions, email opens, webinars, demo requests.
activities = Table(
    "activities",
    metadata,
    Column(
        "id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    ),
    Column("key", String(64), nullable=False, unique=True),
    _lead_ref(),
    Column("type", String(50), nullable=False),
    Column("at", UtcDateTime(), nullable=False),
    Column("url", Text, nullable=True),
    Column("content", Text, nullable=True),
    Index("ix_activities_lead_at", "lead_id", "at"),
)

#: Sales touches: calls, emails, meetings, social; their outcome.
touches = Table(
    "touches",
    metadata,
    Column(
        "id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    ),
    Column("key", String(64), nullable=False, unique=True),
    _lead_ref(),
    Column("rep", String(200), nullable=True),
    Column("channel", String(20), nullable=False),
    Column("at", UtcDateTime(), nullable=False),
    Column("outcome", String(30), nullable=False),
    Column("note", Text, nullable=True),
    Index("ix_touches_lead_at", "lead_id", "at"),
)

#: Opportunities and their outcome.
deals = Table(
    "deals",
    metadata,
    Column("id", String(200), primary_key=True),
    _lead_ref(),
    Column("stage", String(50), nullable=False),
    Column("amount", Float, nullable=True),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("closed_at", UtcDateTime(), nullable=True),
    Column("won", Boolean, nullable=True),
    Index("ix_deals_lead", "lead_id"),
)

#: Every stage change, with the time the lead spent in the stage it left.
stage_changes = Table(
    "stage_changes",
    metadata,
    Column(
        "id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    ),
    Column("key", String(64), nullable=False, unique=True),
    _lead_ref(),
    Column("from_stage", String(50), nullable=True),
    Column("to_stage", String(50), nullable=False),
    Column("at", UtcDateTime(), nullable=False),
    Column("reason", Text, nullable=True),
    Column("actor", String(200), nullable=True),
    Column("seconds_in_from", Float, nullable=True),
    Index("ix_stage_changes_lead_at", "lead_id", "at"),
)

#: Import runs and the rows they set aside.
imports = Table(
    "imports",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("file", Text, nullable=False),
    Column("kind", String(20), nullable=False),
    Column("at", UtcDateTime(), nullable=False),
    Column("rows_read", Integer, nullable=False),
    Column("rows_landed", Integer, nullable=False),
    Column("rows_rejected", Integer, nullable=False),
)

#: Who did what, when and why (erasures, approvals, manual stage changes).
audit = Table(
    "audit",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", UtcDateTime(), nullable=False),
    Column("action", String(50), nullable=False),
    Column("subject", String(200), nullable=True),
    Column("reason", Text, nullable=True),
    Column("details", JSON, nullable=True),
    Index("ix_audit_subject", "subject"),
)

#: Recorded versions of the pact file (the agreement's history).
pact_versions = Table(
    "pact_versions",
    metadata,
    Column("number", Integer, primary_key=True, autoincrement=False),
    Column("recorded_at", UtcDateTime(), nullable=False),
    Column("message", Text, nullable=False),
    Column("text", Text, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("effective_on", String(10), nullable=True),
)

#: Approvals of pact versions, one per party.
approvals = Table(
    "approvals",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("version", Integer, ForeignKey("pact_versions.number"), nullable=False),
    Column("party", String(100), nullable=False),
    Column("by", String(200), nullable=False),
    Column("at", UtcDateTime(), nullable=False),
    Index("ix_approvals_version_party", "version", "party", unique=True),
)

#: People who log in to the web app, with their role (admin, marketing, sales, viewer).
users = Table(
    "users",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("username", String(200), nullable=False, unique=True),
    Column("name", String(200), nullable=True),
    Column("email", String(320), nullable=True),
    Column("role", String(20), nullable=False),
    Column("password_hash", String(300), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("disabled_at", UtcDateTime(), nullable=True),
)

#: API tokens for `Authorization: Bearer ...`; only a hash of each token is kept.
api_tokens = Table(
    "api_tokens",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(200), nullable=False, unique=True),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("role", String(20), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("last_used_at", UtcDateTime(), nullable=True),
    Column("revoked_at", UtcDateTime(), nullable=True),
)

#: Webhook deliveries already processed (idempotency of inbound events by their key).
inbound_events = Table(
    "inbound_events",
    metadata,
    Column("key", String(200), primary_key=True),
    Column("source", String(50), nullable=False),
    Column("received_at", UtcDateTime(), nullable=False),
)

#: Alerts the scheduler decided to send; `key` makes each alert unique across restarts.
alerts = Table(
    "alerts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("key", String(300), nullable=False, unique=True),
    Column("kind", String(20), nullable=False),
    Column("lead_id", String(200), nullable=True),
    Column("commitment_id", String(100), nullable=True),
    Column("recipient", String(320), nullable=False),
    Column("channel", String(20), nullable=False),
    Column("due_at", UtcDateTime(), nullable=True),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("payload", JSON, nullable=False),
    Column("status", String(20), nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", UtcDateTime(), nullable=True),
    Column("sent_at", UtcDateTime(), nullable=True),
    Column("last_error", Text, nullable=True),
    Index("ix_alerts_status_next", "status", "next_attempt_at"),
)

#: Every delivery attempt of an alert (the delivery log).
deliveries = Table(
    "deliveries",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("alert_id", Integer, ForeignKey("alerts.id", ondelete="CASCADE"), nullable=False),
    Column("at", UtcDateTime(), nullable=False),
    Column("attempt", Integer, nullable=False),
    Column("ok", Boolean, nullable=False),
    Column("detail", Text, nullable=True),
    Index("ix_deliveries_alert", "alert_id"),
)

#: Per-workspace random secrets, made once and kept here (never in pact.yaml): the salt of the
#: suppression list.
salts = Table(
    "salts",
    metadata,
    Column("name", String(50), primary_key=True),
    Column("value", String(128), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
)

#: Erased people: salted SHA-256 of their normalised email and of their lead id (`kind`), so
#: that imports and events set them aside instead of storing them again. Never a plain value.
suppressions = Table(
    "suppressions",
    metadata,
    Column("hash", String(64), primary_key=True),
    Column("kind", String(10), nullable=False),
    Column("added_at", UtcDateTime(), nullable=False),
)
