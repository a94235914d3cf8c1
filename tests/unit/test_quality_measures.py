"""Agreement, reliability, flags and consensus on answer tables built in memory: known
values from the literature, and the direction of results on planted data."""

from __future__ import annotations

import math
from datetime import datetime, timedelta, timezone
from typing import Any

import numpy as np
import pytest

from interpret_review.quality import (
    TaskAnswers,
    compute_alpha,
    compute_consensus,
    compute_fleiss,
    compute_pairs,
    compute_reliability,
    compute_task,
    field_units,
)
from interpret_review.review.rules import QualitySpec
from interpret_review.tasks import Task
from interpret_review.tasks.answers import AnswerField, AnswerSchema

T0 = datetime(2026, 1, 1, tzinfo=timezone.utc)
NAN = math.nan

# Krippendorff's example (the krippendorff package's README; Krippendorff 2011):
# 3 coders x 15 units, values 1-4; alpha nominal 0.691, interval 0.811.
KRIPPENDORFF = [
    [NAN, NAN, NAN, NAN, NAN, 3, 4, 1, 2, 1, 1, 3, 3, NAN, 3],
    [1, NAN, 2, 1, 3, 3, 4, 3, NAN, NAN, NAN, NAN, NAN, NAN, NAN],
    [NAN, NAN, 2, 1, 3, 4, 4, NAN, 2, 1, 1, 3, 3, NAN, 4],
]


def table(
    answers: list[tuple[str, str, dict[str, Any]]],
    schema: AnswerSchema,
    *,
    seconds: list[float] | None = None,
    gold: dict[str, dict[str, Any]] | None = None,
) -> TaskAnswers:
    """A task's answers from ``(item, reviewer, answers)`` rows, in order."""

    class J:  # the fields of a Judgment that TaskAnswers reads
        superseded = False

    rows = []
    for n, (item, reviewer, given) in enumerate(answers):
        j = J()
        j.item = j.address = item  # type: ignore[attr-defined]
        j.reviewer, j.client_id, j.answers = reviewer, f"c{n}", given  # type: ignore[attr-defined]
        j.duration_ms = int(1000 * (seconds[n] if seconds else 10.0))  # type: ignore[attr-defined]
        j.submitted_at = T0 + timedelta(seconds=n)  # type: ignore[attr-defined]
        rows.append(j)
    task = TaskAnswers.from_judgments("t", rows, schema)  # type: ignore[arg-type]
    return TaskAnswers(task.task, task.stage, task.kind, task.schema, task.frame, gold or {})


def scale_schema() -> AnswerSchema:
    return AnswerSchema((AnswerField("value", "scale", "Value", True, min=1, max=4),))


def choice_schema(k: int = 4) -> AnswerSchema:
    names = tuple(f"c{i}" for i in range(k))
    return AnswerSchema((AnswerField("category", "choice", "Category", True, names),))


def krippendorff_answers() -> TaskAnswers:
    rows = []
    for coder, values in enumerate(KRIPPENDORFF):
        for unit, v in enumerate(values):
            if not math.isnan(v):
                rows.append((f"u{unit:02d}", f"coder{coder}", {"value": int(v)}))
    return table(rows, scale_schema())


def test_alpha_reproduces_krippendorffs_published_example() -> None:
    units = field_units(krippendorff_answers(), "value")
    assert units is not None and units.level == "ordinal"
    nominal = compute_alpha("t", units, level="nominal", min_items=5, n_boot=200)
    interval = compute_alpha("t", units, level="interval", min_items=5, n_boot=200)
    assert nominal.value == pytest.approx(0.691, abs=1e-3)
    assert interval.value == pytest.approx(0.811, abs=1e-3)
    assert nominal.units == 12  # units with two or more values
    assert nominal.low is not None and nominal.high is not None
    assert nominal.low <= nominal.value <= nominal.high


def test_a_figure_on_too_few_items_says_so_instead_of_a_number() -> None:
    units = field_units(krippendorff_answers(), "value")
    assert units is not None
    alpha = compute_alpha("t", units, min_items=13)
    assert alpha.value is None and "too few items: 12 with two or more answers" in alpha.note
    fleiss = compute_fleiss("t", units, min_items=13)
    assert fleiss.value is None and "too few" in fleiss.note
    pairs = compute_pairs("t", units, min_items=13)
    assert pairs and all(p.kappa is None and "too few" in p.note for p in pairs)


