"""Provenance in SQL: the runs a project was synced with, reviewers' pseudonyms, and the
bulk read exports use; :class:`ProvenanceMethods` gives ``JudgmentStore`` its methods.

Each function runs inside the caller's transaction. Whether a label is stale is decided in
``review/`` from these records; this module only keeps them.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timezone
from typing import Any

import sqlalchemy as sa

from interpret_review.addresses import parse_address
from interpret_review.errors import ConfigError
from interpret_review.judgments import bulk
from interpret_review.judgments import queries as q
from interpret_review.judgments.base import StoreCore
from interpret_review.judgments.queries import DbRow
from interpret_review.judgments.records import RunRecord
from interpret_review.judgments.tables import items, judgments, projects, reviewers, runs, tasks

__all__ = ["ProvenanceMethods", "pseudonyms", "record_run", "run_records"]


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


class ProvenanceMethods(StoreCore):
    """The provenance and export methods of :class:`~interpret_review.judgments.JudgmentStore`
    (kept here so the store's module stays small)."""

    def record_run(
        self,
        project: str,
        name: str,
        *,
        run_fingerprint: str,
        model_fingerprint: str,
        dataset_fingerprint: str,
        path: str,
        n_examples: int,
    ) -> int:
        """Record that run ``name`` of ``project`` is now the file with these fingerprints
        (``sync_project`` does, for each run); items on it are pointed at it, and their
        earlier judgments keep the fingerprint they were made on. Returns the items moved."""
        fingerprints = (run_fingerprint, model_fingerprint, dataset_fingerprint)
        for value in fingerprints:
            if not isinstance(value, str) or not value or len(value) > 128:
                raise ConfigError(f"a fingerprint must be 1 to 128 characters, got {value!r}")
        return int(
            self._write(
                "recording a run",
                record_run,
                project,
                name,
                fingerprints,
                str(path),
                int(n_examples),
                datetime.now(timezone.utc),
            )
        )

    def runs(self, project: str) -> list[RunRecord]:
        """Every run ``project`` was synced with, seen longest ago first: the last record of
        a name is that run as it is now."""
        with self._read("reading runs") as conn:
            return run_records(conn, project)

    def pseudonyms(self, project: str) -> dict[str, str]:
        """``username -> reviewer-N`` for everyone who judged in ``project``; stable (N is
        the order of their first judgment, and judgments are never deleted)."""
        with self._read("reading pseudonyms") as conn:
            return pseudonyms(conn, project)

    def judgment_batches(
        self,
        project: str,
        *,
        task: str | None = None,
        include_superseded: bool = True,
        batch_size: int = 65_536,
    ) -> Iterator[dict[str, list[Any]]]:
        """The judgments of :meth:`iter_judgments` as batches of columns (see
        ``judgments.bulk``): answers as JSON text, times as UTC text. One streamed
        read (a WAL reader on SQLite: writers go on); made for exports of millions of rows."""
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise ConfigError(f"batch_size must be a whole number >= 1, got {batch_size!r}")
        with self._read("reading judgments") as conn:
            yield from bulk.judgment_batches(conn, project, task, include_superseded, batch_size)

    def count_judgments(
        self, project: str, *, task: str | None = None, include_superseded: bool = True
    ) -> int:
        """How many judgments :meth:`judgment_batches` yields."""
        with self._read("counting judgments") as conn:
            return bulk.count_judgments(conn, project, task, include_superseded)

    def count_items(self, project: str, task: str) -> int:
        """How many items ``task`` of ``project`` has."""
        with self._read("counting items") as conn:
            return bulk.count_items(conn, project, task)
