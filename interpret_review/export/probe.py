"""Linear probes from a probe bundle: does a layer's activation linearly encode a concept?

For each concept and layer, a logistic regression (scikit-learn, standardised inputs,
balanced class weights, its strength C chosen on the validation split) is trained on the
train split and scored on the test split: accuracy and ROC AUC. Two baselines say whether
that means anything: the majority class of the train split (its accuracy; AUC 0.5), and
the same probe trained on the train labels shuffled (mean over ``shuffles`` shuffles),
which measures what the probe finds in noise.

>>> from interpret_review.export.probe import ProbeResult
>>> ProbeResult("c", "name", "conv2", 40, 10, 0.9, 0.95, 0.6, 0.55, 0.5).beats_shuffled
True
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
from tqdm.auto import tqdm

from interpret_review.errors import UnknownNameError, missing_dependency
from interpret_review.export.bundle import ProbeBundle

__all__ = ["ProbeReport", "ProbeResult", "train_probes"]

_CS = (0.01, 0.1, 1.0, 10.0)


@dataclass(frozen=True)
class ProbeResult:
    """One concept's probe on one layer, scored on the test split (None: not measurable)."""

    concept: str
    name: str
    layer: str
    n_train: int
    n_test: int
    accuracy: float | None
    auc: float | None
    majority_accuracy: float | None
    shuffled_accuracy: float | None
    shuffled_auc: float | None
    c: float | None = None
    note: str = ""

    @property
    def beats_shuffled(self) -> bool | None:
        if self.auc is None or self.shuffled_auc is None:
            return None
        return self.auc > self.shuffled_auc


@dataclass
class ProbeReport:
    bundle: str
    results: list[ProbeResult] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        measured = [r for r in self.results if r.auc is not None and r.shuffled_auc is not None]
        return {
            "bundle": self.bundle,
            "results": [{**asdict(r), "beats_shuffled": r.beats_shuffled} for r in self.results],
            "summary": {
                "probes": len(self.results),
                "measured": len(measured),
                "mean_auc": _mean([r.auc for r in measured]),
                "mean_shuffled_auc": _mean([r.shuffled_auc for r in measured]),
                "beat_shuffled": sum(bool(r.beats_shuffled) for r in measured),
            },
        }

    def table(self) -> str:
        """A plain-text table, one line per probe, then the summary."""

        def num(value: float | None) -> str:
            return "    -" if value is None else f"{value:5.2f}"

        lines = [
            f"{'concept':<34} {'layer':<8} {'train':>5} {'test':>4}  acc    auc   "
            "major  shuf_acc shuf_auc",
        ]
        for r in self.results:
            name = r.concept if len(r.concept) <= 34 else "..." + r.concept[-31:]
            line = (
                f"{name:<34} {r.layer:<8} {r.n_train:>5} {r.n_test:>4}  {num(r.accuracy)}  "
                f"{num(r.auc)}  {num(r.majority_accuracy)}  {num(r.shuffled_accuracy)}    "
                f"{num(r.shuffled_auc)}"
            )
            lines.append(line + (f"  ({r.note})" if r.note else ""))
        summary = self.to_dict()["summary"]
        lines.append(
            f"\n{summary['measured']} of {summary['probes']} probes measured; mean AUC "
            f"{num(summary['mean_auc']).strip()} against {num(summary['mean_shuffled_auc']).strip()} "
            f"with shuffled labels; {summary['beat_shuffled']} beat their shuffled probe"
        )
        return "\n".join(lines)


def _mean(values: Sequence[float | None]) -> float | None:
    kept = [v for v in values if v is not None]
    return round(float(np.mean(kept)), 4) if kept else None


