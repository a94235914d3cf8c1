"""The quality report of a project: every figure of ``quality/`` for every task, at once.

>>> report = compute_report(store, project)          # doctest: +SKIP
>>> report.tasks["describe-neurons"].agreement[0].describe()   # doctest: +SKIP
'0.61 [0.48, 0.72] on 64 units'
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

from tqdm.auto import tqdm

from interpret_review.judgments import JudgmentStore, TierChange
from interpret_review.quality.agreement import (
    Agreement,
    ItemAgreement,
    PairAgreement,
    compute_alpha,
    compute_fleiss,
    compute_items,
    compute_pairs,
)
from interpret_review.quality.consensus import ConsensusLabel, compute_consensus
from interpret_review.quality.data import TaskAnswers, field_units, load_answers
from interpret_review.quality.reliability import Reliability, compute_reliability
from interpret_review.quality.reviewers import ReviewerFigures, compute_reviewers, merge_reviewers
from interpret_review.quality.tiers import TierDecision, apply_tiers, decide_tiers
from interpret_review.review.project import Project
from interpret_review.review.rules import QualitySpec
from interpret_review.tasks import Task

__all__ = ["QualityReport", "TaskQuality", "compute_report", "compute_task", "keep_tiers"]

log = logging.getLogger("interpret_review.quality")


@dataclass(frozen=True)
class TaskQuality:
    """Everything measured on one task."""

    task: str
    stage: str
    answers: int
    reviewers: int
    consensus_field: str | None
    policy: str
    agreement: list[Agreement] = field(default_factory=list)
    pairs: list[PairAgreement] = field(default_factory=list)
    items: list[ItemAgreement] = field(default_factory=list)  # most disagreement first
    consensus: list[ConsensusLabel] = field(default_factory=list)
    reviewer_figures: dict[str, ReviewerFigures] = field(default_factory=dict)
    reliability: Reliability | None = None
    # verify tasks: simulation scores of each describer's descriptions
    scores: dict[str, list[float]] = field(default_factory=dict)


@dataclass(frozen=True)
class QualityReport:
    """A project's quality: per task, per reviewer (all tasks merged) and the tier rules'
    decisions against the current tiers."""

    project: str
    tasks: dict[str, TaskQuality]
    reviewers: dict[str, ReviewerFigures]
    tiers: dict[str, TierChange]
    decisions: list[TierDecision]

    @property
    def paused(self) -> set[str]:
        return {name for name, change in self.tiers.items() if change.paused}

    def describe(self, applied: Sequence[TierChange] = ()) -> str:
        """The report as text (what ``interpret-review quality`` prints); ``applied`` are
        the tier changes just recorded (the others are shown as proposals)."""

        def num(value: float | None, digits: int = 2) -> str:
            return "-" if value is None else f"{value:.{digits}f}"

        lines = [f"Quality of {self.project}"]
        for name, t in self.tasks.items():
            lines.append(f"\n{name} ({t.stage}): {t.answers} answers from {t.reviewers} reviewers")
            for a in t.agreement:
                lines.append(f"  {a.field:<14} {a.measure} ({a.level}): {a.describe()}")
            if t.consensus:
                confident = sum(c.confidence >= 0.9 for c in t.consensus)
                lines.append(
                    f"  consensus on {t.consensus_field} ({t.policy}): {len(t.consensus)} items, "
                    f"{confident} with confidence >= 0.9"
                )
            for i in t.items[:5]:
                if i.share < 1:
                    lines.append(f"  disagreement: {i.address} {i.share:.0%} of {i.answers} agree")
        lines.append("\nreviewer        answers  gold(n)     competence  peers  median_s  flags")
        for name, r in self.reviewers.items():
            gold = f"{num(r.gold_accuracy)}({r.gold_items})"
            tier = self.tiers[name].tier if name in self.tiers else ""
            lines.append(
                f"{name:<15} {r.items:>7}  {gold:<11} {num(r.competence):>10}  "
                f"{num(r.peer_agreement):>5}  {num(r.median_seconds, 1):>8}  "
                f"{', '.join(r.flags)} {('[' + tier + ']') if tier else ''}".rstrip()
            )
        changes = [d for d in self.decisions if d.changes]
        lines.append("")
        for d in changes:
            done = "changed" if any(c.reviewer == d.reviewer for c in applied) else "would change"
            lines.append(f"tier: {d.reviewer} {done} {d.current} -> {d.tier} ({d.reason})")
        if not changes:
            lines.append("tier rules: no change")
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        """The report as JSON-ready data (what ``interpret-review quality --json`` prints)."""
        return {
            "project": self.project,
            "tasks": {
                name: {
                    "stage": t.stage,
                    "answers": t.answers,
                    "reviewers": t.reviewers,
                    "consensus_field": t.consensus_field,
                    "policy": t.policy,
                    "agreement": [vars(a) for a in t.agreement],
                    "pairs": [vars(p) for p in t.pairs],
                    "most_disagreement": [vars(i) for i in t.items[:20]],
                    "consensus": [vars(c) for c in t.consensus],
                    "simulation_scores": t.scores,
                }
                for name, t in self.tasks.items()
            },
            "reviewers": {
                name: {
                    **r.figures(),
                    "flag_evidence": r.evidence,
                    "tier": self.tiers[name].tier if name in self.tiers else None,
                }
                for name, r in self.reviewers.items()
            },
            "decisions": [
                {**vars(d), "changes": d.changes, "reason": d.reason} for d in self.decisions
            ],
        }


def _adjudications(store: JudgmentStore, project: Project, task: Task) -> dict[str, dict[str, Any]]:
    """``address -> the adjudicator's answers`` for items of ``task`` that were adjudicated."""
    out: dict[str, dict[str, Any]] = {}
    for spec in project.tasks.values():
        if spec.stage != "adjudicate" or spec.source is None:
            continue
        source = project.tasks.get(spec.source)
        leads_here = spec.source == task.name or (
            source is not None and source.stage == "verify" and source.source == task.name
        )
        if not leads_here:
            continue
        for j in store.iter_judgments(project.name, task=spec.name, include_superseded=False):
            out[j.address] = dict(j.answers)
    return out


