"""Each reviewer's order of a task's items, kept per process, so that handing out the next
item reads a few dozen rows instead of the whole task.

A reviewer's order is the task's items sorted by ``(rank * m) % RANK_MODULUS`` with a
multiplier ``m`` of their own (a different permutation for each reviewer), with a few of
the task's gold items moved near the start (one in every three of the first thirty items, so that
gold accuracy and the evidence of random answering build up early), or by position when the
task does not shuffle. The order is computed once per process and kept with a
cursor: the items before it can never be handed to this reviewer again (they answered or
skipped them, the item has all its reviewers, or it is no longer served), so the next item
is found by checking the items after the cursor in small batches. Whether an item may be
taken is decided in SQL under the item's lock (``assignment.py``), never from this cache,
so several processes keeping their own caches stay correct. The order is rebuilt when the
task has grown (a later stage's items arrive one by one).
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import sqlalchemy as sa

from interpret_review.judgments.catalog import RANK_MODULUS
from interpret_review.judgments.queries import DbRow
from interpret_review.judgments.tables import assignments, items

__all__ = ["QueueCache", "multiplier"]

_BATCH = 48  # items checked per query while walking a queue
_KEPT = 128  # queues kept per process (each holds 4 bytes per item)
EARLY_GOLD = 10  # gold items a shuffled queue puts near its start ...
GOLD_SPACING = 3  # ... one in every this many items


def multiplier(task_id: int, reviewer_id: int) -> int:
    """The reviewer's own multiplier of shuffle keys, in ``[1, RANK_MODULUS)``."""
    digest = hashlib.blake2b(f"{task_id}:{reviewer_id}".encode(), digest_size=8).digest()
    return 1 + int.from_bytes(digest, "big") % (RANK_MODULUS - 1)


@dataclass
class _Queue:
    ids: np.ndarray  # item ids in the reviewer's order
    cursor: int  # ids[:cursor] can never be handed to the reviewer again
    last_position: int  # the task's highest position when this was built


def _last_position(conn: sa.Connection, task_id: int) -> int:
    value = conn.execute(
        sa.select(sa.func.max(items.c.position)).where(items.c.task_id == task_id)
    ).scalar()
    return -1 if value is None else int(value)


def _read_items(conn: sa.Connection, task_id: int) -> np.ndarray:
    """``(id, rank, position, is gold)`` of every item of a task, as an (N, 4) array."""
    rows = conn.execute(
        sa.select(items.c.id, items.c.rank, items.c.position, items.c.gold.is_not(None)).where(
            items.c.task_id == task_id
        )
    ).all()
    return np.array([tuple(r) for r in rows], dtype=np.int64).reshape(-1, 4)


def _seed_gold(order: np.ndarray, gold: np.ndarray) -> np.ndarray:
    """``order`` with its first ``EARLY_GOLD`` gold items moved to every ``GOLD_SPACING``-th
    place from the start: a reviewer's reliability is known after a few dozen items, not
    only after a few hundred, and they still cannot tell gold items from the others."""
    is_gold = gold[order].astype(bool)
    early = order[is_gold][:EARLY_GOLD]
    if not len(early):
        return order
    rest = order[~np.isin(order, early)]
    out = list(rest)
    for n, index in enumerate(early):
        out.insert(min(GOLD_SPACING * n + 1, len(out)), index)
    return np.asarray(out, dtype=order.dtype)


def _build(table: np.ndarray, task: DbRow, reviewer: DbRow, last: int) -> _Queue:
    if task.shuffle:
        keys = (table[:, 1] * multiplier(task.id, reviewer.id)) % RANK_MODULUS
        order = _seed_gold(np.lexsort((table[:, 2], keys)), table[:, 3])
    else:
        order = np.argsort(table[:, 2], kind="stable")
    return _Queue(ids=table[order, 0].astype(np.int32), cursor=0, last_position=last)


