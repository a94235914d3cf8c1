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
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, cast

import sqlalchemy as sa
from argon2 import PasswordHasher
from sqlalchemy import exc

from interpret_review.errors import (
    AuthorizationError,
    ConfigError,
    JudgmentError,
    PausedError,
    StoreUnavailableError,
)
from interpret_review.judgments import (
    accounts,
    assignment,
    catalog,
    reports,
    tiers,
)
from interpret_review.judgments import migrate as migrations
from interpret_review.judgments import queries as q
from interpret_review.judgments.engine import (
    create_store_engine,
    mask_url,
    translate_errors,
    writer,
)
from interpret_review.judgments.passwords import Passwords
from interpret_review.judgments.provenance import ProvenanceMethods
from interpret_review.judgments.queues import QueueCache
from interpret_review.judgments.records import (
    Assignment,
    Item,
    Judgment,
    Progress,
    Reviewer,
    TaskSettings,
    TaskVersion,
    TierChange,
)
from interpret_review.judgments.submission import Submission, store_submission, stored_judgment
from interpret_review.judgments.tables import (
    assignments,
    items,
    judgments,
    projects,
    reviewers,
    task_versions,
    tasks,
)

__all__ = ["JudgmentStore"]

_RETRIES = 3  # attempts of a write that lost a uniqueness race to another process


