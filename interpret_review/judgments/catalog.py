"""Write-side SQL of projects, tasks (versioned) and items. Each function runs inside the
caller's write transaction."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime, timezone
from typing import Any

import sqlalchemy as sa

from interpret_review.addresses import parse_address
from interpret_review.errors import ConfigError, JudgmentError
from interpret_review.judgments import queries as q
from interpret_review.judgments.queries import DbRow
from interpret_review.judgments.records import TaskVersion
from interpret_review.judgments.tables import items, projects, task_versions, tasks

__all__ = ["add_items", "check_name", "ensure_project", "ensure_task", "latest_version"]

_CHUNK = 500  # rows per INSERT batch


def check_name(what: str, name: object) -> str:
    if not isinstance(name, str) or not name.strip() or len(name) > 100 or name != name.strip():
        raise ConfigError(
            f"{what} name must be 1-100 characters without leading or trailing spaces, got {name!r}"
        )
    return name


def ensure_project(conn: sa.Connection, name: str, title: str) -> int:
    found = conn.execute(sa.select(projects.c.id).where(projects.c.name == name)).scalar()
    if found is not None:
        return int(found)
    values = {"name": name, "title": title, "created_at": datetime.now(timezone.utc)}
    return q.new_id(conn.execute(projects.insert().values(**values)))


def latest_version(conn: sa.Connection, task_id: int) -> DbRow | None:
    return conn.execute(
        sa.select(task_versions)
        .where(task_versions.c.task_id == task_id)
        .order_by(task_versions.c.version.desc())
        .limit(1)
    ).first()


def _canonical(schema: dict[str, Any]) -> str:
    return json.dumps(schema, sort_keys=True, ensure_ascii=False)


def ensure_task(
    conn: sa.Connection,
    project: str,
    name: str,
    *,
    kind: str,
    title: str,
    instructions: str,
    answer_schema: dict[str, Any],
) -> TaskVersion:
    pid = q.project_id(conn, project)
    now = datetime.now(timezone.utc)
    row = conn.execute(
        sa.select(tasks.c.id, tasks.c.kind, tasks.c.title).where(
            tasks.c.project_id == pid, tasks.c.name == name
        )
    ).first()
    if row is None:
        values = {"project_id": pid, "name": name, "kind": kind, "title": title, "created_at": now}
        task_id = q.new_id(conn.execute(tasks.insert().values(**values)))
    else:
        task_id = row.id
        if row.kind != kind:
            raise JudgmentError(
                f"task {project!r}/{name!r} is of kind {row.kind!r}, not {kind!r}: the kind of "
                "a task cannot change; create a task with another name"
            )
        if row.title != title:
            conn.execute(tasks.update().where(tasks.c.id == task_id).values(title=title))
    latest = latest_version(conn, task_id)
    unchanged = (
        latest is not None
        and latest.instructions == instructions
        and _canonical(latest.answer_schema) == _canonical(answer_schema)
    )
    if not unchanged:
        conn.execute(
            task_versions.insert().values(
                task_id=task_id,
                version=1 if latest is None else latest.version + 1,
                instructions=instructions,
                answer_schema=answer_schema,
                created_at=now,
            )
        )
        latest = latest_version(conn, task_id)
    if latest is None:  # cannot happen: a version was just inserted in this transaction
        raise JudgmentError(f"task {project!r}/{name!r} has no version after creating one; retry")
    return q.to_task_version(q.task_row(conn, project, name), latest)


def add_items(
    conn: sa.Connection, project: str, task: str, pairs: Iterable[tuple[str, str]]
) -> int:
    task_id = q.task_row(conn, project, task).id
    existing: dict[str, str] = {
        row.address: row.run_fingerprint
        for row in conn.execute(
            sa.select(items.c.address, items.c.run_fingerprint).where(items.c.task_id == task_id)
        )
    }
    position = conn.execute(
        sa.select(sa.func.coalesce(sa.func.max(items.c.position), -1)).where(
            items.c.task_id == task_id
        )
    ).scalar_one()
    rows: list[dict[str, Any]] = []
    for address, fingerprint in pairs:
        parse_address(address)  # ConfigError for anything that is not a canonical address
        if not isinstance(fingerprint, str) or not fingerprint or len(fingerprint) > 128:
            raise ConfigError(
                f"run fingerprint of {address!r} must be a non-empty string of at most 128 "
                f"characters, got {fingerprint!r}"
            )
        if address in existing:
            if existing[address] != fingerprint:
                raise JudgmentError(
                    f"item {address!r} of task {project!r}/{task!r} was added from a run with "
                    f"fingerprint {existing[address]!r}, not {fingerprint!r}: the run was "
                    "regenerated; review it in a new task, or give the new run another name"
                )
            continue
        existing[address] = fingerprint
        position += 1
        rows.append(
            {
                "task_id": task_id,
                "address": address,
                "run_fingerprint": fingerprint,
                "position": position,
            }
        )
    for start in range(0, len(rows), _CHUNK):
        conn.execute(items.insert(), rows[start : start + _CHUNK])
    return len(rows)
