"""Captum generation: attributions and neuron evidence for an image or text classifier,
written as a run through :mod:`interpret_review.store`. The only room that imports torch and captum.

The module is itself callable: ``interpret_review.generate(model, data, out=...)`` is
:func:`interpret_review.generate.runner.generate` (the package and the function share the
name, and a module attribute could not be both).

>>> from interpret_review.generate import METHODS
>>> "IntegratedGradients" in METHODS
True
"""

from __future__ import annotations

import sys
import types
from typing import Any

from interpret_review.generate.fingerprints import model_fingerprint, scan_dataset, versions
from interpret_review.generate.methods import METHODS, MethodSpec, attribute, seeded
from interpret_review.generate.neurons import neuron_selector
from interpret_review.generate.recipes import Recipe, dataset_names, load_recipe, run_recipe
from interpret_review.generate.runner import generate
from interpret_review.generate.text import TEXT_METHODS, TextData, load_text_model
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


class _CallableModule(types.ModuleType):
    """Makes ``interpret_review.generate(...)`` call :func:`generate`."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return generate(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
