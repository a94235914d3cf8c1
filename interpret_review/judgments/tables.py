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

from interpret_review.tasks import STAGES

__all__ = [
    "METADATA",
    "STAGES",
    "UTCDateTime",
    "assignments",
    "items",
    "judgments",
    "projects",
    "reviewers",
    "runs",
    "simulation_scores",
    "task_members",
    "task_versions",
    "tasks",
    "tier_changes",
]

#: Assignment states: a ``leased`` slot counts while its lease runs; ``done`` always counts.
ASSIGNMENT_STATES: tuple[str, ...] = ("leased", "done", "skipped", "released")

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
        stamp: datetime = value.astimezone(timezone.utc)
        return stamp.replace(tzinfo=None) if dialect.name == "sqlite" else stamp

    def process_result_value(self, value: Any, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        stamp: datetime = value
        if stamp.tzinfo is None:
            return stamp.replace(tzinfo=timezone.utc)
        return stamp.astimezone(timezone.utc)


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
    # -- who answers, how often, in which order (migration 0002) --
    sa.Column("stage", sa.String(20), nullable=False, server_default="review"),
    sa.Column("source_task_id", sa.Integer, sa.ForeignKey("tasks.id"), nullable=True),
    sa.Column("overlap", sa.Integer, nullable=False, server_default="1"),
    sa.Column("lease_seconds", sa.Integer, nullable=False, server_default="1800"),
    sa.Column("shuffle", sa.Boolean, nullable=False, server_default=sa.true()),
    sa.Column("role", sa.String(20), nullable=False, server_default="reviewer"),
    # -- the task as defined: its table, where, a hash of it, its adaptive rule (0005) --
    sa.Column("definition", sa.JSON(none_as_null=True), nullable=True),
    sa.Column("origin", sa.String(10), nullable=False, server_default="file"),
    sa.Column("fingerprint", sa.String(64), nullable=True),
    sa.Column("adaptive_field", sa.String(100), nullable=True),
    sa.Column("min_agreement", sa.Float, nullable=True),
    sa.Column("max_overlap", sa.Integer, nullable=True),
    sa.UniqueConstraint("project_id", "name"),
    sa.CheckConstraint("stage IN ('review', 'verify', 'adjudicate')", name="stage"),
    sa.CheckConstraint("overlap >= 1", name="overlap"),
    sa.CheckConstraint("role IN ('reviewer', 'adjudicator', 'researcher')", name="role"),
)

task_members = sa.Table(
    "task_members",
    METADATA,
    sa.Column("task_id", sa.Integer, sa.ForeignKey("tasks.id"), primary_key=True),
    sa.Column("reviewer_id", sa.Integer, sa.ForeignKey("reviewers.id"), primary_key=True),
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
    # -- migration 0002 --
    # ``key`` names the item within its task: its address, or ``ADDRESS@CLIENT_ID`` for an
    # item made from an earlier stage's judgment (``source_id``, e.g. a description to verify).
    sa.Column("key", sa.String(400), nullable=False),
    sa.Column(
        "source_id", sa.Integer, sa.ForeignKey("judgments.id", use_alter=True), nullable=True
    ),
    sa.Column("rank", sa.Integer, nullable=False, server_default="0"),  # shuffle key
    sa.Column("gold", sa.JSON(none_as_null=True), nullable=True),  # expected answers of a gold item
    sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
    # -- migration 0003 -- reviewers added to the task's overlap when answers disagreed
    sa.Column("extra", sa.Integer, nullable=False, server_default="0"),
    sa.UniqueConstraint("task_id", "key"),
    sa.Index(None, "task_id", "position"),
    sa.Index(None, "task_id", "address"),
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
    # -- migration 0004 -- the run the reviewer saw (the item's run when it was answered)
    sa.Column("run_fingerprint", sa.String(128), nullable=False),
    sa.Index(None, "item_id", "reviewer_id"),
    sa.Index(None, "reviewer_id"),
)

assignments = sa.Table(
    "assignments",
    METADATA,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("item_id", sa.Integer, sa.ForeignKey("items.id"), nullable=False),
    sa.Column("reviewer_id", sa.Integer, sa.ForeignKey("reviewers.id"), nullable=False),
    sa.Column("status", sa.String(10), nullable=False),
    sa.Column("leased_at", UTCDateTime, nullable=False),
    sa.Column("expires_at", UTCDateTime, nullable=False),
    sa.Column("finished_at", UTCDateTime, nullable=True),
    sa.Column("skip_reason", sa.Text, nullable=True),
    sa.UniqueConstraint("item_id", "reviewer_id"),
    sa.Index(None, "reviewer_id", "status"),
    sa.CheckConstraint("status IN ('leased', 'done', 'skipped', 'released')", name="status"),
)

simulation_scores = sa.Table(
    "simulation_scores",
    METADATA,
    sa.Column("id", sa.Integer, primary_key=True),
    # the verifying judgment (one score each) and the description it scores
    sa.Column(
        "judgment_id", sa.Integer, sa.ForeignKey("judgments.id"), nullable=False, unique=True
    ),
    sa.Column("description_id", sa.Integer, sa.ForeignKey("judgments.id"), nullable=False),
    sa.Column("score", sa.Float, nullable=False),
    sa.Column("n_examples", sa.Integer, nullable=False),
    sa.Index(None, "description_id"),
)

# Trust tiers (migration 0003): every change of a reviewer's tier in a project, append-only;
# the latest row is the current tier. ``source`` is ``rule`` (a project rule matched, with
# its evidence) or ``researcher`` (an override; ``pinned`` keeps rules from changing it).
tier_changes = sa.Table(
    "tier_changes",
    METADATA,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("project_id", sa.Integer, sa.ForeignKey("projects.id"), nullable=False),
    sa.Column("reviewer_id", sa.Integer, sa.ForeignKey("reviewers.id"), nullable=False),
    sa.Column("tier", sa.String(50), nullable=False),
    sa.Column("paused", sa.Boolean, nullable=False),
    sa.Column("role", sa.String(20), nullable=True),  # the role the change granted, if any
    sa.Column("source", sa.String(10), nullable=False),
    sa.Column("pinned", sa.Boolean, nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("evidence", sa.JSON, nullable=False),
    sa.Column("by_id", sa.Integer, sa.ForeignKey("reviewers.id"), nullable=True),
    sa.Column("at", UTCDateTime, nullable=False),
    sa.Index(None, "project_id", "reviewer_id"),
    sa.CheckConstraint("source IN ('rule', 'researcher')", name="source"),
)

# The runs a project has been synced with (migration 0004): one row per run name and
# fingerprint. The row last seen for a name is the run as it is now; a judgment whose run
# fingerprint names an older row with another model or dataset fingerprint is stale.
runs = sa.Table(
    "runs",
    METADATA,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("project_id", sa.Integer, sa.ForeignKey("projects.id"), nullable=False),
    sa.Column("name", sa.String(100), nullable=False),
    sa.Column("run_fingerprint", sa.String(128), nullable=False),
    sa.Column("model_fingerprint", sa.String(128), nullable=False),
    sa.Column("dataset_fingerprint", sa.String(128), nullable=False),
    sa.Column("path", sa.Text, nullable=False),
    sa.Column("n_examples", sa.Integer, nullable=False),
    sa.Column("first_seen", UTCDateTime, nullable=False),
    sa.Column("last_seen", UTCDateTime, nullable=False),
    sa.UniqueConstraint("project_id", "name", "run_fingerprint"),
)
