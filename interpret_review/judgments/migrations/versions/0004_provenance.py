"""Provenance: every judgment keeps the fingerprint of the run its reviewer saw, and each
project remembers the runs it has been synced with (their model and dataset fingerprints),
so a label on a run that was later regenerated is found and marked stale.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

Stamp = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.add_column("judgments", sa.Column("run_fingerprint", sa.String(128), nullable=True))
    op.execute(
        "UPDATE judgments SET run_fingerprint = "
        "(SELECT items.run_fingerprint FROM items WHERE items.id = judgments.item_id)"
    )
    with op.batch_alter_table("judgments") as batch:
        batch.alter_column("run_fingerprint", existing_type=sa.String(128), nullable=False)
    op.create_table(
        "runs",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("project_id", sa.Integer, nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("run_fingerprint", sa.String(128), nullable=False),
        sa.Column("model_fingerprint", sa.String(128), nullable=False),
        sa.Column("dataset_fingerprint", sa.String(128), nullable=False),
        sa.Column("path", sa.Text, nullable=False),
        sa.Column("n_examples", sa.Integer, nullable=False),
        sa.Column("first_seen", Stamp, nullable=False),
        sa.Column("last_seen", Stamp, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_runs"),
        sa.ForeignKeyConstraint(
            ["project_id"], ["projects.id"], name="fk_runs_project_id_projects"
        ),
        sa.UniqueConstraint(
            "project_id", "name", "run_fingerprint", name="uq_runs_project_id_name_run_fingerprint"
        ),
    )


def downgrade() -> None:
    op.drop_table("runs")
    with op.batch_alter_table("judgments") as batch:
        batch.drop_column("run_fingerprint")
