"""TCAV with Captum on concepts that people labelled (the torch side of ``export.tcav``).

``tcav_scores`` trains a concept activation vector (CAV) per layer separating a concept's
positive examples from its negative ones, and scores how often (``sign_count``) and how
strongly (``magnitude``) the model's output for ``target`` rises along it over ``inputs``.
As the TCAV paper asks, the same is done for ``n_random`` random splits of the same
examples into two sets of the same sizes: a concept means something to the model only
where its score stands apart from theirs.

Captum caches CAVs on disk by concept id (``save_path/model_id/<ids>-<layer>.pkl``), so
the ids passed here must change whenever the labels do; ``export.concepts.concept_id``
derives them from the labels.
"""

from __future__ import annotations

import hashlib
import re
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import torch
from captum.concept import TCAV, Concept
from torch.utils.data import DataLoader

from interpret_review.errors import ConfigError, ModelError
from interpret_review.generation.fingerprints import model_fingerprint

__all__ = ["make_concept", "tcav_scores"]


def make_concept(
    concept_id: int,
    name: str,
    inputs: np.ndarray,
    device: torch.device | str = "cpu",
    batch_size: int = 64,
) -> Concept:
    """A Captum ``Concept`` whose data are ``inputs`` (N, ...) on ``device``, a batch at a
    time."""
    tensor = torch.as_tensor(np.asarray(inputs, dtype=np.float32), device=device)
    return Concept(int(concept_id), _safe(name), DataLoader(tensor, batch_size=batch_size))  # type: ignore[arg-type]


def tcav_scores(
    model: torch.nn.Module,
    layers: list[str],
    positives: np.ndarray,
    negatives: np.ndarray,
    inputs: np.ndarray,
    target: int,
    *,
    concept_id: int,
    negative_id: int,
    name: str,
    save_path: str | Path,
    expected_fingerprint: str | None = None,
    n_random: int = 5,
    seed: int = 0,
) -> dict[str, dict[str, float]]:
    """Per layer: ``sign_count`` and ``magnitude`` of the concept for class ``target`` over
    ``inputs``, and the mean and spread of ``sign_count`` over random splits.

    ``expected_fingerprint`` (the run's model fingerprint) guards against scoring another
    model than the one whose activations the labels were made on."""
    if len(positives) < 2 or len(negatives) < 2:
        raise ConfigError(
            f"TCAV of {name!r} needs at least 2 positive and 2 negative examples, got "
            f"{len(positives)} and {len(negatives)}; label more examples"
        )
    if len(inputs) == 0:
        raise ConfigError(f"TCAV of {name!r} needs inputs of class {target} to score; give some")
    fingerprint = model_fingerprint(model)
    if expected_fingerprint is not None and fingerprint != expected_fingerprint:
        raise ModelError(
            f"this model (fingerprint {fingerprint[:23]}...) is not the one the bundle's run was "
            f"made with ({expected_fingerprint[:23]}...); load that model (the run's recipe)"
        )
    modules = dict(model.named_modules())
    for layer in layers:
        if layer not in modules:
            raise ModelError(
                f"the model has no layer {layer!r}; its layers: {sorted(m for m in modules if m)}"
            )
    model.eval()
    model_id = re.sub(r"[^A-Za-z0-9_.-]", "_", fingerprint)[:40]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        tcav = TCAV(model, layers, model_id=model_id, save_path=str(Path(save_path)) + "/")
    device = next(model.parameters()).device
    positive = make_concept(concept_id, name, positives, device)
    negative = make_concept(negative_id, f"not {name}", negatives, device)
    experiments = [[positive, negative]]
    pool = np.concatenate([positives, negatives])
    rng = np.random.default_rng(seed)
    for i in range(n_random):
        order = rng.permutation(len(pool))
        a, b = order[: len(positives)], order[len(positives) :]
        experiments.append(
            [
                make_concept(_random_id(concept_id, a), f"random-{i}-a-{name}", pool[a], device),
                make_concept(_random_id(concept_id, b), f"random-{i}-b-{name}", pool[b], device),
            ]
        )
    x = torch.as_tensor(np.asarray(inputs, dtype=np.float32), device=device)
    with warnings.catch_warnings():  # Captum's notes on its default classifier
        warnings.simplefilter("ignore", UserWarning)
        scores: dict[str, Any] = tcav.interpret(
            inputs=x, experimental_sets=experiments, target=int(target)
        )
    keys = ["-".join(str(c.id) for c in experiment) for experiment in experiments]
    out: dict[str, dict[str, float]] = {}
    for layer in layers:
        found = scores[keys[0]][layer]
        randoms = [float(scores[key][layer]["sign_count"][0]) for key in keys[1:]]
        out[layer] = {
            "sign_count": round(float(found["sign_count"][0]), 4),
            "magnitude": round(float(found["magnitude"][0]), 4),
            "random_sign_count": round(float(np.mean(randoms)), 4) if randoms else float("nan"),
            "random_sign_count_std": round(float(np.std(randoms)), 4) if randoms else float("nan"),
        }
    return out


def _random_id(concept_id: int, chosen: np.ndarray) -> int:
    """The id of a random set: it changes with the concept and with the examples drawn, so
    Captum's cache never mixes up two draws (another seed draws other examples)."""
    text = f"{concept_id}:random:{','.join(str(int(i)) for i in chosen)}"
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=4).digest(), "big") >> 1


def _safe(name: str) -> str:
    """A concept name that is safe in Captum's cache file names."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name)[:60] or "concept"
