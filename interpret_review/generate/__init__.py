"""Captum generation: attributions and neuron evidence for an image classifier, written as a
run through :mod:`interpret_review.store`. The only room that imports torch and captum.

>>> from interpret_review.generate import METHODS
>>> "IntegratedGradients" in METHODS
True
"""

from __future__ import annotations

from interpret_review.generate.fingerprints import model_fingerprint, scan_dataset, versions
from interpret_review.generate.methods import METHODS, MethodSpec, attribute, seeded
from interpret_review.generate.neurons import neuron_selector
from interpret_review.generate.recipes import Recipe, load_recipe, run_recipe
from interpret_review.generate.runner import generate
from interpret_review.generate.zoo import (
    digits_accuracy,
    digits_cnn,
    digits_dataset,
    digits_display,
)

__all__ = [
    "METHODS",
    "MethodSpec",
    "Recipe",
    "attribute",
    "digits_accuracy",
    "digits_cnn",
    "digits_dataset",
    "digits_display",
    "generate",
    "load_recipe",
    "model_fingerprint",
    "neuron_selector",
    "run_recipe",
    "scan_dataset",
    "seeded",
    "versions",
]
