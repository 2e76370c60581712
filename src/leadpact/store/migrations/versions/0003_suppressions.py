"""The suppression list: salted hashes of erased people, and the workspace's salt.

Revision ID: 0003
Revises: 0002
Created: 2026-11-30

`salts` holds per-workspace random secrets (the suppression list's salt is made on the first
erasure, `store.suppression`); `suppressions` holds the salted SHA-256 of each erased person's
normalised email and lead id. Downgrading drops both: the people erased so far could then be
imported again.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision: str | None = "0002"
branch_labels: str | None = None
depends_on: str | None = None


def _utc() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "salts",
        sa.Column("name", sa.String(50), nullable=False),
        sa.Column("value", sa.String(128), nullable=False),
        sa.Column("created_at", _utc(), nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_salts"),
    )
    op.create_table(
        "suppressions",
        sa.Column("hash", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("added_at", _utc(), nullable=False),
        sa.PrimaryKeyConstraint("hash", name="pk_suppressions"),
    )


def downgrade() -> None:
    op.drop_table("suppressions")
    op.drop_table("salts")
