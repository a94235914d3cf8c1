"""The review app inside Jupyter: ``show`` any item, ``review_page`` for a task inline.

``show(run, address)`` renders one item with the viewer of its kind (the same viewer the
review page uses). ``review_page(project, reviewer)`` is the review page itself (instructions,
viewer, answer form, keyboard shortcuts) in a cell: answers go through the same
:class:`~interpret_review.review.ReviewSession` checks into the same store, recorded as the
reviewer's judgments. Its :meth:`NotebookReview.answer` submits for the item on screen from
code, exactly as the form does (useful in scripts and to run a notebook unattended).

>>> import interpret_review as ir                                     # doctest: +SKIP
>>> ir.show("runs/digits.h5", "neuron:digits/conv2/5")              # doctest: +SKIP
>>> page = ir.review_page("project.toml", "alice", task="describe-neurons")  # doctest: +SKIP
>>> page                                                             # doctest: +SKIP
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import panel as pn

from interpret_review.addresses import parse_address
from interpret_review.app.host import StaticHost
from interpret_review.app.messages import Submit
from interpret_review.app.page import ReviewPage
from interpret_review.app.registry import viewer_class
from interpret_review.errors import ConfigError, JudgmentError
from interpret_review.judgments import Judgment, JudgmentStore
from interpret_review.review import Project, ReviewItem, RunSet, load_project, sync_project
from interpret_review.store import Run, open_run

__all__ = ["NotebookReview", "review_page", "show"]


def show(run: Run | str | Path, address: str, **params: Any) -> Any:
    """The viewer of ``address``'s kind on ``run`` (a Run or the path of its index file);
    it renders where a notebook cell shows it. ``params`` go to the viewer (``methods`` of
    an attribution item, say)."""
    kind = parse_address(address).kind
    if isinstance(run, Run):
        modality = run.modality
    else:
        with open_run(run) as opened:
            modality = opened.modality
    return viewer_class(kind, modality=modality)(run=run, address=address, **params)


class NotebookReview(pn.viewable.Viewer):
    """The review page of ``reviewer`` in a notebook cell (see the module docstring)."""

    def __init__(
        self,
        project: Project,
        reviewer: str,
        store: JudgmentStore,
        task: str | None = None,
        *,
        own_store: bool = False,
    ) -> None:
        super().__init__()
        self.project, self.store = project, store
        self._own_store = own_store  # made by review_page: closed by close()
        self.runs = RunSet(project)
        try:
            self.page = ReviewPage(StaticHost(project, store, self.runs), reviewer, links=False)
            session = self.page.session
            if task is not None and session is not None and session.task != task:
                self.page.open_task(task)
            if task is not None and (self.page.session is None or self.page.session.task != task):
                raise ConfigError(
                    f"{reviewer!r} cannot work on task {task!r} of project {project.name!r}; "
                    f"their tasks: {self.page.task_names}"
                )
        except BaseException:
            self.close()
            raise

    def __panel__(self) -> pn.viewable.Viewable:
        return self.page.__panel__()

    @property
    def item(self) -> ReviewItem | None:
        """The item on screen (None when the queue is done)."""
        return self.page.shown

    def answer(self, answers: dict[str, Any], *, duration_ms: int = 10_000) -> Judgment:
        """Submit ``answers`` for the item on screen, as the form does, and move on."""
        shown, session = self.page.shown, self.page.session
        if shown is None or session is None:
            raise JudgmentError("no item on screen: the queue of this task is done")
        reply = self.page.submit(
            Submit(
                client_id=str(uuid.uuid4()),
                key=shown.key,
                task=session.task,
                answers=answers,
                duration_ms=duration_ms,
                supersedes=shown.judgment,
            )
        )
        if reply["type"] != "stored":
            raise JudgmentError(str(reply.get("message")))
        stored = self.store.judgment(reply["client_id"])
        if stored is None:  # pragma: no cover - stored a moment ago
            raise JudgmentError(f"answer {reply['client_id']} was acknowledged but not found")
        return stored

    def close(self) -> None:
        """Close the runs (and the store, when :func:`review_page` opened it)."""
        self.runs.close()
        if self._own_store:
            self.store.close()


def review_page(
    project: Project | str | Path,
    reviewer: str,
    *,
    task: str | None = None,
    store: JudgmentStore | None = None,
    sync: bool = True,
) -> NotebookReview:
    """The review page of ``reviewer`` for ``project`` (its first task, or ``task``).

    ``store`` defaults to the project's own (SQLite beside the file, or its database URL);
    ``sync`` first brings the store in line with the project file, as ``serve`` does."""
    if not isinstance(project, Project):
        project = load_project(project)
    own = store is None
    store = store if store is not None else JudgmentStore(project.database_url)
    try:
        if sync:
            sync_project(project, store)
        return NotebookReview(project, reviewer, store, task, own_store=own)
    except BaseException:
        if own:
            store.close()
        raise
