"""Write-side SQL of projects, tasks (versioned) and items. Each function runs inside the
caller's write transaction."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from datetime import datetime, timezone
from typing import Any

import sqlalchemy as sa

from interpret_review.addresses import parse_address
from interpret_review.errors import ConfigError, JudgmentError
from interpret_review.judgments import queries as q
from interpret_review.judgments.queries import DbRow
from interpret_review.judgments.records import TaskVersion
from interpret_review.judgments.tables import (
    STAGES,
    items,
    projects,
    task_members,
    task_versions,
    tasks,
)
from interpret_review.tasks import ROLES, TaskSettings

__all__ = [
    "RANK_MODULUS",
    "add_items",
    "check_name",
    "check_settings",
    "ensure_project",
    "ensure_task",
    "item_rank",
    "latest_version",
    "set_members",
]

_CHUNK = 500  # rows per INSERT batch
#: Items are shuffled per reviewer by ``(rank * multiplier) % RANK_MODULUS`` (a prime), a
#: different permutation for each reviewer (see ``assignment.py``).
RANK_MODULUS = 1_000_003


def item_rank(task_id: int, key: str) -> int:
    """A fixed pseudo-random number of an item in ``[0, RANK_MODULUS)``: its shuffle key."""
    digest = hashlib.blake2b(f"{task_id}:{key}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") % RANK_MODULUS


def check_settings(settings: TaskSettings) -> None:
    """ConfigError for task settings that cannot be stored."""
    if settings.stage not in STAGES:
        raise ConfigError(f"unknown stage {settings.stage!r}; known stages: {', '.join(STAGES)}")
    if settings.role not in ROLES:
        raise ConfigError(f"unknown role {settings.role!r}; known roles: {', '.join(ROLES)}")
    for name, value, low in (
        ("overlap", settings.overlap, 1),
        ("lease_seconds", settings.lease_seconds, 10),
    ):
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise ConfigError(f"{name} must be a whole number >= {low}, got {value!r}")
    rule = settings.adaptive
    if rule is not None and not (
        rule.max_overlap > settings.overlap and 0 < rule.min_agreement <= 1
    ):
        raise ConfigError(
            f"adaptive overlap needs max_overlap above overlap ({settings.overlap}) and "
            f"0 < min_agreement <= 1, got {rule.max_overlap} and {rule.min_agreement}"
        )
    if (settings.stage == "review") != (settings.source is None):
        raise ConfigError(
            f"a {settings.stage!r} task "
            + ("takes no source task" if settings.stage == "review" else "needs a source task")
        )


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


def _canonical_or_none(value: Any) -> str | None:
    return None if value is None else _canonical(value)


def _settings_values(
    conn: sa.Connection, pid: int, project: str, name: str, settings: TaskSettings
) -> dict[str, Any]:
    source_id = None
    if settings.source is not None:
        source_id = conn.execute(
            sa.select(tasks.c.id).where(tasks.c.project_id == pid, tasks.c.name == settings.source)
        ).scalar()
        if source_id is None:
            names = conn.execute(sa.select(tasks.c.name).where(tasks.c.project_id == pid)).scalars()
            raise q.unknown(
                f"source task of {project!r}/{name!r}:",
                settings.source,
                names,
                "Create the source task first.",
            )
    rule = settings.adaptive
    return {
        "stage": settings.stage,
        "source_task_id": source_id,
        "overlap": settings.overlap,
        "lease_seconds": settings.lease_seconds,
        "shuffle": settings.shuffle,
        "role": settings.role,
        "adaptive_field": rule.field if rule else None,
        "min_agreement": rule.min_agreement if rule else None,
        "max_overlap": rule.max_overlap if rule else None,
        "fingerprint": settings.fingerprint or None,
        "definition": dict(settings.definition) or None,
        "origin": settings.origin,
    }


def set_members(conn: sa.Connection, task_id: int, usernames: Iterable[str]) -> None:
    """Make ``usernames`` the only accounts that may work on the task (none: everyone)."""
    ids = [q.reviewer_row(conn, username).id for username in dict.fromkeys(usernames)]
    conn.execute(task_members.delete().where(task_members.c.task_id == task_id))
    if ids:
        conn.execute(
            task_members.insert(), [{"task_id": task_id, "reviewer_id": rid} for rid in ids]
        )


def ensure_task(
    conn: sa.Connection,
    project: str,
    name: str,
    *,
    kind: str,
    title: str,
    instructions: str,
    answer_schema: dict[str, Any],
    settings: TaskSettings | None = None,
) -> TaskVersion:
    pid = q.project_id(conn, project)
    now = datetime.now(timezone.utc)
    row = conn.execute(
        sa.select(tasks.c.id, tasks.c.kind, tasks.c.title, tasks.c.stage).where(
            tasks.c.project_id == pid, tasks.c.name == name
        )
    ).first()
    values = {} if settings is None else _settings_values(conn, pid, project, name, settings)
    if row is None:
        values.update(project_id=pid, name=name, kind=kind, title=title, created_at=now)
        task_id = q.new_id(conn.execute(tasks.insert().values(**values)))
    else:
        task_id = row.id
        if row.kind != kind:
            raise JudgmentError(
                f"task {project!r}/{name!r} is of kind {row.kind!r}, not {kind!r}: the kind of "
                "a task cannot change; create a task with another name"
            )
        if settings is not None and row.stage != settings.stage:
            raise JudgmentError(
                f"task {project!r}/{name!r} is a {row.stage!r} task, not {settings.stage!r}: "
                "the stage of a task cannot change; create a task with another name"
            )
        conn.execute(tasks.update().where(tasks.c.id == task_id).values(title=title, **values))
    if settings is not None:
        set_members(conn, task_id, settings.members)
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
    task_row = q.task_row(conn, project, name)
    return q.to_task_version(task_row, latest, q.task_settings(conn, task_row))


def add_items(
    conn: sa.Connection,
    project: str,
    task: str,
    pairs: Iterable[tuple[str, str]],
    gold: Mapping[str, Mapping[str, Any]] | None = None,
) -> int:
    """Add ``(address, run_fingerprint)`` items; ``gold`` maps addresses to expected answers
    (the gold answers of existing items are updated to it)."""
    task_id = q.task_row(conn, project, task).id
    gold = dict(gold or {})
    existing: dict[str, str] = {}
    old_gold: dict[str, Any] = {}
    for row in conn.execute(
        sa.select(items.c.address, items.c.run_fingerprint, items.c.gold).where(
            items.c.task_id == task_id, items.c.source_id.is_(None)
        )
    ):
        existing[row.address] = row.run_fingerprint
        old_gold[row.address] = row.gold
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
                    "regenerated; record the new run first (record_run; sync_project does)"
                )
            continue
        existing[address] = fingerprint
        position += 1
        rows.append(
            {
                "task_id": task_id,
                "address": address,
                "key": address,
                "rank": item_rank(task_id, address),
                "run_fingerprint": fingerprint,
                "position": position,
                "gold": gold.get(address),
            }
        )
    for start in range(0, len(rows), _CHUNK):
        conn.execute(items.insert(), rows[start : start + _CHUNK])
    for address, before in old_gold.items():  # gold answers changed for items already there
        if _canonical_or_none(before) == _canonical_or_none(gold.get(address)):
            continue
        conn.execute(
            items.update()
            .where(items.c.task_id == task_id, items.c.key == address)
            .values(gold=gold.get(address))
        )
    return len(rows)
