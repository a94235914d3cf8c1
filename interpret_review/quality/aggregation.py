"""Reliability models over redundant answers, in numpy: one-coin and full Dawid-Skene, MACE.

Each takes the answers as three integer arrays of one length (the unit, the reviewer and
the value code of each answer, codes counted from 0) and returns a :class:`Fit`: per unit
the posterior probability of each value, per reviewer a competence.

* :func:`dawid_skene` and :func:`one_coin` follow crowd-kit 1.4's ``DawidSkene`` and
  ``OneCoinDawidSkene`` step for step (initialised from the majority vote; the same
  evidence lower bound and stopping rule), so they give its numbers: the tests compare
  them on simulated crowds. They are written here so that the review app does not carry
  crowd-kit, whose requirements bring transformers and nltk.
* :func:`mace` is MACE (Hovy et al., 2013) with crowd-kit's variational priors (Beta(0.5,
  0.5) on knowing, Dirichlet(10) on a spammer's answers). Its restarts start from seeded
  random points and the best marginal likelihood wins.

A value code that nobody used does not exist for the models (as in crowd-kit); callers
code the values they saw.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

__all__ = ["Fit", "dawid_skene", "mace", "majority_probas", "one_coin"]

_EPS = 1e-10


@dataclass(frozen=True)
class Fit:
    """``probas``: (units, values) posterior of each unit's true value. ``competence``: one
    figure per reviewer (the model's accuracy, or MACE's probability of not spamming).
    ``errors``: (reviewers, values answered, true values) confusion probabilities (the
    Dawid-Skene models; zero where a reviewer never gave that value). ``priors``: the
    values' prior. ``iterations``: EM steps taken."""

    probas: np.ndarray
    competence: np.ndarray
    priors: np.ndarray
    errors: np.ndarray | None = None
    iterations: int = 0


def _shape(units: np.ndarray, reviewers: np.ndarray, values: np.ndarray) -> tuple[int, int, int]:
    """``(units, reviewers, values)`` counted from the codes, which must be answers' codes
    from 0 with no unit left out (``pandas.factorize`` makes them)."""
    if not (len(units) == len(reviewers) == len(values)) or len(units) == 0:
        raise ValueError(
            f"one unit, reviewer and value code per answer, and at least one answer; got "
            f"{len(units)}, {len(reviewers)} and {len(values)}"
        )
    if min(units.min(), reviewers.min(), values.min()) < 0:
        raise ValueError("codes count from 0; got a negative one")
    n_units = int(units.max()) + 1
    if np.bincount(units, minlength=n_units).min() == 0:
        raise ValueError("every unit code from 0 to the largest needs an answer")
    return n_units, int(reviewers.max()) + 1, int(values.max()) + 1


def _per_unit(units: np.ndarray, weights: np.ndarray, n_units: int) -> np.ndarray:
    """Sum rows of ``weights`` (answers, K) into (units, K)."""
    out = np.zeros((n_units, weights.shape[1]))
    np.add.at(out, units, weights)
    return out


def majority_probas(units: np.ndarray, values: np.ndarray, n_units: int, k: int) -> np.ndarray:
    """Each unit's share of answers giving each value."""
    counts = np.zeros((n_units, k))
    np.add.at(counts, (units, values), 1.0)
    return np.asarray(counts / counts.sum(axis=1, keepdims=True))


def _softmax_rows(log: np.ndarray) -> np.ndarray:
    scaled = np.exp(log - log.max(axis=1, keepdims=True))
    return np.asarray(scaled / scaled.sum(axis=1, keepdims=True))


def _e_step(
    units: np.ndarray,
    reviewers: np.ndarray,
    values: np.ndarray,
    priors: np.ndarray,
    errors: np.ndarray,
    n_units: int,
) -> np.ndarray:
    log_errors = np.log(errors[reviewers, values])  # (answers, K)
    log = np.log(np.clip(priors, _EPS, None)) + _per_unit(units, log_errors, n_units)
    return _softmax_rows(log)


def _lower_bound(
    units: np.ndarray,
    reviewers: np.ndarray,
    values: np.ndarray,
    probas: np.ndarray,
    priors: np.ndarray,
    errors: np.ndarray,
) -> float:
    """crowd-kit's evidence lower bound (the prior counted once per answer, as there)."""
    joint = np.log(errors[reviewers, values]) + np.log(np.clip(priors, _EPS, None))
    expectation = float((probas[units] * joint).sum())
    clipped = np.clip(probas, _EPS, None)
    entropy = float(-(np.log(clipped) * clipped).sum())
    return (expectation + entropy) / len(units)


