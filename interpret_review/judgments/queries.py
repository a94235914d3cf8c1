"""Read-side SQL of the judgment store: name lookups and the one judgment query.

Every function takes an open ``Connection`` (the caller owns the transaction) and returns
plain records from ``records.py``.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, TypeAlias

import sqlalchemy as sa

from interpret_review.errors import JudgmentError
from interpret_review.judgments.records import Item, Judgment, Reviewer, TaskVersion
from interpret_review.judgments.tables import (
    items,
    judgments,
    projects,
    reviewers,
    task_members,
    task_versions,
    tasks,
)
from interpret_review.tasks import AdaptiveRule, TaskSettings

if TYPE_CHECKING:
    from typing_extensions import Unpack

__all__ = [
    "DbRow",
    "item_query",
    "item_row",
    "judgment_query",
    "new_id",
    "project_id",
    "reviewer_row",
    "task_row",
    "to_item",
    "to_judgment",
    "to_reviewer",
    "task_settings",
    "to_task_version",
    "unknown",
]

#: A result row of any shape.
DbRow: TypeAlias = "sa.Row[Unpack[tuple[Any, ...]]]"

#: Aliases of ``judgments``: the row a judgment replaces, and the row that replaces it.
previous = judgments.alias("previous")
following = judgments.alias("following")
#: The judgment a derived item was made from.
source_judgment = judgments.alias("source_judgment")


def unknown(what: str, name: object, known: Iterable[str], hint: str = "") -> JudgmentError:
    """A JudgmentError naming an unknown ``what`` and the closest known names."""
    known = sorted(known)
    message = f"unknown {what} {name!r}"
    close = difflib.get_close_matches(str(name), known, n=3, cutoff=0.5)
    if close:
        message += "; did you mean " + " or ".join(repr(c) for c in close) + "?"
    shown = ", ".join(known[:20]) + (", ..." if len(known) > 20 else "")
    message += f" Known {what}s: {shown or '(none)'}."
    return JudgmentError(message + (" " + hint if hint else ""))


def project_id(conn: sa.Connection, project: str) -> int:
    found = conn.execute(sa.select(projects.c.id).where(projects.c.name == project)).scalar()
    if found is None:
        names = conn.execute(sa.select(projects.c.name)).scalars()
        raise unknown("project", project, names, "Create it with ensure_project().")
    return int(found)


def task_row(conn: sa.Connection, project: str, task: str) -> DbRow:
    """The ``tasks`` row (with ``project`` name) of ``project``/``task``."""
    pid = project_id(conn, project)
    row = conn.execute(
        sa.select(tasks, projects.c.name.label("project"))
        .join(projects, projects.c.id == tasks.c.project_id)
        .where(tasks.c.project_id == pid, tasks.c.name == task)
    ).first()
    if row is None:
        names = conn.execute(sa.select(tasks.c.name).where(tasks.c.project_id == pid)).scalars()
        raise unknown("task", task, names, f"(project {project!r}) Create it with ensure_task().")
    return row


def reviewer_row(conn: sa.Connection, username: str) -> DbRow:
    row = conn.execute(sa.select(reviewers).where(reviewers.c.username == username)).first()
    if row is None:
        names = conn.execute(sa.select(reviewers.c.username)).scalars()
        raise unknown("reviewer", username, names, "Add the account with add_reviewer().")
    return row


def item_query() -> sa.Select[Any]:
    """Items with the client id of their source judgment (``source``)."""
    return sa.select(items, source_judgment.c.client_id.label("source")).outerjoin(
        source_judgment, source_judgment.c.id == items.c.source_id
    )


def item_row(conn: sa.Connection, task: DbRow, key: str) -> DbRow:
    """The item ``key`` (its address, or ``ADDRESS@CLIENT_ID``) of ``task``."""
    row = conn.execute(item_query().where(items.c.task_id == task.id, items.c.key == key)).first()
    if row is None:
        raise JudgmentError(
            f"unknown item {key!r}: it is not an item of task {task.project!r}/{task.name!r}; "
            "add it with add_items() or check the address"
        )
    return row


def new_id(result: sa.CursorResult[Any]) -> int:
    """The primary key of the row an INSERT just wrote."""
    key = result.inserted_primary_key
    if key is None:
        raise JudgmentError("the database did not return the id of a new row; retry")
    return int(key[0])


def to_reviewer(row: DbRow) -> Reviewer:
    return Reviewer(
        id=row.id,
        username=row.username,
        display_name=row.display_name,
        role=row.role,
        active=bool(row.active),
    )


def to_item(row: DbRow) -> Item:
    return Item(
        id=row.id,
        task_id=row.task_id,
        address=row.address,
        run_fingerprint=row.run_fingerprint,
        position=row.position,
        key=row.key,
        source=row.source,
        gold=None if row.gold is None else dict(row.gold),
        active=bool(row.active),
        extra=int(row.extra),
    )


def adaptive_rule(task: DbRow) -> AdaptiveRule | None:
    """The adaptive-overlap rule kept in a ``tasks`` row's columns, or None."""
    if task.adaptive_field is None:
        return None
    return AdaptiveRule(task.adaptive_field, float(task.min_agreement), int(task.max_overlap))


