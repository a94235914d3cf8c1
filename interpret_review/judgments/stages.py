"""Data moving from one stage to the next, one judgment at a time.

Each stored judgment is offered to the tasks that consume its task (``source``), inside the
same write transaction, so a pipeline keeps moving without waiting for a whole stage:

* a ``verify`` task gets one item per description: key ``ADDRESS@CLIENT_ID``, made from the
  judgment; when the description is edited, the item of the old one stops being served and
  one for the new text takes its place;
* an ``adjudicate`` task gets the item's address once everything it needs is there: its
  source's ``overlap`` current judgments for a ``review`` source; for a ``verify`` source,
  the descriptions of the address in the review task, each verified ``overlap`` times.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from interpret_review.judgments.catalog import item_rank
from interpret_review.judgments.queries import DbRow, following
from interpret_review.judgments.tables import items, judgments, tasks

__all__ = ["advance", "catch_up", "derived_key", "is_ready"]


def derived_key(address: str, client_id: str) -> str:
    """The key of the item made from judgment ``client_id`` of item ``address``."""
    return f"{address}@{client_id}"


def advance(
    conn: sa.Connection,
    task: DbRow,
    item: DbRow,
    judgment_id: int,
    client_id: str,
    replaced_id: int | None,
) -> None:
    """Offer the judgment just stored (``judgment_id`` of ``item`` in ``task``, replacing
    ``replaced_id``) to every task that consumes ``task``."""
    consumers = conn.execute(sa.select(tasks).where(tasks.c.source_task_id == task.id)).all()
    for consumer in consumers:
        if consumer.stage == "verify":
            if replaced_id is not None:
                conn.execute(
                    items.update()
                    .where(items.c.task_id == consumer.id, items.c.source_id == replaced_id)
                    .values(active=False)
                )
            _add(conn, consumer, item, derived_key(item.address, client_id), judgment_id)
        elif consumer.stage == "adjudicate" and is_ready(conn, consumer, item.address):
            _add(conn, consumer, item, item.address, None)


def _current(conn: sa.Connection, task_id: int, address: str) -> Any:
    """Current judgments of ``address`` in a task, as (judgment ``id``, its item's
    ``source_id``) rows."""
    return conn.execute(
        sa.select(judgments.c.id, items.c.source_id)
        .join(items, items.c.id == judgments.c.item_id)
        .outerjoin(following, following.c.supersedes_id == judgments.c.id)
        .where(
            items.c.task_id == task_id,
            items.c.address == address,
            items.c.active.is_(True),
            following.c.id.is_(None),
        )
    ).all()


def is_ready(conn: sa.Connection, adjudicate: DbRow, address: str) -> bool:
    """Whether ``address`` has all an ``adjudicate`` task needs from its source stage."""
    source = conn.execute(sa.select(tasks).where(tasks.c.id == adjudicate.source_task_id)).one()
    if source.stage != "verify":
        extra = conn.execute(
            sa.select(items.c.extra).where(items.c.task_id == source.id, items.c.key == address)
        ).scalar()
        return len(_current(conn, source.id, address)) >= int(source.overlap) + int(extra or 0)
    described = conn.execute(sa.select(tasks).where(tasks.c.id == source.source_task_id)).one()
    # Serialise the check per address: two verifications of one item's descriptions stored
    # at once by two processes would otherwise each miss the other's and never add it.
    conn.execute(
        sa.select(items.c.id)
        .where(items.c.task_id == described.id, items.c.key == address)
        .with_for_update()
    ).all()
    descriptions = _current(conn, described.id, address)
    if len(descriptions) < described.overlap:
        return False
    verified: dict[int, int] = {}
    for row in _current(conn, source.id, address):
        verified[row.source_id] = verified.get(row.source_id, 0) + 1
    return all(verified.get(d.id, 0) >= source.overlap for d in descriptions)


def _add(conn: sa.Connection, task: DbRow, item: DbRow, key: str, source_id: int | None) -> None:
    if conn.execute(
        sa.select(items.c.id).where(items.c.task_id == task.id, items.c.key == key)
    ).first():
        return
    position = conn.execute(
        sa.select(sa.func.coalesce(sa.func.max(items.c.position), -1)).where(
            items.c.task_id == task.id
        )
    ).scalar_one()
    conn.execute(
        items.insert().values(
            task_id=task.id,
            address=item.address,
            key=key,
            source_id=source_id,
            rank=item_rank(task.id, key),
            run_fingerprint=item.run_fingerprint,
            position=position + 1,
        )
    )


def catch_up(conn: sa.Connection, consumer: DbRow) -> int:
    """Give ``consumer`` the items its source's judgments already call for (a task added to
    a running pipeline); returns how many items it has afterwards."""
    source_items = items.alias("source_items")
    rows = conn.execute(
        sa.select(judgments.c.id, judgments.c.client_id, judgments.c.item_id)
        .join(source_items, source_items.c.id == judgments.c.item_id)
        .outerjoin(following, following.c.supersedes_id == judgments.c.id)
        .where(
            source_items.c.task_id == consumer.source_task_id,
            source_items.c.active.is_(True),
            following.c.id.is_(None),
        )
        .order_by(judgments.c.id)
    ).all()
    for row in rows:
        item = conn.execute(sa.select(items).where(items.c.id == row.item_id)).one()
        if consumer.stage == "verify":
            _add(conn, consumer, item, derived_key(item.address, row.client_id), row.id)
        elif is_ready(conn, consumer, item.address):
            _add(conn, consumer, item, item.address, None)
    return int(
        conn.execute(sa.select(sa.func.count()).where(items.c.task_id == consumer.id)).scalar_one()
    )
