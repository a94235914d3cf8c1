"""The task model: what a task asks, of whom, how often, and when an item needs more answers.

A :class:`Task` is parsed from a ``[[tasks]]`` table, of the project file or of the admin
page alike (:mod:`interpret_review.tasks.parse`). The judgment store keeps what decides who
answers which item as :class:`TaskSettings` (typed columns of its ``tasks`` table) and what
reviewers are told and answer as versions; every reader of a project gets the same ``Task``
objects (:func:`interpret_review.review.project.current_project`).

Nothing here touches a database, a run file or the web: policies are pure functions over
plain values, called inside the store's transactions.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from interpret_review.tasks.answers import AnswerSchema
from interpret_review.tasks.sanity import SanityRules

__all__ = [
    "CONSENSUS_POLICIES",
    "CONSENSUS_TYPES",
    "HELD_OUT",
    "ROLES",
    "STAGES",
    "AdaptiveRule",
    "Task",
    "TaskSettings",
    "WorkedExample",
    "agreement_share",
    "role_allows",
    "wants_another_reviewer",
]

#: The account roles, least to most privileged in what they may see.
ROLES: tuple[str, ...] = ("reviewer", "adjudicator", "researcher")
#: What a task asks: ``review`` an item (stage 1 of a pipeline, or a task on its own),
#: ``verify`` a description of an earlier task by simulating it, or ``adjudicate``.
STAGES: tuple[str, ...] = ("review", "verify", "adjudicate")
#: How a task's items get their consensus label: the most common answer, the reliability
#: model's posterior (reviewers weighted by estimated competence), or an adjudicator's
#: decision where there is one (else the reliability model).
CONSENSUS_POLICIES = ("majority", "reliability", "adjudicated")
#: Answer field types a consensus label can be computed on.
CONSENSUS_TYPES = ("choice", "scale", "boolean")
#: Held-out examples a verify task shows per activation band.
HELD_OUT = {"high": 4, "medium": 4, "low": 4}


def role_allows(role: str, required: str) -> bool:
    """Whether an account of ``role`` may work on a task open to ``required`` and above."""
    return ROLES.index(role) >= ROLES.index(required)


def agreement_share(values: Iterable[Any]) -> float:
    """The share of answers that give the most common value (1.0 when all agree)."""
    keys = [json.dumps(v, sort_keys=True) for v in values]
    if not keys:
        return 1.0
    return Counter(keys).most_common(1)[0][1] / len(keys)


@dataclass(frozen=True)
class AdaptiveRule:
    """Adaptive overlap: while fewer than ``min_agreement`` of an item's answers give the
    same value of ``field``, it gets one more reviewer, up to ``max_overlap``."""

    field: str
    min_agreement: float
    max_overlap: int


def wants_another_reviewer(
    *,
    overlap: int,
    slots: int,
    counted: list[Mapping[str, Any]],
    ignored: int,
    rule: AdaptiveRule | None,
) -> bool:
    """Whether an item whose ``slots`` are all answered gets one more slot.

    ``counted`` are the answers that count (not a paused reviewer's), ``ignored`` how many
    do not. A paused reviewer's answer is replaced; otherwise the item grows only while
    its counted answers disagree more than ``rule`` allows. Never beyond the rule's
    ``max_overlap`` (the task's ``overlap`` without a rule), plus the replacements.
    """
    cap = (rule.max_overlap if rule else overlap) + ignored
    if slots >= cap:
        return False
    if len(counted) < overlap:
        return True  # a replacement for a paused reviewer's answer
    if rule is None:
        return False
    values = [a.get(rule.field) for a in counted if a.get(rule.field) not in (None, "")]
    return agreement_share(values) < rule.min_agreement


@dataclass(frozen=True)
class TaskSettings:
    """What the judgment store keeps of a task besides its versioned instructions and
    answer schema: who answers its items, how many times, in which order.

    ``stage`` is ``review`` (answer each item), ``verify`` (simulate each description made
    in task ``source``) or ``adjudicate`` (decide each item of ``source``'s pipeline).
    ``overlap`` distinct reviewers answer each item (more under ``adaptive``); a reviewer
    holds an item for ``lease_seconds`` before it returns to the pool; ``shuffle`` orders
    each reviewer's queue differently; ``role`` is the least role that may work on it, and
    ``members`` (when not empty) the only accounts that may. ``definition`` is the task's
    table as written (in the project file, or on the admin page: ``origin``) and
    ``fingerprint`` a hash of the task it defines.
    """

    stage: str = "review"
    source: str | None = None
    overlap: int = 1
    lease_seconds: int = 1800
    shuffle: bool = True
    role: str = "reviewer"
    members: tuple[str, ...] = ()
    adaptive: AdaptiveRule | None = None
    fingerprint: str = ""
    definition: Mapping[str, Any] = field(default_factory=dict)
    origin: str = "file"


@dataclass(frozen=True)
class WorkedExample:
    """An item with the answer the researcher would give, and why (Markdown)."""

    address: str
    answers: Mapping[str, Any]
    why: str = ""


@dataclass(frozen=True)
class Task:
    """One task of a project, as defined (see :mod:`interpret_review.tasks.parse` for the
    keys of its table). ``origin`` says where it was defined: ``file`` or ``admin``."""

    name: str
    kind: str
    run: str
    title: str
    instructions: str
    schema: AnswerSchema
    layers: tuple[str, ...] = ()
    units: Mapping[str, tuple[int, ...]] = field(default_factory=dict)
    examples: int | tuple[int, ...] | None = None
    methods: tuple[str, ...] = ()
    stage: str = "review"
    source: str | None = None
    overlap: int = 1
    lease_seconds: int = 1800
    shuffle: bool = True
    role: str = "reviewer"
    reviewers: tuple[str, ...] = ()
    gold: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    worked_examples: tuple[WorkedExample, ...] = ()
    held_out: Mapping[str, int] = field(default_factory=lambda: dict(HELD_OUT))
    sanity: SanityRules = field(default_factory=SanityRules)  # attribution maps' trust gate
    definition: Mapping[str, Any] = field(default_factory=dict)  # the table as written
    origin: str = "file"
    consensus: str = "reliability"
    consensus_field: str | None = None  # None: no field a consensus applies to
    adaptive: AdaptiveRule | None = None

    @property
    def fingerprint(self) -> str:
        """A hash of the task as defined (its table, instructions and answer schema)."""
        text = json.dumps(
            [dict(self.definition), self.instructions, self.schema.to_dict()],
            sort_keys=True,
            default=str,
        )
        return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]

    @property
    def settings(self) -> TaskSettings:
        """What the judgment store keeps of the task besides its versions."""
        return TaskSettings(
            stage=self.stage,
            source=self.source,
            overlap=self.overlap,
            lease_seconds=self.lease_seconds,
            shuffle=self.shuffle,
            role=self.role,
            members=self.reviewers,
            adaptive=self.adaptive,
            fingerprint=self.fingerprint,
            definition=dict(self.definition),
            origin=self.origin,
        )
