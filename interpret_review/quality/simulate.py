"""Planted truth: simulated reviewers with known accuracies answer items with known labels
through the judgment store (the same claim and submit calls the review page makes), and the
quality machinery is scored on how much of the truth it recovers.

Reviewers are ``honest`` (right with probability ``accuracy``, else a uniformly random
wrong category), ``spammer`` (a uniformly random category, at an honest pace) or
``adversary`` (right with probability ``accuracy``, else the next category: systematically
wrong). A share of the items are gold (served to everyone, expected answer = truth).

>>> result = simulate(store, Scenario(items=60, accuracy=0.75))     # doctest: +SKIP
>>> result.accuracy["reliability"]                                   # doctest: +SKIP
0.95
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone
from typing import Any, cast

import numpy as np

from interpret_review.errors import PausedError
from interpret_review.judgments import JudgmentStore
from interpret_review.quality.consensus import compute_consensus
from interpret_review.quality.data import Units, field_units, load_answers
from interpret_review.quality.reliability import MODELS, compute_reliability
from interpret_review.quality.report import compute_task
from interpret_review.quality.tiers import apply_tiers, decide_tiers
from interpret_review.review.rules import Condition, QualitySpec, TierRule
from interpret_review.tasks import AdaptiveRule, Task
from interpret_review.tasks.answers import AnswerField, AnswerSchema

__all__ = [
    "GOLD_RULE",
    "SPAM_RULE",
    "Scenario",
    "SimulatedReviewer",
    "SimulationResult",
    "simulate",
]

#: The tier rules of the simulation: pause on gold evidence, or on the reliability model.
GOLD_RULE = "gold_items >= 10 and gold_accuracy < 0.4"
SPAM_RULE = "random_odds >= 99"


@dataclass(frozen=True)
class SimulatedReviewer:
    name: str
    kind: str  # honest, spammer or adversary
    accuracy: float  # the true probability of a right answer

    def answer(self, truth: int, k: int, rng: np.random.Generator) -> int:
        if self.kind == "spammer":
            return int(rng.integers(k))
        if rng.random() < self.accuracy:
            return truth
        if self.kind == "adversary":
            return (truth + 1) % k
        return int((truth + 1 + rng.integers(k - 1)) % k)


@dataclass(frozen=True)
class Scenario:
    """One simulated project: items, categories, the crowd, overlap and what acts on it."""

    items: int = 200
    categories: int = 5
    gold_share: float = 0.1
    honest: int = 8
    spammers: int = 2
    adversaries: int = 0
    accuracy: float = 0.75
    adversary_accuracy: float = 0.1
    overlap: int = 3
    max_overlap: int | None = None  # adaptive overlap up to this many reviewers
    min_agreement: float = 0.8
    tiers: tuple[str, ...] = ()  # pause rules applied while answers come in
    check_every: int = 20  # judgments between two quality checks
    min_items: int = 10
    seed: int = 0

    def crowd(self) -> list[SimulatedReviewer]:
        k = self.categories
        out = [SimulatedReviewer(f"honest{i}", "honest", self.accuracy) for i in range(self.honest)]
        out += [SimulatedReviewer(f"spammer{i}", "spammer", 1 / k) for i in range(self.spammers)]
        out += [
            SimulatedReviewer(f"adversary{i}", "adversary", self.adversary_accuracy)
            for i in range(self.adversaries)
        ]
        return out


@dataclass(frozen=True)
class SimulationResult:
    scenario: Scenario
    accuracy: dict[str, float]  # consensus accuracy on non-gold items, per policy
    answers_per_item: float
    flagged_at: dict[str, int | None]  # bad reviewer -> their answers when first flagged
    false_flags: list[str]  # honest reviewers ever flagged
    paused: list[str]
    competence: dict[str, float]  # estimated (one-coin Dawid-Skene)
    true_accuracy: dict[str, float]
    competence_correlation: float | None
    judgments: int = 0
    extra: dict[str, Any] = field(default_factory=dict)


def _schema(k: int) -> AnswerSchema:
    names = tuple(f"c{i}" for i in range(k))
    return AnswerSchema((AnswerField("category", "choice", "Category", True, names),))


def simulate(
    store: JudgmentStore, scenario: Scenario, *, project: str = "planted"
) -> SimulationResult:
    """Run ``scenario`` in ``store`` (a fresh project of that name) and score the result."""
    rng = np.random.default_rng(scenario.seed)
    k = scenario.categories
    schema = _schema(k)
    task = "label"
    spec = Task(
        name=task,
        kind="neuron",
        run="planted",
        title="Planted labels",
        instructions="",
        schema=schema,
        overlap=scenario.overlap,
        consensus_field="category",
        adaptive=(
            AdaptiveRule("category", scenario.min_agreement, scenario.max_overlap)
            if scenario.max_overlap
            else None
        ),
    )
    quality = QualitySpec(
        min_items=scenario.min_items,
        fast_seconds=2.0,
        tiers=tuple(
            TierRule(f"paused-{i}", Condition.parse(rule), pause=True)
            for i, rule in enumerate(scenario.tiers)
        ),
    )
    store.ensure_project(project, "Planted truth")
    store.ensure_task(
        project,
        task,
        kind="neuron",
        title=spec.title,
        instructions="",
        answer_schema=schema.to_dict(),
        settings=replace(spec.settings, shuffle=True),
    )
    truth = rng.integers(k, size=scenario.items)
    addresses = [f"neuron:planted/layer/{i}" for i in range(scenario.items)]
    n_gold = int(round(scenario.gold_share * scenario.items))
    gold_rows = set(rng.choice(scenario.items, size=n_gold, replace=False).tolist())
    store.add_items(
        project,
        task,
        [(a, "planted") for a in addresses],
        gold={addresses[i]: {"category": f"c{truth[i]}"} for i in gold_rows},
    )
    crowd = scenario.crowd()
    for r in crowd:
        store.ensure_reviewer(r.name, "x" * 12, role="reviewer")
    truth_of = {a: int(t) for a, t in zip(addresses, truth, strict=True)}
    clock = datetime.now(timezone.utc) - timedelta(days=30)
    working = {r.name: r for r in crowd}
    answered = dict.fromkeys(working, 0)
    flagged_at: dict[str, int | None] = {r.name: None for r in crowd}
    paused: set[str] = set()
    judgments = 0
    while working:
        name = str(rng.choice(sorted(working)))
        reviewer = working[name]
        try:
            item = store.claim(project, task, name)
        except PausedError:  # paused by a tier rule since the last check
            item = None
        if item is None:
            del working[name]
            continue
        seconds = float(rng.lognormal(np.log(12.0), 0.4))
        started = clock
        clock += timedelta(seconds=seconds)
        choice = reviewer.answer(truth_of[item.address], k, rng)
        store.submit(
            client_id=str(uuid.uuid4()),
            project=project,
            task=task,
            key=item.key,
            reviewer=name,
            answers={"category": f"c{choice}"},
            task_version=1,
            started_at=started,
            submitted_at=clock,
        )
        answered[name] += 1
        judgments += 1
        if judgments % scenario.check_every == 0:
            paused |= _check(store, project, task, spec, quality, answered, flagged_at, paused)
            for who in paused:
                working.pop(who, None)
    _check(store, project, task, spec, quality, answered, flagged_at, paused)
    return _score(
        store,
        project,
        task,
        scenario,
        crowd,
        truth_of,
        gold_rows,
        addresses,
        flagged_at,
        paused,
        judgments,
    )


def _check(
    store: JudgmentStore,
    project: str,
    task: str,
    spec: Task,
    quality: QualitySpec,
    answered: dict[str, int],
    flagged_at: dict[str, int | None],
    paused: set[str],
) -> set[str]:
    """One quality check while answers come in: note who is flagged, apply the tier rules."""
    answers = load_answers(store, project, task)
    report = compute_task(answers, spec, quality, paused=paused, n_boot=0)
    for who, figures in report.reviewer_figures.items():
        if figures.flags and flagged_at.get(who) is None:
            flagged_at[who] = answered[who]
    if not quality.tiers:
        return set()
    accounts = {a.username: a for a in store.reviewers()}
    decisions = decide_tiers(quality, report.reviewer_figures, store.tiers(project), accounts)
    apply_tiers(store, project, decisions)
    return {who for who, change in store.tiers(project).items() if change.paused}


def _score(
    store: JudgmentStore,
    project: str,
    task: str,
    scenario: Scenario,
    crowd: list[Any],
    truth_of: dict[str, int],
    gold_rows: set[int],
    addresses: list[str],
    flagged_at: dict[str, int | None],
    paused: set[str],
    judgments: int,
) -> SimulationResult:
    answers = load_answers(store, project, task)
    units = cast(Units, field_units(answers, "category"))  # the schema has the field
    scored = {a for i, a in enumerate(addresses) if i not in gold_rows}

    def accuracy(policy: str, model: str, exclude: set[str]) -> float:
        labels = compute_consensus(answers, units, policy=policy, model=model, paused=exclude)
        hits = [truth_of[c.address] == int(str(c.value)[1:]) for c in labels if c.address in scored]
        return float(np.mean(hits)) if hits else 0.0

    results = {
        "majority": accuracy("majority", "one-coin", set()),
        **{model: accuracy("reliability", model, set()) for model in MODELS[:3]},
    }
    if scenario.tiers:
        results["majority+tiers"] = accuracy("majority", "one-coin", paused)
        results["one-coin+tiers"] = accuracy("reliability", "one-coin", paused)
    fit = compute_reliability(units, model="one-coin")
    true = {r.name: r.accuracy for r in crowd}
    names = [n for n in true if n in fit.competence]
    est = np.array([fit.competence[n] for n in names])
    act = np.array([true[n] for n in names])
    correlation = (
        float(np.corrcoef(est, act)[0, 1])
        if len(names) > 2 and act.std() > 0 and est.std() > 0
        else None
    )
    non_gold = answers.frame[answers.frame["address"].isin(scored)]
    return SimulationResult(
        scenario=scenario,
        accuracy=results,
        answers_per_item=len(non_gold) / max(len(scored), 1),
        flagged_at={r.name: flagged_at[r.name] for r in crowd if r.kind != "honest"},
        false_flags=[
            r.name for r in crowd if r.kind == "honest" and flagged_at[r.name] is not None
        ],
        paused=sorted(paused),
        competence={n: float(fit.competence[n]) for n in names},
        true_accuracy=true,
        competence_correlation=correlation,
        judgments=judgments,
    )
