"""What a page asks of whatever hosts it: the one dependency of the review and admin pages.

The served app (:class:`~interpret_review.app.server.ReviewApp`), a notebook
(:class:`StaticHost`) and the tests each implement
:class:`Host`; no page imports the server. The project a page works on is
:meth:`Host.current_project` (the project file's tasks plus those made on the admin page),
read when the page is built.
"""

from __future__ import annotations

from typing import Protocol

from interpret_review.judgments import JudgmentStore
from interpret_review.review import Project, RunSet
from interpret_review.settings import Settings

__all__ = ["Host", "StaticHost"]


class Host(Protocol):
    """A project with its judgment store and open runs, for the pages of one process."""

    @property
    def project(self) -> Project:
        """The project as its file defines it."""
        ...

    @property
    def settings(self) -> Settings: ...

    def store(self) -> JudgmentStore: ...

    def runs(self) -> RunSet: ...

    def current_project(self) -> Project:
        """The project with every task a reader should see (file and admin page)."""
        ...


class StaticHost:
    """A :class:`Host` over objects the caller opened and closes (a notebook, a test)."""

    def __init__(
        self,
        project: Project,
        store: JudgmentStore,
        runs: RunSet,
        settings: Settings | None = None,
    ) -> None:
        self._project, self._store, self._runs = project, store, runs
        self._settings = settings or Settings.from_env()

    @property
    def project(self) -> Project:
        return self._project

    @property
    def settings(self) -> Settings:
        return self._settings

    def store(self) -> JudgmentStore:
        return self._store

    def runs(self) -> RunSet:
        return self._runs

    def current_project(self) -> Project:
        from interpret_review.review.project import current_project

        return current_project(self._project, self._store)
