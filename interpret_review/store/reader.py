"""open_run and Run: lazy, read-only access to a finished run through its index file.

``open_run`` reads only attributes and the small ``/_shards`` table and checks that every
shard exists with its recorded size; datasets are opened on first use and then kept. One
h5py handle per Run: h5py serialises calls behind one lock, so scale reads with processes.
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
from interpret_review.store.schema import JSON_ATTRS, NEURON_SPECS
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
        self.layers: list[str] = list(handle["layers"]) if "layers" in handle else []
        self._datasets: dict[str, h5py.Dataset] = {}
        self._checked: set[str] = set()  # shards whose identity has been checked (see _check)
        self._example_shards = [i for i, start in enumerate(shards.starts.tolist()) if start >= 0]
        self._stops = shards.stops[self._example_shards]
        self._method_info: dict[str, dict[str, Any]] = {}
        self._layer_attrs: dict[str, dict[str, Any]] = {}

    # -- lifecycle -------------------------------------------------------------------------

    def close(self) -> None:
        """Close the HDF5 handle (and with it every shard HDF5 opened for us)."""
        self._datasets.clear()
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
            group = self._f[f"attributions/{method}"]
            params = group.attrs.get("params", "{}")
            self._method_info[method] = {
                "class": str(group.attrs.get("class", "")),
                "params": json.loads(params) if isinstance(params, str) else {},
                "has_delta": "delta" in group,  # a link lookup costs ~70 us: once per method
            }
        info = self._method_info[method]
        return {"class": info["class"], "params": dict(info["params"])}

    # -- records ---------------------------------------------------------------------------

    def example(self, index: int) -> Example:
        """Row ``index`` of ``/examples``: ids, label, prediction, logits, input, display."""
        row = self._row(index)
        self._check_row(row)
        read = self._read
        return Example(
            index=row,
            id=int(read("examples/id", row)),
            label=int(read("examples/label", row)),
            prediction=int(read("examples/prediction", row)),
            logits=read("examples/logits", row),
            input=read("examples/input", row),
            display=read("examples/display", row),
        )

    def attribution(self, method: str, index: int) -> AttributionMap:
        """Method ``method``'s map of example row ``index``: values (C, H, W) float32."""
        if method not in self._method_info:
            self.method_info(method)  # checks the name and caches the group attributes
        info = self._method_info[method]
        row = self._row(index)
        self._check_row(row)
        base = f"attributions/{method}/"
        delta = self._read(base + "delta", row) if info["has_delta"] else np.nan
        return AttributionMap(
            method=method,
            index=row,
            values=self._read(base + "values", row).astype(np.float32),
            target=int(self._read(base + "target", row)),
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
        self._check(f"neurons-{layer}.h5", None, None)
        base = f"layers/{layer}/neurons/"
        values = {leaf: self._read(base + leaf, unit) for leaf in _NEURON_LEAVES}
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
            feature_viz=self._read(base + "feature_viz", unit) if info["has_feature_viz"] else None,
        )

    def activations(self, layer: str, units: slice | int | None = None) -> np.ndarray:
        """Per-example activation summaries of ``layer``: (N, U') for a slice or None (all
        units), (N,) for one unit. Reads N chunks: a full pass, not a per-item call."""
        info = self._layer(layer)
        for i in self._example_shards:
            self._check(self.shards.names[i], int(self.shards.starts[i]), int(self.shards.stops[i]))
        ds = self._dataset(f"layers/{layer}/activations")
        if units is None:
            selection: Any = slice(None)
        elif isinstance(units, slice):
            selection = units
        else:
            selection = self._index(units, info["n_units"], f"unit of layer {layer!r}")
        try:
            return np.asarray(ds[:, selection])
        except OSError as err:
            raise self._damaged(f"layers/{layer}/activations", err) from None

    # -- summaries -------------------------------------------------------------------------

    def info(self) -> dict[str, Any]:
        """A JSON-able summary: provenance, methods, layers, shards and sizes."""
        from interpret_review.store.summary import run_info

        return run_info(self)

    def describe(self) -> str:
        """A human-readable multi-line summary (what ``interpret-review info`` prints)."""
        from interpret_review.store.summary import describe

        return describe(self.info())

    # -- internals -------------------------------------------------------------------------

    def _layer(self, layer: str) -> dict[str, Any]:
        if layer not in self._layer_attrs:
            if layer not in self.layers:
                raise UnknownNameError("layer", layer, self.layers, hint=f"(run {self.name!r})")
            group = self._f[f"layers/{layer}"]
            self._layer_attrs[layer] = {
                "summary": str(group.attrs.get("summary", "")),
                "kind": str(group.attrs.get("kind", "")),
                "n_units": int(group.attrs["n_units"]),
                "has_neurons": "neurons" in group,
                "has_feature_viz": "neurons/feature_viz" in group,
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

    def _check_row(self, row: int) -> None:
        i = self._example_shards[int(np.searchsorted(self._stops, row, side="right"))]
        self._check(self.shards.names[i], int(self.shards.starts[i]), int(self.shards.stops[i]))

    def _check(self, name: str, start: int | None, stop: int | None) -> None:
        """Before the first read from shard ``name``, check it is this run's shard for rows
        ``start..stop`` (a shard of another run of the same size would otherwise read as
        garbage, or as fill values where it is shorter). Costs one file open per shard."""
        if name in self._checked:
            return
        path = self.shards.directory / name
        try:
            with h5py.File(path, "r") as f:
                found = {key: f.attrs.get(key) for key in ("run_fingerprint", "rows", "start")}
        except OSError as err:
            raise DamagedRunError(path, f"shard cannot be read ({err}); rerun generate") from None
        fingerprint = found["run_fingerprint"]
        if isinstance(fingerprint, bytes):
            fingerprint = fingerprint.decode()
        problem = None
        if fingerprint != self.run_fingerprint:
            problem = f"it belongs to run {fingerprint!r}, not {self.run_fingerprint!r}"
        elif start is not None and stop is not None:
            rows, first = (
                int(found["rows"] or 0),
                int(found["start"] if found["start"] is not None else -1),
            )
            if rows != stop - start or first not in (-1, start):
                problem = f"it holds {rows} rows from row {first} but the index expects rows {start}..{stop - 1}"
        if problem:
            raise DamagedRunError(
                path,
                f"shard of run {self.path.name} was replaced: {problem}; delete the run and "
                "generate it again",
            )
        self._checked.add(name)

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

    def _read(self, path: str, row: int) -> np.ndarray:
        try:
            return self._dataset(path)[row]
        except OSError as err:
            raise self._damaged(path, err) from None

    def _damaged(self, path: str, err: Exception) -> DamagedRunError:
        return DamagedRunError(
            self.path, f"reading {path!r} failed ({err}); the run or one of its shards is damaged"
        )
