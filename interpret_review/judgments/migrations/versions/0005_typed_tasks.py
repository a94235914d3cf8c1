"""Typed tasks: what a task's untyped ``spec`` held gets columns of its own.

``spec`` was ``{"table": ..., "fingerprint": ..., "adaptive": {"field", "min_agreement",
"max_overlap"}}``; now the table is ``definition`` and the fingerprint and the adaptive
rule are columns, so the store and every reader see the same typed task.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-08
"""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

TYPES: dict[str, Any] = {
    "fingerprint": sa.String(64),
    "adaptive_field": sa.String(100),
    "min_agreement": sa.Float(),
    "max_overlap": sa.Integer(),
}


def _loads(value: Any) -> Any:
    return json.loads(value) if isinstance(value, (str, bytes)) else value


def _tasks() -> sa.TableClause:
    """The columns of ``tasks`` this migration moves values between."""
    return sa.table(
        "tasks",
        sa.column("id", sa.Integer),
        sa.column("spec", sa.JSON),
        sa.column("definition", sa.JSON),
        *(sa.column(name, kind) for name, kind in TYPES.items()),
    )


def upgrade() -> None:
    with op.batch_alter_table("tasks") as batch:
        for name, kind in TYPES.items():
            batch.add_column(sa.Column(name, kind, nullable=True))
        batch.add_column(sa.Column("definition", sa.JSON(none_as_null=True), nullable=True))
    conn = op.get_bind()
    table = _tasks()
    for row in conn.execute(sa.select(table.c.id, table.c.spec)).all():
        spec = _loads(row.spec) or {}
        rule = spec.get("adaptive") or {}
        conn.execute(
            table.update()
            .where(table.c.id == row.id)
            .values(
                definition=spec.get("table"),
                fingerprint=spec.get("fingerprint"),
                adaptive_field=rule.get("field"),
                min_agreement=rule.get("min_agreement"),
                max_overlap=rule.get("max_overlap"),
            )
        )
    with op.batch_alter_table("tasks") as batch:
        batch.drop_column("spec")


def downgrade() -> None:
    with op.batch_alter_table("tasks") as batch:
        batch.add_column(sa.Column("spec", sa.JSON(none_as_null=True), nullable=True))
    conn = op.get_bind()
    table = _tasks()
    for row in conn.execute(sa.select(table)).all():
        adaptive = None
        if row.adaptive_field is not None:
            adaptive = {
                "field": row.adaptive_field,
                "min_agreement": row.min_agreement,
                "max_overlap": row.max_overlap,
            }
        spec = {
            "table": _loads(row.definition),
            "fingerprint": row.fingerprint,
            "adaptive": adaptive,
        }
        conn.execute(table.update().where(table.c.id == row.id).values(spec=spec))
    with op.batch_alter_table("tasks") as batch:
        for column in ("definition", *TYPES):
            batch.drop_column(column)
