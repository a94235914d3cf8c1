"""Neuron evidence: per unit of an analysed layer, which examples activate it and why.

Works from the activation summaries already stored in the example shards, so it runs the
same after a resume. For a layer with U units over N examples (K = min(top_k, N)):

- ``topk_index`` (U, K): rows with the highest activation, ties broken by the lower row;
- ``quantile_index`` (U, Q): one row drawn (seeded per layer) from each of Q equal-count
  slices of the rows sorted by activation (slice j holds ranks ``j*N//Q .. (j+1)*N//Q - 1``);
- ``histogram`` (U, B) counts over ``bin_edges`` (U, B+1), which span min..max;
- ``attribution`` (U, K, C, H, W): NeuronIntegratedGradients of the unit (its max over space
  for a conv channel) on each top-k example.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable

import numpy as np
import torch
from captum.attr import NeuronIntegratedGradients

__all__ = ["neuron_attributions", "neuron_selector", "neuron_statistics"]


def neuron_statistics(
    activations: np.ndarray, *, top_k: int, n_quantiles: int, bins: int, seed: int, layer: str
) -> dict[str, np.ndarray]:
    """activations (N, U) float32 -> the neuron arrays except ``attribution``."""
    acts = np.asarray(activations, dtype=np.float32)
    n, units = acts.shape
    k = min(top_k, n)
    topk_index = np.argsort(-acts, axis=0, kind="stable")[:k].T.astype(np.int64)  # (U, K)
    topk_value = np.take_along_axis(acts.T, topk_index, axis=1)

    order = np.argsort(acts, axis=0, kind="stable")  # (N, U) ascending
    bounds = (np.arange(n_quantiles + 1) * n) // n_quantiles
    low = np.minimum(bounds[:-1], n - 1)
    high = np.maximum(bounds[1:], low + 1)
    rng = np.random.default_rng([seed, zlib.crc32(layer.encode())])
    ranks = rng.integers(low, high, size=(units, n_quantiles))  # (U, Q)
    quantile_index = np.take_along_axis(order.T, ranks, axis=1).astype(np.int64)
    quantile_value = np.take_along_axis(acts.T, quantile_index, axis=1)

    histogram = np.empty((units, bins), dtype=np.int64)
    bin_edges = np.empty((units, bins + 1), dtype=np.float32)
    for unit in range(units):
        counts, edges = np.histogram(acts[:, unit], bins=bins)
        histogram[unit] = counts
        bin_edges[unit] = edges
    return {
        "topk_index": topk_index,
        "topk_value": topk_value.astype(np.float32),
        "quantile_index": quantile_index,
        "quantile_value": quantile_value.astype(np.float32),
        "histogram": histogram,
        "bin_edges": bin_edges,
    }


def neuron_selector(kind: str, units: torch.Tensor) -> Callable[[torch.Tensor], torch.Tensor]:
    """A NeuronIntegratedGradients selector for rows whose units are ``units`` (m,).

    The batch Captum passes holds the m rows repeated (once per integration step), so row r
    selects unit ``units[r % m]``; for a conv layer the unit's value is its max over space.
    """

    def select(output: torch.Tensor) -> torch.Tensor:
        repeats = output.shape[0] // len(units)
        rows = torch.arange(output.shape[0], device=output.device)
        picked = output[rows, units.to(output.device).repeat(repeats)]
        return picked.amax(dim=(1, 2)) if kind == "conv" else picked

    return select


def neuron_attributions(
    model: torch.nn.Module,
    layer: torch.nn.Module,
    kind: str,
    inputs: torch.Tensor,
    baseline: torch.Tensor,
    *,
    n_steps: int,
    batch_size: int,
    on_units: Callable[[int], None] | None = None,
) -> np.ndarray:
    """inputs (U, K, C, H, W) (the top-k examples of each unit), baseline (1, C, H, W)
    -> (U, K, C, H, W) float32. Several units share one Captum call (about batch_size rows)."""
    units, k = inputs.shape[:2]
    method = NeuronIntegratedGradients(model, layer)
    per_call = max(1, batch_size // max(k, 1))
    out = np.empty(tuple(inputs.shape), dtype=np.float32)
    for first in range(0, units, per_call):
        last = min(first + per_call, units)
        x = inputs[first:last].reshape(-1, *inputs.shape[2:])
        unit_of_row = torch.arange(first, last).repeat_interleave(k)
        values = method.attribute(
            x.detach().requires_grad_(True),
            neuron_selector=neuron_selector(kind, unit_of_row),
            baselines=baseline.expand_as(x),
            n_steps=n_steps,
        )
        out[first:last] = (
            values.detach().float().reshape(last - first, k, *inputs.shape[2:]).numpy()
        )
        if on_units is not None:
            on_units(last - first)
    return out
