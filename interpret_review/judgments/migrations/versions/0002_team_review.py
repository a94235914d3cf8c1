"""Team review: task settings (stage, overlap, leases, roles), members, item keys, gold items,
assignments with leases, and simulation scores.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

Stamp = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("tasks") as batch:
        batch.add_column(sa.Column("stage", sa.String(20), nullable=False, server_default="review"))
        batch.add_column(sa.Column("source_task_id", sa.Integer, nullable=True))
        batch.add_column(sa.Column("overlap", sa.Integer, nullable=False, server_default="1"))
        batch.add_column(
            sa.Column("lease_seconds", sa.Integer, nullable=False, server_default="1800")
        )
        batch.add_column(sa.Column("shuffle", sa.Boolean, nullable=False, server_default=sa.true()))
        batch.add_column(
            sa.Column("role", sa.String(20), nullable=False, server_default="reviewer")
        )
        batch.add_column(sa.Column("spec", sa.JSON(none_as_null=True), nullable=True))
        batch.add_column(sa.Column("origin", sa.String(10), nullable=False, server_default="file"))
        batch.create_foreign_key(
            "fk_tasks_source_task_id_tasks", "tasks", ["source_task_id"], ["id"]
        )
        batch.create_check_constraint(
            "ck_tasks_stage", "stage IN ('review', 'verify', 'adjudicate')"
        )
        batch.create_check_constraint("ck_tasks_overlap", "overlap >= 1")
        batch.create_check_constraint(
            "ck_tasks_role", "role IN ('reviewer', 'adjudicator', 'researcher')"
        )

    op.create_table(
        "task_members",
        sa.Column("task_id", sa.Integer, nullable=False),
        sa.Column("reviewer_id", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("task_id", "reviewer_id", name="pk_task_members"),
        sa.ForeignKeyConstraint(["task_id"], ["tasks.id"], name="fk_task_members_task_id_tasks"),
        sa.ForeignKeyConstraint(
            ["reviewer_id"], ["reviewers.id"], name="fk_task_members_reviewer_id_reviewers"
        ),
    )

    op.add_column("items", sa.Column("key", sa.String(400), nullable=True))
    op.execute("UPDATE items SET key = address")
    with op.batch_alter_table("items") as batch:
        batch.alter_column("key", existing_type=sa.String(400), nullable=False)
        batch.add_column(sa.Column("source_id", sa.Integer, nullable=True))
        batch.add_column(sa.Column("rank", sa.Integer, nullable=False, server_default="0"))
        batch.add_column(sa.Column("gold", sa.JSON(none_as_null=True), nullable=True))
        batch.add_column(sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()))
        batch.drop_constraint("uq_items_task_id_address", type_="unique")
        batch.create_unique_constraint("uq_items_task_id_key", ["task_id", "key"])
        batch.create_foreign_key("fk_items_source_id_judgments", "judgments", ["source_id"], ["id"])
        batch.create_index("ix_items_task_id_address", ["task_id", "address"])

    op.create_table(
        "assignments",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("item_id", sa.Integer, nullable=False),
        sa.Column("reviewer_id", sa.Integer, nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("leased_at", Stamp, nullable=False),
        sa.Column("expires_at", Stamp, nullable=False),
        sa.Column("finished_at", Stamp, nullable=True),
        sa.Column("skip_reason", sa.Text, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_assignments"),
        sa.ForeignKeyConstraint(["item_id"], ["items.id"], name="fk_assignments_item_id_items"),
        sa.ForeignKeyConstraint(
            ["reviewer_id"], ["reviewers.id"], name="fk_assignments_reviewer_id_reviewers"
        ),
        sa.UniqueConstraint("item_id", "reviewer_id", name="uq_assignments_item_id_reviewer_id"),
        sa.CheckConstraint(
            "status IN ('leased', 'done', 'skipped', 'released')", name="ck_assignments_status"
        ),
    )
    op.create_index("ix_assignments_reviewer_id_status", "assignments", ["reviewer_id", "status"])
    # Judgments made before assignments existed count as done slots.
    op.execute(
        "INSERT INTO assignments (item_id, reviewer_id, status, leased_at, expires_at, "
        "finished_at) SELECT item_id, reviewer_id, 'done', MIN(started_at), MIN(started_at), "
        "MAX(submitted_at) FROM judgments GROUP BY item_id, reviewer_id"
    )

    op.create_table(
        "simulation_scores",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("judgment_id", sa.Integer, nullable=False),
        sa.Column("description_id", sa.Integer, nullable=False),
        sa.Column("score", sa.Float, nullable=False),
        sa.Column("n_examples", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_simulation_scores"),
        sa.ForeignKeyConstraint(
            ["judgment_id"], ["judgments.id"], name="fk_simulation_scores_judgment_id_judgments"
        ),
        sa.ForeignKeyConstraint(
            ["description_id"],
            ["judgments.id"],
            name="fk_simulation_scores_description_id_judgments",
        ),
        sa.UniqueConstraint("judgment_id", name="uq_simulation_scores_judgment_id"),
    )
    op.create_index("ix_simulation_scores_description_id", "simulation_scores", ["description_id"])


def downgrade() -> None:
    op.drop_table("simulation_scores")
    op.drop_table("assignments")
    with op.batch_alter_table("items") as batch:
        batch.drop_index("ix_items_task_id_address")
        batch.drop_constraint("fk_items_source_id_judgments", type_="foreignkey")
        batch.drop_constraint("uq_items_task_id_key", type_="unique")
        batch.create_unique_constraint("uq_items_task_id_address", ["task_id", "address"])
        for column in ("active", "gold", "rank", "source_id", "key"):
            batch.drop_column(column)
    op.drop_table("task_members")
    with op.batch_alter_table("tasks") as batch:
        for name in ("ck_tasks_role", "ck_tasks_overlap", "ck_tasks_stage"):
            batch.drop_constraint(name, type_="check")
        batch.drop_constraint("fk_tasks_source_task_id_tasks", type_="foreignkey")
        for column in ("origin", "spec", "role", "shuffle", "lease_seconds", "overlap"):
            batch.drop_column(column)
        batch.drop_column("source_task_id")
        batch.drop_column("stage")
