"""Storing one judgment: idempotent by client id, append-only, one edit chain per reviewer and item.

Rules (``JudgmentStore.submit`` documents them for callers):

* A client id already stored returns the stored row when the content is the same (a
  retried submit), and raises JudgmentError when it differs.
* ``supersedes`` must name the client id of the same reviewer's *current* judgment of the
  same item; anything else (another item, another reviewer, a row edited meanwhile in
  another tab) raises JudgmentError.
* A new judgment without ``supersedes`` for an item the reviewer has already judged is
  stored as superseding that reviewer's current judgment: the store never holds two
  current judgments of one reviewer for one item. If the current judgment was submitted
  after the new one (an old answer queued in another tab), the new one is refused.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

import sqlalchemy as sa

from interpret_review.errors import AuthorizationError, InvalidAnswerError, JudgmentError
from interpret_review.judgments import adaptive, assignment, stages
from interpret_review.judgments import queries as q
from interpret_review.judgments.queries import (
    DbRow,
    following,
    item_row,
    judgment_query,
    reviewer_row,
    task_row,
    to_judgment,
)
from interpret_review.judgments.records import Judgment
from interpret_review.judgments.tables import judgments, simulation_scores, task_versions

__all__ = ["Submission", "store_submission", "stored_judgment"]


@dataclass(frozen=True)
class Submission:
    """A checked, normalised submission (see :func:`Submission.build`)."""

    client_id: str
    project: str
    task: str
    key: str  # the item key
    reviewer: str
    answers: dict[str, Any]
    task_version: int
    started_at: datetime
    submitted_at: datetime
    supersedes: str | None
    score: float | None = None  # simulation score of a verify judgment
    n_examples: int = 0

    @classmethod
    def build(cls, **fields: Any) -> Submission:
        fields["client_id"] = _client_id("client_id", fields["client_id"])
        if fields["supersedes"] is not None:
            fields["supersedes"] = _client_id("supersedes", fields["supersedes"])
        fields["answers"] = _json_answers(fields["answers"])
        for name in ("started_at", "submitted_at"):
            fields[name] = _utc(name, fields[name])
        if fields["submitted_at"] < fields["started_at"]:
            raise JudgmentError(
                f"submitted_at {fields['submitted_at'].isoformat()} is before started_at "
                f"{fields['started_at'].isoformat()}: pass the time the item was shown as "
                "started_at and the time of the submit as submitted_at"
            )
        version = fields["task_version"]
        if isinstance(version, bool) or not isinstance(version, int) or version < 1:
            raise JudgmentError(f"task_version must be a whole number >= 1, got {version!r}")
        return cls(**fields)

    @property
    def duration_ms(self) -> int:
        return int(round((self.submitted_at - self.started_at).total_seconds() * 1000))


def _client_id(name: str, value: object) -> str:
    try:
        return str(uuid.UUID(str(value)))
    except ValueError:
        raise JudgmentError(
            f"{name} must be a UUID string made by the client (e.g. crypto.randomUUID() or "
            f"uuid.uuid4()), got {value!r}"
        ) from None


def _json_answers(answers: object) -> dict[str, Any]:
    if not isinstance(answers, dict):
        raise InvalidAnswerError(
            f"answers must be a dict of field -> value, got {type(answers).__name__}"
        )
    try:
        text = json.dumps(answers, ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError) as error:
        raise InvalidAnswerError(
            f"answers must be JSON data (str, numbers, bools, None, lists, dicts): {error}"
        ) from None
    cleaned: dict[str, Any] = json.loads(text)
    return cleaned


def _utc(name: str, value: object) -> datetime:
    if not isinstance(value, datetime) or value.tzinfo is None:
        raise JudgmentError(
            f"{name} must be a timezone-aware datetime, got {value!r}; "
            "use datetime.now(timezone.utc)"
        )
    return value.astimezone(timezone.utc)


def _utc_of(value: datetime) -> datetime:
    """A timestamp read back from the store (the column type makes it aware UTC)."""
    return value if value.tzinfo is not None else value.replace(tzinfo=timezone.utc)


def _same(a: Any, b: Any) -> bool:
    return json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)


def stored_judgment(conn: sa.Connection, client_id: str) -> Judgment | None:
    row = conn.execute(judgment_query().where(judgments.c.client_id == client_id)).first()
    return None if row is None else to_judgment(row)


def check_retry(stored: Judgment, new: Submission) -> Judgment:
    """The stored row when ``new`` is a retry of it, else JudgmentError."""
    differs = [
        name
        for name, value in (
            ("project", stored.project),
            ("task", stored.task),
            ("key", stored.item),
            ("reviewer", stored.reviewer),
            ("task_version", stored.task_version),
        )
        if value != getattr(new, name)
    ]
    if not _same(stored.answers, new.answers):
        differs.append("answers")
    if new.supersedes is not None and new.supersedes != stored.supersedes:
        differs.append("supersedes")
    if differs:
        raise JudgmentError(
            f"client id {new.client_id} was already used for another judgment (it differs in "
            f"{', '.join(differs)}); a retried submit must send the same content, and a new "
            "judgment needs a new client id"
        )
    return stored


def store_submission(
    conn: sa.Connection, new: Submission, done: list[tuple[int, int, int]] | None = None
) -> Judgment:
    """Insert ``new`` (inside the caller's write transaction) or return its stored retry.
    ``done`` gets ``(task id, reviewer id, item id)`` of a newly stored judgment."""
    stored = stored_judgment(conn, new.client_id)
    if stored is not None:
        return check_retry(stored, new)
    task = task_row(conn, new.project, new.task)
    item = item_row(conn, task, new.key)
    reviewer = reviewer_row(conn, new.reviewer)
    if not reviewer.active:
        raise AuthorizationError(
            f"reviewer {new.reviewer!r} is deactivated and cannot submit judgments; "
            "an admin can reactivate the account with set_active()"
        )
    stored_at = datetime.now(timezone.utc)
    version_id = conn.execute(
        sa.select(task_versions.c.id).where(
            task_versions.c.task_id == task.id, task_versions.c.version == new.task_version
        )
    ).scalar()
    if version_id is None:
        known = conn.execute(
            sa.select(task_versions.c.version).where(task_versions.c.task_id == task.id)
        ).scalars()
        raise JudgmentError(
            f"unknown task version {new.task_version} of task {new.project!r}/{new.task!r}; "
            f"known versions: {sorted(known)}"
        )
    # Serialise submits per item on PostgreSQL (SQLite already holds the write lock).
    assignment.lock_item(conn, item.id)
    assignment.hold(conn, task, item, reviewer, stored_at)
    current = conn.execute(
        sa.select(judgments.c.id, judgments.c.client_id, judgments.c.submitted_at)
        .outerjoin(following, following.c.supersedes_id == judgments.c.id)
        .where(
            judgments.c.item_id == item.id,
            judgments.c.reviewer_id == reviewer.id,
            following.c.id.is_(None),
        )
    ).first()
    supersedes_id = None if current is None else current.id
    if new.supersedes is not None:
        _check_supersedes(conn, new, current, item.id, reviewer.id)
    elif current is not None and _utc_of(current.submitted_at) > new.submitted_at:
        raise JudgmentError(
            f"this answer to {new.key} was made at {new.submitted_at:%Y-%m-%d %H:%M:%S} UTC, "
            f"before {new.reviewer!r}'s current answer "
            f"({_utc_of(current.submitted_at):%Y-%m-%d %H:%M:%S} UTC, from another tab or "
            "device); it was not stored and the current answer stands"
        )
    new_id = q.new_id(
        conn.execute(
            judgments.insert().values(
                client_id=new.client_id,
                item_id=item.id,
                reviewer_id=reviewer.id,
                task_version_id=version_id,
                answers=new.answers,
                supersedes_id=supersedes_id,
                started_at=new.started_at,
                submitted_at=new.submitted_at,
                stored_at=stored_at,
                duration_ms=new.duration_ms,
                run_fingerprint=item.run_fingerprint,
            )
        )
    )
    assignment.finish(conn, item.id, reviewer.id, stored_at)
    if done is not None:
        done.append((int(task.id), int(reviewer.id), int(item.id)))
    if new.score is not None and item.source_id is not None:
        conn.execute(
            simulation_scores.insert().values(
                judgment_id=new_id,
                description_id=item.source_id,
                score=float(new.score),
                n_examples=int(new.n_examples),
            )
        )
    adaptive.extend(conn, task, item)  # before the next stage sees the item as complete
    stages.advance(conn, task, item, new_id, new.client_id, supersedes_id)
    return Judgment(
        id=int(new_id),
        client_id=new.client_id,
        project=new.project,
        task=new.task,
        task_version=new.task_version,
        address=item.address,
        run_fingerprint=item.run_fingerprint,
        reviewer=new.reviewer,
        answers=new.answers,
        started_at=new.started_at,
        submitted_at=new.submitted_at,
        stored_at=stored_at,
        duration_ms=new.duration_ms,
        supersedes=None if current is None else current.client_id,
        superseded=False,
        item=item.key,
        source=item.source,
    )


def _check_supersedes(
    conn: sa.Connection,
    new: Submission,
    current: DbRow | None,
    item_id: int,
    reviewer_id: int,
) -> None:
    old = conn.execute(
        sa.select(judgments.c.id, judgments.c.item_id, judgments.c.reviewer_id).where(
            judgments.c.client_id == new.supersedes
        )
    ).first()
    if old is None:
        raise JudgmentError(
            f"supersedes={new.supersedes}: no judgment has that client id; pass the client id "
            "of the judgment being edited, or None for a first answer"
        )
    if old.item_id != item_id or old.reviewer_id != reviewer_id:
        raise JudgmentError(
            f"supersedes={new.supersedes} is a judgment of another item or reviewer; an edit "
            f"may only replace {new.reviewer!r}'s own judgment of {new.key!r}"
        )
    if current is None or current.id != old.id:
        latest = "none" if current is None else current.client_id
        raise JudgmentError(
            f"supersedes={new.supersedes} is no longer {new.reviewer!r}'s current judgment of "
            f"{new.key!r} (the current one is {latest}): it was edited meanwhile, e.g. in "
            "another tab; reload the item and edit its latest answer"
        )
