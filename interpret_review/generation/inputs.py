"""Dataset and model checks, and deterministic batching.

:func:`as_source` turns what a caller passes to ``generate`` (a map-style ``Dataset``, a
non-shuffling ``DataLoader``, a tensor ``x`` or a pair ``(x, y)``) into a :class:`Source`
that hands out row ranges as ``(x (b, C, H, W) float32, y (b,) int64 or None)``. Rows are
always read by index, so a resumed run sees exactly the batches of an uninterrupted one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset, IterableDataset, SequentialSampler, TensorDataset

from interpret_review.errors import ConfigError, DataError, ModelError, UnknownNameError

__all__ = ["LayerInfo", "Source", "as_source", "check_layers", "check_model", "probe_model"]


def _as_tensor(value: Any, what: str) -> torch.Tensor:
    if isinstance(value, torch.Tensor):
        return value
    if isinstance(value, np.ndarray):
        return torch.from_numpy(value)
    raise DataError(f"{what} must be a torch tensor or numpy array, got {type(value).__name__}")


def _check_images(x: torch.Tensor, what: str) -> torch.Tensor:
    """x (b, C, H, W): check the rank and make it float32."""
    if x.ndim != 4:
        found = tuple(x.shape[1:])
        fix = " add a channel dimension, e.g. x.unsqueeze(1)" if x.ndim == 3 else ""
        raise DataError(
            f"{what} must be images of shape (C, H, W); found examples of shape {found} "
            f"(rank {x.ndim - 1}).{fix}"
        )
    if not torch.is_floating_point(x):
        raise DataError(
            f"{what} must hold floating-point pixels (the model's input), got dtype {x.dtype}; "
            "convert and normalise them first, e.g. x.float() / 255"
        )
    return x.float()


class Source:
    """Random access to rows ``0 .. n-1`` of the caller's data."""

    def __init__(
        self,
        *,
        n: int,
        tensors: tuple[torch.Tensor, torch.Tensor | None] | None = None,
        dataset: Dataset | None = None,
        batch_size: int | None = None,
        has_labels: bool = False,
    ) -> None:
        self.n = n
        self._tensors = tensors
        self._dataset = dataset
        self.batch_size = batch_size  # a DataLoader's batch size, else None
        self.has_labels = has_labels

    def rows(self, start: int, stop: int) -> tuple[torch.Tensor, torch.Tensor | None]:
        """x (stop-start, C, H, W) float32, y (stop-start,) int64 or None."""
        if self._tensors is not None:
            x, y = self._tensors
            xb = _check_images(x[start:stop], "inputs")
            return xb, None if y is None else y[start:stop].long()
        xs, ys = [], []
        for index in range(start, stop):
            item = self._dataset[index]  # type: ignore[index]
            if isinstance(item, (tuple, list)):
                if not item:
                    raise DataError(f"dataset item {index} is an empty {type(item).__name__}")
                xs.append(_as_tensor(item[0], f"dataset item {index}'s input"))
                if self.has_labels:
                    if len(item) < 2:
                        raise DataError(f"dataset item {index} has no label but item 0 has one")
                    ys.append(int(item[1]))
            else:
                xs.append(_as_tensor(item, f"dataset item {index}"))
        shapes = {tuple(x.shape) for x in xs}
        if len(shapes) > 1:
            raise DataError(
                f"dataset items {start}..{stop - 1} have different shapes {sorted(shapes)}; "
                "all inputs must have the same (C, H, W)"
            )
        xb = _check_images(torch.stack(xs), "dataset inputs")
        return xb, torch.tensor(ys, dtype=torch.int64) if self.has_labels else None