def task_settings(conn: sa.Connection, task: DbRow) -> TaskSettings:
    """The settings of a ``tasks`` row: its source task's name and its members' names."""
    source = None
    if task.source_task_id is not None:
        source = conn.execute(
            sa.select(tasks.c.name).where(tasks.c.id == task.source_task_id)
        ).scalar()
    members = conn.execute(
        sa.select(reviewers.c.username)
        .join(task_members, task_members.c.reviewer_id == reviewers.c.id)
        .where(task_members.c.task_id == task.id)
        .order_by(reviewers.c.username)
    ).scalars()
    return TaskSettings(
        stage=task.stage,
        source=source,
        overlap=task.overlap,
        lease_seconds=task.lease_seconds,
        shuffle=bool(task.shuffle),
        role=task.role,
        members=tuple(members),
        adaptive=adaptive_rule(task),
        fingerprint=task.fingerprint or "",
        definition=dict(task.definition or {}),
        origin=task.origin,
    )


def to_task_version(
    task: DbRow, version: DbRow, settings: TaskSettings | None = None
) -> TaskVersion:
    return TaskVersion(
        task_id=task.id,
        project=task.project,
        task=task.name,
        kind=task.kind,
        title=task.title,
        version=version.version,
        instructions=version.instructions,
        answer_schema=dict(version.answer_schema),
        settings=settings or TaskSettings(),
    )


def judgment_query() -> sa.Select[Any]:
    """All judgments with their names resolved, ordered by id; add ``.where`` clauses."""
    j = judgments
    return (
        sa.select(
            j.c.id,
            j.c.client_id,
            projects.c.name.label("project"),
            tasks.c.name.label("task"),
            task_versions.c.version.label("task_version"),
            items.c.address,
            items.c.key.label("item"),
            source_judgment.c.client_id.label("source"),
            j.c.run_fingerprint,
            reviewers.c.username.label("reviewer"),
            j.c.answers,
            j.c.started_at,
            j.c.submitted_at,
            j.c.stored_at,
            j.c.duration_ms,
            previous.c.client_id.label("supersedes"),
            following.c.id.label("superseded_by"),
        )
        .select_from(j)
        .join(items, items.c.id == j.c.item_id)
        .join(tasks, tasks.c.id == items.c.task_id)
        .join(projects, projects.c.id == tasks.c.project_id)
        .join(reviewers, reviewers.c.id == j.c.reviewer_id)
        .join(task_versions, task_versions.c.id == j.c.task_version_id)
        .outerjoin(source_judgment, source_judgment.c.id == items.c.source_id)
        .outerjoin(previous, previous.c.id == j.c.supersedes_id)
        .outerjoin(following, following.c.supersedes_id == j.c.id)
        .order_by(j.c.id)
    )


def to_judgment(row: DbRow) -> Judgment:
    return Judgment(
        id=row.id,
        client_id=row.client_id,
        project=row.project,
        task=row.task,
        task_version=row.task_version,
        address=row.address,
        run_fingerprint=row.run_fingerprint,
        reviewer=row.reviewer,
        answers=dict(row.answers),
        started_at=row.started_at,
        submitted_at=row.submitted_at,
        stored_at=row.stored_at,
        duration_ms=row.duration_ms,
        supersedes=row.supersedes,
        superseded=row.superseded_by is not None,
        item=row.item,
        source=row.source,
    )
