"""Feature visualization by optimization: inputs made to excite one unit.

Captum no longer ships a feature-visualization module, so this is ours, after Olah et al.
2017 ("Feature Visualization", Distill):

* the image is parameterised in Fourier space, each frequency scaled by ``1 / frequency``
  (so the optimiser moves low frequencies first and the optimum is not high-frequency
  noise), and squashed into the data's input range with a sigmoid;
* each step jitters the image by up to ``jitter`` pixels (random shifts), and a
  total-variation penalty keeps it smooth;
* the objective is the unit's mean activation (a conv channel's mean over space; a linear
  unit's value);
* with ``optima > 1`` several inputs are optimised per unit at once, with a diversity term
  (their activation patterns in the layer pushed apart by their cosine similarity), since a
  polysemantic unit has more than one.

All units of a layer are optimised together, one batch row per (unit, optimum). What is
reported is the activation each optimum reaches in the run's own summary (a conv channel's
maximum over space), to compare with the unit's dataset examples.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

__all__ = ["FeatureVizConfig", "feature_visualizations"]


@dataclass(frozen=True)
class FeatureVizConfig:
    """Optimisation settings (the defaults suit small images such as the digits)."""

    steps: int = 160
    lr: float = 0.08
    jitter: int = 1
    tv_weight: float = 0.05
    diversity_weight: float = 1.0
    seed: int = 0


def _frequency_scale(height: int, width: int) -> torch.Tensor:
    fy = torch.fft.fftfreq(height)[:, None]
    fx = torch.fft.rfftfreq(width)[None, :]
    frequency = torch.sqrt(fx**2 + fy**2)
    return 1.0 / torch.clamp(frequency, min=1.0 / max(height, width))


def _total_variation(images: torch.Tensor) -> torch.Tensor:
    dy = (images[..., 1:, :] - images[..., :-1, :]).abs().mean(dim=(1, 2, 3))
    dx = (images[..., :, 1:] - images[..., :, :-1]).abs().mean(dim=(1, 2, 3))
    return dy + dx


def feature_visualizations(
    model: torch.nn.Module,
    layer: torch.nn.Module,
    kind: str,
    n_units: int,
    shape: tuple[int, ...],
    low: float,
    high: float,
    *,
    optima: int = 1,
    config: FeatureVizConfig = FeatureVizConfig(),  # noqa: B008 (frozen)
    device: torch.device | str = "cpu",
    on_units: Callable[[int], object] = lambda n: None,
) -> tuple[np.ndarray, np.ndarray]:
    """``(images (U, D, C, H, W) float32 in low..high, activations (U, D) float32)`` for
    the ``n_units`` units of ``layer`` (``kind`` "conv" or "linear") of ``model``, whose
    input is ``shape`` = (C, H, W)."""
    channels, height, width = shape
    rows = n_units * optima
    unit_of_row = torch.arange(n_units, device=device).repeat_interleave(optima)
    generator = torch.Generator(device="cpu").manual_seed(config.seed)
    spectrum_shape = (rows, channels, height, width // 2 + 1, 2)
    spectrum = (0.01 * torch.randn(spectrum_shape, generator=generator)).to(device)
    spectrum.requires_grad_(True)
    scale = _frequency_scale(height, width).to(device)
    captured: list[torch.Tensor] = []
    handle = layer.register_forward_hook(lambda m, i, o: captured.append(o))
    optimizer = torch.optim.Adam([spectrum], lr=config.lr)

    def render() -> torch.Tensor:
        complex_spectrum = torch.view_as_complex(spectrum) * scale
        raw = torch.fft.irfft2(complex_spectrum, s=(height, width), norm="ortho")
        return low + (high - low) * torch.sigmoid(4.0 * raw)

    def activations(images: torch.Tensor) -> torch.Tensor:
        captured.clear()
        model(images)
        return captured[-1]

    try:
        for step in range(config.steps):
            optimizer.zero_grad()
            images = render()
            if config.jitter:
                dy, dx = (int(v) for v in torch.randint(-config.jitter, config.jitter + 1, (2,),
                                                         generator=generator))  # fmt: skip
                images = torch.roll(images, shifts=(dy, dx), dims=(2, 3))
            out = activations(images)
            rows_index = torch.arange(rows, device=device)
            unit_out = out[rows_index, unit_of_row]
            objective = unit_out.mean(dim=(1, 2)) if kind == "conv" else unit_out
            loss = -objective.sum() + config.tv_weight * _total_variation(images).sum()
            if optima > 1:
                patterns = out.flatten(1).reshape(n_units, optima, -1)
                patterns = torch.nn.functional.normalize(patterns, dim=2)
                similarity = patterns @ patterns.transpose(1, 2)
                off = similarity - torch.diag_embed(torch.diagonal(similarity, dim1=1, dim2=2))
                loss = loss + config.diversity_weight * off.sum() / (optima - 1)
            loss.backward()
            optimizer.step()
            if (step + 1) % max(1, config.steps // 4) == 0:
                on_units(0)
        with torch.no_grad():
            images = render()
            out = activations(images)
            unit_out = out[torch.arange(rows, device=device), unit_of_row]
            reached = unit_out.amax(dim=(1, 2)) if kind == "conv" else unit_out
    finally:
        handle.remove()
    on_units(n_units)
    pictures = images.detach().float().cpu().numpy().reshape(n_units, optima, *shape)
    return pictures.astype(np.float32), reached.detach().float().cpu().numpy().reshape(
        n_units, optima
    ).astype(np.float32)
