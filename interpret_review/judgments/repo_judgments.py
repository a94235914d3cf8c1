"""Append-only judgments: storing one (and handing out the next item in the same
transaction), and reading them back.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from interpret_review.errors import ConfigError, PausedError
from interpret_review.judgments import assignment, reports
from interpret_review.judgments import queries as q
from interpret_review.judgments.base import StoreCore, _now
from interpret_review.judgments.records import Item, Judgment
from interpret_review.judgments.submission import Submission, store_submission, stored_judgment
from interpret_review.judgments.tables import items, judgments, projects, reviewers, tasks

__all__ = ["JudgmentMethods"]


class JudgmentMethods(StoreCore):
    """The methods of :class:`~interpret_review.judgments.JudgmentStore` on these tables."""

    def submit(
        self,
        *,
        client_id: str,
        project: str,
        task: str,
        key: str,
        reviewer: str,
        answers: dict[str, Any],
        task_version: int,
        started_at: datetime,
        submitted_at: datetime,
        supersedes: str | None = None,
        score: float | None = None,
        n_examples: int = 0,
    ) -> Judgment:
        """Store one judgment and return it as stored. The row is durable when this returns.

        ``key`` is the item key (its address, or ``ADDRESS@CLIENT_ID`` for an item
        made from an earlier stage). The reviewer must hold the item (:meth:`claim`,
        :meth:`assign`): a running lease, or an earlier judgment of it; a lease that ran out
        is renewed when the slot is still free, else JudgmentError. ``score`` (with
        ``n_examples``) is the simulation score of a verify judgment, stored with it.

        * Idempotent by ``client_id`` (a UUID made by the client): a retry with the same
          content returns the stored row; the same id with other content raises JudgmentError.
        * ``supersedes`` (an edit) must be the client id of this reviewer's *current*
          judgment of this item, else JudgmentError: two tabs cannot fork an edit chain.
        * A new judgment *without* ``supersedes`` for an item this reviewer already judged
          is stored as superseding their current judgment automatically (a reviewer has at
          most one current judgment per item), unless the current one was submitted later:
          then JudgmentError, and the later answer stands (an old queued answer arriving
          from another tab or device never replaces a newer one).
        * Unknown project, task, item, reviewer or task version: JudgmentError naming it;
          a deactivated reviewer: AuthorizationError. Answers are checked to be JSON only;
          checking them against the answer schema is the caller's (review/) job.
        """
        new = Submission.build(
            client_id=client_id,
            project=project,
            task=task,
            key=key,
            reviewer=reviewer,
            answers=answers,
            task_version=task_version,
            started_at=started_at,
            submitted_at=submitted_at,
            supersedes=supersedes,
            score=score,
            n_examples=n_examples,
        )
        done: list[tuple[int, int, int]] = []
        judgment = self._write("storing a judgment", store_submission, new, done)
        self._passed(done)
        return judgment

    def submit_and_claim(self, **submission: Any) -> tuple[Judgment, Item | None]:
        """:meth:`submit` (same arguments), then hand the reviewer their next item (what
        :meth:`claim` would give) in the same transaction: one commit on the path from one
        item to the next."""
        new = Submission.build(**{"supersedes": None, "score": None, "n_examples": 0, **submission})

        done: list[tuple[int, int, int]] = []

        def work(conn: sa.Connection) -> tuple[Judgment, Item | None]:
            judgment = store_submission(conn, new, done)
            task_row, reviewer_row = self._lookup(conn, new.project, new.task, new.reviewer)
            if done:  # the answered item is behind the reviewer now (should this roll back,
                # the answer is resent by the page and stored through its lease, not the queue)
                self._queues.passed(*done[-1])
            try:
                row = assignment.claim(conn, task_row, reviewer_row, _now(), self._queues)
            except PausedError:  # the answer stands; the page learns of the pause on its
                row = None  # next claim
            return judgment, None if row is None else q.to_item(row)

        return self._write("storing a judgment", work)

    def judgment(self, client_id: str) -> Judgment | None:
        """The judgment stored under ``client_id``, or None."""
        with self._read("reading a judgment") as conn:
            return stored_judgment(conn, str(client_id))

    def current(self, project: str, task: str, reviewer: str) -> dict[str, Judgment]:
        """``item key -> latest judgment`` of one reviewer in one task (only their rows)."""
        task_id, reviewer_id = self._task_and_reviewer(project, task, reviewer)
        rows = self._judgments_where(
            "reading current judgments",
            tasks.c.id == task_id,
            judgments.c.reviewer_id == reviewer_id,
            q.following.c.id.is_(None),
        )
        return {j.item: j for j in rows}

    def history(self, project: str, task: str, reviewer: str, key: str) -> list[Judgment]:
        """Every judgment of one reviewer for one item, oldest first."""
        task_id, reviewer_id = self._task_and_reviewer(project, task, reviewer)
        return self._judgments_where(
            "reading a judgment history",
            tasks.c.id == task_id,
            judgments.c.reviewer_id == reviewer_id,
            items.c.key == key,
        )

    def current_of(self, project: str, task: str, reviewer: str, key: str) -> Judgment | None:
        """One reviewer's current (latest) judgment of one item, or None: one query, for a
        page that must know before showing an item whether another tab answered it."""
        rows = self._judgments_where(
            "reading a current judgment",
            projects.c.name == project,
            tasks.c.name == task,
            reviewers.c.username == reviewer,
            items.c.key == key,
            q.following.c.id.is_(None),
        )
        return rows[-1] if rows else None

    def iter_judgments(
        self,
        project: str,
        *,
        task: str | None = None,
        include_superseded: bool = True,
        batch_size: int = 1000,
    ) -> Iterator[Judgment]:
        """Judgments of a project ordered by id, streamed in keyset pages of ``batch_size``
        rows (one short read transaction each: memory stays constant, no lock is held)."""
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise ConfigError(f"batch_size must be a whole number >= 1, got {batch_size!r}")
        with self._read("reading judgments") as conn:
            where = [projects.c.id == q.project_id(conn, project)]
            if task is not None:
                where.append(tasks.c.id == q.task_row(conn, project, task).id)
        if not include_superseded:
            where.append(q.following.c.id.is_(None))
        last_id = 0
        while True:
            page = self._page(where, last_id, batch_size)
            yield from page
            if len(page) < batch_size:
                return
            last_id = page[-1].id

    def _page(self, where: list[Any], last_id: int, size: int) -> list[Judgment]:
        with self._read("reading judgments") as conn:
            rows = conn.execute(
                q.judgment_query().where(judgments.c.id > last_id, *where).limit(size)
            ).all()
        return [q.to_judgment(r) for r in rows]

    def progress(self, project: str, task: str, reviewer: str) -> tuple[int, int]:
        """``(items this reviewer has answered, items in the task)``."""
        task_id, reviewer_id = self._task_and_reviewer(project, task, reviewer)
        with self._read("counting progress") as conn:
            total = conn.execute(
                sa.select(sa.func.count()).select_from(items).where(items.c.task_id == task_id)
            ).scalar_one()
            answered = conn.execute(
                sa.select(sa.func.count(sa.distinct(judgments.c.item_id)))
                .join(items, items.c.id == judgments.c.item_id)
                .where(items.c.task_id == task_id, judgments.c.reviewer_id == reviewer_id)
            ).scalar_one()
        return int(answered), int(total)

    def description_scores(self, project: str, task: str) -> dict[str, tuple[float, int]]:
        """``description client id -> (mean simulation score, number of verifications)``
        over the current judgments of verify task ``task``."""
        with self._read("reading simulation scores") as conn:
            return reports.description_scores(conn, q.task_row(conn, project, task).id)

    def current_of_item(self, project: str, task: str, address: str) -> list[Judgment]:
        """Everyone's current judgments of ``address`` in a task (for adjudication and the
        admin page: never for a reviewer answering the same task)."""
        return self._judgments_where(
            "reading an item's judgments",
            projects.c.name == project,
            tasks.c.name == task,
            items.c.address == address,
            q.following.c.id.is_(None),
        )