def train_probes(
    bundle: ProbeBundle,
    *,
    layers: Sequence[str] | None = None,
    concepts: Sequence[str | int] | None = None,
    shuffles: int = 5,
    seed: int = 0,
    progress: bool = False,
) -> ProbeReport:
    """Train and score a probe per concept (all, or ``concepts``) and layer (all, or
    ``layers``) of ``bundle``; see the module docstring. ``progress``: a progress bar."""
    try:
        import sklearn  # noqa: F401  (the probes are scikit-learn's)
    except ModuleNotFoundError as error:
        raise missing_dependency(error, "train_probes", "export") from None
    chosen = list(layers) if layers else list(bundle.activations)
    for layer in chosen:
        if layer not in bundle.activations:
            raise UnknownNameError(
                "layer", layer, bundle.activations, hint=f"(bundle {bundle.path})"
            )
    columns = (
        [bundle.concept(c) for c in concepts] if concepts else list(range(len(bundle.concepts)))
    )
    report = ProbeReport(str(bundle.path))
    bar = tqdm(total=len(columns) * len(chosen), desc="probes", unit="probe", disable=not progress)
    for column in columns:
        info = bundle.concepts[column]
        labelled = bundle.labels[:, column] >= 0
        for layer in chosen:
            bar.update()
            report.results.append(
                _probe(
                    info,
                    layer,
                    bundle.activations[layer][labelled],
                    bundle.labels[labelled, column].astype(int),
                    bundle.split[labelled],
                    shuffles,
                    seed,
                )
            )
    bar.close()
    return report


def _probe(
    info: dict[str, Any],
    layer: str,
    x: np.ndarray,
    y: np.ndarray,
    split: np.ndarray,
    shuffles: int,
    seed: int,
) -> ProbeResult:
    train, val, test = (split == "train"), (split == "validation"), (split == "test")
    base: dict[str, Any] = {
        "concept": info["key"],
        "name": info["name"],
        "layer": layer,
        "n_train": int(train.sum()),
        "n_test": int(test.sum()),
    }
    empty: dict[str, Any] = dict.fromkeys(
        ("accuracy", "auc", "majority_accuracy", "shuffled_accuracy", "shuffled_auc")
    )
    if len(set(y[train])) < 2:
        return ProbeResult(**base, **empty, note="the train split has one class only")
    if not test.any():
        return ProbeResult(**base, **empty, note="no test examples")
    c = _choose_c(x[train], y[train], x[val], y[val], seed)
    accuracy, auc = _score(_fit(x[train], y[train], c, seed), x[test], y[test])
    majority = int(np.bincount(y[train]).argmax())
    rng = np.random.default_rng(seed)
    shuffled = [
        _score(_fit(x[train], rng.permutation(y[train]), c, seed), x[test], y[test])
        for _ in range(shuffles)
    ]
    shuffled_aucs = [a for _, a in shuffled if a is not None]
    return ProbeResult(
        **base,
        accuracy=accuracy,
        auc=auc,
        majority_accuracy=round(float((y[test] == majority).mean()), 4),
        shuffled_accuracy=round(float(np.mean([a for a, _ in shuffled])), 4),
        shuffled_auc=round(float(np.mean(shuffled_aucs)), 4) if shuffled_aucs else None,
        c=c,
        note="" if auc is not None else "the test split has one class only: no AUC",
    )


def _fit(x: np.ndarray, y: np.ndarray, c: float, seed: int) -> Any:
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    model = make_pipeline(
        StandardScaler(),
        LogisticRegression(C=c, class_weight="balanced", max_iter=2000, random_state=seed),
    )
    return model.fit(x, y)


def _score(model: Any, x: np.ndarray, y: np.ndarray) -> tuple[float, float | None]:
    from sklearn.metrics import roc_auc_score

    accuracy = round(float((model.predict(x) == y).mean()), 4)
    if len(set(y)) < 2:
        return accuracy, None
    return accuracy, round(float(roc_auc_score(y, model.predict_proba(x)[:, 1])), 4)


def _choose_c(x: np.ndarray, y: np.ndarray, xv: np.ndarray, yv: np.ndarray, seed: int) -> float:
    """The regularisation strength with the best validation AUC (1.0 when the validation
    split cannot tell: fewer than two classes in it)."""
    if len(set(yv)) < 2:
        return 1.0
    scores = [(_score(_fit(x, y, c, seed), xv, yv)[1] or 0.0, -abs(np.log10(c)), c) for c in _CS]
    return max(scores)[2]
