"""Simulated reviewers: try exports, probes and TCAV on a project before people have labelled it.

``simulate_reviews`` answers a project's neuron tasks through :class:`ReviewSession` (the
same checks and store calls as the review page) as careful reviewers would, from what the
run shows:

* **review** tasks: a label naming the digits (classes) the unit's top examples belong to,
  a category from the most common of them (``category_of``), a confidence, and the shown
  examples that fit marked: those on which the unit fires more than on three quarters of
  all examples (each mark flipped with probability ``noise``);
* **verify** tasks: each held-out example's level from its activation's percentile rank
  (lowest quarter none, then weak, medium, strong), moved by one level with probability
  ``noise``.

Their answers are simulated and say so: every label starts ``[simulated]``. Nothing here
is a substitute for people; it is a way to see the whole pipeline run.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from interpret_review.addresses import parse_address
from interpret_review.errors import JudgmentError
from interpret_review.judgments import JudgmentStore
from interpret_review.review.items import held_out_examples
from interpret_review.review.project import Project
from interpret_review.review.runs import RunSet
from interpret_review.review.session import ReviewSession
from interpret_review.tasks import Task

__all__ = ["SimulationSummary", "category_of", "simulate_reviews"]

#: A careful reviewer marks a shown example as fitting when the unit fires on it more than on
#: this share of all examples.
_FITS_RANK = 0.75

#: The digits demo's categories by the class a unit's top examples mostly show.
DIGIT_CATEGORIES = {0: "loop", 1: "stroke", 2: "curve", 3: "curve", 4: "corner", 5: "curve",
                    6: "loop", 7: "stroke", 8: "loop", 9: "loop"}  # fmt: skip


def category_of(classes: Sequence[int], categories: Sequence[str]) -> str:
    """The category a reviewer gives a unit whose top examples show ``classes``."""
    common = Counter(classes).most_common(1)[0][0] if classes else -1
    wanted = DIGIT_CATEGORIES.get(int(common), "other")
    return wanted if wanted in categories else categories[int(common) % len(categories)]


@dataclass
class SimulationSummary:
    answers: dict[str, int] = field(default_factory=dict)  # task -> answers given

    def describe(self) -> str:
        return ", ".join(f"{task}: {n} answers" for task, n in self.answers.items())


def simulate_reviews(
    store: JudgmentStore,
    project: Project,
    runs: RunSet,
    *,
    reviewers: dict[str, Sequence[str]] | None = None,
    limit: int | None = None,
    noise: float = 0.1,
    seed: int = 0,
    progress: Callable[[str, int], None] | None = None,
) -> SimulationSummary:
    """Answer ``project``'s neuron review and verify tasks as simulated reviewers (see the
    module docstring), in task order. ``reviewers`` maps tasks to the accounts that answer
    them (default: the task's members, else every reviewer account); each answers until
    their queue is empty, or ``limit`` items. ``progress(task, answers)`` is called after
    each answer."""
    rng = np.random.default_rng(seed)
    summary = SimulationSummary()
    for spec in project.tasks.values():
        if spec.kind != "neuron" or spec.stage not in ("review", "verify"):
            continue
        accounts = list((reviewers or {}).get(spec.name, spec.reviewers)) or [
            a.username for a in store.reviewers() if a.role == "reviewer" and a.active
        ]
        for account in accounts:
            session = ReviewSession(store, project, spec.name, account, runs)
            done = 0
            while limit is None or done < limit:
                index = session.first_open()
                if index is None:
                    break
                item = session.item(index)
                answers = (
                    _describe(spec, runs, item.address, item.shown_examples, rng, noise)
                    if spec.stage == "review"
                    else _verify(spec, runs, item.address, rng, noise)
                )
                try:
                    session.submit(
                        client_id=str(uuid.uuid4()),
                        key=item.key,
                        answers=answers,
                        duration_ms=int(rng.integers(8_000, 40_000)),
                    )
                except JudgmentError:
                    break  # the item went to someone else meanwhile, or the task closed
                done += 1
                summary.answers[spec.name] = summary.answers.get(spec.name, 0) + 1
                if progress is not None:
                    progress(spec.name, summary.answers[spec.name])
    return summary


def _describe(
    spec: Task,
    runs: RunSet,
    address: str,
    shown: dict[int, str],
    rng: np.random.Generator,
    noise: float,
) -> dict[str, object]:
    run = runs[spec.run]
    parsed = parse_address(address)
    evidence = run.neuron(str(parsed.layer), parsed.index)
    activations = run.activations(str(parsed.layer), parsed.index)
    classes = [run.example(int(r)).label for r in evidence.topk_index[:5]]
    names = sorted({int(c) for c in classes})
    answers: dict[str, object] = {}
    label = next((f for f in spec.schema.fields if f.type == "text"), None)
    for f in spec.schema.fields:
        if f is label:
            answers[f.name] = f"[simulated] fires on digits like {', '.join(map(str, names))}"
        elif f.type == "choice":
            answers[f.name] = category_of(classes, f.choices)
        elif f.type == "scale":
            answers[f.name] = int(rng.integers(max(f.min, 2), f.max + 1))
    marks = [f.name for f in spec.schema.fields if f.type == "marks"]
    if marks:
        ranks = _ranks(activations)
        fits = [row for row in shown if (ranks[row] >= _FITS_RANK) != (rng.random() < noise)]
        answers[marks[0]] = sorted(int(row) for row in fits)
    return answers


def _verify(
    spec: Task, runs: RunSet, address: str, rng: np.random.Generator, noise: float
) -> dict[str, object]:
    run = runs[spec.run]
    parsed = parse_address(address)
    field_ = next(f for f in spec.schema.fields if f.type == "predictions")
    levels = field_.choices
    ranks = _ranks(run.activations(str(parsed.layer), parsed.index))
    predictions = {}
    for row in held_out_examples(spec, run, address):
        level = min(int(ranks[row] * len(levels)), len(levels) - 1)
        if rng.random() < noise:
            level = int(np.clip(level + rng.choice((-1, 1)), 0, len(levels) - 1))
        predictions[str(row)] = levels[level]
    return {field_.name: predictions}


def _ranks(values: np.ndarray) -> np.ndarray:
    """Each example's percentile rank (0 lowest .. 1 highest) in a unit's activations."""
    order = np.argsort(np.asarray(values), kind="stable")
    ranks = np.empty(len(order), dtype=np.float64)
    ranks[order] = np.arange(len(order)) / max(len(order) - 1, 1)
    return ranks
