"""Agreement between reviewers: Krippendorff's alpha (with a bootstrap interval), Cohen's
kappa per pair, Fleiss' kappa, and per-item agreement.

Krippendorff's alpha comes from the ``krippendorff`` package; the two kappas are a few lines
of numpy here, checked in the tests against scikit-learn's ``cohen_kappa_score`` and
statsmodels' ``fleiss_kappa`` (which the app need not carry). A figure computed on fewer
than ``min_items`` comparable units is not computed: its ``note`` says why, so nobody reads
a number made of three items.
"""

from __future__ import annotations

import itertools
import json
import warnings
from collections import Counter
from dataclasses import dataclass
from typing import Any

import krippendorff
import numpy as np

from interpret_review.quality.data import TaskAnswers, Units

__all__ = [
    "Agreement",
    "ItemAgreement",
    "PairAgreement",
    "compute_alpha",
    "compute_fleiss",
    "compute_items",
    "compute_pairs",
    "cohen_kappa",
    "fleiss_kappa",
]


def fleiss_kappa(counts: np.ndarray) -> float:
    """Fleiss' kappa of a (units, values) table of answer counts, every unit answered the
    same number of times (Fleiss, 1971; statsmodels' ``method="fleiss"``)."""
    counts = np.asarray(counts, dtype=float)
    raters = counts.sum(axis=1).max()
    shares = counts.sum(axis=0) / counts.sum()
    observed = ((counts**2).sum(axis=1) - raters) / (raters * (raters - 1))
    expected = float((shares**2).sum())
    return float((observed.mean() - expected) / (1 - expected))


def cohen_kappa(
    first: np.ndarray, second: np.ndarray, labels: list[Any], weights: str | None = None
) -> float:
    """Cohen's kappa of two raters over the same units, optionally weighted (``"linear"``
    or ``"quadratic"``), as scikit-learn's ``cohen_kappa_score`` computes it."""
    index = {label: i for i, label in enumerate(labels)}
    k = len(labels)
    confusion = np.zeros((k, k))
    for a, b in zip(first, second, strict=True):
        if a in index and b in index:
            confusion[index[a], index[b]] += 1
    expected = np.outer(confusion.sum(axis=1), confusion.sum(axis=0)) / confusion.sum()
    if weights is None:
        cost = 1.0 - np.eye(k)
    else:
        distance = np.abs(np.subtract.outer(np.arange(k), np.arange(k))).astype(float)
        cost = distance if weights == "linear" else distance**2
    return float(1 - (cost * confusion).sum() / (cost * expected).sum())


@dataclass(frozen=True)
class Agreement:
    """One chance-corrected figure for one answer field of a task.

    ``value`` is None when it could not be computed honestly; ``note`` says why. ``low`` and
    ``high`` bound a 95% bootstrap interval (units resampled with replacement)."""

    task: str
    field: str
    measure: str  # "alpha" or "fleiss_kappa"
    level: str  # nominal, ordinal or interval
    value: float | None
    low: float | None
    high: float | None
    units: int  # units with two or more answers
    answers: int
    note: str = ""

    def describe(self) -> str:
        if self.value is None:
            return self.note
        interval = "" if self.low is None else f" [{self.low:.2f}, {self.high:.2f}]"
        return f"{self.value:.2f}{interval} on {self.units} units"


@dataclass(frozen=True)
class PairAgreement:
    """Cohen's kappa of two reviewers over the units both answered (quadratic weights for
    ordinal fields)."""

    task: str
    field: str
    first: str
    second: str
    kappa: float | None
    units: int
    note: str = ""


@dataclass(frozen=True)
class ItemAgreement:
    """How much one item's answers agree on one field: the share giving the most common
    value (1.0 unanimous), the number of answers and the values given."""

    task: str
    item: str
    address: str
    field: str
    share: float
    answers: int
    values: dict[str, int]


def _pairable(counts: np.ndarray) -> np.ndarray:
    return np.asarray(counts.sum(axis=1) >= 2)


def _alpha(counts: np.ndarray, domain: tuple[float, ...], level: str) -> float:
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        return float(
            krippendorff.alpha(
                value_counts=counts,
                value_domain=list(domain),
                level_of_measurement=level,  # type: ignore[arg-type]
            )
        )


