"""Argument resolution for ``generate``: baselines, target and display images."""

from __future__ import annotations

import hashlib
from typing import Any

import numpy as np
import torch

from interpret_review.errors import ConfigError, DataError, UnknownNameError
from interpret_review.generation.inputs import Source

__all__ = ["Display", "resolve_baseline", "resolve_target"]


def resolve_baseline(baselines: Any, shape: tuple[int, ...]) -> tuple[torch.Tensor, Any]:
    """The baseline (1, C, H, W) and how the config records it."""
    if isinstance(baselines, str):
        if baselines != "zeros":
            raise ConfigError(
                f"baselines must be 'zeros', a number or a tensor of shape {shape}; "
                f"got {baselines!r}"
            )
        return torch.zeros((1, *shape)), "zeros"
    if isinstance(baselines, (int, float)) and not isinstance(baselines, bool):
        return torch.full((1, *shape), float(baselines)), float(baselines)
    if isinstance(baselines, (torch.Tensor, np.ndarray)):
        tensor = torch.as_tensor(baselines, dtype=torch.float32)
        if tuple(tensor.shape) not in (shape, (1, *shape)):
            raise ConfigError(
                f"a baseline tensor must have shape {shape} (one input); got {tuple(tensor.shape)}"
            )
        tensor = tensor.reshape(1, *shape).contiguous()
        digest = hashlib.sha256(tensor.numpy().tobytes()).hexdigest()
        return tensor, {"tensor_sha256": digest, "shape": list(shape)}
    raise ConfigError(
        f"baselines must be 'zeros', a number or a tensor of shape {shape}; "
        f"got {type(baselines).__name__}"
    )


def resolve_target(target: str | int, source: Source, n_classes: int) -> str | int:
    if isinstance(target, str):
        if target not in ("predicted", "true"):
            raise UnknownNameError(
                "target", target, ["predicted", "true"], hint="Or a class index."
            )
        if target == "true" and not source.has_labels:
            raise ConfigError(
                "target='true' needs labels but the data has none; pass (x, y) or items "
                "(x, y), or use target='predicted' or a class index"
            )
        return target
    if isinstance(target, bool) or not isinstance(target, (int, np.integer)):
        raise ConfigError(f"target must be 'predicted', 'true' or a class index; got {target!r}")
    if not 0 <= int(target) < n_classes:
        raise ConfigError(
            f"target class {target} is out of range: the model has {n_classes} classes "
            f"(0..{n_classes - 1})"
        )
    return int(target)


class Display:
    """Turns a batch x (b, C, H, W) with rows start.. into display images (b, H, W[, 3]) uint8."""

    def __init__(self, display: Any, low: float, high: float, shape: tuple[int, ...], n: int):
        self.display, self.low, self.high, self.shape = display, low, high, shape
        if display is None:
            self.config: Any = "auto"
        elif callable(display):
            module = getattr(display, "__module__", "?")
            self.config = f"callable:{module}:{getattr(display, '__qualname__', repr(display))}"
        elif isinstance(display, np.ndarray):
            if len(display) < n:
                raise DataError(f"display has {len(display)} rows but the data has {n}")
            self.config = {"array_sha256": hashlib.sha256(display[:n].tobytes()).hexdigest()}
        else:
            raise ConfigError(
                "display must be None (scale the inputs), a callable mapping x (b, C, H, W) to "
                f"uint8 (b, H, W) or (b, H, W, 3), or such an array; got {type(display).__name__}"
            )

    def __call__(self, x: torch.Tensor, start: int) -> np.ndarray:
        if self.display is None:
            scaled = (x - self.low) / max(self.high - self.low, 1e-12) * 255.0
            image = scaled.round().clamp(0, 255).to(torch.uint8).numpy()
            channels = image.shape[1]
            if channels == 3:
                return image.transpose(0, 2, 3, 1)
            return image[:, 0] if channels == 1 else image.mean(1).astype(np.uint8)
        if callable(self.display):
            image = np.asarray(self.display(x))
        else:
            image = self.display[start : start + len(x)]
        height, width = self.shape[1:]
        ok = image.shape in ((len(x), height, width), (len(x), height, width, 3))
        if not ok or image.dtype != np.uint8:
            raise DataError(
                f"display images must be uint8 of shape ({len(x)}, {height}, {width}) or "
                f"({len(x)}, {height}, {width}, 3); got {image.dtype} {image.shape}"
            )
        return image
