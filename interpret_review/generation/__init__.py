"""Captum generation: attributions and neuron evidence for an image or text classifier,
written as a run through :mod:`interpret_review.store`. The only room that imports torch and captum.

``interpret_review.generate(model, data, out=...)`` is :func:`generate` of this room
(:mod:`interpret_review.generation.runner`), a plain function.

>>> from interpret_review.generation import METHODS
>>> "IntegratedGradients" in METHODS
True
"""

from __future__ import annotations

from interpret_review.generation.fingerprints import model_fingerprint, scan_dataset, versions
from interpret_review.generation.methods import METHODS, MethodSpec, attribute, seeded
from interpret_review.generation.neurons import neuron_selector
from interpret_review.generation.recipes import Recipe, dataset_names, load_recipe, run_recipe
from interpret_review.generation.runner import generate
from interpret_review.generation.text import TEXT_METHODS, TextData, load_text_model
from interpret_review.generation.zoo import (
    digits_accuracy,
    digits_cnn,
    digits_dataset,
    digits_display,
)

__all__ = [
    "METHODS",
    "MethodSpec",
    "Recipe",
    "TEXT_METHODS",
    "TextData",
    "attribute",
    "dataset_names",
    "digits_accuracy",
    "digits_cnn",
    "digits_dataset",
    "digits_display",
    "generate",
    "load_recipe",
    "load_text_model",
    "model_fingerprint",
    "neuron_selector",
    "run_recipe",
    "scan_dataset",
    "seeded",
    "versions",
]
