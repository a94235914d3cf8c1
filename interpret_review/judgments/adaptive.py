"""Adaptive overlap: an item whose answers disagree gets one more reviewer, up to a maximum;
an item that lost answers to a paused reviewer gets a replacement.

Runs inside the write transaction that stores a judgment, so the item is never seen as
complete before it is extended: a reviewer's queue passes over complete items for good.
A task opts in with an :class:`~interpret_review.tasks.AdaptiveRule` (the project file's
``consensus_field``, ``min_agreement`` and ``max_overlap`` task keys); the decision is the
task model's :func:`~interpret_review.tasks.wants_another_reviewer`, this module only reads
and writes the rows.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from interpret_review.judgments.queries import DbRow, adaptive_rule, following
from interpret_review.judgments.tables import items, judgments, tier_changes
from interpret_review.tasks import wants_another_reviewer

__all__ = ["extend"]


def _paused(task: DbRow) -> Any:
    """Ids of the reviewers a trust tier pauses in the task's project."""
    latest = (
        sa.select(sa.func.max(tier_changes.c.id))
        .where(tier_changes.c.project_id == task.project_id)
        .group_by(tier_changes.c.reviewer_id)
    )
    return sa.select(tier_changes.c.reviewer_id).where(
        tier_changes.c.id.in_(latest), tier_changes.c.paused.is_(True)
    )


def extend(conn: sa.Connection, task: DbRow, item: DbRow) -> bool:
    """Once ``item``'s slots are all answered, add one when the answers that count (not a
    paused reviewer's) are fewer than the task's overlap, or agree less than the task asks
    (up to its ``max_overlap``); True when it did."""
    if item.gold is not None:
        return False
    extra = conn.execute(sa.select(items.c.extra).where(items.c.id == item.id)).scalar_one()
    slots = int(task.overlap) + int(extra)
    current = (
        sa.select(judgments.c.answers, judgments.c.reviewer_id)
        .outerjoin(following, following.c.supersedes_id == judgments.c.id)
        .where(judgments.c.item_id == item.id, following.c.id.is_(None))
    )
    rows = conn.execute(current).all()
    if len(rows) < slots:
        return False  # still waiting for answers
    paused = set(conn.execute(_paused(task)).scalars())
    counted = [r.answers for r in rows if r.reviewer_id not in paused]
    grow = wants_another_reviewer(
        overlap=int(task.overlap),
        slots=slots,
        counted=counted,
        ignored=len(rows) - len(counted),
        rule=adaptive_rule(task),
    )
    if grow:
        conn.execute(items.update().where(items.c.id == item.id).values(extra=extra + 1))
    return grow
