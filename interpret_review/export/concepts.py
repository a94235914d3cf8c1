"""Concepts and their per-example labels, derived from what reviewers answered.

A probe bundle holds, for each labelled **concept**, which examples of a run are positive
(show it) and which negative. Three kinds:

* ``neuron``: a unit with a consensus label. Its examples come from the judgments:
  **marks** (the shown examples a unit's describers ticked as fitting their label: ticked
  by a majority of those who ticked any, positive; ticked by none, negative) and
  **predictions** (the held-out examples a verify stage's reviewers rated from a
  description: medium or strong on average, positive; none, negative). Where the two
  sources disagree on an example, it is left out.
* ``category``: a neuron task's consensus category (say *loop*): the examples of its units'
  concepts, each by the majority of those units' labels.
* ``consensus``: a task whose items are examples (one attribution item per example) with a
  consensus on a choice field: for each value, the examples given it (positive) and the
  examples given another value (negative).

Answers of paused reviewers and stale answers (made on a run regenerated since with another
model or dataset) are left out. A concept's Captum id changes whenever its labels change
(Captum caches concept activation vectors by id), and so does the run they are on.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from interpret_review.addresses import parse_address
from interpret_review.export.rows import RowContext
from interpret_review.judgments import Judgment, JudgmentStore
from interpret_review.review.items import shown_examples
from interpret_review.review.project import Project
from interpret_review.store import Run
from interpret_review.tasks import Task

if TYPE_CHECKING:
    from interpret_review.quality.report import QualityReport

    pass

__all__ = ["SOURCES", "ConceptLabels", "concept_id", "derive_concepts"]

#: Where an example's label came from: bit flags of ``ConceptLabels.sources``.
SOURCES: dict[str, int] = {"marks": 1, "predictions": 2, "consensus": 4}
_POSITIVE_LEVEL = 0.5  # mean predicted level (0 none .. 1 strong) at or above: positive
_NEGATIVE_LEVEL = 0.2  # below: negative (between the two: left out)


@dataclass
class ConceptLabels:
    """One concept: ``labels`` maps example rows of the run to 1 (positive) or 0."""

    key: str
    name: str
    kind: str
    task: str
    address: str | None = None
    category: str | None = None
    labels: dict[int, int] = field(default_factory=dict)
    sources: dict[int, int] = field(default_factory=dict)  # row -> SOURCES bits
    run_fingerprint: str = ""  # the run whose examples the rows are

    @property
    def positives(self) -> int:
        return sum(self.labels.values())

    @property
    def negatives(self) -> int:
        return len(self.labels) - self.positives

    def by_source(self) -> dict[str, int]:
        return {
            name: sum(1 for bits in self.sources.values() if bits & bit)
            for name, bit in SOURCES.items()
        }

    @property
    def labels_hash(self) -> str:
        text = json.dumps([self.key, self.run_fingerprint, sorted(self.labels.items())])
        return hashlib.blake2b(text.encode(), digest_size=8).hexdigest()


def concept_id(concept: ConceptLabels, negative: bool = False) -> int:
    """A Captum concept id: a 31-bit number that changes whenever the labels change."""
    text = f"{concept.labels_hash}:{'negative' if negative else 'positive'}"
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=4).digest(), "big") >> 1


def derive_concepts(
    store: JudgmentStore,
    project: Project,
    run: Run,
    report: QualityReport | None,
    context: RowContext,
) -> list[ConceptLabels]:
    """Every concept of ``project`` on ``run`` with at least one positive and one negative
    example, in task order (see the module docstring)."""
    paused = set(report.paused) if report is not None else set()
    current = _current(store, project, run, context, paused)
    concepts: list[ConceptLabels] = []
    for spec in project.tasks.values():
        if spec.stage != "review" or spec.run not in project.runs or spec.name not in current:
            continue
        quality = report.tasks.get(spec.name) if report is not None else None
        if quality is None or not quality.consensus:
            continue
        if spec.kind == "neuron":
            verifiers = [
                v for v in project.tasks.values() if v.stage == "verify" and v.source == spec.name
            ]
            fresh = [c for c in quality.consensus if c.address in current[spec.name]]
            neurons = _neuron_concepts(spec, verifiers, fresh, current, run)
            concepts += neurons
            concepts += _category_concepts(spec, neurons)
        elif spec.kind == "attribution":
            fresh = [c for c in quality.consensus if c.address in current[spec.name]]
            concepts += _consensus_concepts(spec, fresh, run)
    for concept in concepts:
        concept.run_fingerprint = run.run_fingerprint
    return [c for c in concepts if c.positives and c.negatives]


def _current(
    store: JudgmentStore,
    project: Project,
    run: Run,
    context: RowContext,
    paused: set[str],
) -> dict[str, dict[str, list[Judgment]]]:
    """``task -> address -> current judgments`` on ``run``: not paused, not stale."""
    out: dict[str, dict[str, list[Judgment]]] = {}
    for j in store.iter_judgments(project.name, include_superseded=False):
        kind, name = context.place(j.address)
        if name != run.name or j.reviewer in paused:
            continue
        if context.provenance(name, j.run_fingerprint)[2] is not None:  # stale
            continue
        out.setdefault(j.task, {}).setdefault(j.address, []).append(j)
    return out


def _neuron_concepts(
    spec: Task,
    verifiers: list[Task],
    consensus: Iterable[Any],
    current: Mapping[str, Mapping[str, list[Judgment]]],
    run: Run,
) -> list[ConceptLabels]:
    marks = [f.name for f in spec.schema.fields if f.type == "marks"]
    out = []
    for label in consensus:
        concept = ConceptLabels(
            key=label.address,
            name=label.description or str(label.value),
            kind="neuron",
            task=spec.name,
            address=label.address,
            category=None if label.value is None else str(label.value),
        )
        votes: dict[int, dict[str, int]] = {}
        answered = current.get(spec.name, {}).get(label.address, [])
        # marks say "not this one" only about what was shown, so only answers made on the
        # run as it is now count (a regenerated run may show other examples)
        seen = [j for j in answered if j.run_fingerprint == run.run_fingerprint]
        for name in marks:
            _mark_votes(seen, name, shown_examples(run, label.address), votes)
        for verify in verifiers:
            levels = next((f.choices for f in verify.schema.fields if f.type == "predictions"), ())
            rows = current.get(verify.name, {}).get(label.address, [])
            _prediction_votes(rows, verify, levels, votes)
        for row, by_source in votes.items():
            decided = {v for v in by_source.values() if v >= 0}
            if len(decided) == 1:
                concept.labels[row] = decided.pop()
                concept.sources[row] = sum(
                    SOURCES[s] for s, v in by_source.items() if v == concept.labels[row]
                )
        out.append(concept)
    return out


def _mark_votes(
    answered: list[Judgment], name: str, shown: Mapping[int, str], votes: dict[int, dict[str, int]]
) -> None:
    markers = [set(j.answers.get(name) or ()) for j in answered if j.answers.get(name)]
    if not markers:
        return  # nobody ticked anything: no way to tell "none fit" from "did not tick"
    for row in shown:
        share = sum(row in ticked for ticked in markers) / len(markers)
        decided = 1 if share > 0.5 else 0 if share == 0 else -1
        votes.setdefault(int(row), {})["marks"] = decided


def _prediction_votes(
    rows: list[Judgment],
    verify: Task,
    levels: tuple[str, ...],
    votes: dict[int, dict[str, int]],
) -> None:
    if len(levels) < 2:
        return
    per_row: dict[int, list[float]] = {}
    for j in rows:
        for field_name in (f.name for f in verify.schema.fields if f.type == "predictions"):
            for row, level in (j.answers.get(field_name) or {}).items():
                if level in levels:
                    per_row.setdefault(int(row), []).append(levels.index(level) / (len(levels) - 1))
    for row, values in per_row.items():
        mean = sum(values) / len(values)
        decided = 1 if mean >= _POSITIVE_LEVEL else 0 if mean < _NEGATIVE_LEVEL else -1
        votes.setdefault(row, {})["predictions"] = decided


def _category_concepts(spec: Task, neurons: list[ConceptLabels]) -> list[ConceptLabels]:
    by_category: dict[str, list[ConceptLabels]] = {}
    for concept in neurons:
        if concept.category is not None:
            by_category.setdefault(concept.category, []).append(concept)
    out = []
    for category, members in by_category.items():
        concept = ConceptLabels(
            key=f"category:{spec.name}/{category}",
            name=category,
            kind="category",
            task=spec.name,
            category=category,
        )
        tally: dict[int, list[int]] = {}
        for member in members:
            for row, value in member.labels.items():
                tally.setdefault(row, []).append(value)
                concept.sources[row] = concept.sources.get(row, 0) | member.sources[row]
        for row, values in tally.items():
            positive = sum(values)
            if positive * 2 != len(values):
                concept.labels[row] = int(positive * 2 > len(values))
            else:
                concept.sources.pop(row)
        out.append(concept)
    return out


def _consensus_concepts(spec: Task, consensus: Iterable[Any], run: Run) -> list[ConceptLabels]:
    given: dict[int, str] = {}
    for label in consensus:
        parsed = parse_address(label.address)
        if parsed.kind == "attribution" and parsed.run == run.name and label.value is not None:
            given[parsed.index] = str(label.value)
    out = []
    for value in sorted(set(given.values())):
        concept = ConceptLabels(
            key=f"consensus:{spec.name}/{spec.consensus_field}={value}",
            name=f"{spec.consensus_field} = {value}",
            kind="consensus",
            task=spec.name,
            category=value,
        )
        for row, other in given.items():
            concept.labels[row] = int(other == value)
            concept.sources[row] = SOURCES["consensus"]
        out.append(concept)
    return out