def _confusions(
    units: np.ndarray,
    reviewers: np.ndarray,
    values: np.ndarray,
    probas: np.ndarray,
    n_reviewers: int,
    used: np.ndarray,
) -> np.ndarray:
    """Dawid-Skene's M-step: each reviewer's (answered, true) matrix, normalised over the
    values that reviewer used (an unused value's row stays 0)."""
    k = probas.shape[1]
    counts = np.zeros((n_reviewers, k, k))
    np.add.at(counts, (reviewers, values), probas[units])
    counts = np.where(used[:, :, None], np.clip(counts, _EPS, None), 0.0)
    return np.asarray(counts / counts.sum(axis=1, keepdims=True))


def _used(reviewers: np.ndarray, values: np.ndarray, n_reviewers: int, k: int) -> np.ndarray:
    used = np.zeros((n_reviewers, k), dtype=bool)
    used[reviewers, values] = True
    return used


def _em(
    units: np.ndarray,
    reviewers: np.ndarray,
    values: np.ndarray,
    m_step: Callable[[np.ndarray], np.ndarray],
    n_iter: int,
    tol: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """EM from the majority vote until the lower bound gains less than ``tol``: the last
    ``(probas, priors, errors, steps)``. ``m_step`` maps posteriors to confusions."""
    n_units, _, k = _shape(units, reviewers, values)
    probas = majority_probas(units, values, n_units, k)
    priors = probas.mean(axis=0)
    errors = m_step(probas)
    loss, steps = -np.inf, 0
    while steps < n_iter:
        steps += 1
        probas = _e_step(units, reviewers, values, priors, errors, n_units)
        priors = probas.mean(axis=0)
        errors = m_step(probas)
        new = _lower_bound(units, reviewers, values, probas, priors, errors)
        if new - loss < tol:
            break
        loss = new
    return probas, priors, errors, steps


def dawid_skene(
    units: np.ndarray,
    reviewers: np.ndarray,
    values: np.ndarray,
    *,
    n_iter: int = 100,
    tol: float = 1e-5,
) -> Fit:
    """The full Dawid-Skene model: a confusion matrix per reviewer. Competence is the
    probability of answering the true value, weighted by the values' prior."""
    _, n_reviewers, k = _shape(units, reviewers, values)
    used = _used(reviewers, values, n_reviewers, k)

    def m_step(probas: np.ndarray) -> np.ndarray:
        return _confusions(units, reviewers, values, probas, n_reviewers, used)

    probas, priors, errors, steps = _em(units, reviewers, values, m_step, n_iter, tol)
    diagonal = errors[:, np.arange(k), np.arange(k)]  # (reviewers, K)
    return Fit(probas, (diagonal * priors).sum(axis=1), priors, errors, steps)


def _one_coin_errors(skills: np.ndarray, used: np.ndarray) -> np.ndarray:
    k = used.shape[1]
    wrong = (1.0 - skills) / (k - 1)
    errors = np.broadcast_to(wrong[:, None, None], (len(skills), k, k)).copy()
    errors[:, np.arange(k), np.arange(k)] = skills[:, None]
    errors = np.clip(errors, _EPS, 1 - _EPS)
    return np.where(used[:, :, None], errors, 0.0)


def _skills(
    units: np.ndarray, reviewers: np.ndarray, values: np.ndarray, probas: np.ndarray, n: int
) -> np.ndarray:
    """Each reviewer's expected accuracy: the mean posterior of the values they gave."""
    right = probas[units, values]
    return np.bincount(reviewers, weights=right, minlength=n) / np.bincount(reviewers, minlength=n)


def one_coin(
    units: np.ndarray,
    reviewers: np.ndarray,
    values: np.ndarray,
    *,
    n_iter: int = 100,
    tol: float = 1e-5,
) -> Fit:
    """Dawid-Skene with one accuracy per reviewer, errors spread evenly over the other
    values (needs two or more values). Competence is that accuracy."""
    _, n_reviewers, k = _shape(units, reviewers, values)
    if k < 2:
        raise ValueError("the one-coin model needs answers with two or more values")
    used = _used(reviewers, values, n_reviewers, k)

    def m_step(probas: np.ndarray) -> np.ndarray:
        return _one_coin_errors(_skills(units, reviewers, values, probas, n_reviewers), used)

    probas, priors, errors, steps = _em(units, reviewers, values, m_step, n_iter, tol)
    skills = _skills(units, reviewers, values, probas, n_reviewers)
    return Fit(probas, skills, priors, errors, steps)


def _digamma(x: np.ndarray) -> np.ndarray:
    """The digamma function for positive ``x``: the recurrence up to 10, then the
    asymptotic series (within 1e-13 of SciPy's from 0.5 up, and to rounding below)."""
    x = np.asarray(x, dtype=float).copy()
    shift = np.zeros_like(x)
    while (small := x < 10.0).any():
        shift[small] -= 1.0 / x[small]
        x[small] += 1.0
    inv2 = 1.0 / (x * x)
    series = inv2 * (1 / 12 - inv2 * (1 / 120 - inv2 * (1 / 252 - inv2 * (1 / 240 - inv2 / 132))))
    return np.asarray(shift + np.log(x) - 0.5 / x - series)


def _variational(counts: np.ndarray, prior: np.ndarray | float) -> np.ndarray:
    """Variational Bayes' normalisation of expected counts under a Dirichlet prior."""
    total = counts + prior
    return np.asarray(np.exp(_digamma(total) - _digamma(total.sum(axis=1, keepdims=True))))


def mace(
    units: np.ndarray,
    reviewers: np.ndarray,
    values: np.ndarray,
    *,
    n_restarts: int = 3,
    n_iter: int = 50,
    seed: int = 0,
    knowing_prior: tuple[float, float] = (0.5, 0.5),
    strategy_prior: float = 10.0,
) -> Fit:
    """MACE: each reviewer knows the answer with probability ``competence`` and otherwise
    spams, answering from a distribution of their own. Trained by variational EM from
    ``n_restarts`` seeded random starts; the start with the best marginal likelihood wins."""
    n_units, n_reviewers, k = _shape(units, reviewers, values)
    onehot = values[:, None] == np.arange(k)[None, :]  # (answers, K)
    prior = np.asarray(knowing_prior, dtype=float)[None, :]  # (spamming, knowing)

    def e_step(
        spam: np.ndarray, strategy: np.ndarray
    ) -> tuple[float, np.ndarray, np.ndarray, np.ndarray]:
        spammed = spam[reviewers, 0] * strategy[reviewers, values]  # P(value | spamming)
        knowing = spam[reviewers, 1]
        per_answer = np.log(spammed[:, None] + knowing[:, None] * onehot)  # (answers, K)
        log_gold = _per_unit(units, per_answer, n_units) - math.log(k)
        top = log_gold.max(axis=1, keepdims=True)
        log_marginal = top[:, 0] + np.log(np.exp(log_gold - top).sum(axis=1))
        posterior = np.exp(log_gold - log_marginal[:, None])  # (units, K)
        right = posterior[units, values]  # P(true value == given value)
        knew = right * knowing / (spammed + knowing)
        strategy_counts = np.zeros((n_reviewers, k))
        np.add.at(strategy_counts, (reviewers, values), 1.0 - knew)
        knowing_counts = np.stack(
            [
                np.bincount(reviewers, weights=1.0 - knew, minlength=n_reviewers),
                np.bincount(reviewers, weights=knew, minlength=n_reviewers),
            ],
            axis=1,
        )
        return float(log_marginal.sum()), posterior, strategy_counts, knowing_counts

    rng = np.random.default_rng(seed)

    def restart() -> tuple[float, np.ndarray, np.ndarray]:
        spam = rng.uniform(1.0, 1.5, size=(n_reviewers, 2))
        spam /= spam.sum(axis=1, keepdims=True)
        strategy = rng.uniform(1.0, 1.5, size=(n_reviewers, k))
        strategy /= strategy.sum(axis=1, keepdims=True)
        likelihood, _, strategy_counts, knowing_counts = e_step(spam, strategy)
        for _ in range(n_iter):
            spam = _variational(knowing_counts, prior)
            strategy = _variational(strategy_counts, strategy_prior)
            likelihood, _, strategy_counts, knowing_counts = e_step(spam, strategy)
        return likelihood, spam, strategy

    # the best marginal likelihood wins (the first start on a tie)
    fits = [restart() for _ in range(max(n_restarts, 1))]
    _, spam, strategy = max(fits, key=lambda fit: fit[0])
    _, posterior, _, _ = e_step(spam, strategy)
    competence = spam[:, 1] / spam.sum(axis=1)
    return Fit(posterior, competence, posterior.mean(axis=0), None, n_iter)
