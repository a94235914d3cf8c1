"""ReviewSession: one reviewer working through one task's queue, with no UI attached.

The Panel app and the notebook widget both drive this object; it holds the queue, knows
which items the reviewer has answered, checks answers against the task's answer schema and
what the item showed, and stores judgments through the judgment store.

>>> session = ReviewSession(store, project, "describe-neurons", "alice", runs)  # doctest: +SKIP
>>> item = session.item(session.first_open())                                  # doctest: +SKIP
>>> session.submit(client_id=str(uuid.uuid4()), address=item.address,          # doctest: +SKIP
...                answers={...}, duration_ms=5200)
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from interpret_review.errors import AuthorizationError, JudgmentError
from interpret_review.judgments import Judgment, JudgmentStore, TaskVersion
from interpret_review.review.answers import AnswerSchema
from interpret_review.review.items import shown_examples, shown_maps
from interpret_review.review.project import Project, TaskSpec
from interpret_review.review.runs import RunSet

__all__ = ["ReviewItem", "ReviewSession"]

#: A client clock may be this far ahead of the server before its submit time is ignored.
_CLOCK_SLACK = timedelta(seconds=60)
#: Submit times older than this (a very old queued retry) are replaced by the server's time.
_MAX_AGE = timedelta(days=30)
_MAX_DURATION_MS = 24 * 3600 * 1000


@dataclass(frozen=True)
class ReviewItem:
    """One item of the queue as a reviewer sees it."""

    address: str
    index: int  # position in this reviewer's queue, 0-based
    total: int  # items in the queue
    answers: dict[str, Any] | None  # the reviewer's current answers; None when unanswered
    judgment: str | None  # client id of the current judgment (what an edit supersedes)
    shown_examples: dict[int, str]  # example rows the item shows -> their names on the page
    shown_maps: tuple[str, ...]  # attribution maps the item shows


class ReviewSession:
    """Reviewer ``reviewer``'s queue of task ``task`` of ``project``.

    Items come in the task's order. Answers are checked against the latest task version's
    answer schema; every judgment records that version.
    """

    def __init__(
        self, store: JudgmentStore, project: Project, task: str, reviewer: str, runs: RunSet
    ) -> None:
        self.store, self.project, self.runs = store, project, runs
        self.spec: TaskSpec = project.task(task)
        account = store.get_reviewer(reviewer)
        if account is None or not account.active:
            raise AuthorizationError(
                f"account {reviewer!r} "
                + ("does not exist" if account is None else "is deactivated")
                + "; ask the project's researcher to add or reactivate it"
            )
        self.reviewer = account
        self.version: TaskVersion = store.task_version(project.name, task)
        self.schema = AnswerSchema.from_dict(self.version.answer_schema)
        self.addresses: list[str] = [i.address for i in store.items(project.name, task)]
        self._index = {address: i for i, address in enumerate(self.addresses)}
        self.current: dict[str, Judgment] = store.current(project.name, task, reviewer)

    @property
    def task(self) -> str:
        return self.spec.name

    # -- the queue ------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self.addresses)

    def index_of(self, address: str) -> int:
        try:
            return self._index[address]
        except KeyError:
            raise JudgmentError(
                f"{address!r} is not an item of task {self.task!r}; it may have been removed "
                "from the project file"
            ) from None

    def item(self, index: int) -> ReviewItem:
        """The item at queue position ``index`` (0-based)."""
        if not 0 <= index < len(self.addresses):
            raise JudgmentError(
                f"queue position {index} is out of range: task {self.task!r} has "
                f"{len(self.addresses)} items"
            )
        address = self.addresses[index]
        judgment = self._fresh(address)  # another tab may have answered it meanwhile
        run = self.runs[self.spec.run]
        return ReviewItem(
            address=address,
            index=index,
            total=len(self.addresses),
            answers=None if judgment is None else dict(judgment.answers),
            judgment=None if judgment is None else judgment.client_id,
            shown_examples=shown_examples(run, address),
            shown_maps=shown_maps(self.spec, run, address),
        )

    def first_open(self) -> int | None:
        """The first item this reviewer has not answered, or None when all are answered."""
        return self.next_open(-1)

    def next_open(self, after: int) -> int | None:
        """The first unanswered item after position ``after``, wrapping round; None if none."""
        n = len(self.addresses)
        for step in range(1, n + 1):
            index = (after + step) % n
            if self.addresses[index] not in self.current:
                return index
        return None

    def progress(self) -> tuple[int, int]:
        """``(answered, total)``."""
        return len(self.current), len(self.addresses)

    def _fresh(self, address: str) -> Judgment | None:
        """This reviewer's current judgment of ``address``, read from the store now."""
        current = self.store.current_of(
            self.project.name, self.task, self.reviewer.username, address
        )
        if current is None:
            self.current.pop(address, None)
        else:
            self.current[address] = current
        return current

    # -- answering ------------------------------------------------------------------------

    def submit(
        self,
        *,
        client_id: str,
        address: str,
        answers: dict[str, Any],
        duration_ms: int,
        submitted_at: datetime | None = None,
        supersedes: str | None = None,
    ) -> Judgment:
        """Check ``answers`` and store them; returns the stored judgment.

        ``client_id`` (a UUID made by the client) makes a retried submit store one row.
        ``duration_ms`` is how long the item was on screen; ``submitted_at`` the client's
        time of the submit (kept unless it is in the future or very old, then the server's
        time is used). ``supersedes`` is the client id of the answer being edited.
        """
        self.index_of(address)  # a JudgmentError for anything outside this task
        run = self.runs[self.spec.run]
        now = datetime.now(timezone.utc)
        if submitted_at is None or not now - _MAX_AGE <= submitted_at <= now + _CLOCK_SLACK:
            submitted_at = now
        duration = min(max(int(duration_ms), 0), _MAX_DURATION_MS)
        try:
            cleaned = self.schema.validate(
                answers,
                shown_examples=list(shown_examples(run, address)),
                shown_maps=shown_maps(self.spec, run, address),
            )
            judgment = self._store(client_id, address, cleaned, submitted_at, duration, supersedes)
        except JudgmentError:
            # a retry of an answer stored before the task's schema or version changed?
            stored = self._retried(client_id, address)
            if stored is None:
                raise
            return stored
        if not judgment.superseded:
            self.current[address] = judgment
        return judgment

    def _store(
        self,
        client_id: str,
        address: str,
        answers: dict[str, Any],
        submitted_at: datetime,
        duration: int,
        supersedes: str | None,
    ) -> Judgment:
        return self.store.submit(
            client_id=client_id,
            project=self.project.name,
            task=self.task,
            address=address,
            reviewer=self.reviewer.username,
            answers=answers,
            task_version=self.version.version,
            started_at=submitted_at - timedelta(milliseconds=duration),
            submitted_at=submitted_at,
            supersedes=supersedes,
        )

    def _retried(self, client_id: str, address: str) -> Judgment | None:
        """The judgment already stored under ``client_id`` when this submit is a retry of it
        (same reviewer, task and item), else None; another judgment's id is an error."""
        stored = self.store.judgment(client_id)
        if stored is None:
            return None
        if (stored.reviewer, stored.task, stored.address) != (
            self.reviewer.username,
            self.task,
            address,
        ):
            raise JudgmentError(
                f"client id {client_id} was already used for another judgment; a new "
                "judgment needs a new client id"
            )
        if not stored.superseded:
            self.current[address] = stored
        return stored
