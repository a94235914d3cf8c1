"""The method table: every attribution method a run can hold, in one place.

Each :class:`MethodSpec` names the Captum class, how its defaults scale with the input,
whether it needs a baseline, whether it is a layer method, and how its output becomes an
``(n, C', H, W)`` map (``C' = C``, or 1 for LayerGradCam). :func:`attribute` is the one
function that calls Captum for a batch; the runner and the benchmark both use it.
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from captum.attr import (
    DeepLift,
    GradientShap,
    GuidedBackprop,
    InputXGradient,
    IntegratedGradients,
    LayerAttribution,
    LayerGradCam,
    Occlusion,
    Saliency,
)

from interpret_review.errors import ConfigError, ModelError, UnknownNameError
from interpret_review.settings import Settings

__all__ = ["METHODS", "InputInfo", "MethodSpec", "attribute", "resolve_params", "seeded"]


@dataclass(frozen=True)
class InputInfo:
    """What the defaults of a method may depend on.

    ``shape`` is one input ``(C, H, W)``; ``low``/``high`` the smallest and largest input
    value over the dataset; ``last_conv`` the name of the model's last ``Conv2d`` (or None).
    """

    shape: tuple[int, int, int]
    low: float
    high: float
    last_conv: str | None


@dataclass(frozen=True)
class MethodSpec:
    """One row of the method table."""

    name: str
    captum_class: type
    defaults: Callable[[InputInfo, Settings], dict[str, Any]]
    needs_baseline: bool = False
    layer_method: bool = False  # constructed with a layer (params["layer"]) and upsampled
    has_delta: bool = False  # returns a convergence delta
    random: bool = False  # draws random numbers: seeded per batch
    compress: bool = False  # blocky maps: gzip them in the run file
    help: str = ""
    # Parameters consumed here, not passed to ``attribute``.
    own_params: tuple[str, ...] = field(default=())


def _occlusion_defaults(info: InputInfo, settings: Settings) -> dict[str, Any]:
    channels, height, width = info.shape
    window = max(1, min(height, width) // 4)
    stride = max(1, window // 2)
    return {
        "sliding_window_shapes": [channels, window, window],
        "strides": [channels, stride, stride],
        "perturbations_per_eval": 16,
    }


def _gradcam_defaults(info: InputInfo, settings: Settings) -> dict[str, Any]:
    return {"layer": info.last_conv, "relu_attributions": True, "interpolate_mode": "bilinear"}


METHODS: Mapping[str, MethodSpec] = {
    spec.name: spec
    for spec in (
        MethodSpec(
            "IntegratedGradients",
            IntegratedGradients,
            lambda info, s: {"n_steps": s.ig_steps, "method": "gausslegendre"},
            needs_baseline=True,
            has_delta=True,
            help="Path integral of gradients from the baseline to the input.",
        ),
        MethodSpec(
            "Saliency",
            Saliency,
            lambda info, s: {"abs": True},
            help="Absolute gradient of the target logit.",
        ),
        MethodSpec(
            "InputXGradient",
            InputXGradient,
            lambda info, s: {},
            help="Input times gradient.",
        ),
        MethodSpec(
            "GuidedBackprop",
            GuidedBackprop,
            lambda info, s: {},
            help="Gradient with negative ReLU gradients zeroed (needs nn.ReLU modules).",
        ),
        MethodSpec(
            "DeepLift",
            DeepLift,
            lambda info, s: {},
            needs_baseline=True,
            has_delta=True,
            help="DeepLIFT rescale rule (needs separate, non-inplace nn.ReLU modules).",
        ),
        MethodSpec(
            "GradientShap",
            GradientShap,
            lambda info, s: {"n_samples": 8, "stdevs": round(0.1 * (info.high - info.low), 6)},
            needs_baseline=True,
            has_delta=True,
            random=True,
            help="Expected gradients over noisy points between baseline and input; delta is "
            "the mean |delta| over its samples.",
        ),
        MethodSpec(
            "Occlusion",
            Occlusion,
            _occlusion_defaults,
            needs_baseline=True,
            compress=True,
            help="Change of the target logit when a sliding window is set to the baseline; "
            "the window is a quarter of the image side.",
        ),
        MethodSpec(
            "LayerGradCam",
            LayerGradCam,
            _gradcam_defaults,
            layer_method=True,
            compress=True,
            own_params=("layer", "interpolate_mode"),
            help="Grad-CAM of a conv layer (default: the last Conv2d), upsampled to the input "
            "with LayerAttribution.interpolate.",
        ),
    )
}


def resolve_params(
    name: str, info: InputInfo, settings: Settings, overrides: Mapping[str, Any] | None
) -> dict[str, Any]:
    """The JSON-able parameters of method ``name``: its defaults updated by ``overrides``."""
    if name not in METHODS:
        raise UnknownNameError("method", name, METHODS)
    spec = METHODS[name]
    params = spec.defaults(info, settings)
    params.update(dict(overrides or {}))
    if spec.layer_method and not params.get("layer"):
        raise ModelError(
            f"{name} needs a conv layer but the model has no nn.Conv2d; pass "
            f"method_params={{'{name}': {{'layer': NAME}}}} or leave {name} out of methods"
        )
    return params


@contextlib.contextmanager
def seeded(seed: int) -> Iterator[None]:
    """Seed torch's and numpy's global generators (Captum draws from both), restoring both
    afterwards. GradientShap runs inside ``seeded(settings.seed + batch_start)``."""
    state = np.random.get_state()
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        np.random.seed(seed % 2**32)
        try:
            yield
        finally:
            np.random.set_state(state)


def _tuples(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value


def attribute(
    name: str,
    model: torch.nn.Module,
    inputs: torch.Tensor,
    target: torch.Tensor,
    baseline: torch.Tensor,
    params: Mapping[str, Any],
    *,
    seed: int = 0,
    modules: Mapping[str, torch.nn.Module] | None = None,
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Attribute one batch with method ``name``.

    inputs (n, C, H, W) float32; target (n,) int64; baseline (1, C, H, W).
    Returns values (n, C', H, W) float32 and delta (n,) float32, or None without a delta.
    """
    spec = METHODS[name]
    kwargs = {k: _tuples(v) for k, v in params.items() if k not in spec.own_params}
    if spec.layer_method:
        modules = dict(model.named_modules()) if modules is None else modules
        layer = modules.get(params["layer"])
        if layer is None:
            raise UnknownNameError(
                "layer", params["layer"], [n for n in modules if n], hint=f"(in {name} params)"
            )
        method: Any = spec.captum_class(model, layer)
    else:
        method = spec.captum_class(model)
    if spec.needs_baseline:
        if name == "GradientShap":
            kwargs["baselines"] = baseline
        else:
            kwargs["baselines"] = baseline.expand_as(inputs)
    if spec.has_delta:
        kwargs["return_convergence_delta"] = True
    inputs = inputs.detach().requires_grad_(True)
    context = seeded(seed) if spec.random else contextlib.nullcontext()
    try:
        with context, warnings.catch_warnings():
            # Captum announces that it hooks ReLUs (DeepLift, GuidedBackprop) on every call.
            warnings.filterwarnings("ignore", message="Setting (backward|forward, backward) hooks")
            out = method.attribute(inputs, target=target, **kwargs)
    except (TypeError, ValueError) as error:
        raise ConfigError(
            f"Captum's {name}.attribute refused the parameters {dict(params)!r}: {error}. "
            "Fix method_params for this method."
        ) from error
    delta = None
    if spec.has_delta:
        out, delta = out
        delta = (
            delta.detach().reshape(inputs.shape[0], -1).abs().mean(1)
            if name == "GradientShap"
            else delta.detach().reshape(inputs.shape[0])
        )
        delta = delta.float()
    values = out.detach()
    if spec.layer_method:
        values = LayerAttribution.interpolate(
            values,
            tuple(inputs.shape[2:]),
            interpolate_mode=params.get("interpolate_mode", "nearest"),
        )
    return values.float(), delta
