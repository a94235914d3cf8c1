"""open_run and Run: lazy, read-only access to a finished run through its index file.

``open_run`` reads only attributes and the small ``/_shards`` table and checks that every
shard exists with its recorded size. Items are then read from the shard files directly
(each opened and checked on first use, at most ``MAX_OPEN_SHARDS`` kept open); whole
columns are read through the index's virtual datasets. h5py serialises calls behind one
lock, so scale reads with processes.
"""

from __future__ import annotations

import json
import operator
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from interpret_review.errors import ConfigError, DamagedRunError, UnknownNameError
from interpret_review.store.records import AttributionMap, Example, NeuronEvidence
from interpret_review.store.schema import (
    CONTEXT_LEAVES,
    JSON_ATTRS,
    NEURON_SPECS,
    attribution_path,
    layer_path,
    neuron_path,
)
from interpret_review.store.shards import ShardFiles
from interpret_review.store.summary import describe
from interpret_review.store.validate import ShardTable, open_index

__all__ = ["Run", "open_run"]

_NEURON_LEAVES = [leaf for leaf, spec in NEURON_SPECS.items() if spec.required]


def open_run(path: str | Path) -> Run:
    """Open the run whose index file is ``path`` (``DIR/NAME.h5``) for reading.

    Raises RunFileError (no such file), NotARunError (not HDF5, or another HDF5 format),
    RunVersionError (newer schema), DamagedRunError (unreadable, truncated, a shard missing
    or of the wrong size) or IncompleteRunError (shards but no index yet).
    """
    handle, shards = open_index(Path(path))
    return Run(Path(path), handle, shards)