def compute_task(
    answers: TaskAnswers,
    spec: Task,
    quality: QualitySpec,
    *,
    paused: set[str] | frozenset[str] = frozenset(),
    adjudicated: Mapping[str, Mapping[str, Any]] | None = None,
    scores: Mapping[str, tuple[float, int]] | None = None,
    describers: Mapping[str, str] | None = None,
    description_scores: Mapping[str, float] | None = None,
    n_boot: int = 500,
) -> TaskQuality:
    """The figures of one task from its answers (no store needed: tests and the benchmark
    call this directly)."""
    min_items = quality.min_items
    agreement: list[Agreement] = []
    by_field = {f.name: field_units(answers, f.name) for f in answers.schema.fields}
    for f in answers.schema.fields:
        units = by_field[f.name]
        if units is None or units.empty:
            continue
        agreement.append(compute_alpha(spec.name, units, min_items=min_items, n_boot=n_boot))
        if f.type == "scale":
            agreement.append(
                compute_alpha(
                    spec.name, units, level="interval", min_items=min_items, n_boot=n_boot
                )
            )
        if f.type in ("choice", "boolean"):
            agreement.append(compute_fleiss(spec.name, units, min_items=min_items))
    name = spec.consensus_field
    pairs: list[PairAgreement] = []
    items: list[ItemAgreement] = []
    consensus: list[ConsensusLabel] = []
    fit = None
    units = by_field.get(name) if name else None
    if units is not None and not units.empty:
        pairs = compute_pairs(spec.name, units, min_items=min_items)
        items = sorted(
            compute_items(answers, units.field.name), key=lambda i: (i.share, -i.answers)
        )
        fit = compute_reliability(units, model=quality.model, exclude=paused)
        consensus = compute_consensus(
            answers,
            units,
            policy=spec.consensus,
            model=quality.model,
            paused=paused,
            adjudicated=adjudicated,
            fitted=fit,
            scores=description_scores,
        )
    figures = compute_reviewers(
        answers,
        field_name=units.field.name if units is not None else None,
        fit=fit,
        consensus=consensus,
        min_items=min_items,
        fast_seconds=quality.fast_seconds,
        paused=paused,
    )
    by_describer: dict[str, list[float]] = {}
    for client_id, (score, _) in (scores or {}).items():
        who = (describers or {}).get(client_id)
        if who is not None:
            by_describer.setdefault(who, []).append(float(score))
    return TaskQuality(
        task=spec.name,
        stage=spec.stage,
        answers=len(answers.frame),
        reviewers=len(answers.reviewers),
        consensus_field=units.field.name if units is not None else None,
        policy=spec.consensus,
        agreement=agreement,
        pairs=pairs,
        items=items,
        consensus=consensus,
        reviewer_figures=figures,
        reliability=fit,
        scores=by_describer,
    )


