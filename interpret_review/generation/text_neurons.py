"""Neuron evidence for text models: per-token activations, contexts, and neuron attributions.

For a chosen layer (a transformer's MLP, say ``block.linear1``: output ``(batch, tokens,
units)``), each example is summarised per unit by its **maximum over the real tokens** and
the position of that maximum: the same ``(N, U)`` summary an image run keeps for a conv
channel, so top-k examples, quantile samples and histograms come from
:func:`interpret_review.generation.neurons.neuron_statistics` unchanged. A **context** is a
window of tokens around the max-activating token (:func:`context_window`), shown with every
token's activation. :func:`neuron_token_attributions` says which input tokens make the unit
fire at that token (integrated gradients on the embedding layer from a padding baseline).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable

import numpy as np
import torch
from captum.attr import LayerIntegratedGradients

from interpret_review.errors import ModelError
from interpret_review.generation.text import embedding_layer, text_forward
from interpret_review.store.records import context_window

__all__ = ["context_window", "neuron_token_attributions", "summarise", "token_activations"]


def token_activations(
    model: torch.nn.Module, layer: torch.nn.Module, ids: torch.Tensor, mask: torch.Tensor
) -> torch.Tensor:
    """The output of ``layer`` for each token: ``(batch, tokens, units)``, no gradients."""
    captured: list[torch.Tensor] = []

    def keep(_module: torch.nn.Module, _inputs: object, output: object) -> None:
        captured.append(output[0] if isinstance(output, tuple) else output)  # type: ignore[arg-type]

    handle = layer.register_forward_hook(keep)
    try:
        with torch.no_grad():
            text_forward(model)(ids, mask)
    finally:
        handle.remove()
    if not captured or captured[0].ndim != 3 or captured[0].shape[:2] != ids.shape:
        shape = tuple(captured[0].shape) if captured else None
        raise ModelError(
            f"layer {type(layer).__name__} must give one vector per token, (batch, tokens, "
            f"units) = ({ids.shape[0]}, {ids.shape[1]}, U), got {shape}; choose a layer inside "
            "the model's blocks, such as an MLP's first linear layer"
        )
    return captured[0].detach()


def summarise(activations: torch.Tensor, mask: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
    """``(summary (b, U) float32, position (b, U) int64)``: each unit's maximum over the real
    tokens of each example and the token where it is reached (the first, on ties)."""
    hidden = activations.float().masked_fill((mask == 0).unsqueeze(-1), float("-inf"))
    values, positions = hidden.max(dim=1)
    return values.cpu().numpy().astype(np.float32), positions.cpu().numpy().astype(np.int64)


def neuron_token_attributions(
    model: torch.nn.Module,
    layer: torch.nn.Module,
    unit: int,
    ids: torch.Tensor,
    mask: torch.Tensor,
    positions: torch.Tensor,
    *,
    pad_id: int = 0,
    n_steps: int = 32,
) -> np.ndarray:
    """``(b, tokens)`` float32: how much each input token adds to ``unit``'s activation at
    token ``positions[i]`` of sentence ``i``. Sums to the activation minus its value on the
    padding baseline (integrated gradients' completeness), up to the integration error."""
    neuron = _neuron_at(model, layer, unit)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        scores = LayerIntegratedGradients(neuron, embedding_layer(model)).attribute(
            ids,
            baselines=torch.full_like(ids, pad_id),
            additional_forward_args=(mask, positions),
            n_steps=n_steps,
        )
    values = scores.sum(-1).detach().float() * (mask != 0)
    return values.cpu().numpy().astype(np.float32)


def _neuron_at(
    model: torch.nn.Module, layer: torch.nn.Module, unit: int
) -> Callable[[torch.Tensor, torch.Tensor, torch.Tensor], torch.Tensor]:
    """``f(ids, mask, positions) -> (b,)``: the unit's activation at each row's position."""
    forward = text_forward(model)

    def neuron(ids: torch.Tensor, mask: torch.Tensor, positions: torch.Tensor) -> torch.Tensor:
        captured: list[torch.Tensor] = []

        def keep(_module: torch.nn.Module, _inputs: object, output: object) -> None:
            captured.append(output[0] if isinstance(output, tuple) else output)  # type: ignore[arg-type]

        handle = layer.register_forward_hook(keep)
        try:
            forward(ids, mask)
        finally:
            handle.remove()
        rows = torch.arange(ids.shape[0], device=ids.device)
        return captured[0][rows, positions.to(ids.device), unit]

    return neuron