def test_fleiss_needs_the_same_number_of_answers_per_item() -> None:
    rng = np.random.default_rng(0)
    rows = [
        (f"i{i}", f"r{r}", {"category": f"c{int(rng.integers(2))}"})
        for i in range(30)
        for r in range(3 if i % 2 else 2)
    ]
    units = field_units(table(rows, choice_schema(2)), "category")
    assert units is not None
    fleiss = compute_fleiss("t", units, min_items=10)
    assert fleiss.value is None and "different numbers of answers (2 to 3)" in fleiss.note
    same = [r for r in rows if int(r[0][1:]) % 2]
    units = field_units(table(same, choice_schema(2)), "category")
    assert units is not None
    assert compute_fleiss("t", units, min_items=10).value is not None


def test_perfect_agreement_is_one_and_constant_answers_are_undefined() -> None:
    rows = [(f"i{i}", r, {"category": f"c{i % 3}"}) for i in range(12) for r in ("a", "b")]
    units = field_units(table(rows, choice_schema(3)), "category")
    assert units is not None
    assert compute_alpha("t", units, n_boot=50).value == pytest.approx(1.0)
    [pair] = compute_pairs("t", units)
    assert pair.kappa == pytest.approx(1.0) and pair.units == 12
    same = [(f"i{i}", r, {"category": "c0"}) for i in range(12) for r in ("a", "b")]
    units = field_units(table(same, choice_schema(3)), "category")
    assert units is not None
    assert "every answer is the same" in compute_alpha("t", units).note


def test_multi_part_fields_become_one_unit_per_part() -> None:
    schema = AnswerSchema(
        (
            AnswerField("flags", "multi_choice", "Flags", choices=("x", "y")),
            AnswerField("fits", "marks", "Fits"),
            AnswerField("ratings", "ratings", "Rate", choices=("yes", "partly", "no")),
        )
    )
    rows = [
        ("i1", "a", {"flags": ["x"], "fits": [1, 2], "ratings": {"IG": "yes", "Saliency": "no"}}),
        ("i1", "b", {"flags": [], "fits": [2], "ratings": {"IG": "partly"}}),
    ]
    answers = table(rows, schema)
    flags, fits, ratings = (field_units(answers, n) for n in ("flags", "fits", "ratings"))
    assert flags is not None and sorted(flags.frame["unit"].unique()) == ["i1#x", "i1#y"]
    assert fits is not None and set(fits.frame["unit"]) == {"i1#1", "i1#2"}
    assert fits.frame.query("reviewer == 'b'")["value"].tolist() == [0.0, 1.0]
    assert ratings is not None and ratings.level == "ordinal"
    assert set(ratings.frame["unit"]) == {"i1#IG", "i1#Saliency"}


def planted(
    seed: int,
    *,
    items: int = 150,
    k: int = 4,
    honest: int = 6,
    accuracy: float = 0.75,
    spammers: int = 2,
    adversaries: int = 0,
    overlap: int = 3,
    gold_every: int = 0,
) -> tuple[TaskAnswers, dict[str, int]]:
    """Reviewers with known accuracies answer items with known labels."""
    rng = np.random.default_rng(seed)
    names = [f"honest{i}" for i in range(honest)]
    names += [f"spammer{i}" for i in range(spammers)]
    names += [f"adversary{i}" for i in range(adversaries)]
    truth = {f"i{i:03d}": int(rng.integers(k)) for i in range(items)}
    gold = {
        item: {"category": f"c{t}"}
        for n, (item, t) in enumerate(truth.items())
        if gold_every and n % gold_every == 0
    }
    rows = []
    for item, t in truth.items():
        for who in rng.choice(names, size=overlap, replace=False):
            if who.startswith("spammer"):
                v = int(rng.integers(k))
            elif rng.random() < (0.1 if who.startswith("adversary") else accuracy):
                v = t
            elif who.startswith("adversary"):
                v = (t + 1) % k
            else:
                v = int((t + 1 + rng.integers(k - 1)) % k)
            rows.append((item, str(who), {"category": f"c{v}"}))
    return table(rows, choice_schema(k), gold=gold), truth


def consensus_accuracy(
    answers: TaskAnswers, truth: dict[str, int], policy: str, model: str
) -> float:
    units = field_units(answers, "category")
    assert units is not None
    labels = compute_consensus(answers, units, policy=policy, model=model)
    return float(np.mean([truth[c.item] == int(c.value[1:]) for c in labels]))


def test_the_reliability_model_beats_majority_vote_when_spammers_are_present() -> None:
    gains = []
    for seed in range(4):
        answers, truth = planted(seed)
        majority = consensus_accuracy(answers, truth, "majority", "one-coin")
        reliability = consensus_accuracy(answers, truth, "reliability", "one-coin")
        gains.append(reliability - majority)
    assert np.mean(gains) > 0.02 and sum(g > 0 for g in gains) >= 3