class JudgmentStore(ProvenanceMethods):
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
        self._queues = QueueCache()  # reviewers' orders of tasks' items in this process
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
        """Run ``work(conn, *args)`` in a write transaction; retry lost uniqueness races and
        transactions PostgreSQL aborted as deadlocked or not serialisable."""
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

    def set_role(self, username: str, role: str) -> Reviewer:
        """Give an account another role (``reviewer``, ``adjudicator`` or ``researcher``)."""
        return self._write("changing a role", accounts.set_role, username, role)

    def get_reviewer(self, username: str) -> Reviewer | None:
        with self._read("reading an account") as conn:
            row = conn.execute(sa.select(reviewers).where(reviewers.c.username == username)).first()
        return None if row is None else q.to_reviewer(row)

    def reviewers(self) -> list[Reviewer]:
        """All accounts, by user name."""
        with self._read("listing accounts") as conn:
            rows = conn.execute(sa.select(reviewers).order_by(reviewers.c.username)).all()
        return [q.to_reviewer(r) for r in rows]

    # -- trust tiers ----------------------------------------------------------------------

    def tiers(self, project: str) -> dict[str, TierChange]:
        """``username -> current tier`` (their latest change) of reviewers with a tier."""
        with self._read("reading trust tiers") as conn:
            return tiers.current(conn, q.project_id(conn, project))

    def tier_history(self, project: str, reviewer: str | None = None) -> list[TierChange]:
        """Every tier change in the project (of one reviewer), oldest first."""
        with self._read("reading trust tiers") as conn:
            reviewer_id = None if reviewer is None else q.reviewer_row(conn, reviewer).id
            return tiers.history(conn, q.project_id(conn, project), reviewer_id)

    def set_tier(
        self,
        project: str,
        reviewer: str,
        tier: str,
        *,
        reason: str,
        paused: bool = False,
        role: str | None = None,
        source: str = "researcher",
        pinned: bool | None = None,
        evidence: dict[str, Any] | None = None,
        by: str | None = None,
    ) -> TierChange:
        """Record a change of ``reviewer``'s tier in ``project`` and return it.

        ``reason`` is required (it is what the record is for). ``source`` is ``researcher``
        (an override by account ``by``, pinned unless ``pinned=False``: rules leave a pinned
        tier alone) or ``rule``. ``paused`` stops new items; ``role`` also gives the account
        that role. ``evidence`` holds the figures the change was made on (JSON)."""
        change = tiers.checked_change(
            tier=tier,
            reason=reason,
            paused=paused,
            role=role,
            source=source,
            pinned=pinned,
            evidence=evidence,
        )
        return cast(
            TierChange,
            self._write("recording a tier change", tiers.change, project, reviewer, change, by),
        )

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
        settings: TaskSettings | None = None,
    ) -> TaskVersion:
        """The latest version of task ``name``: version 1 when new, a new version when
        ``instructions`` or ``answer_schema`` differ from the latest one. The project must
        exist (:meth:`ensure_project`). A changed ``title`` and ``settings`` (overlap,
        leases, members...: not versioned) are updated in place; None keeps them."""
        catalog.check_name("task", name)
        if settings is not None:
            catalog.check_settings(settings)
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
                settings=settings,
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
            return q.to_task_version(row, found, q.task_settings(conn, row))

    def task_versions(self, project: str, task: str) -> list[TaskVersion]:
        """Every version of a task, oldest first."""
        with self._read("listing task versions") as conn:
            row = q.task_row(conn, project, task)
            settings = q.task_settings(conn, row)
            versions = conn.execute(
                sa.select(task_versions)
                .where(task_versions.c.task_id == row.id)
                .order_by(task_versions.c.version)
            ).all()
        return [q.to_task_version(row, v, settings) for v in versions]

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

    def add_items(
        self,
        project: str,
        task: str,
        items: Iterable[tuple[str, str]],
        *,
        gold: dict[str, dict[str, Any]] | None = None,
    ) -> int:
        """Add ``(address, run_fingerprint)`` pairs to a task, after its existing items and in
        the given order. Items already there are skipped; returns how many were added.
        ``gold`` maps addresses to the answers expected of gold items (hidden from reviewers);
        the gold answers of items already there are set to it too."""
        pairs = list(items)
        return int(self._write("adding items", catalog.add_items, project, task, pairs, gold))

    def items(self, project: str, task: str, *, active_only: bool = False) -> list[Item]:
        """The task's items, by position."""
        with self._read("listing items") as conn:
            task_id = q.task_row(conn, project, task).id
            where = [items.c.task_id == task_id]
            if active_only:
                where.append(items.c.active.is_(True))
            rows = conn.execute(q.item_query().where(*where).order_by(items.c.position)).all()
        return [q.to_item(r) for r in rows]

    def catch_up(self, project: str, task: str) -> int:
        """Give a ``verify`` or ``adjudicate`` task the items its source's judgments already
        call for (later ones arrive with each judgment); returns its number of items."""
        from interpret_review.judgments import stages

        def work(conn: sa.Connection) -> int:
            row = q.task_row(conn, project, task)
            return 0 if row.stage == "review" else stages.catch_up(conn, row)

        return int(self._write("bringing a stage up to date", work))

    def item(self, project: str, task: str, key: str) -> Item:
        """Item ``key`` (its address, or ``ADDRESS@CLIENT_ID``) of a task."""
        with self._read("reading an item") as conn:
            return q.to_item(q.item_row(conn, q.task_row(conn, project, task), key))

    def set_members(self, project: str, task: str, usernames: Iterable[str]) -> None:
        """Make ``usernames`` the only accounts that may work on a task (empty: everyone
        with the task's role)."""
        names = list(usernames)

        def work(conn: sa.Connection) -> None:
            catalog.set_members(conn, q.task_row(conn, project, task).id, names)

        self._write("setting a task's reviewers", work)

    # -- assignment ---------------------------------------------------------------------

    def _lookup(
        self, conn: sa.Connection, project: str, task: str, reviewer: str
    ) -> tuple[Any, Any]:
        return q.task_row(conn, project, task), q.reviewer_row(conn, reviewer)

    def claim(self, project: str, task: str, reviewer: str) -> Item | None:
        """The item ``reviewer`` works on next: the one they hold (its lease renewed), else
        the first free one of their queue, leased to them now; None when nothing is left.
        AuthorizationError when the account may not work on the task."""

        def work(conn: sa.Connection) -> Item | None:
            row = assignment.claim(
                conn, *self._lookup(conn, project, task, reviewer), _now(), self._queues
            )
            return None if row is None else q.to_item(row)

        return self._write("handing out an item", work)

    def assign(self, project: str, task: str, key: str, reviewer: str) -> None:
        """Give ``reviewer`` a slot of item ``key`` (renews their lease when they hold it);
        JudgmentError when the item already has its overlap of reviewers."""

        def work(conn: sa.Connection) -> None:
            task_row, reviewer_row = self._lookup(conn, project, task, reviewer)
            item = q.item_row(conn, task_row, key)
            assignment.take(conn, task_row, item, reviewer_row, _now())

        self._write("assigning an item", work)

    def skip(self, project: str, task: str, key: str, reviewer: str, reason: str) -> None:
        """Record that ``reviewer`` skips item ``key`` and why; the item returns to the pool
        (for others: it is not served to them again)."""

        def work(conn: sa.Connection) -> None:
            task_row, reviewer_row = self._lookup(conn, project, task, reviewer)
            item = q.item_row(conn, task_row, key)
            assignment.skip(conn, task_row, item, reviewer_row, reason, _now())

        self._write("skipping an item", work)

    def queue(self, project: str, task: str, reviewer: str) -> list[Item]:
        """The items ``reviewer`` has answered or holds in a task, in the order they got them."""
        with self._read("reading a queue") as conn:
            task_row, reviewer_row = self._lookup(conn, project, task, reviewer)
            rows = conn.execute(
                q.item_query()
                .join(assignments, assignments.c.item_id == items.c.id)
                .where(
                    items.c.task_id == task_row.id,
                    assignments.c.reviewer_id == reviewer_row.id,
                    sa.or_(
                        assignments.c.status == "done",
                        sa.and_(
                            assignments.c.status == "leased", assignments.c.expires_at > _now()
                        ),
                    ),
                )
                .order_by(assignments.c.leased_at, assignments.c.id)
            ).all()
        return [q.to_item(r) for r in rows]

    def available(self, project: str, task: str, reviewer: str) -> int:
        """How many more items ``reviewer`` could be handed in a task now."""
        with self._read("counting open items") as conn:
            task_row, reviewer_row = self._lookup(conn, project, task, reviewer)
            return assignment.available(conn, task_row, reviewer_row, _now())

    def has_work(self, project: str, task: str, reviewer: str) -> bool:
        """Whether ``reviewer`` holds an item of a task or could be handed one."""
        with self._read("looking for work") as conn:
            task_row, reviewer_row = self._lookup(conn, project, task, reviewer)
            now = _now()
            held = conn.execute(
                sa.select(assignments.c.id)
                .join(items, items.c.id == assignments.c.item_id)
                .where(
                    items.c.task_id == task_row.id,
                    assignments.c.reviewer_id == reviewer_row.id,
                    assignments.c.status == "leased",
                    assignments.c.expires_at > now,
                )
                .limit(1)
            ).first()
            if held is not None:
                return True
            return (
                conn.execute(assignment.open_items(task_row, reviewer_row, now).limit(1)).first()
                is not None
            )

    def check_access(self, project: str, task: str, reviewer: str) -> None:
        """AuthorizationError unless ``reviewer`` may work on a task (an active account, a
        role at least the task's, and one of its members when it lists them)."""
        with self._read("checking access") as conn:
            assignment.check_access(conn, *self._lookup(conn, project, task, reviewer))

    def can_work_on(self, project: str, task: str, reviewer: str) -> bool:
        """Whether ``reviewer`` may work on a task (see :meth:`check_access`)."""
        try:
            self.check_access(project, task, reviewer)
        except AuthorizationError:
            return False
        return True

    def peek(self, project: str, task: str, reviewer: str) -> str | None:
        """The address of the item :meth:`claim` would hand ``reviewer`` after the one they
        hold, without leasing anything (a guess, for rendering ahead)."""
        with self._read("looking ahead in a queue") as conn:
            task_row, reviewer_row = self._lookup(conn, project, task, reviewer)
            found = self._queues.next_open(
                conn, task_row, reviewer_row, _now(), assignment.open_items
            )
            if found is None:
                return None
            return str(conn.execute(sa.select(items.c.address).where(items.c.id == found)).scalar())

    def assignments(self, project: str, task: str | None = None) -> list[Assignment]:
        """Every assignment of a project (or one task), oldest first."""
        with self._read("listing assignments") as conn:
            where = [tasks.c.project_id == q.project_id(conn, project)]
            if task is not None:
                where.append(tasks.c.id == q.task_row(conn, project, task).id)
            rows = conn.execute(
                sa.select(
                    assignments,
                    items.c.key.label("item"),
                    items.c.address,
                    reviewers.c.username,
                )
                .join(items, items.c.id == assignments.c.item_id)
                .join(tasks, tasks.c.id == items.c.task_id)
                .join(reviewers, reviewers.c.id == assignments.c.reviewer_id)
                .where(*where)
                .order_by(assignments.c.id)
            ).all()
        return [
            Assignment(
                item=r.item,
                address=r.address,
                reviewer=r.username,
                status=r.status,
                leased_at=r.leased_at,
                expires_at=r.expires_at,
                finished_at=r.finished_at,
                skip_reason=r.skip_reason,
            )
            for r in rows
        ]

    def progress_by_reviewer(self, project: str) -> list[Progress]:
        """Per task and reviewer: items done, in progress (a running lease), skipped, and
        time spent on current judgments; plus a row per task (``reviewer`` None) whose
        ``done`` counts the items that have all their reviewers and ``answers`` the answers
        given out of ``slots`` (items times overlap)."""
        with self._read("counting progress") as conn:
            return reports.progress(conn, q.project_id(conn, project), _now())

    def description_scores(self, project: str, task: str) -> dict[str, tuple[float, int]]:
        """``description client id -> (mean simulation score, number of verifications)``
        over the current judgments of verify task ``task``."""
        with self._read("reading simulation scores") as conn:
            return reports.description_scores(conn, q.task_row(conn, project, task).id)

    def current_of_item(self, project: str, task: str, address: str) -> list[Judgment]:
        """Everyone's current judgments of ``address`` in a task (for adjudication and the
        admin page: never for a reviewer answering the same task)."""
        return self._judgments_where(
            "reading an item's judgments",
            projects.c.name == project,
            tasks.c.name == task,
            items.c.address == address,
            q.following.c.id.is_(None),
        )

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
        score: float | None = None,
        n_examples: int = 0,
    ) -> Judgment:
        """Store one judgment and return it as stored. The row is durable when this returns.

        ``address`` is the item's key (its address, or ``ADDRESS@CLIENT_ID`` for an item
        made from an earlier stage). The reviewer must hold the item (:meth:`claim`,
        :meth:`assign`): a running lease, or an earlier judgment of it; a lease that ran out
        is renewed when the slot is still free, else JudgmentError. ``score`` (with
        ``n_examples``) is the simulation score of a verify judgment, stored with it.

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
            score=score,
            n_examples=n_examples,
        )
        done: list[tuple[int, int, int]] = []
        judgment = self._write("storing a judgment", store_submission, new, done)
        self._passed(done)
        return cast(Judgment, judgment)

    def _passed(self, done: list[tuple[int, int, int]]) -> None:
        """Tell the queue cache which item was just answered (after the commit)."""
        for task_id, reviewer_id, item_id in done[-1:]:  # the attempt that committed
            self._queues.passed(task_id, reviewer_id, item_id)

    def submit_and_claim(self, **submission: Any) -> tuple[Judgment, Item | None]:
        """:meth:`submit` (same arguments), then hand the reviewer their next item (what
        :meth:`claim` would give) in the same transaction: one commit on the path from one
        item to the next."""
        new = Submission.build(**{"supersedes": None, "score": None, "n_examples": 0, **submission})

        done: list[tuple[int, int, int]] = []

        def work(conn: sa.Connection) -> tuple[Judgment, Item | None]:
            judgment = store_submission(conn, new, done)
            task_row, reviewer_row = self._lookup(conn, new.project, new.task, new.reviewer)
            if done:  # the answered item is behind the reviewer now (should this roll back,
                # the answer is resent by the page and stored through its lease, not the queue)
                self._queues.passed(*done[-1])
            try:
                row = assignment.claim(conn, task_row, reviewer_row, _now(), self._queues)
            except PausedError:  # the answer stands; the page learns of the pause on its
                row = None  # next claim
            return judgment, None if row is None else q.to_item(row)

        result = self._write("storing a judgment", work)
        return cast(tuple[Judgment, "Item | None"], result)

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
        """``item key -> latest judgment`` of one reviewer in one task (only their rows)."""
        task_id, reviewer_id = self._task_and_reviewer(project, task, reviewer)
        rows = self._judgments_where(
            "reading current judgments",
            tasks.c.id == task_id,
            judgments.c.reviewer_id == reviewer_id,
            q.following.c.id.is_(None),
        )
        return {j.item: j for j in rows}

    def history(self, project: str, task: str, reviewer: str, key: str) -> list[Judgment]:
        """Every judgment of one reviewer for one item, oldest first."""
        task_id, reviewer_id = self._task_and_reviewer(project, task, reviewer)
        return self._judgments_where(
            "reading a judgment history",
            tasks.c.id == task_id,
            judgments.c.reviewer_id == reviewer_id,
            items.c.key == key,
        )

    def current_of(self, project: str, task: str, reviewer: str, key: str) -> Judgment | None:
        """One reviewer's current (latest) judgment of one item, or None: one query, for a
        page that must know before showing an item whether another tab answered it."""
        rows = self._judgments_where(
            "reading a current judgment",
            projects.c.name == project,
            tasks.c.name == task,
            reviewers.c.username == reviewer,
            items.c.key == key,
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


def _now() -> datetime:
    return datetime.now(timezone.utc)
