"""``generate`` for text classifiers: token attributions and neuron contexts, as a run.

``generate(model, TextData(...), out=...)`` lands here. The run has the same shape as an
image run (examples, attributions per method, layers with neuron evidence) so the same
commands, review tasks and exports work on it; what differs is stored ragged (one flat
token axis per shard plus ``text/span``, see :mod:`interpret_review.store.schema`):

1. examples: per batch, one forward pass gives logits and each analysed layer's output per
   token, summarised per unit by its maximum over the real tokens (the ``(N, U)``
   activations that top-k, quantiles and histograms are computed from); then every method
   of :data:`~interpret_review.generation.text.TEXT_METHODS` scores every token.
2. neurons: per layer, :func:`~interpret_review.generation.neurons.neuron_statistics` picks
   the top-k and quantile examples; their token activations are computed again to find the
   token where each unit peaks and the window of ``context_tokens`` tokens around it; the
   unit's integrated gradients on each top-k text (at that token) are kept for the window.

Shards are resumable exactly as for images: a finished shard is never recomputed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from interpret_review.errors import ConfigError, ModelError
from interpret_review.generation.fingerprints import config_json, model_fingerprint, versions
from interpret_review.generation.inputs import (
    check_layers,
    check_methods,
    check_model,
    choose_target,
    freeze,
    thaw,
    to_half,
)
from interpret_review.generation.phases import Phases
from interpret_review.generation.text import (
    TEXT_METHODS,
    TextData,
    embedding_layer,
    takes_mask,
    text_forward,
    token_attributions,
)
from interpret_review.generation.text_neurons import neuron_token_attributions, summarise
from interpret_review.settings import Settings, generation_settings
from interpret_review.store.records import context_window
from interpret_review.store.schema import attribution_path, layer_path

__all__ = ["CAPTUM_CLASSES", "generate_text"]

#: The Captum class each text method runs (stored as the method group's ``class``).
CAPTUM_CLASSES = {
    "LayerIntegratedGradients": "LayerIntegratedGradients",
    "Saliency": "LayerGradientXActivation",
    "FeatureAblation": "FeatureAblation",
}


def generate_text(
    model: torch.nn.Module,
    data: TextData,
    *,
    out: Path,
    run_name: str,
    methods: Sequence[str] | None = None,
    layers: Sequence[str] = (),
    target: str | int = "predicted",
    method_params: Mapping[str, Mapping[str, Any]] | None = None,
    settings: Settings,
    device: str = "cpu",
    progress: bool = True,
    limit: int | None = None,
    max_units: int | None = None,
) -> Path:
    """Write the text run of ``model`` on ``data`` to ``out`` (see :func:`generate`)."""
    from interpret_review.store import RunWriter

    model = check_model(model)
    chosen = check_methods(methods, TEXT_METHODS, method_params, "text attribution method")
    params = {
        m: {**TEXT_METHODS[m].defaults, **dict((method_params or {}).get(m, {}))} for m in chosen
    }
    if "LayerIntegratedGradients" in params and "n_steps" not in (method_params or {}).get(
        "LayerIntegratedGradients", {}
    ):
        params["LayerIntegratedGradients"]["n_steps"] = settings.ig_steps
    if max_units is not None and (isinstance(max_units, bool) or int(max_units) < 1):
        raise ConfigError(f"max_units must be a whole number >= 1, got {max_units!r}")
    modules = check_layers(model, list(layers))
    if limit is not None and (isinstance(limit, bool) or int(limit) < 1):
        raise ConfigError(f"limit must be a whole number >= 1, got {limit!r}")
    if limit is not None:
        data = TextData(data.ids[:limit], data.mask[:limit],
                        None if data.labels is None else data.labels[:limit],
                        data.vocabulary, data.pad_id, data.class_names)  # fmt: skip
    torch_device = torch.device(device)
    frozen = freeze(model)
    try:
        model.to(torch_device)
        job = _TextJob(model, data, settings, chosen, params, modules, torch_device, max_units)
        checked_target = job.resolve_target(target)
        config = {
            "modality": "text",
            "methods": chosen,
            "method_params": params,
            "layers": list(modules),
            "max_units": max_units,
            "target": checked_target,
            "n_examples": len(data),
            "max_tokens": int(data.ids.shape[1]),
            "n_classes": job.n_classes,
            "class_names": list(data.class_names),
            "pad_id": data.pad_id,
            "device": str(torch_device),
            "settings": {key: getattr(settings, key) for key in generation_settings("text")},
        }
        writer = RunWriter(
            out,
            attrs={
                "model_fingerprint": model_fingerprint(model),
                "dataset_fingerprint": _fingerprint(data),
                "config": config,
                "versions": versions(),
                "name": run_name,
            },
        )
        group_attrs: dict[str, dict[str, Any]] = {
            attribution_path(m): {"class": CAPTUM_CLASSES[m], "params": config_json(p)}
            for m, p in params.items()
        }
        for layer, units in job.units.items():
            group_attrs[layer_path(layer)] = {"summary": "max", "kind": "token", "n_units": units}
        job.run(writer, group_attrs, progress)
        return Path(writer.finalize(n_examples=len(data), group_attrs=group_attrs))
    finally:
        thaw(model, frozen)


def _fingerprint(data: TextData) -> str:
    digest = hashlib.sha256()
    for array in (data.ids, data.mask, data.labels if data.labels is not None else np.zeros(0)):
        digest.update(np.ascontiguousarray(array, dtype=np.int64).tobytes())
    digest.update("\x00".join(data.vocabulary).encode("utf-8"))
    return digest.hexdigest()


class _TextJob(Phases):
    """The text parts of a run's phases (see :mod:`interpret_review.generation.phases`)."""

    rows_label = ("texts", "text")

    def __init__(self, model, data, settings, methods, params, modules, device,
                 max_units) -> None:  # fmt: skip
        super().__init__(settings, len(data))
        self.model, self.data = model, data
        self.methods, self.params, self.modules, self.device = methods, params, modules, device
        self.forward = text_forward(model)
        #: Batches are cut after their last real token, unless the model ignores the mask
        #: (then the padding it reads is part of its input).
        self.trim = takes_mask(model)
        ids, mask = self._tensors(np.arange(min(2, len(data))))
        embeddings = embedding_layer(model)
        size = getattr(embeddings, "num_embeddings", None)
        if size is not None and int(data.ids.max()) >= int(size):
            raise ModelError(
                f"token id {int(data.ids.max())} is past the model's embedding of {size} tokens: "
                "the ids come from another tokenizer or vocabulary than the model's"
            )
        outputs = self._outputs(ids, mask)
        self.n_classes = int(outputs[0].shape[1])
        #: Units analysed per layer: the first ``max_units`` of each (all without it).
        self.units = {
            name: min(int(out.shape[-1]), max_units or int(out.shape[-1]))
            for name, out in outputs[1].items()
        }
        self.target: str | int = "predicted"

    def resolve_target(self, target: str | int) -> str | int:
        if target in ("predicted", "true"):
            if target == "true":
                labels = self.data.labels
                if labels is None:
                    raise ConfigError("target 'true' needs labels; pass labels to TextData")
                bad = np.flatnonzero((labels < 0) | (labels >= self.n_classes))
                if len(bad):
                    raise ConfigError(
                        f"target 'true' needs a class 0..{self.n_classes - 1} for every text; "
                        f"rows {bad[:5].tolist()} have {labels[bad[:5]].tolist()} (-1: unknown)"
                    )
            self.target = str(target)
        elif (
            isinstance(target, int)
            and not isinstance(target, bool)
            and 0 <= target < self.n_classes
        ):
            self.target = int(target)
        else:
            raise ConfigError(
                f"target must be 'predicted', 'true' or a class 0..{self.n_classes - 1}, "
                f"got {target!r}"
            )
        return self.target

    def _labels(self, rows: np.ndarray) -> np.ndarray | None:
        return None if self.data.labels is None else self.data.labels[rows]

    def _tensors(self, rows: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
        """Ids and mask of ``rows``, cut after the last real token of any of them (padding
        past it changes nothing but the cost: texts are padded to the longest of all)."""
        mask = self.data.mask[rows]
        last = int(np.flatnonzero(mask.any(0))[-1]) + 1 if self.trim else mask.shape[1]
        return (
            torch.as_tensor(self.data.ids[rows][:, :last], device=self.device),
            torch.as_tensor(mask[:, :last], device=self.device),
        )

    def _outputs(
        self, ids: torch.Tensor, mask: torch.Tensor
    ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """Logits and every analysed layer's output, ``(b, tokens, units)``, in one pass."""
        captured: dict[str, torch.Tensor] = {}

        def hook(name: str) -> Any:
            def keep(_m: torch.nn.Module, _i: object, output: object) -> None:
                captured[name] = (output[0] if isinstance(output, tuple) else output).detach()  # type: ignore[union-attr]

            return keep

        handles = [m.register_forward_hook(hook(n)) for n, m in self.modules.items()]
        try:
            with torch.no_grad():
                logits = self.forward(ids, mask)
        finally:
            for handle in handles:
                handle.remove()
        for name, out in captured.items():
            if out.ndim != 3 or tuple(out.shape[:2]) != tuple(ids.shape):
                raise ModelError(
                    f"layer {name!r} must give one vector per token, (batch, tokens, units) = "
                    f"({ids.shape[0]}, {ids.shape[1]}, U), got {tuple(out.shape)}; choose a layer "
                    "inside the model's blocks, such as an MLP's first linear layer"
                )
        return logits, captured

    # -- examples --------------------------------------------------------------------------

    def shard_columns(self, columns: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Each text's span in the shard's flat tokens, from the batches' lengths."""
        lengths = columns.pop("_lengths")
        stops = np.cumsum(lengths)
        columns["text/span"] = np.stack([stops - lengths, stops], axis=1)
        return columns

    def batch(self, start: int, stop: int) -> dict[str, np.ndarray]:
        rows = np.arange(start, stop)
        ids, mask = self._tensors(rows)
        logits, outputs = self._outputs(ids, mask)
        prediction = logits.argmax(1)
        target = choose_target(self.target, prediction, self._labels(rows))
        real = mask.cpu().numpy() != 0
        labels = self.data.labels[rows] if self.data.labels is not None else np.full(len(rows), -1)
        token_ids = ids.cpu().numpy()[real]
        columns: dict[str, np.ndarray] = {
            "examples/id": rows.astype(np.int64),
            "examples/label": np.asarray(labels, dtype=np.int64),
            "examples/prediction": prediction.cpu().numpy().astype(np.int64),
            "examples/logits": logits.float().cpu().numpy(),
            "text/token_ids": token_ids,
            "text/tokens": np.array(
                [self.data.vocabulary[i] for i in token_ids.tolist()], dtype=object
            ),
            "_lengths": real.sum(1).astype(np.int64),
        }
        for name, out in outputs.items():
            units = self.units[name]
            columns[layer_path(name, "activations")] = summarise(out[..., :units], mask)[0]
            if self.settings.spatial_maps:  # each token's activations, for the linked views
                per_token = out[..., :units].float().cpu().numpy()[real]
                columns[layer_path(name, "token_activations")] = to_half(per_token, name)
        target_np = target.cpu().numpy().astype(np.int64)
        for method in self.methods:
            scores = token_attributions(
                self.model, ids, mask, target, method,
                pad_id=self.data.pad_id, params=self.params[method],
            )  # fmt: skip
            columns[attribution_path(method, "token_values")] = to_half(scores[real], method)
            columns[attribution_path(method, "target")] = target_np
        return columns

    # -- sanity ----------------------------------------------------------------------------

    def sanity_steps(self) -> int:
        from interpret_review.generation.sanity import TEXT_STEPS, randomization_order

        return min(TEXT_STEPS, len(randomization_order(self.model))) * len(self.methods)

    def sanity(self, count: int, on_step: Callable[..., Any]) -> dict[str, dict[str, Any]]:
        """The randomization test of every method on the first ``count`` texts."""
        from interpret_review.generation.sanity import text_sanity_checks

        rows = np.arange(count)
        ids, mask = self._tensors(rows)
        with torch.no_grad():
            prediction = self.forward(ids, mask).argmax(1)
        target = choose_target(self.target, prediction, self._labels(rows))
        return text_sanity_checks(
            self.model, ids, mask, target, self.methods, self.params,
            pad_id=self.data.pad_id, seed=self.settings.seed, on_step=on_step,
        )  # fmt: skip

    # -- neurons ---------------------------------------------------------------------------

    def layer_units(self) -> dict[str, int]:
        return {name: self.units[name] for name in self.modules}

    def neuron_columns(
        self, layer: str, stats: dict[str, np.ndarray], on_units: Callable[[int], Any]
    ) -> dict[str, np.ndarray]:
        contexts = self._contexts(layer, stats["topk_index"], stats["quantile_index"])
        attribution = self._attributions(
            layer, stats["topk_index"], contexts["topk_position"], on_units
        )
        return {**contexts, "attribution": to_half(attribution, f"{layer} neuron attribution")}

    def _contexts(
        self, layer: str, topk: np.ndarray, quantile: np.ndarray
    ) -> dict[str, np.ndarray]:
        """Each (unit, example) pair's peak token (among the real tokens) and the window of
        activations around it, computed batch by batch over the rows the pairs need."""
        window = self.settings.context_tokens
        out: dict[str, np.ndarray] = {}
        pairs = {"topk": topk, "quantile": quantile}
        for key, rows in pairs.items():
            out[f"{key}_position"] = np.zeros(rows.shape, dtype=np.int64)
            out[f"{key}_window"] = np.full((*rows.shape, window), np.nan, dtype=np.float32)
        needed = np.unique(np.concatenate([topk.ravel(), quantile.ravel()]))
        where = {key: [np.nonzero(rows == r) for r in needed] for key, rows in pairs.items()}
        units = self.units[layer]
        for first in range(0, len(needed), self.settings.batch_size):
            batch = needed[first : first + self.settings.batch_size]
            ids, mask = self._tensors(batch)
            acts = self._outputs(ids, mask)[1][layer][..., :units].float().cpu().numpy()
            real = mask.cpu().numpy() != 0
            for i in range(len(batch)):
                sequence = acts[i][real[i]]  # (real tokens, U)
                for key in pairs:
                    unit_index, slot = where[key][first + i]
                    if not len(unit_index):
                        continue
                    values = sequence[:, unit_index]  # (tokens, pairs)
                    peaks = values.argmax(0)
                    out[f"{key}_position"][unit_index, slot] = peaks
                    for j, peak in enumerate(peaks.tolist()):
                        lo, hi = context_window(peak, len(sequence), window)
                        out[f"{key}_window"][unit_index[j], slot[j], : hi - lo] = values[lo:hi, j]
        return out

    def _attributions(
        self, layer: str, topk: np.ndarray, positions: np.ndarray, on_units: Any
    ) -> np.ndarray:
        """``(U, K, W)``: each unit's integrated gradients on the tokens of each top-k
        context window (at the token where it peaks)."""
        window = self.settings.context_tokens
        units, k = topk.shape
        out = np.full((units, k, window), np.nan, dtype=np.float32)
        for unit in range(units):
            rows = topk[unit]
            ids, mask = self._tensors(rows)
            real = [np.flatnonzero(self.data.mask[r]) for r in rows.tolist()]
            padded = torch.as_tensor([real[j][p] for j, p in enumerate(positions[unit].tolist())])
            scores = neuron_token_attributions(
                self.model, self.modules[layer], unit, ids, mask, padded,
                pad_id=self.data.pad_id, n_steps=self.settings.ig_steps,
            )  # fmt: skip
            for j, p in enumerate(positions[unit].tolist()):
                sequence = scores[j][real[j]]
                lo, hi = context_window(p, len(sequence), window)
                out[unit, j, : hi - lo] = sequence[lo:hi]
            on_units(1)
        return out
