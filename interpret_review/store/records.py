"""Plain records the run reader returns: numpy arrays, no h5py objects.

Shapes are written as ``(C, H, W)`` for one image input, ``K`` for top-k, ``Q`` for
quantile samples, ``B`` for histogram bins.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["AttributionMap", "Example", "NeuronEvidence"]


@dataclass(frozen=True)
class Example:
    """One dataset example as stored in a run (row ``index`` of ``/examples``)."""

    index: int
    id: int  # the caller's example id (defaults to the row index)
    label: int  # true class, -1 when unknown
    prediction: int
    logits: np.ndarray  # (n_classes,) float32
    input: np.ndarray  # (C, H, W) float32, the model's input
    display: np.ndarray  # (H, W) or (H, W, 3) uint8, what a person is shown


@dataclass(frozen=True)
class AttributionMap:
    """One method's attribution of one example (row ``index`` of ``/attributions/<method>``)."""

    method: str
    index: int
    values: np.ndarray  # (C, H, W) float32 (stored float16)
    target: int  # the class the attribution explains
    delta: float  # convergence delta where the method has one, else NaN
    params: dict[str, Any] = field(default_factory=dict)  # method parameters used


@dataclass(frozen=True)
class NeuronEvidence:
    """What a run holds about one unit of one layer (``/layers/<layer>/neurons`` row ``unit``)."""

    layer: str
    unit: int
    topk_index: np.ndarray  # (K,) int64 example rows, highest activation first
    topk_value: np.ndarray  # (K,) float32 activation summary of those examples
    quantile_index: np.ndarray  # (Q,) int64 example rows sampled across activation quantiles
    quantile_value: np.ndarray  # (Q,) float32
    histogram: np.ndarray  # (B,) int64 counts of the activation summary over all examples
    bin_edges: np.ndarray  # (B + 1,) float32
    attribution: np.ndarray  # (K, C, H, W) float32 neuron attribution on each top-k example
    summary: str = "max"  # how a conv channel's spatial map is reduced to one number
    feature_viz: np.ndarray | None = None  # (C, H, W) float32 optimised input, when stored
