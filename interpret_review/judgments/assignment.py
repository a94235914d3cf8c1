"""Who gets which item: slots, leases, skips. Each function runs inside the caller's write
transaction.

An item has ``overlap`` slots (gold items: one for every reviewer). A reviewer takes a slot
under a lease (:func:`claim` picks the next item of their queue, :func:`take` a given one);
a slot counts while its lease runs and for good once the reviewer's judgment is stored
(``done``). A lease that runs out, a skip or a release gives the slot back to the pool, so
an abandoned item is served to someone else. Taking a slot locks the item's row first
(``SELECT ... FOR UPDATE`` on PostgreSQL; SQLite's write lock covers the whole
transaction) and counts the slots again under that lock, so two processes never hand out
the same slot, and ``UNIQUE (item_id, reviewer_id)`` keeps a reviewer to one slot an item.

A reviewer may work on a task when the account is active, its role is at least the task's
``role``, and the task has no members or lists them; a ``verify`` task never serves a
description to a reviewer who described that item in the source task (blind verification).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from interpret_review.errors import (
    AuthorizationError,
    InvalidAnswerError,
    JudgmentError,
    NotAssignedError,
    PausedError,
)
from interpret_review.judgments import queries as q
from interpret_review.judgments import tiers
from interpret_review.judgments.queries import DbRow
from interpret_review.judgments.queues import QueueCache
from interpret_review.judgments.tables import assignments, items, judgments, task_members
from interpret_review.tasks import role_allows

__all__ = [
    "active_slot",
    "open_items",
    "available",
    "check_access",
    "claim",
    "finish",
    "hold",
    "lock_item",
    "skip",
    "take",
]

_MAX_REASON = 500


def lock_item(conn: sa.Connection, item_id: int, *, skip_locked: bool = False) -> bool:
    """Lock an item's row until the transaction ends (PostgreSQL: ``SELECT ... FOR
    UPDATE``; SQLite's write transaction holds the whole database already). False when
    ``skip_locked`` and another transaction holds the row."""
    if conn.dialect.name == "sqlite":
        return True
    locked = conn.execute(
        sa.select(items.c.id).where(items.c.id == item_id).with_for_update(skip_locked=skip_locked)
    ).first()
    return locked is not None


def active_slot(now: datetime) -> Any:
    """The condition on ``assignments`` of a slot that counts."""
    return sa.or_(
        assignments.c.status == "done",
        sa.and_(assignments.c.status == "leased", assignments.c.expires_at > now),
    )


def check_access(
    conn: sa.Connection, task: DbRow, reviewer: DbRow, *, new_work: bool = False
) -> None:
    """AuthorizationError unless ``reviewer`` may work on ``task``; with ``new_work``, also
    when a trust tier paused them in the task's project (a paused reviewer may still submit
    the items they hold: nothing they did is lost)."""
    if not reviewer.active:
        raise AuthorizationError(
            f"account {reviewer.username!r} is deactivated; ask the project's researcher to "
            "reactivate it"
        )
    if not role_allows(reviewer.role, task.role):
        raise AuthorizationError(
            f"task {task.name!r} is for accounts with the role {task.role!r} or above; "
            f"{reviewer.username!r} is a {reviewer.role!r}"
        )
    members = set(
        conn.execute(
            sa.select(task_members.c.reviewer_id).where(task_members.c.task_id == task.id)
        ).scalars()
    )
    if members and reviewer.id not in members:
        raise AuthorizationError(
            f"{reviewer.username!r} is not one of the reviewers of task {task.name!r}; a "
            "researcher can add them on the admin page or in the project file"
        )
    paused = tiers.is_paused(conn, task.project_id, reviewer.id) if new_work else None
    if paused is not None:
        raise PausedError(
            f"{reviewer.username!r} is paused in this project (tier {paused.tier!r}: "
            f"{paused.reason}); no new items are handed out until a researcher lifts the pause"
        )


def open_items(
    task: DbRow, reviewer: DbRow, now: datetime, among: list[int] | None = None
) -> sa.Select[Any]:
    """Items of ``task`` (or of its item ids ``among``) that ``reviewer`` could take now
    (besides one they hold); their order is the reviewer's queue's (``queues.py``)."""
    mine = sa.exists().where(  # answered, skipped or held by this reviewer
        assignments.c.item_id == items.c.id,
        assignments.c.reviewer_id == reviewer.id,
        sa.or_(assignments.c.status.in_(("done", "skipped")), active_slot(now)),
    )
    taken = (
        sa.select(sa.func.count())
        .where(assignments.c.item_id == items.c.id, active_slot(now))
        .scalar_subquery()
    )
    # Given ids, find them by primary key: with the task too, SQLite may walk the task's
    # index instead (all of its items).
    scope = items.c.task_id == task.id if among is None else items.c.id.in_(among)
    query = sa.select(items.c.id).where(
        scope,
        items.c.active.is_(True),
        ~mine,
        sa.or_(items.c.gold.is_not(None), taken < task.overlap + items.c.extra),
    )
    if task.stage == "verify":  # not to someone who described this item in the source task
        described = judgments.alias("described")
        described_item = items.alias("described_item")
        query = query.where(
            ~sa.exists().where(
                described.c.item_id == described_item.c.id,
                described_item.c.task_id == task.source_task_id,
                described_item.c.address == items.c.address,
                described.c.reviewer_id == reviewer.id,
            )
        )
    return query


def available(conn: sa.Connection, task: DbRow, reviewer: DbRow, now: datetime) -> int:
    """How many items ``reviewer`` could still take in ``task``."""
    subquery = open_items(task, reviewer, now).order_by(None).subquery()
    return int(conn.execute(sa.select(sa.func.count()).select_from(subquery)).scalar_one())


def _own(conn: sa.Connection, item_id: int, reviewer_id: int) -> DbRow | None:
    return conn.execute(
        sa.select(assignments).where(
            assignments.c.item_id == item_id, assignments.c.reviewer_id == reviewer_id
        )
    ).first()


def _lease(
    conn: sa.Connection,
    item: DbRow,
    task: DbRow,
    reviewer: DbRow,
    now: datetime,
    skip_locked: bool = False,
) -> bool:
    """Give ``reviewer`` a slot of ``item`` if one is free (locks the item); True on success.

    With ``skip_locked`` an item another transaction has locked counts as taken instead of
    being waited for: :func:`claim` may lock several items before it finds a free one, and
    never waiting keeps two claims from locking each other's items in opposite orders."""
    if not lock_item(conn, item.id, skip_locked=skip_locked):
        return False  # locked by a concurrent submit or claim (PostgreSQL only)
    own = _own(conn, item.id, reviewer.id)
    expires = now + timedelta(seconds=task.lease_seconds)
    if own is not None and (
        own.status == "done" or (own.status == "leased" and own.expires_at > now)
    ):
        conn.execute(
            assignments.update()
            .where(assignments.c.id == own.id, assignments.c.status == "leased")
            .values(expires_at=expires)
        )
        return True
    if item.gold is None:
        taken = conn.execute(
            sa.select(sa.func.count()).where(assignments.c.item_id == item.id, active_slot(now))
        ).scalar_one()
        if taken >= task.overlap + item.extra:
            return False
    values = {
        "status": "leased",
        "leased_at": now,
        "expires_at": expires,
        "finished_at": None,
        "skip_reason": None,
    }
    if own is None:
        conn.execute(
            assignments.insert().values(item_id=item.id, reviewer_id=reviewer.id, **values)
        )
    else:
        conn.execute(assignments.update().where(assignments.c.id == own.id).values(**values))
    return True


