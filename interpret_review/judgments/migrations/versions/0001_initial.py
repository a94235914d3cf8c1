"""The first tables: reviewers, projects, tasks, task versions, items, judgments.

Revision ID: 0001
Revises:
Create Date: 2025-01-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

# A frozen copy of the types used at this revision (never import the live tables here).
Stamp = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "reviewers",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("username", sa.String(100), nullable=False),
        sa.Column("display_name", sa.String(200), nullable=False),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("created_at", Stamp, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_reviewers"),
        sa.UniqueConstraint("username", name="uq_reviewers_username"),
        sa.CheckConstraint(
            "role IN ('reviewer', 'adjudicator', 'researcher')", name="ck_reviewers_role"
        ),
    )
    op.create_table(
        "projects",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("created_at", Stamp, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_projects"),
        sa.UniqueConstraint("name", name="uq_projects_name"),
    )
    op.create_table(
        "tasks",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("project_id", sa.Integer, nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("kind", sa.String(50), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("created_at", Stamp, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_tasks"),
        sa.ForeignKeyConstraint(
            ["project_id"], ["projects.id"], name="fk_tasks_project_id_projects"
        ),
        sa.UniqueConstraint("project_id", "name", name="uq_tasks_project_id_name"),
    )
    op.create_table(
        "task_versions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("task_id", sa.Integer, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("instructions", sa.Text, nullable=False),
        sa.Column("answer_schema", sa.JSON, nullable=False),
        sa.Column("created_at", Stamp, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_task_versions"),
        sa.ForeignKeyConstraint(["task_id"], ["tasks.id"], name="fk_task_versions_task_id_tasks"),
        sa.UniqueConstraint("task_id", "version", name="uq_task_versions_task_id_version"),
    )
    op.create_table(
        "items",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("task_id", sa.Integer, nullable=False),
        sa.Column("address", sa.String(300), nullable=False),
        sa.Column("run_fingerprint", sa.String(128), nullable=False),
        sa.Column("position", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_items"),
        sa.ForeignKeyConstraint(["task_id"], ["tasks.id"], name="fk_items_task_id_tasks"),
        sa.UniqueConstraint("task_id", "address", name="uq_items_task_id_address"),
    )
    op.create_index("ix_items_task_id_position", "items", ["task_id", "position"])
    op.create_table(
        "judgments",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("client_id", sa.String(64), nullable=False),
        sa.Column("item_id", sa.Integer, nullable=False),
        sa.Column("reviewer_id", sa.Integer, nullable=False),
        sa.Column("task_version_id", sa.Integer, nullable=False),
        sa.Column("answers", sa.JSON, nullable=False),
        sa.Column("supersedes_id", sa.Integer, nullable=True),
        sa.Column("started_at", Stamp, nullable=False),
        sa.Column("submitted_at", Stamp, nullable=False),
        sa.Column("stored_at", Stamp, nullable=False),
        sa.Column("duration_ms", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_judgments"),
        sa.UniqueConstraint("client_id", name="uq_judgments_client_id"),
        sa.UniqueConstraint("supersedes_id", name="uq_judgments_supersedes_id"),
        sa.ForeignKeyConstraint(["item_id"], ["items.id"], name="fk_judgments_item_id_items"),
        sa.ForeignKeyConstraint(
            ["reviewer_id"], ["reviewers.id"], name="fk_judgments_reviewer_id_reviewers"
        ),
        sa.ForeignKeyConstraint(
            ["task_version_id"],
            ["task_versions.id"],
            name="fk_judgments_task_version_id_task_versions",
        ),
        sa.ForeignKeyConstraint(
            ["supersedes_id"], ["judgments.id"], name="fk_judgments_supersedes_id_judgments"
        ),
    )
    op.create_index("ix_judgments_item_id_reviewer_id", "judgments", ["item_id", "reviewer_id"])
    op.create_index("ix_judgments_reviewer_id", "judgments", ["reviewer_id"])


def downgrade() -> None:
    op.drop_table("judgments")
    op.drop_table("items")
    op.drop_table("task_versions")
    op.drop_table("tasks")
    op.drop_table("projects")
    op.drop_table("reviewers")