def as_source(data: Any, limit: int | None = None) -> Source:
    """Check ``data`` and wrap it. ``limit`` keeps only the first rows."""
    if limit is not None and (isinstance(limit, bool) or int(limit) < 1):
        raise ConfigError(f"limit must be a whole number >= 1 or None, got {limit!r}")
    batch_size = None
    if isinstance(data, DataLoader):
        sampler = getattr(data.batch_sampler, "sampler", data.sampler)
        if not isinstance(sampler, SequentialSampler):
            raise DataError(
                f"the DataLoader draws examples with {type(sampler).__name__}, so its order is "
                "not reproducible and a run could not be resumed; build it with shuffle=False "
                "(or pass its dataset)"
            )
        batch_size = data.batch_size
        data = data.dataset
    if isinstance(data, IterableDataset):
        raise DataError(
            "an IterableDataset cannot be used: generation reads rows by index to resume; "
            "pass a map-style Dataset (with __len__ and __getitem__) or tensors"
        )
    tensors: tuple[torch.Tensor, torch.Tensor | None] | None = None
    if isinstance(data, TensorDataset):
        parts = data.tensors
        tensors = (parts[0], parts[1] if len(parts) > 1 else None)
    elif isinstance(data, (torch.Tensor, np.ndarray)):
        tensors = (_as_tensor(data, "inputs"), None)
    elif (
        isinstance(data, (tuple, list))
        and len(data) == 2
        and all(isinstance(part, (torch.Tensor, np.ndarray)) for part in data)
    ):
        tensors = (_as_tensor(data[0], "inputs x"), _as_tensor(data[1], "labels y"))
    elif not (hasattr(data, "__getitem__") and hasattr(data, "__len__")):
        raise DataError(
            f"data must be a map-style torch Dataset, a DataLoader, a tensor x or a pair "
            f"(x, y); got {type(data).__name__}"
        )
    if tensors is not None:
        x, y = tensors
        if y is not None:
            if y.ndim != 1 or len(y) != len(x):
                raise DataError(
                    f"labels must have shape ({len(x)},) to match the inputs; got {tuple(y.shape)}"
                )
            if torch.is_floating_point(y) or y.dtype == torch.bool:
                raise DataError(f"labels must be integer class indices, got dtype {y.dtype}")
        n = len(x)
    else:
        n = len(data)
    if n == 0:
        raise DataError("the dataset is empty: generation needs at least one example")
    if limit is not None:
        n = min(n, int(limit))
    if tensors is not None:
        _check_images(tensors[0][:1], "inputs")
        return Source(
            n=n, tensors=tensors, batch_size=batch_size, has_labels=tensors[1] is not None
        )
    first = data[0]
    has_labels = isinstance(first, (tuple, list)) and len(first) >= 2
    source = Source(n=n, dataset=data, batch_size=batch_size, has_labels=has_labels)
    source.rows(0, 1)  # checks the first item's type and shape
    return source


def check_model(model: Any) -> torch.nn.Module:
    if not isinstance(model, torch.nn.Module):
        raise ModelError(
            f"model must be a torch.nn.Module, got {type(model).__name__}; wrap a function "
            "in an nn.Module whose forward maps (batch, C, H, W) to (batch, n_classes) logits"
        )
    return model


def check_layers(model: torch.nn.Module, layers: Sequence[str]) -> dict[str, torch.nn.Module]:
    """Map each layer name to its module; unknown names raise UnknownNameError."""
    if isinstance(layers, str):
        layers = [layers]
    modules = {name: module for name, module in model.named_modules() if name}
    for name in layers:
        if name not in modules:
            raise UnknownNameError(
                "layer", name, modules, hint="Layers are names from model.named_modules()."
            )
    if len(set(layers)) != len(layers):
        raise ConfigError(f"layers lists a name twice: {list(layers)}")
    return {name: modules[name] for name in layers}


#: The largest float16: maps and activations are stored as float16 (ARCHITECTURE.md).
HALF_MAX = float(np.finfo(np.float16).max)


def to_half(values: np.ndarray, what: str) -> np.ndarray:
    """``values`` as float16, clipped to its range with a warning (never stored as inf)."""
    import warnings

    values = np.asarray(values)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # an all-NaN array has no maximum
        peak = float(np.nanmax(np.abs(values))) if values.size else 0.0
    if not peak > HALF_MAX:  # the common case: one pass to check, one to convert
        return values.astype(np.float16)
    over = int((np.abs(np.nan_to_num(values)) > HALF_MAX).sum())
    warnings.warn(
        f"{what}: {over} values beyond +-{HALF_MAX:.0f} were clipped to it (stored as "
        "float16); the model's activations or logits are unusually large",
        RuntimeWarning,
        stacklevel=3,
    )
    return np.clip(values, -HALF_MAX, HALF_MAX).astype(np.float16)