def compute_alpha(
    task: str,
    units: Units,
    *,
    level: str | None = None,
    min_items: int = 10,
    n_boot: int = 500,
    seed: int = 0,
) -> Agreement:
    """Krippendorff's alpha of one field, with a 95% bootstrap interval over units."""
    level = level or units.level
    name = units.field.name
    counts, _ = units.counts() if not units.empty else (np.zeros((0, len(units.domain))), [])
    counts = counts[_pairable(counts)] if len(counts) else counts
    n, answers = len(counts), int(counts.sum())

    def result(value: float | None, low: float | None, high: float | None, note: str) -> Agreement:
        return Agreement(task, name, "alpha", level, value, low, high, n, answers, note)

    if n < min_items:
        return result(
            None, None, None, f"too few items: {n} with two or more answers (need {min_items})"
        )
    if np.count_nonzero(counts.sum(axis=0)) < 2:
        return result(None, None, None, "every answer is the same value: alpha is undefined")
    value = _alpha(counts, units.domain, level)
    if n_boot == 0:
        return result(value, None, None, "")
    rng = np.random.default_rng(seed)
    boots = [_alpha(counts[rng.integers(0, n, n)], units.domain, level) for _ in range(n_boot)]
    finite = np.asarray([b for b in boots if np.isfinite(b)])
    if len(finite) < n_boot // 2:
        return result(value, None, None, "the interval is unstable: too little variation")
    low, high = np.percentile(finite, [2.5, 97.5])
    return result(value, float(low), float(high), "")


def compute_fleiss(task: str, units: Units, *, min_items: int = 10) -> Agreement:
    """Fleiss' kappa of a nominal field, when every unit has the same number of answers."""
    name = units.field.name
    counts, _ = units.counts() if not units.empty else (np.zeros((0, 2)), [])
    counts = counts[_pairable(counts)] if len(counts) else counts
    n, answers = len(counts), int(counts.sum())

    def result(value: float | None, note: str) -> Agreement:
        return Agreement(task, name, "fleiss_kappa", "nominal", value, None, None, n, answers, note)

    if n < min_items:
        return result(None, f"too few items: {n} with two or more answers (need {min_items})")
    per_unit = set(counts.sum(axis=1).astype(int))
    if len(per_unit) > 1:
        return result(
            None,
            f"items have different numbers of answers ({min(per_unit)} to {max(per_unit)}); "
            "Fleiss' kappa needs the same number for every item (see alpha)",
        )
    if np.count_nonzero(counts.sum(axis=0)) < 2:
        return result(None, "every answer is the same value: kappa is undefined")
    with np.errstate(all="ignore"):
        return result(fleiss_kappa(counts), "")


def compute_pairs(task: str, units: Units, *, min_items: int = 10) -> list[PairAgreement]:
    """Cohen's kappa for every pair of reviewers who answered units in common."""
    matrix, reviewers, _ = units.matrix()
    weights = "quadratic" if units.level == "ordinal" else None
    labels = list(units.domain)
    out = []
    for (i, a), (j, b) in itertools.combinations(enumerate(reviewers), 2):
        both = ~np.isnan(matrix[i]) & ~np.isnan(matrix[j])
        shared = int(both.sum())
        if shared == 0:
            continue
        if shared < min_items:
            out.append(
                PairAgreement(
                    task,
                    units.field.name,
                    a,
                    b,
                    None,
                    shared,
                    f"too few items in common: {shared} (need {min_items})",
                )
            )
            continue
        with np.errstate(all="ignore"):
            kappa = cohen_kappa(matrix[i][both], matrix[j][both], labels, weights)
        if not np.isfinite(kappa):
            out.append(
                PairAgreement(
                    task,
                    units.field.name,
                    a,
                    b,
                    None,
                    shared,
                    "both gave one and the same value throughout: kappa is undefined",
                )
            )
            continue
        out.append(PairAgreement(task, units.field.name, a, b, float(kappa), shared))
    return out


def _key(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True)


def compute_items(answers: TaskAnswers, name: str) -> list[ItemAgreement]:
    """Per item: the share of answers giving the most common value of field ``name``."""
    out = []
    frame = answers.frame.assign(value=answers.values(name))
    for (item, address), rows in frame.groupby(["item", "address"], sort=False):
        given = [_key(v) for v in rows["value"] if v not in (None, "", [], {})]
        if not given:
            continue
        counts = Counter(given)
        share = counts.most_common(1)[0][1] / len(given)
        out.append(
            ItemAgreement(answers.task, item, address, name, share, len(given), dict(counts))
        )
    return out