class Run:
    """A finished run, read lazily. Use as a context manager or call :meth:`close`.

    Indices are example ROWS ``0..n_examples-1``; units are ``0..n_units(layer)-1``.
    """

    def __init__(self, path: Path, handle: h5py.File, shards: ShardTable) -> None:
        self.path = path
        self._f = handle
        self.shards = shards
        attrs: dict[str, Any] = {}
        for key, value in handle.attrs.items():
            value = value.decode("utf-8") if isinstance(value, bytes) else value
            value = value.item() if isinstance(value, np.generic) else value
            attrs[key] = json.loads(value) if key in JSON_ATTRS else value
        self.attrs = attrs
        self.name: str = str(attrs["name"])
        self.schema_version: int = int(attrs["schema_version"])
        self.n_examples: int = int(attrs["n_examples"])
        self.run_fingerprint: str = str(attrs["run_fingerprint"])
        self.model_fingerprint: str = str(attrs["model_fingerprint"])
        self.dataset_fingerprint: str = str(attrs["dataset_fingerprint"])
        self.methods: list[str] = list(handle["attributions"]) if "attributions" in handle else []
        #: "text" for a run of token sequences (ragged ``text/*`` data), else "image".
        self.modality: str = "text" if "text" in handle else "image"
        self.layers: list[str] = list(handle["layers"]) if "layers" in handle else []
        self._datasets: dict[str, h5py.Dataset] = {}
        # items are read from the shard files themselves (see store/shards.py)
        self._files = ShardFiles(shards, self.run_fingerprint, path.name)
        self._maxima: dict[str, np.ndarray] = {}  # each layer's units' best activations
        self._method_info: dict[str, dict[str, Any]] = {}
        self._layer_attrs: dict[str, dict[str, Any]] = {}

    # -- lifecycle -------------------------------------------------------------------------

    def close(self) -> None:
        """Close the index and every shard file opened for reading."""
        self._datasets.clear()
        self._files.close()
        if self._f.id.valid:
            self._f.close()

    def __enter__(self) -> Run:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return (
            f"<Run {self.name!r} ({self.path}): {self.n_examples} examples, "
            f"methods {self.methods}, layers {self.layers}>"
        )

    # -- names and metadata ----------------------------------------------------------------

    def n_units(self, layer: str) -> int:
        """Units of an analysed layer (channels of a conv layer, features of a linear one)."""
        return int(self._layer(layer)["n_units"])

    def layer_info(self, layer: str) -> dict[str, Any]:
        """``summary``, ``kind``, ``n_units`` and ``has_neurons`` of an analysed layer."""
        return dict(self._layer(layer))

    def method_info(self, method: str) -> dict[str, Any]:
        """``class`` (the Captum class name) and ``params`` (dict) of an attribution method."""
        if method not in self._method_info:
            if method not in self.methods:
                raise UnknownNameError(
                    "attribution method", method, self.methods, hint=f"(run {self.name!r})"
                )
            group = self._f[attribution_path(method)]
            params = group.attrs.get("params", "{}")
            sanity = group.attrs.get("sanity")
            self._method_info[method] = {
                "class": str(group.attrs.get("class", "")),
                "params": json.loads(params) if isinstance(params, str) else {},
                "sanity": json.loads(sanity) if isinstance(sanity, str) else None,
                "has_delta": "delta" in group,  # a link lookup costs ~70 us: once per method
            }
        info = self._method_info[method]
        return {"class": info["class"], "params": dict(info["params"])}

    def sanity(self, method: str) -> dict[str, Any] | None:
        """The sanity figures of ``method`` (see :mod:`interpret_review.generation.sanity`):
        ``randomization`` (rank correlation of the maps before and after the top layer is
        re-initialised), ``randomization_ssim``, ``randomization_steps`` (the cascade),
        ``infidelity``, ``sensitivity`` and ``examples``; None when the run has none."""
        self.method_info(method)
        found = self._method_info[method]["sanity"]
        return None if found is None else dict(found)

    # -- records ---------------------------------------------------------------------------

    def example(self, index: int) -> Example:
        """Row ``index`` of ``/examples``: ids, label, prediction, logits, input, display; a
        text run's input is its token ids, its display None and its ``tokens`` the texts."""
        row = self._row(index)
        read = self._files.row
        if self.modality == "text":
            token_ids, tokens = self.tokens(row)
            content: dict[str, Any] = {"input": token_ids, "display": None, "tokens": tokens}
        else:
            content = {
                "input": read("examples/input", row),
                "display": read("examples/display", row),
            }
        return Example(
            index=row,
            id=int(read("examples/id", row)),
            label=int(read("examples/label", row)),
            prediction=int(read("examples/prediction", row)),
            logits=read("examples/logits", row),
            **content,
        )

    def tokens(self, index: int) -> tuple[np.ndarray, tuple[str, ...]]:
        """``(token ids (L,) int64, token texts)`` of example row ``index`` of a text run."""
        if self.modality != "text":
            raise ConfigError(
                f"run {self.name!r} holds images, not text: it has no tokens (use example())"
            )
        name, rows, local = self._files.locate(self._row(index))
        span = self._files.span(name, rows, local)
        ids = self._files.read(name, rows, "text/token_ids", slice(int(span[0]), int(span[1])))
        ends = self._files.read(name, rows, "text/token_ends", slice(int(span[0]), int(span[1])))
        data = self._files.read(name, rows, "text/chars", slice(int(span[2]), int(span[3])))
        raw = data.tobytes()
        starts = [0, *ends[:-1].tolist()]
        return ids, tuple(
            raw[a:b].decode("utf-8", "replace") for a, b in zip(starts, ends.tolist(), strict=True)
        )

    def attribution(self, method: str, index: int) -> AttributionMap:
        """Method ``method``'s map of example row ``index``: values (C, H, W) float32."""
        if method not in self._method_info:
            self.method_info(method)  # checks the name and caches the group attributes
        info = self._method_info[method]
        row = self._row(index)
        delta = (
            self._files.row(attribution_path(method, "delta"), row) if info["has_delta"] else np.nan
        )
        values = (
            self._files.tokens(attribution_path(method, "token_values"), row)
            if self.modality == "text"
            else self._files.row(attribution_path(method, "values"), row)
        )
        return AttributionMap(
            method=method,
            index=row,
            values=values.astype(np.float32),
            target=int(self._files.row(attribution_path(method, "target"), row)),
            delta=float(delta),
            params=dict(info["params"]),
        )

    def neuron(self, layer: str, unit: int) -> NeuronEvidence:
        """Unit ``unit`` of ``layer``: top-k, quantile samples, histogram, attributions."""
        info = self._layer(layer)
        if not info["has_neurons"]:
            raise ConfigError(
                f"run {self.name!r} has activations of layer {layer!r} but no neuron evidence "
                "(no neurons-<layer> shard); regenerate with neuron analysis of this layer"
            )
        unit = self._index(unit, info["n_units"], f"unit of layer {layer!r}")
        shard = f"neurons-{layer}.h5"
        base = neuron_path(layer)
        values = {leaf: self._files.read(shard, None, base + leaf, unit) for leaf in _NEURON_LEAVES}
        contexts: dict[str, Any] = {}
        if info["has_contexts"]:
            contexts = {
                leaf: self._files.read(shard, None, base + leaf, unit) for leaf in CONTEXT_LEAVES
            }
        return NeuronEvidence(
            layer=layer,
            unit=unit,
            topk_index=values["topk_index"],
            topk_value=values["topk_value"],
            quantile_index=values["quantile_index"],
            quantile_value=values["quantile_value"],
            histogram=values["histogram"],
            bin_edges=values["bin_edges"],
            attribution=values["attribution"].astype(np.float32),
            summary=str(info["summary"]),
            feature_viz=self._feature_viz(shard, base, unit) if info["has_feature_viz"] else None,
            feature_viz_value=(
                self._files.read(shard, None, base + "feature_viz_value", unit)
                if info["has_feature_viz_value"]
                else None
            ),
            **contexts,
        )

    def _feature_viz(self, shard: str, base: str, unit: int) -> np.ndarray:
        """A unit's optimised inputs as (D, C, H, W) (runs before v2 kept one: (C, H, W))."""
        images = self._files.read(shard, None, base + "feature_viz", unit)
        return images[None] if images.ndim == 3 else images

    def spatial(self, layer: str, index: int) -> np.ndarray | None:
        """Where each unit of conv layer ``layer`` fires on example row ``index``: its
        activation maps (U, h, w) float32; None when the run did not keep them."""
        if not self._layer(layer)["has_spatial"]:
            return None
        return self._files.row(layer_path(layer, "spatial"), self._row(index)).astype(np.float32)

    def token_activations(self, layer: str, index: int) -> np.ndarray | None:
        """Each analysed unit of text layer ``layer`` on each token of example row
        ``index``: (L, U) float32; None when the run did not keep them."""
        if not self._layer(layer)["has_token_activations"]:
            return None
        return self._files.tokens(layer_path(layer, "token_activations"), self._row(index)).astype(
            np.float32
        )

    def neuron_maxima(self, layer: str) -> np.ndarray:
        """Each unit's highest activation over the dataset (its best top-k value): (U,)."""
        found = self._maxima.get(layer)
        if found is None:
            if not self._layer(layer)["has_neurons"]:
                raise ConfigError(f"layer {layer!r} of run {self.name!r} has no neuron evidence")
            handle = self._files.open(f"neurons-{layer}.h5", None)
            found = self._maxima[layer] = np.asarray(
                handle[neuron_path(layer, "topk_value")][:, 0], dtype=np.float32
            )
        return found

    def activations(self, layer: str, units: slice | int | None = None) -> np.ndarray:
        """Per-example activation summaries of ``layer``: (N, U') for a slice or None (all
        units), (N,) for one unit. Reads N chunks: a full pass, not a per-item call."""
        info = self._layer(layer)
        self._files.check_examples()  # a column reads through the index: check every shard
        ds = self._dataset(layer_path(layer, "activations"))
        if units is None:
            selection: Any = slice(None)
        elif isinstance(units, slice):
            selection = units
        else:
            selection = self._index(units, info["n_units"], f"unit of layer {layer!r}")
        try:
            return np.asarray(ds[:, selection])
        except OSError as err:
            raise self._damaged(layer_path(layer, "activations"), err) from None

    # -- summaries -------------------------------------------------------------------------

    def info(self) -> dict[str, Any]:
        """A JSON-able dict: provenance, examples, methods, layers and the shard files."""
        f, run = self._f, self
        methods: dict[str, Any] = {}
        text = run.modality == "text"
        for method in run.methods:
            values = f[attribution_path(method, "target" if text else "values")]
            methods[method] = {
                **run.method_info(method),
                "shape": ["tokens"] if text else list(values.shape[1:]),
                "compression": "none" if text else str(values.attrs.get("compression", "none")),
                "sanity": run.sanity(method),
            }
        layers: dict[str, Any] = {}
        for layer in run.layers:
            info = run.layer_info(layer)
            if info["has_neurons"]:
                base = neuron_path(layer)
                info["top_k"] = int(f[base + "topk_index"].shape[1])
                info["n_quantiles"] = int(f[base + "quantile_index"].shape[1])
                info["histogram_bins"] = int(f[base + "histogram"].shape[1])
                if info["has_contexts"]:
                    info["window"] = int(f[base + "topk_window"].shape[2])
            layers[layer] = info
        index_bytes = run.path.stat().st_size
        return {
            "path": str(run.path),
            "name": run.name,
            "format": run.attrs["format"],
            "schema_version": run.schema_version,
            "created_at": run.attrs.get("created_at", ""),
            "n_examples": run.n_examples,
            "modality": run.modality,
            "input_shape": ["tokens"] if text else list(f["examples/input"].shape[1:]),
            "n_classes": int(f["examples/logits"].shape[1]),
            "run_fingerprint": run.run_fingerprint,
            "model_fingerprint": run.model_fingerprint,
            "dataset_fingerprint": run.dataset_fingerprint,
            "versions": run.attrs.get("versions", {}),
            "config": run.attrs.get("config", {}),
            "methods": methods,
            "layers": layers,
            "shards": len(run.shards.names),
            "bytes": index_bytes + run.shards.total_bytes,
        }

    def describe(self) -> str:
        """A human-readable multi-line summary (what ``interpret-review info`` prints)."""
        return describe(self.info())

    # -- internals -------------------------------------------------------------------------

    def _layer(self, layer: str) -> dict[str, Any]:
        if layer not in self._layer_attrs:
            if layer not in self.layers:
                raise UnknownNameError("layer", layer, self.layers, hint=f"(run {self.name!r})")
            group = self._f[layer_path(layer)]
            self._layer_attrs[layer] = {
                "summary": str(group.attrs.get("summary", "")),
                "kind": str(group.attrs.get("kind", "")),
                "n_units": int(group.attrs["n_units"]),
                "has_neurons": "neurons" in group,
                "has_feature_viz": "neurons/feature_viz" in group,
                "has_feature_viz_value": "neurons/feature_viz_value" in group,
                "has_spatial": "spatial" in group,
                "has_token_activations": self._has_tokens(layer_path(layer, "token_activations")),
                "has_contexts": "neurons/topk_window" in group,
            }
        return self._layer_attrs[layer]

    def _row(self, index: int) -> int:
        return self._index(index, self.n_examples, f"example row of run {self.name!r}")

    @staticmethod
    def _index(value: Any, size: int, what: str) -> int:
        try:
            if isinstance(value, bool):
                raise TypeError
            number = operator.index(value)
        except TypeError:
            raise ConfigError(f"{what} must be a whole number, got {value!r}") from None
        if not 0 <= number < size:
            raise ConfigError(f"{what} {number} is out of range: valid values are 0..{size - 1}")
        return number

    def _has_tokens(self, path: str) -> bool:
        """Whether a text run's example shards hold flat token dataset ``path``."""
        return self.modality == "text" and self._files.has(path)

    def _dataset(self, path: str) -> h5py.Dataset:
        ds = self._datasets.get(path)
        if ds is None:
            try:
                ds = self._datasets[path] = self._f[path]
            except KeyError:
                raise DamagedRunError(
                    self.path, f"dataset {path!r} is missing from the index"
                ) from None
        return ds

    def _damaged(self, path: str, err: Exception) -> DamagedRunError:
        return DamagedRunError(
            self.path, f"reading {path!r} failed ({err}); the run or one of its shards is damaged"
        )
