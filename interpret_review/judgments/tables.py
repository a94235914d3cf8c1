"""The SQL schema, as SQLAlchemy Core metadata.

This is the *current* schema; the Alembic migrations in ``migrations/versions`` build it
step by step, and a test checks that ``upgrade head`` gives exactly this metadata. Change
both together: a new column here needs a new migration file.

Judgments are append-only: no row of ``judgments`` is ever updated or deleted. An edit is
a new row whose ``supersedes_id`` points at the row it replaces; ``supersedes_id`` is
unique, so a row is replaced at most once and edit chains cannot fork.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import sqlalchemy as sa

__all__ = [
    "METADATA",
    "UTCDateTime",
    "items",
    "judgments",
    "projects",
    "reviewers",
    "task_versions",
    "tasks",
]

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

METADATA = sa.MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(sa.TypeDecorator[datetime]):
    """A timestamp stored in UTC and always read back timezone-aware (SQLite drops the zone)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"timestamp {value!r} has no time zone; pass an aware datetime")
        value = value.astimezone(timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


reviewers = sa.Table(
    "reviewers",
    METADATA,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("username", sa.String(100), nullable=False, unique=True),
    sa.Column("display_name", sa.String(200), nullable=False),
    sa.Column("password_hash", sa.String(255), nullable=False),
    sa.Column("role", sa.String(20), nullable=False),
    sa.Column("active", sa.Boolean, nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.CheckConstraint("role IN ('reviewer', 'adjudicator', 'researcher')", name="role"),
)

projects = sa.Table(
    "projects",
    METADATA,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(100), nullable=False, unique=True),
    sa.Column("title", sa.String(200), nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
)

tasks = sa.Table(
    "tasks",
    METADATA,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("project_id", sa.Integer, sa.ForeignKey("projects.id"), nullable=False),
    sa.Column("name", sa.String(100), nullable=False),
    sa.Column("kind", sa.String(50), nullable=False),
    sa.Column("title", sa.String(200), nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.UniqueConstraint("project_id", "name"),
)

task_versions = sa.Table(
    "task_versions",
    METADATA,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("task_id", sa.Integer, sa.ForeignKey("tasks.id"), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("instructions", sa.Text, nullable=False),
    sa.Column("answer_schema", sa.JSON, nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.UniqueConstraint("task_id", "version"),
)

items = sa.Table(
    "items",
    METADATA,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("task_id", sa.Integer, sa.ForeignKey("tasks.id"), nullable=False),
    sa.Column("address", sa.String(300), nullable=False),
    sa.Column("run_fingerprint", sa.String(128), nullable=False),
    sa.Column("position", sa.Integer, nullable=False),
    sa.UniqueConstraint("task_id", "address"),
    sa.Index(None, "task_id", "position"),
)

judgments = sa.Table(
    "judgments",
    METADATA,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("client_id", sa.String(64), nullable=False, unique=True),
    sa.Column("item_id", sa.Integer, sa.ForeignKey("items.id"), nullable=False),
    sa.Column("reviewer_id", sa.Integer, sa.ForeignKey("reviewers.id"), nullable=False),
    sa.Column("task_version_id", sa.Integer, sa.ForeignKey("task_versions.id"), nullable=False),
    sa.Column("answers", sa.JSON, nullable=False),
    sa.Column(
        "supersedes_id", sa.Integer, sa.ForeignKey("judgments.id"), nullable=True, unique=True
    ),
    sa.Column("started_at", UTCDateTime, nullable=False),
    sa.Column("submitted_at", UTCDateTime, nullable=False),
    sa.Column("stored_at", UTCDateTime, nullable=False),
    sa.Column("duration_ms", sa.Integer, nullable=False),
    sa.Index(None, "item_id", "reviewer_id"),
    sa.Index(None, "reviewer_id"),
)
