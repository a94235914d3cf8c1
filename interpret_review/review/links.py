"""Linked views: from a place in an example to the neurons that fire there, and back.

* :func:`neurons_at` — the units of a run's analysed layers that fire most at one pixel of
  an example (image runs keep each conv layer's activation map per example) or at one
  token (text runs keep each layer's activation per token), ranked by their activation
  there relative to their best activation over the dataset (so units of different scales
  compare), each with the address of its neuron card.
* :func:`linked_address` — checks an address a page asks to open next to the current item
  (same run, an item that exists).

UI-free: the review page and notebooks render what these return.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from interpret_review.addresses import item_address, parse_address
from interpret_review.errors import ConfigError
from interpret_review.store import Run

__all__ = ["NeuronHit", "linked_address", "neurons_at"]


@dataclass(frozen=True)
class NeuronHit:
    """A unit firing at the chosen place: its activation there, that activation over the
    unit's best on the dataset (``relative``), and its neuron card's address."""

    layer: str
    unit: int
    activation: float
    relative: float
    address: str


def neurons_at(
    run: Run,
    row: int,
    *,
    y: float | None = None,
    x: float | None = None,
    token: int | None = None,
    top: int = 6,
) -> list[NeuronHit]:
    """The ``top`` units firing most at pixel (``y``, ``x``) (fractions 0..1 of the height
    and width) or at token ``token`` of example ``row``, over every analysed layer with
    neuron evidence and stored per-place activations."""
    hits: list[NeuronHit] = []
    for layer in run.layers:
        info = run.layer_info(layer)
        if not info["has_neurons"]:
            continue
        if token is not None:
            per_token = run.token_activations(layer, row)
            if per_token is None:
                continue
            if not 0 <= token < len(per_token):
                raise ConfigError(
                    f"token {token} of example row {row} does not exist (it has "
                    f"{len(per_token)} tokens)"
                )
            values = per_token[token]
        else:
            if y is None or x is None or not (0 <= y <= 1 and 0 <= x <= 1):
                raise ConfigError(f"a pixel is given as fractions y, x in 0..1, got {y!r}, {x!r}")
            maps = run.spatial(layer, row)
            if maps is None:
                continue
            height, width = maps.shape[1:]
            values = maps[:, min(int(y * height), height - 1), min(int(x * width), width - 1)]
        best = run.neuron_maxima(layer)
        relative = np.where(best > 0, values / np.where(best > 0, best, 1.0), 0.0)
        for unit in np.argsort(-relative, kind="stable")[:top].tolist():
            hits.append(
                NeuronHit(
                    layer=layer,
                    unit=int(unit),
                    activation=float(values[unit]),
                    relative=float(relative[unit]),
                    address=item_address("neuron", run.name, int(unit), layer=layer),
                )
            )
    hits.sort(key=lambda h: -h.relative)
    return hits[:top]


def linked_address(run: Run, address: str) -> str:
    """``address`` if it names an item of ``run`` that exists, else a ConfigError."""
    parsed = parse_address(address)
    if parsed.run != run.name:
        raise ConfigError(f"{address!r} is not an item of run {run.name!r}")
    if parsed.kind == "attribution":
        if parsed.index >= run.n_examples:
            raise ConfigError(f"{address!r}: run {run.name!r} has {run.n_examples} examples")
    else:
        layer = str(parsed.layer)
        if layer not in run.layers or parsed.index >= run.n_units(layer):
            raise ConfigError(f"{address!r}: no such unit in run {run.name!r}")
    return address
