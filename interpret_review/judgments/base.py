"""The judgment store's core: engine, schema revision, read and write transactions.

Each table family's methods (``repo_*.py``) build on :class:`StoreCore`;
:class:`~interpret_review.judgments.JudgmentStore` joins them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from typing import Any, TypeVar

import sqlalchemy as sa
from argon2 import PasswordHasher
from sqlalchemy import exc

from interpret_review._version import __version__
from interpret_review.errors import JudgmentError, StoreUnavailableError
from interpret_review.judgments import migrate as migrations
from interpret_review.judgments import queries as q
from interpret_review.judgments.engine import (
    create_store_engine,
    mask_url,
    translate_errors,
    writer,
)
from interpret_review.judgments.passwords import Passwords
from interpret_review.judgments.queues import QueueCache
from interpret_review.judgments.records import Judgment

__all__ = ["StoreCore"]

T = TypeVar("T")

_RETRIES = 3  # attempts of a write that lost a uniqueness race to another process


log = logging.getLogger("interpret_review.judgments")


class StoreCore:
    """The connection to one SQL database that every part of the store shares: the engine,
    the schema check, and read and write transactions (writes retried on lost races)."""

    def __init__(self, url: str, *, password_hasher: PasswordHasher | None = None) -> None:
        self._engine = create_store_engine(url)
        self._writer = writer(self._engine)
        self._passwords = Passwords(password_hasher)
        self._queues = QueueCache()  # reviewers' orders of tasks' items in this process
        #: The URL with its password masked; safe to print and log.
        self.url: str = mask_url(url)
        self._schema_checked = False

    def migrate(self) -> None:
        """Create or update the tables (Alembic ``upgrade head``).

        Safe to call again, and from two processes at once (a lock serialises them).
        """
        with translate_errors(self.url, "migrating"):
            migrations.upgrade(self._engine)
        self._schema_checked = True

    def close(self) -> None:
        """Close every pooled connection."""
        self._engine.dispose()

    def _check_schema(self, action: str) -> None:
        """Once per store object: bring a store made by an earlier interpret-review up to
        date (migrations keep every stored value, at most moved to a typed column), and
        refuse one made by a later version instead of misreading it. An empty database is
        left to :meth:`migrate`."""
        if self._schema_checked:
            return
        with translate_errors(self.url, action):
            found = migrations.current_revision(self._engine)
            head = migrations.head_revision()
            if found is not None and found != head:
                if found not in migrations.known_revisions():
                    raise JudgmentError(
                        f"judgment store {self.url} is at schema revision {found!r}, which this "
                        f"interpret-review ({__version__}, revisions up to {head!r}) does not "
                        "know: it was written by a newer version; upgrade interpret-review"
                    )
                log.warning(
                    "judgment store %s: upgrading its tables from revision %s to %s",
                    self.url,
                    found,
                    head,
                )
                migrations.upgrade(self._engine)
        self._schema_checked = True

    @contextmanager
    def _read(self, action: str) -> Iterator[sa.Connection]:
        self._check_schema(action)
        with translate_errors(self.url, action), self._engine.connect() as conn:
            with conn.begin():
                yield conn

    def _write(self, action: str, work: Callable[..., T], *args: Any) -> T:
        """Run ``work(conn, *args)`` in a write transaction; retry lost uniqueness races and
        transactions PostgreSQL aborted as deadlocked or not serialisable."""
        self._check_schema(action)
        for attempt in range(_RETRIES):
            try:
                with translate_errors(self.url, action), self._writer.connect() as conn:
                    with conn.begin():
                        return work(conn, *args)
            except StoreUnavailableError as error:
                cause = getattr(error.__cause__, "orig", None)
                if getattr(cause, "sqlstate", None) not in ("40P01", "40001"):
                    raise
                if attempt == _RETRIES - 1:
                    raise
            except exc.IntegrityError as error:
                if attempt == _RETRIES - 1:
                    raise StoreUnavailableError(
                        f"judgment store {self.url}: {action} kept conflicting with concurrent "
                        f"writes ({str(error.orig).splitlines()[0]}); retry"
                    ) from error
        raise AssertionError("unreachable")

    def _lookup(
        self, conn: sa.Connection, project: str, task: str, reviewer: str
    ) -> tuple[Any, Any]:
        return q.task_row(conn, project, task), q.reviewer_row(conn, reviewer)

    def _task_and_reviewer(self, project: str, task: str, reviewer: str) -> tuple[int, int]:
        with self._read("reading judgments") as conn:
            return q.task_row(conn, project, task).id, q.reviewer_row(conn, reviewer).id

    def _judgments_where(self, action: str, *where: Any) -> list[Judgment]:
        with self._read(action) as conn:
            rows = conn.execute(q.judgment_query().where(*where)).all()
        return [q.to_judgment(r) for r in rows]

    def _passed(self, done: list[tuple[int, int, int]]) -> None:
        """Tell the queue cache which item was just answered (after the commit)."""
        for task_id, reviewer_id, item_id in done[-1:]:  # the attempt that committed
            self._queues.passed(task_id, reviewer_id, item_id)


def _now() -> datetime:
    return datetime.now(timezone.utc)
