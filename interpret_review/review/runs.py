"""The runs of a project, opened lazily: one read-only handle per run per process.

A process that serves reviewers keeps one :class:`RunSet`; it opens a run on first use (so a
server that forks workers opens its files after the fork) and keeps it open.
"""

from __future__ import annotations

from interpret_review.errors import UnknownNameError
from interpret_review.review.project import Project
from interpret_review.store import Run, open_run

__all__ = ["RunSet"]


class RunSet:
    """``runs[name]`` opens run ``name`` of ``project`` once and keeps it."""

    def __init__(self, project: Project) -> None:
        self.project = project
        self._open: dict[str, Run] = {}

    def __getitem__(self, name: str) -> Run:
        run = self._open.get(name)
        if run is None:
            if name not in self.project.runs:
                raise UnknownNameError(
                    "run", name, self.project.runs, hint=f"({self.project.path})"
                )
            run = self._open[name] = open_run(self.project.runs[name].path)
        return run

    def close(self) -> None:
        for run in self._open.values():
            run.close()
        self._open.clear()

    def __enter__(self) -> RunSet:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
