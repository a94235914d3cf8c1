"""Plain, frozen records the judgment store returns (no SQLAlchemy objects).

Timestamps are timezone-aware UTC ``datetime`` objects on every backend.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from interpret_review.tasks.model import TaskSettings

__all__ = [
    "Assignment",
    "Item",
    "Judgment",
    "Progress",
    "Reviewer",
    "RunRecord",
    "TaskVersion",
    "TierChange",
]


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
    settings: TaskSettings = field(default_factory=TaskSettings)


@dataclass(frozen=True)
class Item:
    """One reviewable item of a task: a canonical address inside a run with that fingerprint.

    ``key`` names it within the task: its address, or ``ADDRESS@CLIENT_ID`` for an item made
    from an earlier stage's judgment ``source`` (a description to verify). ``gold`` holds the
    expected answers of a gold item (never shown to reviewers); an inactive item is no longer
    served (its source was edited, or it left the project).
    """

    id: int
    task_id: int
    address: str
    run_fingerprint: str
    position: int
    key: str = ""
    source: str | None = None
    gold: dict[str, Any] | None = None
    active: bool = True
    extra: int = 0  # reviewers added to the task's overlap because answers disagreed


@dataclass(frozen=True)
class Assignment:
    """One reviewer's hold on one item: ``leased`` until ``expires_at``, then ``done``,
    ``skipped`` (with a reason) or ``released``."""

    item: str  # the item's key
    address: str
    reviewer: str
    status: str
    leased_at: datetime
    expires_at: datetime
    finished_at: datetime | None
    skip_reason: str | None


@dataclass(frozen=True)
class Progress:
    """One reviewer's work on one task, or everyone's (``reviewer`` None: ``done`` counts
    the items that have all their reviewers, ``answers`` the answers given of ``slots``)."""

    task: str
    reviewer: str | None
    done: int
    in_progress: int
    skipped: int
    items: int
    time_ms: int
    answers: int = 0
    slots: int = 0


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
    item: str = ""  # the item's key (its address, or ADDRESS@CLIENT_ID of a derived item)
    source: str | None = None  # client id of the judgment a derived item was made from


@dataclass(frozen=True)
class TierChange:
    """One change of a reviewer's trust tier in a project; the latest is their current tier.

    ``source`` is ``rule`` (a rule of the project's ``[quality]`` table matched; ``evidence``
    holds the figures it saw) or ``researcher`` (an override by ``by``; ``pinned`` keeps the
    rules from changing it until a researcher unpins it). A ``paused`` reviewer gets no new
    items and their answers leave the consensus; ``role`` is the role the change granted.
    """

    project: str
    reviewer: str
    tier: str
    paused: bool
    role: str | None
    source: str
    pinned: bool
    reason: str
    evidence: dict[str, Any]
    by: str | None
    at: datetime


@dataclass(frozen=True)
class RunRecord:
    """A run a project was synced with: one per name and fingerprint. The record of a name
    seen last is the run as it is now; judgments made on an older record of the same name
    with another model or dataset fingerprint are stale."""

    project: str
    name: str
    run_fingerprint: str
    model_fingerprint: str
    dataset_fingerprint: str
    path: str
    n_examples: int
    first_seen: datetime
    last_seen: datetime
