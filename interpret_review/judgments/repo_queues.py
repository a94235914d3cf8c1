"""Who holds which item: the ``assignments`` table and each reviewer's queue."""

from __future__ import annotations

import sqlalchemy as sa

from interpret_review.errors import AuthorizationError
from interpret_review.judgments import assignment, reports
from interpret_review.judgments import queries as q
from interpret_review.judgments.base import StoreCore, _now
from interpret_review.judgments.records import Assignment, Item, Progress
from interpret_review.judgments.tables import assignments, items, reviewers, tasks

__all__ = ["QueueMethods"]


class QueueMethods(StoreCore):
    """The methods of :class:`~interpret_review.judgments.JudgmentStore` on these tables."""

    def claim(self, project: str, task: str, reviewer: str) -> Item | None:
        """The item ``reviewer`` works on next: the one they hold (its lease renewed), else
        the first free one of their queue, leased to them now; None when nothing is left.
        AuthorizationError when the account may not work on the task."""

        def work(conn: sa.Connection) -> Item | None:
            row = assignment.claim(
                conn, *self._lookup(conn, project, task, reviewer), _now(), self._queues
            )
            return None if row is None else q.to_item(row)

        return self._write("handing out an item", work)

    def assign(self, project: str, task: str, key: str, reviewer: str) -> None:
        """Give ``reviewer`` a slot of item ``key`` (renews their lease when they hold it);
        JudgmentError when the item already has its overlap of reviewers."""

        def work(conn: sa.Connection) -> None:
            task_row, reviewer_row = self._lookup(conn, project, task, reviewer)
            item = q.item_row(conn, task_row, key)
            assignment.take(conn, task_row, item, reviewer_row, _now())

        self._write("assigning an item", work)

    def skip(self, project: str, task: str, key: str, reviewer: str, reason: str) -> None:
        """Record that ``reviewer`` skips item ``key`` and why; the item returns to the pool
        (for others: it is not served to them again)."""

        def work(conn: sa.Connection) -> None:
            task_row, reviewer_row = self._lookup(conn, project, task, reviewer)
            item = q.item_row(conn, task_row, key)
            assignment.skip(conn, task_row, item, reviewer_row, reason, _now())

        self._write("skipping an item", work)

    def queue(self, project: str, task: str, reviewer: str) -> list[Item]:
        """The items ``reviewer`` has answered or holds in a task, in the order they got them."""
        with self._read("reading a queue") as conn:
            task_row, reviewer_row = self._lookup(conn, project, task, reviewer)
            rows = conn.execute(
                q.item_query()
                .join(assignments, assignments.c.item_id == items.c.id)
                .where(
                    items.c.task_id == task_row.id,
                    assignments.c.reviewer_id == reviewer_row.id,
                    sa.or_(
                        assignments.c.status == "done",
                        sa.and_(
                            assignments.c.status == "leased", assignments.c.expires_at > _now()
                        ),
                    ),
                )
                .order_by(assignments.c.leased_at, assignments.c.id)
            ).all()
        return [q.to_item(r) for r in rows]

    def available(self, project: str, task: str, reviewer: str) -> int:
        """How many more items ``reviewer`` could be handed in a task now."""
        with self._read("counting open items") as conn:
            task_row, reviewer_row = self._lookup(conn, project, task, reviewer)
            return assignment.available(conn, task_row, reviewer_row, _now())

    def has_work(self, project: str, task: str, reviewer: str) -> bool:
        """Whether ``reviewer`` holds an item of a task or could be handed one."""
        with self._read("looking for work") as conn:
            task_row, reviewer_row = self._lookup(conn, project, task, reviewer)
            now = _now()
            held = conn.execute(
                sa.select(assignments.c.id)
                .join(items, items.c.id == assignments.c.item_id)
                .where(
                    items.c.task_id == task_row.id,
                    assignments.c.reviewer_id == reviewer_row.id,
                    assignments.c.status == "leased",
                    assignments.c.expires_at > now,
                )
                .limit(1)
            ).first()
            if held is not None:
                return True
            return (
                conn.execute(assignment.open_items(task_row, reviewer_row, now).limit(1)).first()
                is not None
            )

    def check_access(self, project: str, task: str, reviewer: str) -> None:
        """AuthorizationError unless ``reviewer`` may work on a task (an active account, a
        role at least the task's, and one of its members when it lists them)."""
        with self._read("checking access") as conn:
            assignment.check_access(conn, *self._lookup(conn, project, task, reviewer))

    def can_work_on(self, project: str, task: str, reviewer: str) -> bool:
        """Whether ``reviewer`` may work on a task (see :meth:`check_access`)."""
        try:
            self.check_access(project, task, reviewer)
        except AuthorizationError:
            return False
        return True

    def peek(self, project: str, task: str, reviewer: str) -> str | None:
        """The address of the item :meth:`claim` would hand ``reviewer`` after the one they
        hold, without leasing anything (a guess, for rendering ahead)."""
        with self._read("looking ahead in a queue") as conn:
            task_row, reviewer_row = self._lookup(conn, project, task, reviewer)
            found = self._queues.next_open(
                conn, task_row, reviewer_row, _now(), assignment.open_items
            )
            if found is None:
                return None
            return str(conn.execute(sa.select(items.c.address).where(items.c.id == found)).scalar())

    def assignments(self, project: str, task: str | None = None) -> list[Assignment]:
        """Every assignment of a project (or one task), oldest first."""
        with self._read("listing assignments") as conn:
            where = [tasks.c.project_id == q.project_id(conn, project)]
            if task is not None:
                where.append(tasks.c.id == q.task_row(conn, project, task).id)
            rows = conn.execute(
                sa.select(
                    assignments,
                    items.c.key.label("item"),
                    items.c.address,
                    reviewers.c.username,
                )
                .join(items, items.c.id == assignments.c.item_id)
                .join(tasks, tasks.c.id == items.c.task_id)
                .join(reviewers, reviewers.c.id == assignments.c.reviewer_id)
                .where(*where)
                .order_by(assignments.c.id)
            ).all()
        return [
            Assignment(
                item=r.item,
                address=r.address,
                reviewer=r.username,
                status=r.status,
                leased_at=r.leased_at,
                expires_at=r.expires_at,
                finished_at=r.finished_at,
                skip_reason=r.skip_reason,
            )
            for r in rows
        ]

    def progress_by_reviewer(self, project: str) -> list[Progress]:
        """Per task and reviewer: items done, in progress (a running lease), skipped, and
        time spent on current judgments; plus a row per task (``reviewer`` None) whose
        ``done`` counts the items that have all their reviewers and ``answers`` the answers
        given out of ``slots`` (items times overlap)."""
        with self._read("counting progress") as conn:
            return reports.progress(conn, q.project_id(conn, project), _now())
