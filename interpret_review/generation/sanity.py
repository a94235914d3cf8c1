"""Attribution sanity checks: does a method's map depend on what the model learned?

For each method of an image run, on the first ``sanity_examples`` examples:

* **Model-parameter randomization** (Adebayo et al. 2018, "Sanity Checks for Saliency
  Maps"): the modules with weights (normalisation layers included) are re-initialised one
  after another from the last registered (the output layer, for most models), cascading
  down, at most :data:`IMAGE_STEPS` of them, and after each step the maps are computed again and
  compared with the trained model's: the Spearman rank correlation of their absolute values
  and their structural similarity (SSIM, 3x3 windows, maps scaled to 0..1). A map that
  stays the same when the model is randomised shows the input, not the model.
  ``randomization`` (the figure a task's thresholds judge) is the rank correlation after the
  top layer alone is randomised: 1 = unchanged.
* **Infidelity** (Yeh et al. 2019, Captum's ``infidelity``, normalised): how badly the map
  predicts the change of the output under small Gaussian perturbations (lower is better).
* **Max-sensitivity** (Captum's ``sensitivity_max``): how much the map changes, at most,
  when the input moves by up to 0.02 (lower is better).

The result is JSON-able and stored with the method's group in the run.
"""

from __future__ import annotations

import copy
import math
import warnings
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import torch

from interpret_review.generation.methods import attribute

__all__ = [
    "IMAGE_STEPS",
    "PERTURB_RADIUS",
    "TEXT_STEPS",
    "randomization_order",
    "sanity_checks",
    "spearman",
    "ssim",
    "text_sanity_checks",
]

#: Captum's default radius of the perturbations ``sensitivity_max`` draws.
PERTURB_RADIUS = 0.02
#: Perturbations per example of ``infidelity`` and ``sensitivity_max``.
N_PERTURB = 8
#: An image model's cascade stops after this many layers from the top (a deep network has
#: a hundred; the figure a task judges is the first step's).
IMAGE_STEPS = 8


def randomization_order(model: torch.nn.Module) -> list[str]:
    """The layers the cascade re-initialises, top (last registered) first: every module
    with its own weights and a ``reset_parameters``."""
    names = [
        name
        for name, module in model.named_modules()
        if name
        and callable(getattr(module, "reset_parameters", None))
        and any(True for _ in module.parameters(recurse=False))
    ]
    return names[::-1]


def spearman(a: np.ndarray, b: np.ndarray) -> float:
    """Spearman rank correlation of two maps (ties get their mean rank); 0 when either
    map is constant."""
    from scipy.stats import rankdata

    x, y = rankdata(np.ravel(a)), rankdata(np.ravel(b))
    if np.ptp(x) == 0 or np.ptp(y) == 0:
        return 0.0
    return float(np.corrcoef(x, y)[0, 1])


def ssim(a: np.ndarray, b: np.ndarray, window: int = 3) -> float:
    """Mean structural similarity of two (H, W) maps, each scaled to 0..1 first."""
    from scipy.ndimage import uniform_filter

    def scaled(z: np.ndarray) -> np.ndarray:
        z = np.asarray(z, dtype=np.float64)
        span = np.ptp(z)
        return (z - z.min()) / span if span > 0 else np.zeros_like(z)

    x, y = scaled(a), scaled(b)
    c1, c2 = 0.01**2, 0.03**2
    mx, my = uniform_filter(x, window), uniform_filter(y, window)
    vx = uniform_filter(x * x, window) - mx**2
    vy = uniform_filter(y * y, window) - my**2
    cov = uniform_filter(x * y, window) - mx * my
    value = ((2 * mx * my + c1) * (2 * cov + c2)) / ((mx**2 + my**2 + c1) * (vx + vy + c2))
    return float(value.mean())


def _maps(values: torch.Tensor) -> np.ndarray:
    """(n, C', H, W) attributions -> (n, H, W) absolute maps (summed over channels)."""
    return values.detach().float().sum(1).abs().cpu().numpy()


def _similarity(before: np.ndarray, after: np.ndarray) -> tuple[float, float]:
    rho = [spearman(a, b) for a, b in zip(before, after, strict=True)]
    same = [ssim(a, b) for a, b in zip(before, after, strict=True)]
    return float(np.mean(rho)), float(np.mean(same))


