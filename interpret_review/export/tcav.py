"""TCAV on a probe bundle's concepts: which labelled concepts does the model use for a class?

>>> from interpret_review.export import load_bundle                  # doctest: +SKIP
>>> from interpret_review.export.tcav import run_tcav                # doctest: +SKIP
>>> bundle = load_bundle("bundle/")                                  # doctest: +SKIP
>>> result = run_tcav(bundle, "category:describe-neurons/loop", model)  # doctest: +SKIP
>>> result.layers["conv2"]["sign_count"], result.layers["conv2"]["random_sign_count"]

``concept_sets`` gives the bundle's positives and negatives of a concept as Captum
``Concept`` objects, for use with ``captum.concept.TCAV`` directly. Their ids come from the
manifest and change whenever the concept's labels change, so Captum's CAV cache (keyed by
id) never serves a vector trained on old labels. Needs torch and Captum
(``interpret-review[generate]``).
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from interpret_review.errors import missing_dependency
from interpret_review.export.bundle import ProbeBundle

__all__ = ["TcavResult", "concept_sets", "run_tcav"]


@dataclass(frozen=True)
class TcavResult:
    """TCAV scores of one concept for one class, per layer (see ``generate.tcav``)."""

    concept: str
    name: str
    concept_id: int
    target: int
    n_positives: int
    n_negatives: int
    n_inputs: int
    layers: dict[str, dict[str, float]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "concept": self.concept,
            "name": self.name,
            "concept_id": self.concept_id,
            "target": self.target,
            "n_positives": self.n_positives,
            "n_negatives": self.n_negatives,
            "n_inputs": self.n_inputs,
            "layers": self.layers,
        }


def _generate() -> Any:
    try:
        from interpret_review.generation import tcav
    except ModuleNotFoundError as error:
        raise missing_dependency(error, "TCAV", "generate") from None
    return tcav


def concept_sets(bundle: ProbeBundle, concept: str | int) -> tuple[Any, Any]:
    """``(positive, negative)`` Captum ``Concept`` sets of a bundle's concept."""
    column = bundle.concept(concept)
    info = bundle.concepts[column]
    tcav = _generate()
    return (
        tcav.make_concept(info["id"], info["name"], bundle.inputs[bundle.examples(column, 1)]),
        tcav.make_concept(
            info["negative_id"], f"not {info['name']}", bundle.inputs[bundle.examples(column, 0)]
        ),
    )


def run_tcav(
    bundle: ProbeBundle,
    concept: str | int,
    model: Any,
    *,
    layers: list[str] | None = None,
    target: int | None = None,
    inputs: np.ndarray | None = None,
    n_random: int = 5,
    save_path: str | Path | None = None,
    seed: int = 0,
) -> TcavResult:
    """TCAV scores of ``concept`` (index, key or name) for class ``target`` in ``model``.

    ``model`` must be the model the bundle's run was made with (checked by fingerprint).
    ``layers`` default to the bundle's; ``target`` to the class most of the concept's
    positive examples belong to; ``inputs`` to the bundle's examples of that class.
    ``save_path`` is Captum's cache of activations and CAVs (default: a fresh temporary
    folder). ``n_random`` random splits of the same examples give the scores to compare
    with."""
    column = bundle.concept(concept)
    info = bundle.concepts[column]
    positives = bundle.examples(column, 1)
    negatives = bundle.examples(column, 0)
    if target is None:
        target = int(np.bincount(bundle.label[positives]).argmax()) if len(positives) else 0
    if inputs is None:
        inputs = bundle.inputs[bundle.label == target]
    chosen = list(layers or bundle.activations)
    tcav = _generate()
    with tempfile.TemporaryDirectory(prefix="tcav-") as scratch:
        scores = tcav.tcav_scores(
            model,
            chosen,
            bundle.inputs[positives],
            bundle.inputs[negatives],
            inputs,
            target,
            concept_id=info["id"],
            negative_id=info["negative_id"],
            name=info["name"],
            save_path=save_path if save_path is not None else scratch,
            expected_fingerprint=bundle.manifest["run"]["model_fingerprint"],
            n_random=n_random,
            seed=seed,
        )
    return TcavResult(
        concept=info["key"],
        name=info["name"],
        concept_id=info["id"],
        target=target,
        n_positives=len(positives),
        n_negatives=len(negatives),
        n_inputs=len(inputs),
        layers=scores,
    )
