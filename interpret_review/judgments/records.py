"""Plain, frozen records the judgment store returns (no SQLAlchemy objects).

Timestamps are timezone-aware UTC ``datetime`` objects on every backend.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

__all__ = ["ROLES", "Item", "Judgment", "Reviewer", "TaskVersion"]

#: The account roles, least to most privileged in what they may see.
ROLES: tuple[str, ...] = ("reviewer", "adjudicator", "researcher")


@dataclass(frozen=True)
class Reviewer:
    """An account. Its password hash never leaves the store."""

    id: int
    username: str
    display_name: str
    role: str
    active: bool


@dataclass(frozen=True)
class TaskVersion:
    """One version of a task: what reviewers are told (Markdown) and what they answer."""

    task_id: int
    project: str
    task: str
    kind: str
    title: str
    version: int
    instructions: str
    answer_schema: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Item:
    """One reviewable item of a task: a canonical address inside a run with that fingerprint."""

    id: int
    task_id: int
    address: str
    run_fingerprint: str
    position: int


@dataclass(frozen=True)
class Judgment:
    """One stored submission. ``supersedes`` is the client id of the row this one replaces;
    ``superseded`` is True when a later row replaces this one."""

    id: int
    client_id: str
    project: str
    task: str
    task_version: int
    address: str
    run_fingerprint: str
    reviewer: str
    answers: dict[str, Any]
    started_at: datetime
    submitted_at: datetime
    stored_at: datetime
    duration_ms: int
    supersedes: str | None
    superseded: bool