def sanity_checks(
    model: torch.nn.Module,
    x: torch.Tensor,
    target: torch.Tensor,
    methods: Sequence[str],
    params: Mapping[str, Mapping[str, Any]],
    baseline: torch.Tensor,
    *,
    seed: int = 0,
    on_step: Callable[[int], object] = lambda n: None,
) -> dict[str, dict[str, Any]]:
    """The sanity figures of each method on the examples ``x`` (their ``target`` classes).

    ``model`` is left as it was: the cascade randomises a copy.
    """
    layers = randomization_order(model)[:IMAGE_STEPS]
    modules = dict(model.named_modules())
    original = {
        m: attribute(m, model, x, target, baseline, params[m], seed=seed, modules=modules)[0]
        for m in methods
    }
    out: dict[str, dict[str, Any]] = {
        m: {"examples": int(len(x)), "randomization_steps": []} for m in methods
    }
    randomized = copy.deepcopy(model)
    copies = dict(randomized.named_modules())
    for step, layer in enumerate(layers):
        with torch.random.fork_rng(devices=[]), torch.no_grad():
            torch.manual_seed(seed + 1000 + step)
            copies[layer].reset_parameters()  # type: ignore[operator]
        for method in methods:
            values = attribute(method, randomized, x, target, baseline, params[method],
                               seed=seed, modules=copies)[0]  # fmt: skip
            rho, same = _similarity(_maps(original[method]), _maps(values))
            out[method]["randomization_steps"].append(
                {"layer": layer, "spearman": _round(rho), "ssim": _round(same)}
            )
            on_step(1)
    for method in methods:
        steps = out[method]["randomization_steps"]
        out[method]["randomization"] = steps[0]["spearman"] if steps else None
        out[method]["randomization_ssim"] = steps[0]["ssim"] if steps else None
        out[method]["infidelity"], out[method]["sensitivity"] = _robustness(
            model, x, target, method, params[method], baseline, original[method], seed, modules
        )
        on_step(1)
    return out


def _robustness(
    model: torch.nn.Module,
    x: torch.Tensor,
    target: torch.Tensor,
    method: str,
    params: Mapping[str, Any],
    baseline: torch.Tensor,
    values: torch.Tensor,
    seed: int,
    modules: Mapping[str, torch.nn.Module],
) -> tuple[float | None, float | None]:
    """Mean normalised infidelity and mean max-sensitivity of ``method`` on ``x``."""
    from captum.metrics import infidelity, sensitivity_max

    def perturb(inputs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        noise = torch.randn_like(inputs) * 0.1 * inputs.std().clamp(min=1e-6)
        return noise, inputs - noise

    def explain(inputs: Any, target: torch.Tensor) -> Any:
        single = inputs[0] if isinstance(inputs, tuple) else inputs  # Captum passes a tuple
        found, _ = attribute(method, model, single, target, baseline, params, seed=seed,
                             modules=modules)  # fmt: skip
        return (found,) if isinstance(inputs, tuple) else found

    expanded = values.expand_as(x) if values.shape[1] != x.shape[1] else values
    with torch.random.fork_rng(devices=[]), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.manual_seed(seed)
        infid = infidelity(model, perturb, x, expanded, target=target,
                           n_perturb_samples=N_PERTURB, normalize=True)  # fmt: skip
        torch.manual_seed(seed)
        sens = sensitivity_max(explain, x, target=target, perturb_radius=PERTURB_RADIUS,
                               n_perturb_samples=N_PERTURB)  # fmt: skip
    return _round(float(infid.mean())), _round(float(sens.mean()))


def _round(value: float) -> float | None:
    return None if not math.isfinite(value) else round(float(value), 4)


#: A text model's cascade stops after this many layers from the top (a transformer has
#: dozens of weighted modules; the figure a task judges is the first step's).
TEXT_STEPS = 4


def text_sanity_checks(
    model: torch.nn.Module,
    ids: torch.Tensor,
    mask: torch.Tensor,
    target: torch.Tensor,
    methods: Sequence[str],
    params: Mapping[str, Mapping[str, Any]],
    *,
    pad_id: int,
    seed: int = 0,
    on_step: Callable[[int], object] = lambda n: None,
) -> dict[str, dict[str, Any]]:
    """The randomization test for token attributions: the rank correlation of each text's
    absolute token scores before and after the top :data:`TEXT_STEPS` layers are
    re-initialised one after another. SSIM, infidelity and max-sensitivity need a
    continuous input and are not measured for text (None)."""
    from interpret_review.generation.text import token_attributions

    real = mask.cpu().numpy() != 0

    def scores(mdl: torch.nn.Module, method: str) -> list[np.ndarray]:
        values = token_attributions(mdl, ids, mask, target, method, pad_id=pad_id,
                                    params=params[method])  # fmt: skip
        return [np.abs(v[r]) for v, r in zip(values, real, strict=True)]

    original = {m: scores(model, m) for m in methods}
    out: dict[str, dict[str, Any]] = {
        m: {"examples": int(len(ids)), "randomization_steps": [], "randomization_ssim": None,
            "infidelity": None, "sensitivity": None}
        for m in methods
    }  # fmt: skip
    randomized = copy.deepcopy(model)
    copies = dict(randomized.named_modules())
    for step, layer in enumerate(randomization_order(model)[:TEXT_STEPS]):
        with torch.random.fork_rng(devices=[]), torch.no_grad():
            torch.manual_seed(seed + 1000 + step)
            copies[layer].reset_parameters()  # type: ignore[operator]
        for method in methods:
            after = scores(randomized, method)
            rho = float(np.mean([spearman(a, b) for a, b in zip(original[method], after,
                                                                 strict=True)]))  # fmt: skip
            out[method]["randomization_steps"].append(
                {"layer": layer, "spearman": _round(rho), "ssim": None}
            )
            on_step(1)
    for method in methods:
        steps = out[method]["randomization_steps"]
        out[method]["randomization"] = steps[0]["spearman"] if steps else None
    return out
