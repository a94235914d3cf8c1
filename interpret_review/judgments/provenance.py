"""Provenance in SQL: the runs a project was synced with, and reviewers' pseudonyms.

Each function runs inside the caller's transaction. Whether a label is stale is decided in
``review/`` from these records; this module only keeps them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa

from interpret_review.addresses import parse_address
from interpret_review.judgments import queries as q
from interpret_review.judgments.queries import DbRow
from interpret_review.judgments.records import RunRecord
from interpret_review.judgments.tables import items, judgments, projects, reviewers, runs, tasks

__all__ = ["pseudonyms", "record_run", "run_records"]


def record_run(
    conn: sa.Connection,
    project: str,
    name: str,
    fingerprints: tuple[str, str, str],
    path: str,
    n_examples: int,
    now: datetime,
) -> int:
    """Record that run ``name`` of ``project`` is now the file with ``fingerprints`` (run,
    model, dataset), and point the project's items on that run at it; returns how many
    items were pointed at a new fingerprint (their judgments keep the one they were made on)."""
    run_fp, model_fp, dataset_fp = fingerprints
    project_id = q.project_id(conn, project)
    known = conn.execute(
        sa.select(runs.c.id).where(
            runs.c.project_id == project_id, runs.c.name == name, runs.c.run_fingerprint == run_fp
        )
    ).first()
    values: dict[str, Any] = {"path": path, "n_examples": n_examples, "last_seen": now}
    if known is None:
        conn.execute(
            runs.insert().values(
                project_id=project_id,
                name=name,
                run_fingerprint=run_fp,
                model_fingerprint=model_fp,
                dataset_fingerprint=dataset_fp,
                first_seen=now,
                **values,
            )
        )
    else:
        conn.execute(runs.update().where(runs.c.id == known.id).values(**values))
    moved = [
        row.id
        for row in conn.execute(
            sa.select(items.c.id, items.c.address)
            .join(tasks, tasks.c.id == items.c.task_id)
            .where(tasks.c.project_id == project_id, items.c.run_fingerprint != run_fp)
        )
        if parse_address(row.address).run == name
    ]
    for start in range(0, len(moved), 500):
        conn.execute(
            items.update()
            .where(items.c.id.in_(moved[start : start + 500]))
            .values(run_fingerprint=run_fp)
        )
    return len(moved)


def run_records(conn: sa.Connection, project: str) -> list[RunRecord]:
    """Every run ``project`` was synced with, the ones seen longest ago first."""
    rows = conn.execute(
        sa.select(runs, projects.c.name.label("project"))
        .join(projects, projects.c.id == runs.c.project_id)
        .where(runs.c.project_id == q.project_id(conn, project))
        .order_by(runs.c.last_seen, runs.c.id)
    ).all()
    return [_to_record(row) for row in rows]


def _to_record(row: DbRow) -> RunRecord:
    return RunRecord(
        project=row.project,
        name=row.name,
        run_fingerprint=row.run_fingerprint,
        model_fingerprint=row.model_fingerprint,
        dataset_fingerprint=row.dataset_fingerprint,
        path=row.path,
        n_examples=row.n_examples,
        first_seen=row.first_seen,
        last_seen=row.last_seen,
    )


def pseudonyms(conn: sa.Connection, project: str) -> dict[str, str]:
    """``username -> "reviewer-N"``: N counts reviewers in the order of their first judgment
    in ``project``. Judgments are never deleted, so a pseudonym never changes."""
    first = (
        sa.select(judgments.c.reviewer_id, sa.func.min(judgments.c.id).label("first"))
        .join(items, items.c.id == judgments.c.item_id)
        .join(tasks, tasks.c.id == items.c.task_id)
        .where(tasks.c.project_id == q.project_id(conn, project))
        .group_by(judgments.c.reviewer_id)
        .subquery()
    )
    rows = conn.execute(
        sa.select(reviewers.c.username)
        .join(first, first.c.reviewer_id == reviewers.c.id)
        .order_by(first.c.first)
    ).all()
    return {row.username: f"reviewer-{n}" for n, row in enumerate(rows, 1)}
