"""``generate``: run Captum over a dataset and write a run through the store's RunWriter.

Two phases, both resumable shard by shard:

1. examples: rows are cut into shards of ``shard_size`` rows (``examples-%05d``) and each
   shard into batches of ``batch_size``; per batch, one forward pass gives logits and the
   layer activations (conv channels summarised by their max over space), then every method
   attributes it. Random methods are seeded with ``settings.seed + batch start``.
2. neurons: per layer (``neurons-<layer>``), the activations and the needed inputs are read
   back from the example shards; see :mod:`interpret_review.generation.neurons`.

A shard that exists is skipped, so a run killed at any point and started again with the same
arguments ends with the same arrays as an uninterrupted one.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from interpret_review.addresses import check_name
from interpret_review.errors import ConfigError
from interpret_review.generation.fingerprints import model_fingerprint, scan_dataset, versions
from interpret_review.generation.inputs import (
    LayerInfo,
    as_source,
    check_layers,
    check_methods,
    check_model,
    choose_target,
    freeze,
    probe_model,
    thaw,
    to_half,
)
from interpret_review.generation.methods import METHODS, InputInfo, attribute, resolve_params
from interpret_review.generation.neurons import neuron_attributions
from interpret_review.generation.options import Display, resolve_baseline, resolve_target
from interpret_review.generation.phases import Phases
from interpret_review.generation.text import TextData
from interpret_review.generation.text_runner import generate_text
from interpret_review.settings import Settings, generation_settings
from interpret_review.store.schema import attribution_path, layer_path

if TYPE_CHECKING:
    from interpret_review.store.writer import RunWriter

__all__ = ["generate"]


def _run_name(name: str | None, out: Path) -> str:
    if name is not None:
        return check_name("run name", name)
    stem = re.sub(r"[^A-Za-z0-9_.\-]", "_", out.name.split(".")[0]) or "run"
    return stem


def generate(
    model: torch.nn.Module,
    data: Any,
    *,
    out: str | Path,
    methods: Sequence[str] | None = None,
    layers: Sequence[str] = (),
    target: str | int = "predicted",
    baselines: Any = "zeros",
    method_params: Mapping[str, Mapping[str, Any]] | None = None,
    name: str | None = None,
    display: Any = None,
    settings: Settings | None = None,
    device: str = "cpu",
    progress: bool = True,
    limit: int | None = None,
    max_units: int | None = None,
) -> Path:
    """Attribute every example of ``data`` with ``methods``, gather neuron evidence for
    ``layers``, and write a run to ``out``; returns the run's path.

    **Text**: give a :class:`~interpret_review.generation.text.TextData` as ``data`` and a
    model called as ``model(ids, attention_mask)`` (a plain module or a HuggingFace
    classifier); ``methods`` then come from :data:`~interpret_review.generation.text.TEXT_METHODS`,
    ``layers`` name modules with one output vector per token (a transformer's MLP) and
    ``max_units`` keeps the first units of each (see :mod:`.text_runner`).

    ``data``: a map-style Dataset of ``(x, y)`` or ``x`` items with x (C, H, W), a DataLoader
    that does not shuffle, a tensor x (N, C, H, W) or a pair (x, y (N,)). ``model`` maps
    (b, C, H, W) to logits (b, n_classes). ``methods`` default to all of :data:`METHODS`.
    ``target``: "predicted", "true" (needs labels) or a class index. ``baselines``: "zeros", a
    number or a tensor (C, H, W). ``method_params`` override a method's defaults (Captum
    ``attribute`` keywords; ``layer`` for LayerGradCam). ``display``: None scales the inputs to
    uint8; or a callable x (b, C, H, W) -> uint8 (b, H, W[, 3]); or such an array (N, ...).
    Run again with the same arguments to resume an interrupted run.
    """
    from interpret_review.store import RunWriter  # the store room owns h5py

    settings = settings or Settings.from_env()
    out = Path(out)
    run_name = _run_name(name, out)
    if isinstance(data, TextData):
        for key, value, default in (("baselines", baselines, "zeros"), ("display", display, None)):
            if value != default:
                raise ConfigError(
                    f"{key} is for image runs; a text run's baseline is the padding token "
                    "(TextData.pad_id) and its display is its tokens"
                )
        return generate_text(
            model, data, out=out, run_name=run_name, methods=methods, layers=layers,
            target=target, method_params=method_params, settings=settings, device=device,
            progress=progress, limit=limit, max_units=max_units,
        )  # fmt: skip
    if max_units is not None:
        raise ConfigError("max_units is for text runs (a TextData as data)")
    model = check_model(model)
    chosen = check_methods(methods, METHODS, method_params)
    layer_modules = check_layers(model, list(layers))
    source = as_source(data, limit)
    if source.batch_size:  # a DataLoader's batch size wins
        settings = settings.replace(batch_size=source.batch_size)
    batch_size = settings.batch_size
    torch_device = torch.device(device)

    frozen = freeze(model)
    try:
        model.to(torch_device)
        first_x, _ = source.rows(0, min(2, source.n))
        n_classes, layer_infos = probe_model(model, first_x.to(torch_device), layer_modules)
        checked_target = resolve_target(target, source, n_classes)
        scan = scan_dataset(source, batch_size)
        shape = tuple(first_x.shape[1:])
        baseline, baseline_config = resolve_baseline(baselines, shape)
        baseline = baseline.to(torch_device)
        convs = [n for n, m in model.named_modules() if isinstance(m, torch.nn.Conv2d)]
        info = InputInfo(shape, scan.low, scan.high, convs[-1] if convs else None)  # type: ignore[arg-type]
        input_range = (float(scan.low), float(scan.high))
        params = {
            m: resolve_params(m, info, settings, (method_params or {}).get(m)) for m in chosen
        }
        for method, method_values in params.items():
            if METHODS[method].layer_method:
                check_layers(model, [method_values["layer"]])
        show = Display(display, scan.low, scan.high, shape, source.n)
        config = {
            "methods": chosen,
            "method_params": params,
            "layers": [layer.name for layer in layer_infos],
            "target": checked_target,
            "baselines": baseline_config,
            "display": show.config,
            "n_examples": source.n,
            "input_shape": list(shape),
            "n_classes": n_classes,
            "device": str(torch_device),
            "settings": {key: getattr(settings, key) for key in generation_settings("image")},
        }
        writer = RunWriter(
            out,
            attrs={
                "model_fingerprint": model_fingerprint(model),
                "dataset_fingerprint": scan.fingerprint,
                "config": config,
                "versions": versions(),
                "name": run_name,
            },
        )
        group_attrs = _group_attrs(params, layer_infos)
        job = _ImageJob(
            model,
            source,
            settings,
            chosen,
            params,
            checked_target,
            baseline,
            show,
            layer_modules,
            layer_infos,
            torch_device,
            input_range,
        )
        job.run(writer, group_attrs, progress)
        return Path(writer.finalize(n_examples=source.n, group_attrs=group_attrs))
    finally:
        thaw(model, frozen)


def _group_attrs(
    params: Mapping[str, Mapping[str, Any]], layer_infos: Sequence[LayerInfo]
) -> dict[str, dict[str, Any]]:
    from interpret_review.generation.fingerprints import config_json

    attrs: dict[str, dict[str, Any]] = {
        attribution_path(m): {
            "class": METHODS[m].captum_class.__name__,
            "params": config_json(dict(p)),
        }
        for m, p in params.items()
    }
    for layer in layer_infos:
        attrs[layer_path(layer.name)] = {
            "summary": "max" if layer.kind == "conv" else "value",
            "kind": layer.kind,
            "n_units": layer.n_units,
        }
    return attrs


class _ImageJob(Phases):
    """The image parts of a run's phases (see :mod:`interpret_review.generation.phases`)."""

    def __init__(self, model, source, settings, methods, params, target, baseline, show,
                 layer_modules, layer_infos, device, input_range) -> None:  # fmt: skip
        super().__init__(settings, source.n)
        self.model, self.source = model, source
        self.methods, self.params, self.target = methods, params, target
        self.baseline, self.show, self.device = baseline, show, device
        self.layer_modules, self.layer_infos = layer_modules, layer_infos
        self.input_range = input_range  # (low, high) of the data: feature viz stays inside
        self.modules = dict(model.named_modules())
        self._inputs: Callable[[np.ndarray], np.ndarray] | None = None

    def shard_options(self) -> dict[str, Any]:
        return {
            "compress": {attribution_path(m, "values") for m in self.methods if METHODS[m].compress}
        }

    def batch(self, start: int, stop: int) -> dict[str, np.ndarray]:
        """Rows start..stop-1: every column of an example shard."""
        x, y = self.source.rows(start, stop)
        x = x.to(self.device)
        captured: dict[str, torch.Tensor] = {}
        handles = [
            module.register_forward_hook(
                lambda m, i, o, name=name: captured.__setitem__(name, o.detach())
            )
            for name, module in self.layer_modules.items()
        ]
        try:
            with torch.no_grad():
                logits = self.model(x)
        finally:
            for handle in handles:
                handle.remove()
        prediction = logits.argmax(1)
        target = choose_target(self.target, prediction, y)
        size = stop - start
        columns = {
            "examples/id": np.arange(start, stop, dtype=np.int64),
            "examples/label": (y.numpy() if y is not None else np.full(size, -1)).astype(np.int64),
            "examples/prediction": prediction.cpu().numpy().astype(np.int64),
            "examples/logits": logits.float().cpu().numpy(),
            "examples/input": x.cpu().numpy(),
            "examples/display": self.show(x.cpu(), start),
        }
        for layer in self.layer_infos:
            act = captured[layer.name]
            if layer.kind == "conv" and self.settings.spatial_maps:  # for the linked views
                spatial = act.float().cpu().numpy()
                columns[layer_path(layer.name, "spatial")] = to_half(spatial, layer.name)
            act = act.amax(dim=(2, 3)) if layer.kind == "conv" else act
            columns[layer_path(layer.name, "activations")] = act.float().cpu().numpy()
        target_np = target.cpu().numpy().astype(np.int64)
        for method in self.methods:
            values, delta = attribute(
                method, self.model, x, target, self.baseline, self.params[method],
                seed=self.settings.seed + start, modules=self.modules,
            )  # fmt: skip
            columns[attribution_path(method, "values")] = values.cpu().numpy().astype(np.float16)
            columns[attribution_path(method, "target")] = target_np
            columns[attribution_path(method, "delta")] = (
                np.full(size, np.nan, dtype=np.float32)
                if delta is None
                else delta.cpu().numpy().astype(np.float32)
            )
        return columns

    def sanity_steps(self) -> int:
        from interpret_review.generation.sanity import IMAGE_STEPS, randomization_order

        return (min(IMAGE_STEPS, len(randomization_order(self.model))) + 1) * len(self.methods)

    def sanity(self, count: int, on_step: Callable[..., Any]) -> dict[str, dict[str, Any]]:
        from interpret_review.generation.sanity import sanity_checks

        x, y = self.source.rows(0, count)
        x = x.to(self.device)
        with torch.no_grad():
            prediction = self.model(x).argmax(1)
        target = choose_target(self.target, prediction, y)
        return sanity_checks(
            self.model, x, target, self.methods, self.params, self.baseline,
            seed=self.settings.seed, on_step=on_step,
        )  # fmt: skip

    def layer_units(self) -> dict[str, int]:
        return {layer.name: layer.n_units for layer in self.layer_infos}

    def prepare_neurons(
        self, writer: RunWriter, shards: list[str], stats: dict[str, dict[str, np.ndarray]]
    ) -> None:
        rows = np.unique(np.concatenate([s["topk_index"].ravel() for s in stats.values()]))
        self._inputs = self._read_rows(writer, shards, rows)

    def neuron_columns(
        self, layer: str, stats: dict[str, np.ndarray], on_units: Callable[[int], Any]
    ) -> dict[str, np.ndarray]:
        if self._inputs is None:  # pragma: no cover - Phases.neuron_phase prepares first
            raise RuntimeError("neuron_columns called before prepare_neurons")
        info = next(i for i in self.layer_infos if i.name == layer)
        top = torch.from_numpy(self._inputs(stats["topk_index"])).to(self.device)
        attribution = neuron_attributions(
            self.model,
            self.layer_modules[layer],
            info.kind,
            top,
            self.baseline,
            n_steps=self.settings.ig_steps,
            batch_size=self.settings.batch_size,
            on_units=on_units,
        )
        columns = {"attribution": attribution.astype(np.float16)}
        if self.settings.feature_viz:
            images, reached = self.feature_viz(info, top.shape[2:])
            columns["feature_viz"] = images
            columns["feature_viz_value"] = reached
        return columns

    def feature_viz(
        self, layer: LayerInfo, shape: tuple[int, ...]
    ) -> tuple[np.ndarray, np.ndarray]:
        """Inputs optimised to excite each unit of ``layer`` (see :mod:`.feature_viz`)."""
        from interpret_review.generation.feature_viz import FeatureVizConfig, feature_visualizations

        return feature_visualizations(
            self.model, self.layer_modules[layer.name], layer.kind, layer.n_units,
            tuple(int(d) for d in shape), *self.input_range, optima=self.settings.feature_viz,
            config=FeatureVizConfig(seed=self.settings.seed), device=self.device,
        )  # fmt: skip

    def _read_rows(
        self, writer: RunWriter, shards: list[str], rows: np.ndarray
    ) -> Callable[[np.ndarray], np.ndarray]:
        """Read the inputs of ``rows`` back from the example shards, one shard at a time."""
        shard_size = self.settings.shard_size
        kept: dict[int, np.ndarray] = {}
        for index, shard in enumerate(shards):
            wanted = rows[(rows >= index * shard_size) & (rows < (index + 1) * shard_size)]
            if len(wanted):
                column = self.column(writer, shard, "examples/input")
                for row in wanted:
                    kept[int(row)] = np.array(column[row - index * shard_size])
        return lambda index: np.stack([kept[int(r)] for r in index.ravel()]).reshape(
            *index.shape, *next(iter(kept.values())).shape
        )
