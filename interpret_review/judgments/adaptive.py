"""Adaptive overlap: an item whose answers disagree gets one more reviewer, up to a maximum;
an item that lost answers to a paused reviewer gets a replacement.

Runs inside the write transaction that stores a judgment, so the item is never seen as
complete before it is extended: a reviewer's queue passes over complete items for good.
A task opts in with ``spec["adaptive"] = {"field", "min_agreement", "max_overlap"}`` (the
project file's ``consensus_field``, ``min_agreement`` and ``max_overlap`` task keys).
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import sqlalchemy as sa

from interpret_review.judgments.queries import DbRow, following
from interpret_review.judgments.tables import items, judgments, tier_changes

__all__ = ["agreement_share", "extend"]


def agreement_share(values: list[Any]) -> float:
    """The share of answers that give the most common value (1.0 when all agree)."""
    keys = [json.dumps(v, sort_keys=True) for v in values]
    if not keys:
        return 1.0
    return Counter(keys).most_common(1)[0][1] / len(keys)


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
    rule = (task.spec or {}).get("adaptive")
    ignored = len(rows) - len(counted)  # answers of paused reviewers
    cap = (int(rule["max_overlap"]) if rule else int(task.overlap)) + ignored
    if slots >= cap:
        grow = False
    elif len(counted) < int(task.overlap):
        grow = True  # a replacement for a paused reviewer's answer
    elif rule:
        values = [a.get(rule["field"]) for a in counted if a.get(rule["field"]) not in (None, "")]
        grow = agreement_share(values) < float(rule["min_agreement"])
    else:
        grow = False
    if grow:
        conn.execute(items.update().where(items.c.id == item.id).values(extra=extra + 1))
    return grow