def claim(
    conn: sa.Connection, task: DbRow, reviewer: DbRow, now: datetime, queues: QueueCache
) -> DbRow | None:
    """The item ``reviewer`` works on next in ``task``: the one they hold under a running
    lease (renewed), else the first free one of their queue (leased now); None when none."""
    check_access(conn, task, reviewer, new_work=True)
    held = conn.execute(
        q.item_query()
        .join(assignments, assignments.c.item_id == items.c.id)
        .where(
            items.c.task_id == task.id,
            items.c.active.is_(True),
            assignments.c.reviewer_id == reviewer.id,
            assignments.c.status == "leased",
            assignments.c.expires_at > now,
        )
        .order_by(assignments.c.leased_at, assignments.c.id)
        .limit(1)
    ).first()
    if held is not None:
        _lease(conn, held, task, reviewer, now)
        return held

    busy: list[DbRow] = []  # free items another transaction had locked a moment ago

    def take(item_id: int) -> DbRow | None:
        item = conn.execute(q.item_query().where(items.c.id == item_id)).one()
        if not lock_item(conn, item.id, skip_locked=True):
            busy.append(item)
            return None
        return item if _lease(conn, item, task, reviewer, now) else None

    found = queues.next_open(conn, task, reviewer, now, open_items, take)
    if found is not None and not isinstance(found, int):
        return found
    for item in busy:  # nothing else: wait for those locks now (a skip may free a slot)
        if _lease(conn, item, task, reviewer, now):
            return item
    return None