def choose_target(target: str | int, prediction: torch.Tensor, labels: Any = None) -> torch.Tensor:
    """The class each example's attribution explains: its ``prediction``, its true label
    (``labels``, for ``"true"``) or one class index for all."""
    if target == "predicted":
        return prediction
    if target == "true":
        return torch.as_tensor(labels, device=prediction.device)
    return torch.full_like(prediction, int(target))


def check_methods(
    methods: Sequence[str] | None,
    table: Mapping[str, Any],
    method_params: Mapping[str, Any] | None,
    what: str = "method",
) -> list[str]:
    """The methods to run (all of ``table`` for None), each known and named once, and every
    key of ``method_params`` one of them."""
    chosen = list(table) if methods is None else list(methods)
    for method in chosen:
        if method not in table:
            raise UnknownNameError(what, method, table)
    if len(set(chosen)) != len(chosen):
        raise ConfigError(f"methods lists a name twice: {chosen}")
    for method in method_params or {}:
        if method not in chosen:
            raise UnknownNameError("method", method, chosen, hint="(a key of method_params)")
    return chosen


def freeze(model: torch.nn.Module) -> tuple[bool, list[bool]]:
    """Put ``model`` in eval mode without gradients on its parameters (attribution needs
    gradients of inputs only); returns what :func:`thaw` needs to restore it."""
    state = (model.training, [p.requires_grad for p in model.parameters()])
    model.eval()
    model.requires_grad_(False)
    return state


def thaw(model: torch.nn.Module, state: tuple[bool, list[bool]]) -> None:
    """Undo :func:`freeze`: the caller's model is left as it was given."""
    model.train(state[0])
    for parameter, flag in zip(model.parameters(), state[1], strict=True):
        parameter.requires_grad_(flag)


@dataclass(frozen=True)
class LayerInfo:
    name: str
    kind: str  # "conv" (output (b, U, h, w), summarised by max over space) or "linear" (b, U)
    n_units: int


def probe_model(
    model: torch.nn.Module, x: torch.Tensor, layers: dict[str, torch.nn.Module]
) -> tuple[int, list[LayerInfo]]:
    """Run the model on x (b, C, H, W); return n_classes and what each layer outputs."""
    outputs: dict[str, Any] = {}
    handles = [
        module.register_forward_hook(lambda m, i, o, name=name: outputs.__setitem__(name, o))
        for name, module in layers.items()
    ]
    try:
        with torch.no_grad():
            logits = model(x)
    except Exception as error:
        raise ModelError(
            f"the model failed on a batch of shape {tuple(x.shape)}: "
            f"{type(error).__name__}: {error}"
        ) from error
    finally:
        for handle in handles:
            handle.remove()
    if not isinstance(logits, torch.Tensor) or logits.ndim != 2 or logits.shape[0] != len(x):
        found = tuple(logits.shape) if isinstance(logits, torch.Tensor) else type(logits).__name__
        raise ModelError(
            f"the model must map a batch of shape {tuple(x.shape)} to logits of shape "
            f"({len(x)}, n_classes); it returned {found}"
        )
    infos = []
    for name in layers:
        out = outputs.get(name)
        if not isinstance(out, torch.Tensor) or out.ndim not in (2, 4):
            found = tuple(out.shape) if isinstance(out, torch.Tensor) else type(out).__name__
            raise ModelError(
                f"layer {name!r} must output (batch, units) or (batch, channels, h, w) to be "
                f"analysed; it output {found}"
                + (" (it did not run in forward)" if out is None else "")
            )
        infos.append(LayerInfo(name, "conv" if out.ndim == 4 else "linear", int(out.shape[1])))
    return int(logits.shape[1]), infos
