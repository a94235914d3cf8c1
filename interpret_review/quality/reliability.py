"""Reliability models over redundant answers: Dawid-Skene and MACE (see ``aggregation.py``).

Each model sees every unit's answers and estimates, at once, how competent each reviewer is
and which value each unit most probably has:

* ``one-coin`` (the default): Dawid-Skene with one accuracy per reviewer, errors spread
  over the other values. One parameter a reviewer keeps it honest on few answers.
* ``dawid-skene``: the full model, a confusion matrix per reviewer (who mistakes what for
  what). Best with many answers per reviewer; on tens of answers its K x K matrices are
  mostly noise and it can do worse than a majority vote (the planted-truth benchmark shows
  it).
* ``mace``: MACE, which models each reviewer as knowing the answer or spamming; the
  slowest (several restarts), and good at telling spammers apart.

A reviewer's *competence* is their estimated accuracy (Dawid-Skene: the probability of
answering the true value, weighted by how common each value is; MACE: the probability of
not answering at random). A random answerer sits near ``1 / number of values`` (Dawid-Skene)
or near 0 (MACE).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from interpret_review.errors import UnknownNameError
from interpret_review.quality.aggregation import dawid_skene, mace, one_coin
from interpret_review.quality.data import Units

__all__ = ["MODELS", "Reliability", "compute_reliability"]

MODELS = ("one-coin", "dawid-skene", "mace", "majority")


@dataclass(frozen=True)
class Reliability:
    """What a model concluded: per reviewer a competence and the units it rests on; per
    unit the most probable value (its code) and that value's posterior probability."""

    model: str
    competence: dict[str, float] = field(default_factory=dict)
    support: dict[str, int] = field(default_factory=dict)  # comparable answers per reviewer
    labels: dict[str, float] = field(default_factory=dict)  # unit -> value code
    confidence: dict[str, float] = field(default_factory=dict)  # unit -> posterior
    chance: float = 0.0  # a random answerer's competence under this model


def _frame(units: Units, exclude: set[str]) -> pd.DataFrame:
    data = units.frame[~units.frame["reviewer"].isin(exclude)]
    return pd.DataFrame(
        {"task": data["unit"].astype(str), "worker": data["reviewer"], "label": data["value"]}
    )


def compute_reliability(
    units: Units, *, model: str = "one-coin", exclude: set[str] | frozenset[str] = frozenset()
) -> Reliability:
    """Fit ``model`` on the answers of ``units`` (leaving out reviewers in ``exclude``)."""
    if model not in MODELS:
        raise UnknownNameError("reliability model", model, MODELS)
    data = _frame(units, set(exclude))
    if data.empty:
        return Reliability(model)
    # a reviewer's evidence: their answers on units someone else answered too
    shared = data["task"].map(data["task"].value_counts()) >= 2
    support = data[shared].groupby("worker").size().astype(int).to_dict()
    k = max(len(units.domain), 2)
    # with fewer than three reviewers no model can tell who is right when two disagree
    if model == "majority" or data["label"].nunique() < 2 or data["worker"].nunique() < 3:
        return _majority(data, support, k)
    return _fit(data, model, support, k)


def _fit(data: pd.DataFrame, model: str, support: dict[str, int], k: int) -> Reliability:
    units, unit_names = pd.factorize(data["task"])
    reviewers, reviewer_names = pd.factorize(data["worker"])
    values, value_names = pd.factorize(data["label"], sort=True)
    args = (units, reviewers, values)
    if model == "one-coin":
        fit = one_coin(*args, n_iter=40, tol=1e-4)
        chance = 1.0 / k
    elif model == "dawid-skene":
        fit = dawid_skene(*args, n_iter=40, tol=1e-4)
        chance = 1.0 / k
    else:
        fit = mace(*args, n_restarts=3, n_iter=50, seed=0)
        chance = 0.0
    competence = {str(w): float(c) for w, c in zip(reviewer_names, fit.competence, strict=True)}
    best = fit.probas.argmax(axis=1)
    return Reliability(
        model,
        competence,
        {str(w): int(support.get(w, 0)) for w in competence},
        {str(u): float(value_names[b]) for u, b in zip(unit_names, best, strict=True)},
        {str(u): float(p) for u, p in zip(unit_names, fit.probas.max(axis=1), strict=True)},
        chance,
    )


def _majority(data: pd.DataFrame, support: dict[str, int], k: int) -> Reliability:
    """Plurality per unit; a reviewer's competence is their agreement with it (a model of
    last resort, and what every policy falls back to when all answers are one value)."""
    labels, confidence = {}, {}
    for unit, rows in data.groupby("task"):
        counts = rows["label"].value_counts()
        labels[str(unit)] = float(counts.index[0])
        confidence[str(unit)] = float(counts.iloc[0] / counts.sum())
    match = data["label"].to_numpy() == np.array([labels[str(u)] for u in data["task"]])
    agree = pd.Series(match, index=data["worker"]).groupby(level=0).mean()
    return Reliability(
        "majority",
        {str(w): float(a) for w, a in agree.items()},
        {str(w): int(support.get(w, 0)) for w in agree.index},
        labels,
        confidence,
        1.0 / k,
    )