def take(conn: sa.Connection, task: DbRow, item: DbRow, reviewer: DbRow, now: datetime) -> None:
    """Give ``reviewer`` a slot of this very item (an assignment by a researcher, or a
    reviewer going back to an item whose lease ran out); JudgmentError when it is full."""
    check_access(conn, task, reviewer)
    if not item.active:
        raise JudgmentError(
            f"item {item.key!r} of task {task.name!r} is no longer served (its source was "
            "edited or it left the project)"
        )
    if task.stage == "verify":
        source = conn.execute(
            sa.select(judgments.c.reviewer_id).where(judgments.c.id == item.source_id)
        ).scalar()
        if source == reviewer.id:
            raise NotAssignedError(
                f"{reviewer.username!r} wrote the description of {item.key!r} and cannot verify it"
            )
    if not _lease(conn, item, task, reviewer, now):
        raise JudgmentError(
            f"item {item.key!r} of task {task.name!r} already has its {task.overlap + item.extra} "
            "reviewer(s); it was handed to someone else"
        )


def hold(conn: sa.Connection, task: DbRow, item: DbRow, reviewer: DbRow, now: datetime) -> None:
    """Check, when ``reviewer`` submits for ``item``, that the item is theirs: a running
    lease or an earlier judgment; a lease that ran out is renewed if the slot is still free."""
    check_access(conn, task, reviewer)
    own = _own(conn, item.id, reviewer.id)
    if own is None:
        raise NotAssignedError(
            f"item {item.key!r} of task {task.name!r} is not assigned to {reviewer.username!r}; "
            "answer the items the review page hands out"
        )
    if own.status == "done" or (own.status == "leased" and own.expires_at > now):
        return
    if not _lease(conn, item, task, reviewer, now):
        raise JudgmentError(
            f"your hold on {item.key!r} ran out and the item was handed to another reviewer, "
            "who answered it; this answer was not stored. Go on with the next item"
        )


def finish(conn: sa.Connection, item_id: int, reviewer_id: int, now: datetime) -> None:
    """Mark the reviewer's slot of the item done (their judgment was just stored)."""
    conn.execute(
        assignments.update()
        .where(
            assignments.c.item_id == item_id,
            assignments.c.reviewer_id == reviewer_id,
            assignments.c.status != "done",
        )
        .values(status="done", finished_at=now)
    )


def skip(
    conn: sa.Connection, task: DbRow, item: DbRow, reviewer: DbRow, reason: str, now: datetime
) -> None:
    """Record that ``reviewer`` skips ``item`` (with ``reason``); the slot goes back to the
    pool and the item is not served to them again."""
    check_access(conn, task, reviewer)
    text = " ".join(str(reason or "").split())
    if not text:
        raise InvalidAnswerError("say why you skip this item (a short reason is required)")
    if len(text) > _MAX_REASON:
        raise InvalidAnswerError(
            f"the reason is {len(text)} characters; the limit is {_MAX_REASON}"
        )
    own = _own(conn, item.id, reviewer.id)
    if own is None or own.status in ("skipped", "released"):
        raise NotAssignedError(
            f"item {item.key!r} of task {task.name!r} is not held by {reviewer.username!r}"
        )
    if own.status == "done":
        raise JudgmentError(
            f"{reviewer.username!r} already answered {item.key!r}; change the answer instead "
            "of skipping"
        )
    conn.execute(
        assignments.update()
        .where(assignments.c.id == own.id)
        .values(status="skipped", skip_reason=text, finished_at=now)
    )
