"""Projects, versioned tasks and their items: the ``projects``, ``tasks``,
``task_versions``, ``task_members`` and ``items`` tables.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa

from interpret_review.errors import ConfigError, JudgmentError
from interpret_review.judgments import catalog
from interpret_review.judgments import queries as q
from interpret_review.judgments.base import StoreCore
from interpret_review.judgments.records import Item, TaskVersion
from interpret_review.judgments.tables import items, task_versions, tasks
from interpret_review.tasks import TaskSettings

__all__ = ["TaskMethods"]


class TaskMethods(StoreCore):
    """The methods of :class:`~interpret_review.judgments.JudgmentStore` on these tables."""

    def ensure_project(self, name: str, title: str = "") -> int:
        """The id of project ``name``, created if missing."""
        catalog.check_name("project", name)
        return int(self._write("creating a project", catalog.ensure_project, name, title))

    def ensure_task(
        self,
        project: str,
        name: str,
        *,
        kind: str,
        title: str,
        instructions: str,
        answer_schema: dict[str, Any],
        settings: TaskSettings | None = None,
    ) -> TaskVersion:
        """The latest version of task ``name``: version 1 when new, a new version when
        ``instructions`` or ``answer_schema`` differ from the latest one. The project must
        exist (:meth:`ensure_project`). A changed ``title`` and ``settings`` (overlap,
        leases, members...: not versioned) are updated in place; None keeps them."""
        catalog.check_name("task", name)
        if settings is not None:
            catalog.check_settings(settings)
        if not isinstance(answer_schema, dict):
            raise ConfigError(f"answer_schema must be a dict, got {type(answer_schema).__name__}")
        try:
            answer_schema = json.loads(json.dumps(answer_schema, allow_nan=False))
        except (TypeError, ValueError) as error:
            raise ConfigError(f"answer_schema of task {name!r} is not JSON data: {error}") from None

        def work(conn: sa.Connection) -> TaskVersion:
            return catalog.ensure_task(
                conn,
                project,
                name,
                kind=kind,
                title=title,
                instructions=str(instructions),
                answer_schema=answer_schema,
                settings=settings,
            )

        return self._write("creating a task", work)

    def task_version(self, project: str, task: str, version: int | None = None) -> TaskVersion:
        """Version ``version`` of a task (None: the latest)."""
        with self._read("reading a task") as conn:
            row = q.task_row(conn, project, task)
            query = sa.select(task_versions).where(task_versions.c.task_id == row.id)
            if version is None:
                found = catalog.latest_version(conn, row.id)
            else:
                found = conn.execute(query.where(task_versions.c.version == version)).first()
            if found is None:
                known = conn.execute(query.with_only_columns(task_versions.c.version)).scalars()
                raise JudgmentError(
                    f"unknown task version {version!r} of task {project!r}/{task!r}; known "
                    f"versions: {sorted(known)}"
                )
            return q.to_task_version(row, found, q.task_settings(conn, row))

    def task_versions(self, project: str, task: str) -> list[TaskVersion]:
        """Every version of a task, oldest first."""
        with self._read("listing task versions") as conn:
            row = q.task_row(conn, project, task)
            settings = q.task_settings(conn, row)
            versions = conn.execute(
                sa.select(task_versions)
                .where(task_versions.c.task_id == row.id)
                .order_by(task_versions.c.version)
            ).all()
        return [q.to_task_version(row, v, settings) for v in versions]

    def tasks(self, project: str) -> list[TaskVersion]:
        """The latest version of each task of ``project``, in creation order."""
        with self._read("listing tasks") as conn:
            pid = q.project_id(conn, project)
            names = (
                conn.execute(
                    sa.select(tasks.c.name).where(tasks.c.project_id == pid).order_by(tasks.c.id)
                )
                .scalars()
                .all()
            )
        return [self.task_version(project, name) for name in names]

    def add_items(
        self,
        project: str,
        task: str,
        items: Iterable[tuple[str, str]],
        *,
        gold: dict[str, dict[str, Any]] | None = None,
    ) -> int:
        """Add ``(address, run_fingerprint)`` pairs to a task, after its existing items and in
        the given order. Items already there are skipped; returns how many were added.
        ``gold`` maps addresses to the answers expected of gold items (hidden from reviewers);
        the gold answers of items already there are set to it too."""
        pairs = list(items)
        return int(self._write("adding items", catalog.add_items, project, task, pairs, gold))

    def items(self, project: str, task: str, *, active_only: bool = False) -> list[Item]:
        """The task's items, by position."""
        with self._read("listing items") as conn:
            task_id = q.task_row(conn, project, task).id
            where = [items.c.task_id == task_id]
            if active_only:
                where.append(items.c.active.is_(True))
            rows = conn.execute(q.item_query().where(*where).order_by(items.c.position)).all()
        return [q.to_item(r) for r in rows]

    def catch_up(self, project: str, task: str) -> int:
        """Give a ``verify`` or ``adjudicate`` task the items its source's judgments already
        call for (later ones arrive with each judgment); returns its number of items."""
        from interpret_review.judgments import stages

        def work(conn: sa.Connection) -> int:
            row = q.task_row(conn, project, task)
            return 0 if row.stage == "review" else stages.catch_up(conn, row)

        return int(self._write("bringing a stage up to date", work))

    def item(self, project: str, task: str, key: str) -> Item:
        """Item ``key`` (its address, or ``ADDRESS@CLIENT_ID``) of a task."""
        with self._read("reading an item") as conn:
            return q.to_item(q.item_row(conn, q.task_row(conn, project, task), key))

    def set_members(self, project: str, task: str, usernames: Iterable[str]) -> None:
        """Make ``usernames`` the only accounts that may work on a task (empty: everyone
        with the task's role)."""
        names = list(usernames)

        def work(conn: sa.Connection) -> None:
            catalog.set_members(conn, q.task_row(conn, project, task).id, names)

        self._write("setting a task's reviewers", work)
