"""Trust tiers in SQL: the append-only record of tier changes, and who is paused.

Each function runs inside the caller's transaction. What the tiers *are* and when a rule
moves a reviewer is decided in ``quality/``; this module only keeps the record.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

import sqlalchemy as sa

from interpret_review.errors import ConfigError, UnknownNameError
from interpret_review.judgments import accounts
from interpret_review.judgments import queries as q
from interpret_review.judgments.queries import DbRow
from interpret_review.judgments.records import TierChange
from interpret_review.judgments.tables import projects, reviewers, tier_changes
from interpret_review.tasks import ROLES

__all__ = ["change", "checked_change", "current", "history", "is_paused", "record"]

_by = reviewers.alias("by_account")


def _query() -> sa.Select[Any]:
    return (
        sa.select(
            tier_changes,
            projects.c.name.label("project"),
            reviewers.c.username.label("reviewer"),
            _by.c.username.label("by"),
        )
        .join(projects, projects.c.id == tier_changes.c.project_id)
        .join(reviewers, reviewers.c.id == tier_changes.c.reviewer_id)
        .outerjoin(_by, _by.c.id == tier_changes.c.by_id)
    )


def _latest(project_id: int) -> Any:
    """The id of each reviewer's latest change in a project."""
    return (
        sa.select(sa.func.max(tier_changes.c.id))
        .where(tier_changes.c.project_id == project_id)
        .group_by(tier_changes.c.reviewer_id)
    )


def _to_change(row: DbRow) -> TierChange:
    return TierChange(
        project=row.project,
        reviewer=row.reviewer,
        tier=row.tier,
        paused=bool(row.paused),
        role=row.role,
        source=row.source,
        pinned=bool(row.pinned),
        reason=row.reason,
        evidence=dict(row.evidence or {}),
        by=row.by,
        at=row.at,
    )


def current(conn: sa.Connection, project_id: int) -> dict[str, TierChange]:
    """``username -> latest change`` for every reviewer with a tier in the project."""
    rows = conn.execute(_query().where(tier_changes.c.id.in_(_latest(project_id)))).all()
    return {row.reviewer: _to_change(row) for row in rows}


def history(
    conn: sa.Connection, project_id: int, reviewer_id: int | None = None
) -> list[TierChange]:
    """Every change in the project (of one reviewer), oldest first."""
    query = _query().where(tier_changes.c.project_id == project_id)
    if reviewer_id is not None:
        query = query.where(tier_changes.c.reviewer_id == reviewer_id)
    return [_to_change(r) for r in conn.execute(query.order_by(tier_changes.c.id)).all()]


def is_paused(conn: sa.Connection, project_id: int, reviewer_id: int) -> DbRow | None:
    """The reviewer's latest change (its ``tier`` and ``reason``) when it pauses them in the
    project, else None: one indexed read, on the path of every claim."""
    row = conn.execute(
        sa.select(tier_changes.c.paused, tier_changes.c.tier, tier_changes.c.reason)
        .where(tier_changes.c.project_id == project_id, tier_changes.c.reviewer_id == reviewer_id)
        .order_by(tier_changes.c.id.desc())
        .limit(1)
    ).first()
    return row if row is not None and row.paused else None


def record(
    conn: sa.Connection,
    project_id: int,
    reviewer_id: int,
    *,
    tier: str,
    paused: bool,
    role: str | None,
    source: str,
    pinned: bool,
    reason: str,
    evidence: dict[str, Any],
    by_id: int | None,
    at: datetime,
) -> None:
    conn.execute(
        tier_changes.insert().values(
            project_id=project_id,
            reviewer_id=reviewer_id,
            tier=tier,
            paused=paused,
            role=role,
            source=source,
            pinned=pinned,
            reason=reason,
            evidence=evidence,
            by_id=by_id,
            at=at,
        )
    )


def checked_change(
    *,
    tier: str,
    reason: str,
    paused: bool,
    role: str | None,
    source: str,
    pinned: bool | None,
    evidence: dict[str, Any] | None,
) -> dict[str, Any]:
    """The values of a tier change, checked (see ``JudgmentStore.set_tier``)."""
    text = " ".join(str(reason or "").split())
    if not text:
        raise ConfigError("a tier change needs a reason; say why, e.g. 'gold accuracy 0.4'")
    if source not in ("rule", "researcher"):
        raise UnknownNameError("tier change source", source, ("rule", "researcher"))
    if role is not None and role not in ROLES:
        raise UnknownNameError("role", role, ROLES)
    name = " ".join(str(tier or "").split())
    if not name or len(name) > 50:
        raise ConfigError(f"tier name {tier!r} must be 1 to 50 characters")
    try:
        data = json.loads(json.dumps(evidence or {}, allow_nan=False))
    except (TypeError, ValueError) as error:
        raise ConfigError(f"tier evidence must be JSON: {error}") from None
    return {
        "tier": name,
        "paused": bool(paused),
        "role": role,
        "source": source,
        "pinned": source == "researcher" if pinned is None else bool(pinned),
        "reason": text,
        "evidence": data,
    }


def change(
    conn: sa.Connection, project: str, reviewer: str, values: dict[str, Any], by: str | None
) -> TierChange:
    """Record a checked change (from :func:`checked_change`) and return the current tier."""
    project_id = q.project_id(conn, project)
    row = q.reviewer_row(conn, reviewer)
    by_id = None if by is None else q.reviewer_row(conn, by).id
    if values["role"] is not None and values["role"] != row.role:
        accounts.set_role(conn, reviewer, values["role"])
    record(conn, project_id, row.id, by_id=by_id, at=datetime.now(timezone.utc), **values)
    return current(conn, project_id)[reviewer]
