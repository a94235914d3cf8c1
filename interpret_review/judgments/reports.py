"""Read-side figures of a project: progress per task and reviewer, and simulation scores.
Each function runs inside the caller's read transaction."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from interpret_review.judgments.queries import following
from interpret_review.judgments.records import Progress
from interpret_review.judgments.tables import (
    assignments,
    items,
    judgments,
    reviewers,
    simulation_scores,
    tasks,
)

__all__ = ["description_scores", "progress"]


def _count_when(condition: sa.ColumnElement[bool]) -> sa.ColumnElement[int]:
    return sa.func.sum(sa.case((condition, 1), else_=0))


def progress(conn: sa.Connection, project_id: int, now: datetime) -> list[Progress]:
    """A row per task (``reviewer`` None: complete items, answers given out of the slots)
    followed by a row per reviewer who has worked on it, tasks in creation order."""
    out: list[Progress] = []
    task_rows = conn.execute(
        sa.select(tasks).where(tasks.c.project_id == project_id).order_by(tasks.c.id)
    ).all()
    running = sa.and_(assignments.c.status == "leased", assignments.c.expires_at > now)
    for task in task_rows:
        n_items, n_extra = conn.execute(
            sa.select(sa.func.count(), sa.func.coalesce(sa.func.sum(items.c.extra), 0)).where(
                items.c.task_id == task.id, items.c.active.is_(True)
            )
        ).one()
        counts = conn.execute(
            sa.select(
                reviewers.c.username,
                _count_when(assignments.c.status == "done"),
                _count_when(running),
                _count_when(assignments.c.status == "skipped"),
            )
            .join(items, items.c.id == assignments.c.item_id)
            .join(reviewers, reviewers.c.id == assignments.c.reviewer_id)
            .where(items.c.task_id == task.id)
            .group_by(reviewers.c.username)
            .order_by(reviewers.c.username)
        ).all()
        times = dict(
            conn.execute(
                sa.select(reviewers.c.username, sa.func.sum(judgments.c.duration_ms))
                .join(items, items.c.id == judgments.c.item_id)
                .join(reviewers, reviewers.c.id == judgments.c.reviewer_id)
                .outerjoin(following, following.c.supersedes_id == judgments.c.id)
                .where(items.c.task_id == task.id, following.c.id.is_(None))
                .group_by(reviewers.c.username)
            ).all()
        )
        complete = conn.execute(
            sa.select(sa.func.count()).select_from(
                sa.select(assignments.c.item_id)
                .join(items, items.c.id == assignments.c.item_id)
                .where(
                    items.c.task_id == task.id,
                    items.c.active.is_(True),
                    assignments.c.status == "done",
                )
                .group_by(assignments.c.item_id, items.c.extra)
                .having(sa.func.count() >= task.overlap + items.c.extra)
                .subquery()
            )
        ).scalar_one()
        out.append(
            Progress(
                task=task.name,
                reviewer=None,
                done=int(complete),
                in_progress=sum(int(c[2] or 0) for c in counts),
                skipped=sum(int(c[3] or 0) for c in counts),
                items=int(n_items),
                time_ms=sum(int(v or 0) for v in times.values()),
                answers=sum(int(c[1] or 0) for c in counts),
                slots=int(n_items) * int(task.overlap) + int(n_extra),
            )
        )
        for name, done, leased, skipped in counts:
            out.append(
                Progress(
                    task=task.name,
                    reviewer=name,
                    done=int(done or 0),
                    in_progress=int(leased or 0),
                    skipped=int(skipped or 0),
                    items=int(n_items),
                    time_ms=int(times.get(name) or 0),
                    answers=int(done or 0),
                    slots=int(n_items),
                )
            )
    return out


def description_scores(conn: sa.Connection, task_id: int) -> dict[str, tuple[float, int]]:
    """``description client id -> (mean simulation score, number of verifications)`` over
    the current judgments of verify task ``task_id``."""
    described = judgments.alias("described")
    rows = conn.execute(
        sa.select(described.c.client_id, sa.func.avg(simulation_scores.c.score), sa.func.count())
        .join(judgments, judgments.c.id == simulation_scores.c.judgment_id)
        .join(described, described.c.id == simulation_scores.c.description_id)
        .join(items, items.c.id == judgments.c.item_id)
        .outerjoin(following, following.c.supersedes_id == judgments.c.id)
        .where(items.c.task_id == task_id, following.c.id.is_(None))
        .group_by(described.c.client_id)
    ).all()
    return {r[0]: (float(r[1]), int(r[2])) for r in rows}