def compute_report(
    store: JudgmentStore, project: Project, *, n_boot: int = 500, progress: bool = False
) -> QualityReport:
    """The quality report of every task of ``project`` that is in the store (``progress``:
    a progress bar over the tasks on stderr)."""
    tiers = store.tiers(project.name)
    paused = {name for name, change in tiers.items() if change.paused}
    known = {v.task for v in store.tasks(project.name)}
    loaded = {
        name: load_answers(store, project.name, name) for name in project.tasks if name in known
    }
    tasks: dict[str, TaskQuality] = {}
    verified = {  # verify task -> description client id -> (mean score, verifications)
        name: store.description_scores(project.name, name)
        for name, spec in project.tasks.items()
        if spec.stage == "verify" and spec.source in loaded and name in loaded
    }
    tested: dict[str, dict[str, float]] = {}  # review task -> description -> mean score
    for name, found in verified.items():
        source = cast(str, project.tasks[name].source)
        tested.setdefault(source, {}).update({k: s for k, (s, _) in found.items()})
    names = list(loaded)
    for name in tqdm(names, desc="quality", unit="task", disable=not progress):
        answers = loaded[name]
        spec = project.tasks[name]
        scores = describers = None
        if name in verified:
            scores = verified[name]
            source = loaded[cast(str, spec.source)].frame
            describers = dict(zip(source["client_id"], source["reviewer"], strict=True))
        tasks[name] = compute_task(
            answers,
            spec,
            project.quality,
            paused=paused,
            adjudicated=_adjudications(store, project, spec) if spec.stage == "review" else None,
            scores=scores,
            describers=describers,
            description_scores=tested.get(name),
            n_boot=n_boot,
        )
    per_reviewer: dict[str, list[ReviewerFigures]] = {}
    for t in tasks.values():
        for who, figures in t.reviewer_figures.items():
            per_reviewer.setdefault(who, []).append(figures)
    reviewers = {who: merge_reviewers(rows, who) for who, rows in sorted(per_reviewer.items())}
    accounts = {a.username: a for a in store.reviewers()}
    decisions = decide_tiers(project.quality, reviewers, tiers, accounts)
    return QualityReport(project.name, tasks, reviewers, tiers, decisions)


def keep_tiers(
    store: JudgmentStore, project: Callable[[], Project], every_s: float, stop: threading.Event
) -> None:
    """Apply the tier rules of ``project()`` (read again each round, so tasks made on the
    admin page count) every ``every_s`` seconds until ``stop`` is set; the review app runs
    this in a thread of its own. A failed round is logged and the next one tried."""
    while not stop.wait(every_s):
        current = project()
        try:
            report = compute_report(store, current, n_boot=0)
            made = apply_tiers(store, current.name, report.decisions)
        except Exception:  # a bad round must not end the loop: log it, try again later
            log.exception("applying the tier rules of %r failed", current.name)
            continue
        for change in made:
            log.info("tier: %s -> %s (%s)", change.reviewer, change.tier, change.reason)
