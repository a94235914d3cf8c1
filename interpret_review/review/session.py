"""ReviewSession: one reviewer working through one task's queue, with no UI attached.

The Panel app and the notebook widget both drive this object; it holds the queue, knows
which items the reviewer has answered, checks answers against the task's answer schema and
what the item showed, and stores judgments through the judgment store.

>>> session = ReviewSession(store, project, "describe-neurons", "alice", runs)  # doctest: +SKIP
>>> item = session.item(session.first_open())                                  # doctest: +SKIP
>>> session.submit(client_id=str(uuid.uuid4()), key=item.key,                  # doctest: +SKIP
...                answers={...}, duration_ms=5200)
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from interpret_review.errors import AuthorizationError, JudgmentError
from interpret_review.judgments import Item, Judgment, JudgmentStore, TaskVersion
from interpret_review.review.items import (
    held_out_examples,
    item_examples,
    shown_maps,
    simulation_score,
)
from interpret_review.review.project import Project
from interpret_review.review.runs import RunSet
from interpret_review.tasks import Task
from interpret_review.tasks.answers import AnswerSchema

__all__ = ["ReviewItem", "ReviewSession", "descriptions_of"]

#: A client clock may be this far ahead of the server before its submit time is ignored.
_CLOCK_SLACK = timedelta(seconds=60)
#: Submit times older than this (a very old queued retry) are replaced by the server's time.
_MAX_AGE = timedelta(days=30)
_MAX_DURATION_MS = 24 * 3600 * 1000
#: Seconds between two counts of the items a reviewer could still be handed (a full pass
#: over the task: shown as "Item 12 of N", so an estimate in between is good enough).
_RECOUNT = 30.0


@dataclass(frozen=True)
class ReviewItem:
    """One item of the queue as a reviewer sees it."""

    address: str  # the item's canonical address (what the viewer shows)
    position: int  # queue position: the item's place in this reviewer's queue, 0-based
    total: int  # items this reviewer has and can still be handed
    answers: dict[str, Any] | None  # the reviewer's current answers; None when unanswered
    judgment: str | None  # client id of the current judgment (what an edit supersedes)
    shown_examples: dict[int, str]  # example rows the item shows -> their names on the page
    shown_maps: tuple[str, ...]  # attribution maps the item shows
    key: str = ""  # the item's key in its task (its address, or ADDRESS@CLIENT_ID)
    #: What an item of a later stage shows besides the run: ``description`` (a verify item's
    #: description to simulate) or ``descriptions`` (an adjudicate item's, with scores).
    context: dict[str, Any] = field(default_factory=dict)


class ReviewSession:
    """Reviewer ``reviewer``'s queue of task ``task`` of ``project``.

    The store hands items out one at a time (:meth:`first_open`), each under a lease, in
    the reviewer's own order; the queue is what they were handed, so they can go back and
    edit. Answers are checked against the latest task version's answer schema; every
    judgment records that version.
    """

    def __init__(
        self, store: JudgmentStore, project: Project, task: str, reviewer: str, runs: RunSet
    ) -> None:
        self.store, self.project, self.runs = store, project, runs
        self.spec: Task = project.task(task)
        account = store.get_reviewer(reviewer)
        if account is None or not account.active:
            raise AuthorizationError(
                f"account {reviewer!r} "
                + ("does not exist" if account is None else "is deactivated")
                + "; ask the project's researcher to add or reactivate it"
            )
        self.reviewer = account
        store.check_access(project.name, task, reviewer)
        self.version: TaskVersion = store.task_version(project.name, task)
        self.schema = AnswerSchema.from_dict(self.version.answer_schema)
        self.keys: list[str] = []
        self._items: dict[str, Item] = {}
        self._positions: dict[str, int] = {}
        for item in store.queue(project.name, task, reviewer):
            self._remember(item)
        self.current: dict[str, Judgment] = store.current(project.name, task, reviewer)
        self._available = 0
        self._counted_at = -float("inf")
        self._handed: tuple[Item | None] | None = None  # see submit(advance=True)
        self._unanswered: set[str] = set()  # handed out just now, not shown yet

    @property
    def task(self) -> str:
        return self.spec.name

    @property
    def addresses(self) -> list[str]:
        """The item keys of this reviewer's queue (kept for callers of the first version)."""
        return self.keys

    def _remember(self, item: Item) -> int:
        if item.key not in self._positions:
            self._positions[item.key] = len(self.keys)
            self.keys.append(item.key)
        self._items[item.key] = item
        return self._positions[item.key]

    # -- the queue ------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self.keys)

    def _lookup(self, key: str) -> Item:
        """Item ``key`` of this task, from the queue or else from the store (an answer
        queued in the browser for an item of an earlier visit); it joins the queue only
        once the store has accepted an answer for it."""
        if key in self._items:
            return self._items[key]
        try:
            return self.store.item(self.project.name, self.task, key)
        except JudgmentError:
            raise JudgmentError(
                f"{key!r} is not an item of task {self.task!r}; it may have been removed "
                "from the project file"
            ) from None

    def item(self, position: int) -> ReviewItem:
        """The item at queue position ``position`` (0-based)."""
        if not 0 <= position < len(self.keys):
            raise JudgmentError(
                f"queue position {position} is out of range: {self.reviewer.username!r} has "
                f"{len(self.keys)} items of task {self.task!r} so far"
            )
        key = self.keys[position]
        item = self._items[key]
        if key in self._unanswered:  # handed out just now: not answered by anyone's tab
            self._unanswered.discard(key)
            judgment = None
        else:
            judgment = self._fresh(key)  # another tab may have answered it meanwhile
        run = self.runs[self.spec.run]
        return ReviewItem(
            address=item.address,
            position=position,
            total=len(self.keys) + self._available,
            answers=None if judgment is None else dict(judgment.answers),
            judgment=None if judgment is None else judgment.client_id,
            shown_examples=item_examples(self.spec, run, item.address),
            shown_maps=shown_maps(self.spec, run, item.address),
            key=key,
            context=self._context(item),
        )

    def first_open(self) -> int | None:
        """The queue position of the item to answer now: the one this reviewer holds, else
        one handed out now; None when the task has nothing left for them."""
        if self._handed is not None:  # handed out with the last answer
            (item,), self._handed = self._handed, None
        else:
            item = self.store.claim(self.project.name, self.task, self.reviewer.username)
        new = item is not None and item.key not in self._positions
        position = None if item is None else self._remember(item)
        if new and item is not None:
            self._unanswered.add(item.key)
        self._count_available(new)
        return position

    def _count_available(self, claimed_new: bool) -> None:
        """How many more items the store could hand out: counted (a pass over the task) at
        most every ``_RECOUNT`` seconds, else one less for each item handed out."""
        now = time.monotonic()
        if now - self._counted_at > _RECOUNT:
            self._available = self.store.available(
                self.project.name, self.task, self.reviewer.username
            )
            self._counted_at = now
        elif claimed_new:
            self._available = max(self._available - 1, 0)

    def next_open(self, after: int | None = None) -> int | None:
        """The item to answer after the one at ``after``: see :meth:`first_open`."""
        return self.first_open()

    def upcoming(self) -> str | None:
        """The address the reviewer will probably be handed next (nothing is leased)."""
        return self.store.peek(self.project.name, self.task, self.reviewer.username)

    def progress(self) -> tuple[int, int]:
        """``(answered, total)``: total counts what this reviewer holds, has answered and
        can still be handed."""
        answered = sum(1 for key in self.keys if key in self.current)
        return answered, len(self.keys) + self._available

    def _fresh(self, key: str) -> Judgment | None:
        """This reviewer's current judgment of item ``key``, read from the store now."""
        current = self.store.current_of(self.project.name, self.task, self.reviewer.username, key)
        if current is None:
            self.current.pop(key, None)
        else:
            self.current[key] = current
        return current

    def _context(self, item: Item) -> dict[str, Any]:
        """What a later stage's item shows from the earlier ones."""
        if self.spec.stage == "verify" and item.source is not None:
            described = self.store.judgment(item.source)
            return {"description": None if described is None else dict(described.answers)}
        if self.spec.stage == "adjudicate":
            return {
                "descriptions": descriptions_of(self.store, self.project, self.spec, item.address)
            }
        return {}

    # -- answering ------------------------------------------------------------------------

    def hold(self, key: str) -> None:
        """Renew this reviewer's lease of item ``key`` (they are still working on it)."""
        self.store.assign(
            self.project.name, self.task, self._lookup(key).key, self.reviewer.username
        )

    def skip(self, key: str, reason: str) -> None:
        """Give item ``key`` back with ``reason``; it is not served to this reviewer again."""
        self._lookup(key)
        self.store.skip(self.project.name, self.task, key, self.reviewer.username, reason)

    def submit(
        self,
        *,
        client_id: str,
        key: str,
        answers: dict[str, Any],
        duration_ms: int,
        submitted_at: datetime | None = None,
        supersedes: str | None = None,
        advance: bool = False,
    ) -> Judgment:
        """Check ``answers`` and store them; returns the stored judgment.

        ``advance`` also hands out the reviewer's next item in the same transaction (the
        next :meth:`first_open` returns it without asking the store again).

        ``key`` is the item key (its address for a review task). ``client_id`` (a
        UUID made by the client) makes a retried submit store one row. ``duration_ms`` is
        how long the item was on screen; ``submitted_at`` the client's time of the submit
        (kept unless it is in the future or very old, then the server's time is used).
        ``supersedes`` is the client id of the answer being edited.
        """
        item = self._lookup(key)  # a JudgmentError for anything outside this task
        run = self.runs[self.spec.run]
        now = datetime.now(timezone.utc)
        if submitted_at is None or not now - _MAX_AGE <= submitted_at <= now + _CLOCK_SLACK:
            submitted_at = now
        duration = min(max(int(duration_ms), 0), _MAX_DURATION_MS)
        try:
            shown = item_examples(self.spec, run, item.address)
            cleaned = self.schema.validate(
                answers,
                shown_examples=list(shown),
                shown_maps=shown_maps(self.spec, run, item.address),
            )
            score = self._score(item, cleaned)
            judgment = self._store(
                client_id, key, cleaned, submitted_at, duration, supersedes, score, advance
            )
        except JudgmentError:
            # a retry of an answer stored before the task's schema or version changed?
            stored = self._retried(client_id, key)
            if stored is None:
                raise
            return stored
        self._remember(item)
        if not judgment.superseded:
            self.current[key] = judgment
        return judgment

    def _score(self, item: Item, answers: dict[str, Any]) -> tuple[float, int] | None:
        """A verify judgment's simulation score, from its predictions field."""
        if self.spec.stage != "verify":
            return None
        field = next((f for f in self.schema.fields if f.type == "predictions"), None)
        if field is None:
            return None
        activations = held_out_examples(self.spec, self.runs[self.spec.run], item.address)
        return simulation_score(answers.get(field.name) or {}, field.choices, activations)

    def _store(
        self,
        client_id: str,
        key: str,
        answers: dict[str, Any],
        submitted_at: datetime,
        duration: int,
        supersedes: str | None,
        score: tuple[float, int] | None,
        advance: bool,
    ) -> Judgment:
        submission: dict[str, Any] = dict(
            client_id=client_id,
            project=self.project.name,
            task=self.task,
            key=key,
            reviewer=self.reviewer.username,
            answers=answers,
            task_version=self.version.version,
            started_at=submitted_at - timedelta(milliseconds=duration),
            submitted_at=submitted_at,
            supersedes=supersedes,
            score=None if score is None else score[0],
            n_examples=0 if score is None else score[1],
        )
        if not advance:
            return self.store.submit(**submission)
        judgment, handed = self.store.submit_and_claim(**submission)
        # nothing handed out: the next first_open() asks the store again, which says why
        # when it is a pause rather than an empty queue
        self._handed = None if handed is None else (handed,)
        return judgment

    def _retried(self, client_id: str, key: str) -> Judgment | None:
        """The judgment already stored under ``client_id`` when this submit is a retry of it
        (same reviewer, task and item), else None; another judgment's id is an error."""
        stored = self.store.judgment(client_id)
        if stored is None:
            return None
        if (stored.reviewer, stored.task, stored.item) != (
            self.reviewer.username,
            self.task,
            key,
        ):
            raise JudgmentError(
                f"client id {client_id} was already used for another judgment; a new "
                "judgment needs a new client id"
            )
        self._remember(self._lookup(key))
        if not stored.superseded:
            self.current[key] = stored
        return stored


def descriptions_of(
    store: JudgmentStore, project: Project, spec: Task, address: str
) -> list[dict[str, Any]]:
    """The descriptions an adjudicator weighs for ``address``: each current judgment of the
    pipeline's review task, with its mean simulation score when there is a verify stage
    (best first)."""
    verify = None
    review = spec
    while review.source is not None:
        upstream = project.task(review.source)
        if upstream.stage == "verify":
            verify = upstream
        review = upstream
    scores = {} if verify is None else store.description_scores(project.name, verify.name)
    out: list[dict[str, Any]] = []
    for number, judgment in enumerate(store.current_of_item(project.name, review.name, address)):
        score, n = scores.get(judgment.client_id, (None, 0))
        out.append(
            {
                "id": judgment.client_id,
                "reviewer": f"R{number + 1}",  # no names: adjudicators weigh words, not people
                "answers": dict(judgment.answers),
                "score": score,
                "verifications": n,
            }
        )
    out.sort(key=lambda d: -1.0 if d["score"] is None else -float(d["score"]))
    return out
