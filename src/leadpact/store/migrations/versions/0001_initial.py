"""Create the workspace tables: leads and their events, imports, audit, pact versions.

Revision ID: 0001
Revises:
Created: 2026-11-23

Written out by hand (not generated at run time) so the schema of a workspace never depends on
the code that happens to be installed; `tests/store/test_migrations.py` checks it matches
`store/tables.py` on SQLite and PostgreSQL.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision: str | None = None
branch_labels: str | None = None
depends_on: str | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _utc() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def _lead_ref(table: str) -> list[sa.schema.SchemaItem]:
    return [
        sa.Column("lead_id", sa.String(200), nullable=False),
        sa.ForeignKeyConstraint(
            ["lead_id"],
            ["leads.id"],
            name=f"fk_{table}_lead_id_leads",
            ondelete="CASCADE",
            onupdate="CASCADE",
        ),
    ]


def upgrade() -> None:
    op.create_table(
        "leads",
        sa.Column("id", sa.String(200), nullable=False),
        sa.Column("email", sa.String(320), nullable=True),
        sa.Column("first_name", sa.String(200), nullable=True),
        sa.Column("last_name", sa.String(200), nullable=True),
        sa.Column("title", sa.String(300), nullable=True),
        sa.Column("company", sa.String(300), nullable=True),
        sa.Column("employees", sa.Integer(), nullable=True),
        sa.Column("annual_revenue", sa.Float(), nullable=True),
        sa.Column("industry", sa.String(200), nullable=True),
        sa.Column("country", sa.String(100), nullable=True),
        sa.Column("source", sa.String(200), nullable=True),
        sa.Column("owner", sa.String(200), nullable=True),
        sa.Column("team", sa.String(100), nullable=True),
        sa.Column("stage", sa.String(50), nullable=False),
        sa.Column("stage_at", _utc(), nullable=False),
        sa.Column("created_at", _utc(), nullable=False),
        sa.Column("opted_out", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("erased_at", _utc(), nullable=True),
        sa.Column("persona", sa.String(100), nullable=True),
        sa.Column("fit", sa.Float(), nullable=True),
        sa.Column("fit_grade", sa.String(1), nullable=True),
        sa.Column("engagement", sa.Float(), nullable=True),
        sa.Column("priority", sa.Integer(), nullable=True),
        sa.Column("scored_at", _utc(), nullable=True),
        sa.Column("row_hash", sa.String(64), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_leads"),
    )
    op.create_index("ix_leads_stage", "leads", ["stage"])
    op.create_index("ix_leads_owner", "leads", ["owner"])
    op.create_index("ix_leads_email", "leads", ["email"])

    op.create_table(
        "activities",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("key", sa.String(64), nullable=False),
        *_lead_ref("activities"),
        sa.Column("type", sa.String(50), nullable=False),
        sa.Column("at", _utc(), nullable=False),
        sa.Column("url", sa.Text(), nullable=True),
        sa.Column("content", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_activities"),
        sa.UniqueConstraint("key", name="uq_activities_key"),
    )
    op.create_index("ix_activities_lead_at", "activities", ["lead_id", "at"])

    op.create_table(
        "touches",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("key", sa.String(64), nullable=False),
        *_lead_ref("touches"),
        sa.Column("rep", sa.String(200), nullable=True),
        sa.Column("channel", sa.String(20), nullable=False),
        sa.Column("at", _utc(), nullable=False),
        sa.Column("outcome", sa.String(30), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_touches"),
        sa.UniqueConstraint("key", name="uq_touches_key"),
    )
    op.create_index("ix_touches_lead_at", "touches", ["lead_id", "at"])

    op.create_table(
        "deals",
        sa.Column("id", sa.String(200), nullable=False),
        *_lead_ref("deals"),
        sa.Column("stage", sa.String(50), nullable=False),
        sa.Column("amount", sa.Float(), nullable=True),
        sa.Column("created_at", _utc(), nullable=False),
        sa.Column("closed_at", _utc(), nullable=True),
        sa.Column("won", sa.Boolean(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_deals"),
    )
    op.create_index("ix_deals_lead", "deals", ["lead_id"])

    op.create_table(
        "stage_changes",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("key", sa.String(64), nullable=False),
        *_lead_ref("stage_changes"),
        sa.Column("from_stage", sa.String(50), nullable=True),
        sa.Column("to_stage", sa.String(50), nullable=False),
        sa.Column("at", _utc(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("actor", sa.String(200), nullable=True),
        sa.Column("seconds_in_from", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_stage_changes"),
        sa.UniqueConstraint("key", name="uq_stage_changes_key"),
    )
    op.create_index("ix_stage_changes_lead_at", "stage_changes", ["lead_id", "at"])

    op.create_table(
        "imports",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("file", sa.Text(), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("at", _utc(), nullable=False),
        sa.Column("rows_read", sa.Integer(), nullable=False),
        sa.Column("rows_landed", sa.Integer(), nullable=False),
        sa.Column("rows_rejected", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_imports"),
    )

    op.create_table(
        "audit",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("at", _utc(), nullable=False),
        sa.Column("action", sa.String(50), nullable=False),
        sa.Column("subject", sa.String(200), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("details", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_audit"),
    )
    op.create_index("ix_audit_subject", "audit", ["subject"])

    op.create_table(
        "pact_versions",
        sa.Column("number", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("recorded_at", _utc(), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("effective_on", sa.String(10), nullable=True),
        sa.PrimaryKeyConstraint("number", name="pk_pact_versions"),
    )

    op.create_table(
        "approvals",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("party", sa.String(100), nullable=False),
        sa.Column("by", sa.String(200), nullable=False),
        sa.Column("at", _utc(), nullable=False),
        sa.ForeignKeyConstraint(
            ["version"], ["pact_versions.number"], name="fk_approvals_version_pact_versions"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_approvals"),
    )
    op.create_index("ix_approvals_version_party", "approvals", ["version", "party"], unique=True)


def downgrade() -> None:
    for table in (
        "approvals",
        "pact_versions",
        "audit",
        "imports",
        "stage_changes",
        "deals",
        "touches",
        "activities",
        "leads",
    ):
        op.drop_table(table)