class QueueCache:
    """Reviewers' orders of tasks' items in this process (least recently used are dropped)."""

    def __init__(self) -> None:
        self._queues: OrderedDict[tuple[int, int], _Queue] = OrderedDict()
        self._tasks: dict[int, tuple[int, np.ndarray]] = {}  # task -> (last position, items)
        self._lock = threading.Lock()

    def clear(self) -> None:
        with self._lock:
            self._queues.clear()
            self._tasks.clear()

    def passed(self, task_id: int, reviewer_id: int, item_id: int) -> None:
        """The reviewer answered ``item_id``: if it is the one at their cursor, move past it
        (so the next walk need not ask the store about it)."""
        with self._lock:
            queue = self._queues.get((task_id, reviewer_id))
            if queue is not None and queue.cursor < len(queue.ids):
                if int(queue.ids[queue.cursor]) == item_id:
                    queue.cursor += 1

    def _items(self, conn: sa.Connection, task_id: int, last: int) -> np.ndarray:
        """The task's items, read once per process and again when the task has grown."""
        with self._lock:
            known = self._tasks.get(task_id)
        if known is not None and known[0] == last:
            return known[1]
        table = _read_items(conn, task_id)
        with self._lock:
            self._tasks[task_id] = (last, table)
            while len(self._tasks) > _KEPT:
                self._tasks.pop(next(iter(self._tasks)))
        return table

    def _queue(self, conn: sa.Connection, task: DbRow, reviewer: DbRow) -> _Queue:
        key = (int(task.id), int(reviewer.id))
        last = _last_position(conn, task.id)
        with self._lock:
            queue = self._queues.get(key)
            if queue is not None and queue.last_position == last:
                self._queues.move_to_end(key)
                return queue
        queue = _build(self._items(conn, task.id, last), task, reviewer, last)
        with self._lock:
            self._queues[key] = queue
            while len(self._queues) > _KEPT:
                self._queues.popitem(last=False)
        return queue

    def next_open(
        self,
        conn: sa.Connection,
        task: DbRow,
        reviewer: DbRow,
        now: datetime,
        open_items: Callable[[DbRow, DbRow, datetime, list[int]], sa.Select[Any]],
        take: Callable[[int], DbRow | None] | None = None,
    ) -> int | DbRow | None:
        """Walk the reviewer's order from the cursor: the id of the first item they could
        take now (``open_items`` decides), or, with ``take``, the row ``take(id)`` returns
        for the first one it manages to lease; None at the end of the queue."""
        queue = self._queue(conn, task, reviewer)
        start = queue.cursor
        settled = True  # every item seen so far is out of reach for good
        for begin in range(start, len(queue.ids), _BATCH):
            batch = [int(i) for i in queue.ids[begin : begin + _BATCH]]
            free = set(conn.execute(open_items(task, reviewer, now, batch)).scalars())
            settled = settled and batch[0] not in free  # nothing to pass over otherwise
            gone = self._gone(conn, task, reviewer, batch) if settled else set()
            for offset, item_id in enumerate(batch):
                if item_id in free:
                    if take is None:
                        return item_id
                    row = take(item_id)
                    if row is not None:
                        return row
                    continue  # filled by another process meanwhile
                if settled and item_id in gone:
                    queue.cursor = max(queue.cursor, begin + offset + 1)
                else:
                    settled = False
        return None

    @staticmethod
    def _gone(conn: sa.Connection, task: DbRow, reviewer: DbRow, batch: list[int]) -> set[int]:
        """Items of ``batch`` that can never be handed to ``reviewer`` again: answered or
        skipped by them, complete (all their reviewers' answers; not gold), or retired."""
        mine = sa.select(assignments.c.item_id).where(
            assignments.c.reviewer_id == reviewer.id,
            assignments.c.item_id.in_(batch),
            assignments.c.status.in_(("done", "skipped")),
        )
        complete = (
            sa.select(assignments.c.item_id)
            .join(items, items.c.id == assignments.c.item_id)
            .where(
                assignments.c.item_id.in_(batch),
                assignments.c.status == "done",
                items.c.gold.is_(None),
            )
            .group_by(assignments.c.item_id, items.c.extra)
            .having(sa.func.count() >= task.overlap + items.c.extra)
        )
        inactive = sa.select(items.c.id).where(items.c.id.in_(batch), items.c.active.is_(False))
        return set(conn.execute(sa.union(mine, complete, inactive)).scalars())
