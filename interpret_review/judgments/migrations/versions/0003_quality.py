"""Quality: extra reviewers per item (adaptive overlap) and the record of trust tiers.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

Stamp = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("items") as batch:
        batch.add_column(sa.Column("extra", sa.Integer, nullable=False, server_default="0"))
    op.create_table(
        "tier_changes",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("project_id", sa.Integer, nullable=False),
        sa.Column("reviewer_id", sa.Integer, nullable=False),
        sa.Column("tier", sa.String(50), nullable=False),
        sa.Column("paused", sa.Boolean, nullable=False),
        sa.Column("role", sa.String(20), nullable=True),
        sa.Column("source", sa.String(10), nullable=False),
        sa.Column("pinned", sa.Boolean, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("evidence", sa.JSON, nullable=False),
        sa.Column("by_id", sa.Integer, nullable=True),
        sa.Column("at", Stamp, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_tier_changes"),
        sa.ForeignKeyConstraint(
            ["project_id"], ["projects.id"], name="fk_tier_changes_project_id_projects"
        ),
        sa.ForeignKeyConstraint(
            ["reviewer_id"], ["reviewers.id"], name="fk_tier_changes_reviewer_id_reviewers"
        ),
        sa.ForeignKeyConstraint(
            ["by_id"], ["reviewers.id"], name="fk_tier_changes_by_id_reviewers"
        ),
        sa.CheckConstraint("source IN ('rule', 'researcher')", name="ck_tier_changes_source"),
    )
    op.create_index(
        "ix_tier_changes_project_id_reviewer_id", "tier_changes", ["project_id", "reviewer_id"]
    )


def downgrade() -> None:
    op.drop_table("tier_changes")
    with op.batch_alter_table("items") as batch:
        batch.drop_column("extra")