def test_estimated_competence_follows_true_accuracy() -> None:
    answers, _ = planted(0, spammers=2, adversaries=1)
    units = field_units(answers, "category")
    assert units is not None
    fit = compute_reliability(units, model="one-coin")
    honest = np.mean([v for w, v in fit.competence.items() if w.startswith("honest")])
    spam = np.mean([v for w, v in fit.competence.items() if w.startswith("spammer")])
    adversary = fit.competence["adversary0"]
    assert honest > spam + 0.3 and spam > adversary
    mace = compute_reliability(units, model="mace")
    assert np.mean([v for w, v in mace.competence.items() if w.startswith("honest")]) > max(
        v for w, v in mace.competence.items() if w.startswith("spammer")
    )


def spec(**keys: Any) -> Task:
    return Task(
        name="t", kind="neuron", run="r", title="T", instructions="", schema=choice_schema(),
        consensus_field="category", **keys,
    )  # fmt: skip


def test_spammers_and_adversaries_are_flagged_and_honest_reviewers_are_not() -> None:
    answers, _ = planted(1, items=240, spammers=1, adversaries=1, gold_every=10)
    report = compute_task(answers, spec(), QualitySpec(min_items=10), n_boot=0)
    figures = report.reviewer_figures
    assert "near_chance" in figures["spammer0"].flags
    assert "below_chance" in figures["adversary0"].flags
    assert "to 1 that these answers are random" in figures["spammer0"].evidence["near_chance"]
    assert figures["spammer0"].chance == pytest.approx(1 / 4)  # the model's, not the matches'
    assert all(not f.flags for name, f in figures.items() if name.startswith("honest"))
    assert figures["honest0"].gold_items > 0
    assert figures["honest0"].gold_accuracy > figures["spammer0"].gold_accuracy  # type: ignore[operator]


def test_speed_and_straight_lining_flags() -> None:
    rng = np.random.default_rng(2)
    rows, seconds = [], []
    for i in range(40):
        item = f"i{i:02d}"
        truth = int(rng.integers(4))
        for who in ("a", "b", "c"):
            rows.append((item, who, {"category": f"c{truth}"}))
            seconds.append(float(rng.uniform(8, 20)))
        rows.append((item, "clicker", {"category": "c0"}))  # the same answer, fast
        seconds.append(0.8)
    report = compute_task(
        table(rows, choice_schema(), seconds=seconds),
        spec(),
        QualitySpec(fast_seconds=2.0),
        n_boot=0,
    )
    clicker = report.reviewer_figures["clicker"]
    assert {"too_fast", "faster_than_peers", "straight_lining"} <= set(clicker.flags)
    assert "in a row" in clicker.evidence["straight_lining"]
    assert not report.reviewer_figures["a"].flags


def test_consensus_policies_and_adjudication_first() -> None:
    rows = [
        ("i1", "a", {"category": "c1"}),
        ("i1", "b", {"category": "c1"}),
        ("i1", "c", {"category": "c2"}),
    ]
    answers = table(rows, choice_schema())
    units = field_units(answers, "category")
    assert units is not None
    [majority] = compute_consensus(answers, units, policy="majority")
    assert (majority.value, majority.policy, majority.answers) == ("c1", "majority", 3)
    assert majority.confidence == pytest.approx(2 / 3)
    [decided] = compute_consensus(
        answers, units, policy="adjudicated", adjudicated={"i1": {"category": "c2", "label": "x"}}
    )
    assert (decided.value, decided.policy, decided.confidence) == ("c2", "adjudicated", 1.0)
    assert decided.description == "x"
    [without_a] = compute_consensus(answers, units, policy="majority", paused={"a", "b"})
    assert without_a.value == "c2" and without_a.answers == 1


def test_the_best_tested_description_goes_with_the_consensus_label() -> None:
    schema = AnswerSchema(
        (
            AnswerField("label", "text", "Label", True),
            AnswerField("category", "choice", "Category", True, ("c0", "c1")),
        )
    )
    rows = [
        ("i1", "a", {"label": "vague", "category": "c1"}),
        ("i1", "b", {"label": "the top loop", "category": "c1"}),
    ]
    answers = table(rows, schema)
    units = field_units(answers, "category")
    assert units is not None
    [first] = compute_consensus(answers, units, policy="majority")
    assert first.description == "vague"  # nothing tested yet: the first one given
    [best] = compute_consensus(answers, units, policy="majority", scores={"c0": 0.1, "c1": 0.8})
    assert best.description == "the top loop"


def test_two_reviewers_who_disagree_give_no_confident_consensus() -> None:
    rows = [(f"i{i}", r, {"category": f"c{(i + (r == 'b')) % 4}"}) for i in range(12) for r in "ab"]
    answers = table(rows, choice_schema())
    units = field_units(answers, "category")
    assert units is not None
    fit = compute_reliability(units, model="one-coin")
    assert fit.model == "majority" and set(fit.confidence.values()) == {0.5}
