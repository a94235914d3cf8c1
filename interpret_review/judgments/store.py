"""``JudgmentStore``: the one object that reads and writes judgments (the only SQL user).

>>> store = JudgmentStore("sqlite://")   # in memory; use a file or PostgreSQL for real work
>>> store.migrate()
>>> store.ensure_project("demo")
1
>>> store.close()
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from argon2 import PasswordHasher
from sqlalchemy import exc

from interpret_review.errors import ConfigError, JudgmentError, StoreUnavailableError
from interpret_review.judgments import accounts, catalog
from interpret_review.judgments import migrate as migrations
from interpret_review.judgments import queries as q
from interpret_review.judgments.engine import (
    create_store_engine,
    mask_url,
    translate_errors,
    writer,
)
from interpret_review.judgments.passwords import Passwords
from interpret_review.judgments.records import Item, Judgment, Reviewer, TaskVersion
from interpret_review.judgments.submission import Submission, store_submission, stored_judgment
from interpret_review.judgments.tables import (
    items,
    judgments,
    projects,
    reviewers,
    task_versions,
    tasks,
)

__all__ = ["JudgmentStore"]

_RETRIES = 3  # attempts of a write that lost a uniqueness race to another process


class JudgmentStore:
    """Reviewers, projects, tasks, items and judgments in one SQL database.

    ``url`` is an SQLAlchemy URL: ``sqlite:///PATH`` (the default beside a project file,
    see :meth:`sqlite_beside`) or ``postgresql+psycopg://USER:PASSWORD@HOST/DB``. Opening a
    store does not change the database; call :meth:`migrate` to create or update tables.
    ``password_hasher`` sets argon2 parameters (tests use cheap ones).
    """

    def __init__(self, url: str, *, password_hasher: PasswordHasher | None = None) -> None:
        self._engine = create_store_engine(url)
        self._writer = writer(self._engine)
        self._passwords = Passwords(password_hasher)
        #: The URL with its password masked; safe to print and log.
        self.url: str = mask_url(url)

    @classmethod
    def sqlite_beside(cls, project_file: str | Path, **options: Any) -> JudgmentStore:
        """The SQLite store ``PROJECT.judgments.sqlite`` next to ``PROJECT.toml``."""
        path = Path(project_file).expanduser().resolve().with_suffix(".judgments.sqlite")
        return cls("sqlite:///" + str(path), **options)

    def __repr__(self) -> str:
        return f"JudgmentStore({self.url!r})"

    def __enter__(self) -> JudgmentStore:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def migrate(self) -> None:
        """Create or update the tables (Alembic ``upgrade head``).

        Safe to call again, and from two processes at once (a lock serialises them).
        """
        with translate_errors(self.url, "migrating"):
            migrations.upgrade(self._engine)

    def close(self) -> None:
        """Close every pooled connection."""
        self._engine.dispose()

    @contextmanager
    def _read(self, action: str) -> Iterator[sa.Connection]:
        with translate_errors(self.url, action), self._engine.connect() as conn:
            with conn.begin():
                yield conn

    def _write(self, action: str, work: Any, *args: Any) -> Any:
        """Run ``work(conn, *args)`` in a write transaction; retry lost uniqueness races."""
        for attempt in range(_RETRIES):
            try:
                with translate_errors(self.url, action), self._writer.connect() as conn:
                    with conn.begin():
                        return work(conn, *args)
            except exc.IntegrityError as error:
                if attempt == _RETRIES - 1:
                    raise StoreUnavailableError(
                        f"judgment store {self.url}: {action} kept conflicting with concurrent "
                        f"writes ({str(error.orig).splitlines()[0]}); retry"
                    ) from error
        raise AssertionError("unreachable")

    # -- accounts -----------------------------------------------------------------------

    def add_reviewer(
        self,
        username: str,
        password: str,
        *,
        role: str = "reviewer",
        display_name: str | None = None,
    ) -> Reviewer:
        """Create an account; JudgmentError if ``username`` is taken."""
        values = accounts.account_values(self._passwords, username, password, role, display_name)
        return self._write("adding a reviewer", accounts.insert_reviewer, values)

    def ensure_reviewer(
        self,
        username: str,
        password: str,
        *,
        role: str = "reviewer",
        display_name: str | None = None,
    ) -> Reviewer:
        """The account ``username``, created if missing. An existing account is returned
        unchanged (its password, role and display name are kept)."""
        existing = self.get_reviewer(username)
        if existing is not None:
            return existing
        try:
            return self.add_reviewer(username, password, role=role, display_name=display_name)
        except JudgmentError:
            existing = self.get_reviewer(username)  # created meanwhile by another process
            if existing is None:
                raise
            return existing

    def verify_password(self, username: str, password: str) -> Reviewer | None:
        """The account when ``password`` is right and the account active, else None.

        An unknown user costs the same hashing time as a known one. A hash made with
        older argon2 parameters is replaced by a new one on success.
        """
        with self._read("checking a password") as conn:
            row = conn.execute(sa.select(reviewers).where(reviewers.c.username == username)).first()
        if not self._passwords.check(None if row is None else row.password_hash, str(password)):
            return None
        if row is None:  # check() never accepts a missing hash; this only narrows the type
            return None
        if self._passwords.needs_rehash(row.password_hash):
            new_hash = self._passwords.hash(password)
            self._write(
                "updating a password hash",
                lambda conn: conn.execute(
                    reviewers.update()
                    .where(reviewers.c.id == row.id, reviewers.c.password_hash == row.password_hash)
                    .values(password_hash=new_hash)
                ),
            )
        return q.to_reviewer(row) if row.active else None

    def set_active(self, username: str, active: bool) -> Reviewer:
        """(De)activate an account: a deactivated one cannot log in or submit."""
        return self._write("changing an account", accounts.set_active, username, active)

    def get_reviewer(self, username: str) -> Reviewer | None:
        with self._read("reading an account") as conn:
            row = conn.execute(sa.select(reviewers).where(reviewers.c.username == username)).first()
        return None if row is None else q.to_reviewer(row)

    def reviewers(self) -> list[Reviewer]:
        """All accounts, by user name."""
        with self._read("listing accounts") as conn:
            rows = conn.execute(sa.select(reviewers).order_by(reviewers.c.username)).all()
        return [q.to_reviewer(r) for r in rows]

    # -- projects, tasks, items ---------------------------------------------------------

    def ensure_project(self, name: str, title: str = "") -> int:
        """The id of project ``name``, created if missing."""
        catalog.check_name("project", name)
        return int(self._write("creating a project", catalog.ensure_project, name, title))

    def ensure_task(
        self,
        project: str,
        name: str,
        *,
        kind: str,
        title: str,
        instructions: str,
        answer_schema: dict[str, Any],
    ) -> TaskVersion:
        """The latest version of task ``name``: version 1 when new, a new version when
        ``instructions`` or ``answer_schema`` differ from the latest one. The project must
        exist (:meth:`ensure_project`). A changed ``title`` is updated in place."""
        catalog.check_name("task", name)
        if not isinstance(answer_schema, dict):
            raise ConfigError(f"answer_schema must be a dict, got {type(answer_schema).__name__}")
        try:
            answer_schema = json.loads(json.dumps(answer_schema, allow_nan=False))
        except (TypeError, ValueError) as error:
            raise ConfigError(f"answer_schema of task {name!r} is not JSON data: {error}") from None

        def work(conn: sa.Connection) -> TaskVersion:
            return catalog.ensure_task(
                conn,
                project,
                name,
                kind=kind,
                title=title,
                instructions=str(instructions),
                answer_schema=answer_schema,
            )

        return self._write("creating a task", work)

    def task_version(self, project: str, task: str, version: int | None = None) -> TaskVersion:
        """Version ``version`` of a task (None: the latest)."""
        with self._read("reading a task") as conn:
            row = q.task_row(conn, project, task)
            query = sa.select(task_versions).where(task_versions.c.task_id == row.id)
            if version is None:
                found = catalog.latest_version(conn, row.id)
            else:
                found = conn.execute(query.where(task_versions.c.version == version)).first()
            if found is None:
                known = conn.execute(query.with_only_columns(task_versions.c.version)).scalars()
                raise JudgmentError(
                    f"unknown task version {version!r} of task {project!r}/{task!r}; known "
                    f"versions: {sorted(known)}"
                )
            return q.to_task_version(row, found)

    def tasks(self, project: str) -> list[TaskVersion]:
        """The latest version of each task of ``project``, in creation order."""
        with self._read("listing tasks") as conn:
            pid = q.project_id(conn, project)
            names = (
                conn.execute(
                    sa.select(tasks.c.name).where(tasks.c.project_id == pid).order_by(tasks.c.id)
                )
                .scalars()
                .all()
            )
        return [self.task_version(project, name) for name in names]

    def add_items(self, project: str, task: str, items: Iterable[tuple[str, str]]) -> int:
        """Add ``(address, run_fingerprint)`` pairs to a task, after its existing items and in
        the given order. Items already there are skipped; returns how many were added."""
        pairs = list(items)
        return int(self._write("adding items", catalog.add_items, project, task, pairs))

    def items(self, project: str, task: str) -> list[Item]:
        """The task's items, by position."""
        with self._read("listing items") as conn:
            task_id = q.task_row(conn, project, task).id
            rows = conn.execute(
                sa.select(items).where(items.c.task_id == task_id).order_by(items.c.position)
            ).all()
        return [q.to_item(r) for r in rows]

    # -- judgments ----------------------------------------------------------------------

    def submit(
        self,
        *,
        client_id: str,
        project: str,
        task: str,
        address: str,
        reviewer: str,
        answers: dict[str, Any],
        task_version: int,
        started_at: datetime,
        submitted_at: datetime,
        supersedes: str | None = None,
    ) -> Judgment:
        """Store one judgment and return it as stored. The row is durable when this returns.

        * Idempotent by ``client_id`` (a UUID made by the client): a retry with the same
          content returns the stored row; the same id with other content raises JudgmentError.
        * ``supersedes`` (an edit) must be the client id of this reviewer's *current*
          judgment of this item, else JudgmentError: two tabs cannot fork an edit chain.
        * A new judgment *without* ``supersedes`` for an item this reviewer already judged
          is stored as superseding their current judgment automatically (a reviewer has at
          most one current judgment per item), unless the current one was submitted later:
          then JudgmentError, and the later answer stands (an old queued answer arriving
          from another tab or device never replaces a newer one).
        * Unknown project, task, item, reviewer or task version: JudgmentError naming it;
          a deactivated reviewer: AuthorizationError. Answers are checked to be JSON only;
          checking them against the answer schema is the caller's (review/) job.
        """
        new = Submission.build(
            client_id=client_id,
            project=project,
            task=task,
            address=address,
            reviewer=reviewer,
            answers=answers,
            task_version=task_version,
            started_at=started_at,
            submitted_at=submitted_at,
            supersedes=supersedes,
        )
        return self._write("storing a judgment", store_submission, new)

    def judgment(self, client_id: str) -> Judgment | None:
        """The judgment stored under ``client_id``, or None."""
        with self._read("reading a judgment") as conn:
            return stored_judgment(conn, str(client_id))

    def _judgments_where(self, action: str, *where: Any) -> list[Judgment]:
        with self._read(action) as conn:
            rows = conn.execute(q.judgment_query().where(*where)).all()
        return [q.to_judgment(r) for r in rows]

    def _task_and_reviewer(self, project: str, task: str, reviewer: str) -> tuple[int, int]:
        with self._read("reading judgments") as conn:
            return q.task_row(conn, project, task).id, q.reviewer_row(conn, reviewer).id

    def current(self, project: str, task: str, reviewer: str) -> dict[str, Judgment]:
        """``address -> latest judgment`` of one reviewer in one task (only their rows)."""
        task_id, reviewer_id = self._task_and_reviewer(project, task, reviewer)
        rows = self._judgments_where(
            "reading current judgments",
            tasks.c.id == task_id,
            judgments.c.reviewer_id == reviewer_id,
            q.following.c.id.is_(None),
        )
        return {j.address: j for j in rows}

    def history(self, project: str, task: str, reviewer: str, address: str) -> list[Judgment]:
        """Every judgment of one reviewer for one item, oldest first."""
        task_id, reviewer_id = self._task_and_reviewer(project, task, reviewer)
        return self._judgments_where(
            "reading a judgment history",
            tasks.c.id == task_id,
            judgments.c.reviewer_id == reviewer_id,
            items.c.address == address,
        )

    def current_of(self, project: str, task: str, reviewer: str, address: str) -> Judgment | None:
        """One reviewer's current (latest) judgment of one item, or None: one query, for a
        page that must know before showing an item whether another tab answered it."""
        rows = self._judgments_where(
            "reading a current judgment",
            projects.c.name == project,
            tasks.c.name == task,
            reviewers.c.username == reviewer,
            items.c.address == address,
            q.following.c.id.is_(None),
        )
        return rows[-1] if rows else None

    def iter_judgments(
        self,
        project: str,
        *,
        task: str | None = None,
        include_superseded: bool = True,
        batch_size: int = 1000,
    ) -> Iterator[Judgment]:
        """Judgments of a project ordered by id, streamed in keyset pages of ``batch_size``
        rows (one short read transaction each: memory stays constant, no lock is held)."""
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise ConfigError(f"batch_size must be a whole number >= 1, got {batch_size!r}")
        with self._read("reading judgments") as conn:
            where = [projects.c.id == q.project_id(conn, project)]
            if task is not None:
                where.append(tasks.c.id == q.task_row(conn, project, task).id)
        if not include_superseded:
            where.append(q.following.c.id.is_(None))
        last_id = 0
        while True:
            page = self._page(where, last_id, batch_size)
            yield from page
            if len(page) < batch_size:
                return
            last_id = page[-1].id

    def _page(self, where: list[Any], last_id: int, size: int) -> list[Judgment]:
        with self._read("reading judgments") as conn:
            rows = conn.execute(
                q.judgment_query().where(judgments.c.id > last_id, *where).limit(size)
            ).all()
        return [q.to_judgment(r) for r in rows]

    def progress(self, project: str, task: str, reviewer: str) -> tuple[int, int]:
        """``(items this reviewer has answered, items in the task)``."""
        task_id, reviewer_id = self._task_and_reviewer(project, task, reviewer)
        with self._read("counting progress") as conn:
            total = conn.execute(
                sa.select(sa.func.count()).select_from(items).where(items.c.task_id == task_id)
            ).scalar_one()
            answered = conn.execute(
                sa.select(sa.func.count(sa.distinct(judgments.c.item_id)))
                .join(items, items.c.id == judgments.c.item_id)
                .where(items.c.task_id == task_id, judgments.c.reviewer_id == reviewer_id)
            ).scalar_one()
        return int(answered), int(total)
