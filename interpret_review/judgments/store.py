"""``JudgmentStore``: the one object that reads and writes judgments (the only SQL user).

>>> store = JudgmentStore("sqlite://")   # in memory; use a file or PostgreSQL for real work
>>> store.migrate()
>>> store.ensure_project("demo")
1
>>> store.close()
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from interpret_review.judgments.provenance import ProvenanceMethods
from interpret_review.judgments.repo_accounts import AccountMethods
from interpret_review.judgments.repo_judgments import JudgmentMethods
from interpret_review.judgments.repo_queues import QueueMethods
from interpret_review.judgments.repo_tasks import TaskMethods

__all__ = ["JudgmentStore"]


class JudgmentStore(AccountMethods, TaskMethods, QueueMethods, JudgmentMethods, ProvenanceMethods):
    """Reviewers, projects, tasks, items and judgments in one SQL database.

    ``url`` is an SQLAlchemy URL: ``sqlite:///PATH`` (the default beside a project file,
    see :meth:`sqlite_beside`) or ``postgresql+psycopg://USER:PASSWORD@HOST/DB``. Opening a
    store does not change the database: call :meth:`migrate` to create the tables; the first
    read or write upgrades a store made by an earlier interpret-review.
    ``password_hasher`` sets argon2 parameters (tests use cheap ones).
    """

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
