"""Which run each label was made on, and which labels a regenerated run made stale.

Every judgment keeps the fingerprint of the run its reviewer saw. :func:`record_runs` tells
the store what each of a project's run files is now (``sync_project`` and the exports call
it); :class:`RunHistory` then answers, for any judgment, the model and dataset fingerprints
it was made on and whether it is **stale**: its run was regenerated since with another
model or another dataset. A run regenerated from the same model and data (other methods,
more examples) leaves its labels current.

>>> from datetime import datetime, timezone
>>> from interpret_review.judgments import RunRecord
>>> t = datetime(2026, 1, 1, tzinfo=timezone.utc)
>>> old = RunRecord("p", "digits", "r1", "m1", "d1", "runs/digits.h5", 450, t, t)
>>> new = RunRecord("p", "digits", "r2", "m2", "d1", "runs/digits.h5", 450, t, t)
>>> RunHistory([old, new]).stale_reason("digits", "r1")
"run 'digits' was regenerated with another model since (made on run r1, now r2)"
>>> RunHistory([old, new]).stale_reason("digits", "r2") is None
True
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from interpret_review.errors import InterpretReviewError
from interpret_review.judgments import JudgmentStore, RunRecord
from interpret_review.review.project import Project
from interpret_review.review.runs import RunSet

__all__ = ["RunHistory", "StaleLabels", "record_runs", "stale_labels"]


class RunHistory:
    """The runs a project was synced with; the record of a name seen last is the run now."""

    def __init__(self, records: Iterable[RunRecord]) -> None:
        self.records = list(records)
        self.moved: dict[str, int] = {}  # run -> items pointed at its new file by record_runs
        self._known = {(r.name, r.run_fingerprint): r for r in self.records}
        self.current: dict[str, RunRecord] = {}
        for record in self.records:  # oldest first: the last one of a name wins
            self.current[record.name] = record

    def record(self, run: str, fingerprint: str) -> RunRecord | None:
        """The record of run ``run`` with ``fingerprint``, if the project has seen it."""
        return self._known.get((run, fingerprint))

    def stale_reason(self, run: str, fingerprint: str) -> str | None:
        """Why a label made on ``run`` with ``fingerprint`` no longer matches the run as it is
        now, or None when it still does (or the project never recorded the run)."""
        now = self.current.get(run)
        if now is None or now.run_fingerprint == fingerprint:
            return None
        made = f"(made on run {fingerprint[:12]}, now {now.run_fingerprint[:12]})"
        then = self._known.get((run, fingerprint))
        if then is None:
            return (
                f"run {run!r} was regenerated since and its earlier fingerprints are unknown {made}"
            )
        changed = [
            what
            for what, before, after in (
                ("model", then.model_fingerprint, now.model_fingerprint),
                ("dataset", then.dataset_fingerprint, now.dataset_fingerprint),
            )
            if before != after
        ]
        if not changed:
            return None  # regenerated from the same model and data: the label still holds
        return f"run {run!r} was regenerated with another {' and '.join(changed)} since {made}"


def record_runs(project: Project, store: JudgmentStore, runs: RunSet | None = None) -> RunHistory:
    """Record what each of ``project``'s run files is now, and return the run history.

    A run file that cannot be opened (moved, being rewritten) is left out: the store keeps
    what it last knew of it."""
    own = runs is None
    runs = RunSet(project) if runs is None else runs
    moved: dict[str, int] = {}
    try:
        for name in project.runs:
            try:
                run = runs[name]
            except InterpretReviewError:
                continue
            moved[run.name] = store.record_run(
                project.name,
                run.name,
                run_fingerprint=run.run_fingerprint,
                model_fingerprint=run.model_fingerprint,
                dataset_fingerprint=run.dataset_fingerprint,
                path=str(project.runs[name].path),
                n_examples=run.n_examples,
            )
    finally:
        if own:
            runs.close()
    history = RunHistory(store.runs(project.name))
    history.moved = {name: n for name, n in moved.items() if n}
    return history


@dataclass
class StaleLabels:
    """Current (not superseded) judgments made on a run that no longer matches, counted
    batch by batch (:meth:`add`)."""

    history: RunHistory
    counts: dict[str, int] = field(default_factory=dict)  # task -> stale judgments
    reasons: dict[str, str] = field(default_factory=dict)  # task -> its first stale reason
    addresses: dict[str, dict[str, None]] = field(default_factory=dict)  # task -> items

    def add(self, batch: Mapping[str, Sequence[Any]]) -> None:
        """Count the stale judgments of a batch of columns (``task``, ``address`` and
        ``run_fingerprint``, as ``JudgmentStore.judgment_batches`` gives them)."""
        reasons: dict[tuple[str, str], str | None] = {}
        for task, address, fingerprint in zip(
            batch["task"], batch["address"], batch["run_fingerprint"], strict=True
        ):
            run = address.partition(":")[2].partition("/")[0]  # stored: canonical
            key = (run, fingerprint)
            if key not in reasons:
                reasons[key] = self.history.stale_reason(run, fingerprint)
            reason = reasons[key]
            if reason is not None:
                self.counts[task] = self.counts.get(task, 0) + 1
                self.reasons.setdefault(task, reason)
                self.addresses.setdefault(task, {})[address] = None

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def describe(self) -> str:
        """One line per task with stale labels, or a line saying there are none."""
        if not self.counts:
            return "stale labels: none (every label was made on its run as it is now)"
        return "\n".join(
            f"stale labels: {count} in task {task!r}: {self.reasons[task]}; "
            "review those items again in a new task"
            for task, count in self.counts.items()
        )


def stale_labels(store: JudgmentStore, project: str, history: RunHistory) -> StaleLabels:
    """Which current judgments of ``project`` were made on a run since regenerated."""
    stale = StaleLabels(history)
    for batch in store.judgment_batches(project, include_superseded=False):
        stale.add(batch)
    return stale
