"""The numpy kappas and reliability models give the numbers of the packages that maintain
them: scikit-learn's and statsmodels' kappas, crowd-kit's Dawid-Skene models (to 1e-9) and
its MACE (the same labels, competences in the same order). The app installs none of those
packages; the tests do (the ``dev`` extra), to hold the rewrites to them."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from crowdkit.aggregation import MACE, DawidSkene, OneCoinDawidSkene
from sklearn.metrics import cohen_kappa_score
from statsmodels.stats.inter_rater import fleiss_kappa as statsmodels_fleiss

from interpret_review.quality.aggregation import _digamma, dawid_skene, mace, one_coin
from interpret_review.quality.agreement import cohen_kappa, fleiss_kappa

pytestmark = [pytest.mark.reference, pytest.mark.slow]  # against crowd-kit and statsmodels


def crowd(seed: int, *, units: int = 150, reviewers: int = 10, k: int = 4, per: int = 3):
    """Answers of a crowd with planted truth: three spammers, the rest 55-95% accurate;
    values are strings whose order of first appearance differs from their sorted order."""
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, k, units)
    accuracy = rng.uniform(0.55, 0.95, reviewers)
    accuracy[:3] = 1.0 / k
    names = [f"v{code}" for code in rng.permutation(k)]
    rows = []
    for u in range(units):
        for r in rng.choice(reviewers, per, replace=False):
            value = truth[u] if rng.random() < accuracy[r] else rng.integers(0, k)
            rows.append((f"u{u}", f"r{r}", names[value]))
    return pd.DataFrame(rows, columns=["task", "worker", "label"]), accuracy


def codes(data: pd.DataFrame):
    units, unit_names = pd.factorize(data["task"])
    reviewers, reviewer_names = pd.factorize(data["worker"])
    values, value_names = pd.factorize(data["label"], sort=True)
    return (units, reviewers, values), unit_names, reviewer_names, value_names


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("model", ["dawid-skene", "one-coin"])
def test_dawid_skene_models_match_crowdkit(seed: int, model: str) -> None:
    data, _ = crowd(seed)
    # one reviewer never uses one of the values: its confusion rows must stay out
    data = data[~((data["worker"] == "r5") & (data["label"] == data["label"].iloc[0]))]
    args, unit_names, reviewer_names, value_names = codes(data)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if model == "dawid-skene":
            reference = DawidSkene(n_iter=40, tol=1e-4).fit(data)
            ours = dawid_skene(*args, n_iter=40, tol=1e-4)
        else:
            reference = OneCoinDawidSkene(n_iter=40, tol=1e-4).fit(data)
            ours = one_coin(*args, n_iter=40, tol=1e-4)
    expected = reference.probas_.reindex(index=unit_names, columns=value_names).to_numpy()
    np.testing.assert_allclose(ours.probas, expected, atol=1e-9)
    assert ours.iterations == len(reference.loss_history_)
    np.testing.assert_allclose(
        ours.priors, reference.priors_.reindex(value_names).to_numpy(), atol=1e-9
    )
    if model == "one-coin":
        skills = reference.skills_.reindex(reviewer_names).to_numpy()
        np.testing.assert_allclose(ours.competence, skills, atol=1e-9)
    else:
        errors = reference.errors_
        for r, worker in enumerate(reviewer_names):
            for a, answered in enumerate(value_names):
                if (worker, answered) in errors.index:
                    row = errors.loc[(worker, answered)].reindex(value_names).to_numpy()
                    np.testing.assert_allclose(ours.errors[r, a], row, atol=1e-9)
                else:
                    assert not ours.errors[r, a].any()


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_mace_agrees_with_crowdkit_and_finds_the_spammers(seed: int) -> None:
    data, accuracy = crowd(seed, units=200, reviewers=12)
    args, unit_names, reviewer_names, value_names = codes(data)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reference = MACE(n_restarts=3, n_iter=50, random_state=0).fit(data)
    ours = mace(*args, n_restarts=3, n_iter=50, seed=0)
    theirs = reference.probas_.reindex(index=unit_names).idxmax(axis=1).to_numpy()
    assert (value_names[ours.probas.argmax(axis=1)] == theirs).mean() >= 0.97
    spam = reference.spamming_  # rows in the order of first appearance, as ours
    assert np.corrcoef(spam[:, 1] / spam.sum(axis=1), ours.competence)[0, 1] > 0.99
    np.testing.assert_allclose(ours.probas.sum(axis=1), 1.0)
    true = accuracy[[int(name[1:]) for name in reviewer_names]]
    spammers = true == true.min()
    assert ours.competence[spammers].max() < ours.competence[~spammers].min()


def test_mace_restarts_are_seeded() -> None:
    args = codes(crowd(3)[0])[0]
    first, again = mace(*args, seed=4), mace(*args, seed=4)
    np.testing.assert_array_equal(first.probas, again.probas)
    one = {"n_restarts": 1, "n_iter": 1}
    assert not np.array_equal(mace(*args, seed=4, **one).probas, mace(*args, seed=5, **one).probas)


def test_digamma_matches_scipy() -> None:
    from scipy.special import digamma

    x = np.concatenate([np.linspace(0.5, 60, 20001), np.logspace(-3, 4, 2001)])
    np.testing.assert_allclose(_digamma(x), digamma(x), rtol=1e-14, atol=1e-13)


def test_the_models_refuse_codes_that_leave_a_unit_out() -> None:
    codes = np.array([0, 2]), np.array([0, 1]), np.array([0, 1])
    with pytest.raises(ValueError, match="every unit code"):
        one_coin(*codes)
    with pytest.raises(ValueError, match="at least one answer"):
        dawid_skene(np.array([], int), np.array([], int), np.array([], int))


def test_digamma_matches_its_values() -> None:
    # psi(1) = -gamma, psi(1/2) = -gamma - 2 ln 2, psi(x + 1) = psi(x) + 1/x
    euler = 0.5772156649015329
    got = _digamma(np.array([1.0, 0.5, 10.5, 1e-3]))
    np.testing.assert_allclose(got[:2], [-euler, -euler - 2 * np.log(2)], atol=1e-12)
    np.testing.assert_allclose(_digamma(np.array([11.5]))[0] - got[2], 1 / 10.5, atol=1e-12)
    np.testing.assert_allclose(_digamma(np.array([1.001]))[0] - got[3], 1 / 1e-3, rtol=1e-12)


@pytest.mark.parametrize("seed", range(5))
def test_fleiss_kappa_matches_statsmodels(seed: int) -> None:
    rng = np.random.default_rng(seed)
    table = rng.multinomial(4, [0.5, 0.3, 0.15, 0.05], size=40).astype(float)
    assert fleiss_kappa(table) == pytest.approx(statsmodels_fleiss(table, method="fleiss"))


@pytest.mark.parametrize("weights", [None, "linear", "quadratic"])
@pytest.mark.parametrize("seed", range(4))
def test_cohen_kappa_matches_scikit_learn(weights: str | None, seed: int) -> None:
    rng = np.random.default_rng(seed)
    first = rng.integers(0, 5, 60).astype(float)
    second = np.where(rng.random(60) < 0.6, first, rng.integers(0, 5, 60)).astype(float)
    labels = [0.0, 1.0, 2.0, 3.0, 4.0]
    expected = cohen_kappa_score(first, second, labels=labels, weights=weights)
    assert cohen_kappa(first, second, labels, weights) == pytest.approx(expected)
