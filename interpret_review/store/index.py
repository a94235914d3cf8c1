"""Build the index file of a run: virtual datasets over the shards, attributes, shard table.

The index holds no data of its own. Every source path is relative (``NAME.shards/...``), so
the run folder can be moved or renamed; HDF5 resolves relative sources against the folder of
the index file. ``/_shards`` records each shard's name, example rows and byte size so that
``open_run`` can check every source before trusting the virtual datasets (a missing source
would silently read as the fill value).
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import h5py
import numpy as np

from interpret_review.errors import ConfigError, DamagedRunError, DataError, IncompleteRunError
from interpret_review.store.files import Groups, atomic_h5, group_attrs_of, walk_datasets
from interpret_review.store.schema import (
    FORMAT_NAME,
    ShardName,
    dataset_spec,
    parse_shard_name,
    schema_version_of,
)

__all__ = ["ShardSet", "build_index"]


class ShardSet(Protocol):
    """What :func:`build_index` reads of a run being written (a ``RunWriter``): where the
    index and the shards go, the run's root attributes and the shards written so far."""

    path: Path
    shards_dir: Path
    root_attrs: dict[str, Any]
    run_fingerprint: str
    written: dict[str, dict[str, Any]]


@dataclass
class _Shard:
    name: ShardName
    path: Path
    rows: int
    start: int
    nbytes: int
    datasets: dict[str, tuple[tuple[int, ...], np.dtype, str]] = field(default_factory=dict)
    group_attrs: dict[str, dict[str, Any]] = field(default_factory=dict)


def _scan(writer: ShardSet, path: Path) -> _Shard:
    known = writer.written.get(path.name)
    if known is not None and known["nbytes"] == path.stat().st_size:  # written by this writer
        return _Shard(
            parse_shard_name(path.name),
            path,
            known["rows"],
            known["start"],
            known["nbytes"],
            dict(known["datasets"]),
            {g: dict(v) for g, v in known["group_attrs"].items()},
        )
    try:
        with h5py.File(path, "r") as f:
            fingerprint = f.attrs.get("run_fingerprint")
            if fingerprint != writer.run_fingerprint:
                raise ConfigError(
                    f"shard {path} belongs to run {fingerprint!r}, not {writer.run_fingerprint!r}; "
                    "delete it (or the whole shards folder) and run again"
                )
            shard = _Shard(
                parse_shard_name(path.name),
                path,
                int(f.attrs["rows"]),
                int(f.attrs.get("start", -1)),
                path.stat().st_size,
            )
            for key, ds in walk_datasets(f):
                shard.datasets[key] = (ds.shape, ds.dtype, ds.compression or "")
            shard.group_attrs = group_attrs_of(f)
            return shard
    except (OSError, KeyError) as err:
        raise DamagedRunError(path, f"shard cannot be read ({err}); delete it and resume") from None


def build_index(
    writer: ShardSet, *, n_examples: int, group_attrs: Mapping[str, Mapping[str, Any]]
) -> Path:
    """Check the shards tile ``0..n_examples-1`` and write ``writer.path`` atomically."""
    if isinstance(n_examples, bool) or not isinstance(n_examples, (int, np.integer)):
        raise ConfigError(f"n_examples must be a whole number, got {n_examples!r}")
    if n_examples < 1:
        raise ConfigError(f"n_examples must be at least 1, got {n_examples}")
    files = sorted(writer.shards_dir.glob("*.h5"))
    shards = [_scan(writer, p) for p in files]
    examples = sorted(
        (s for s in shards if s.name.kind == "examples"), key=lambda s: s.name.ordinal
    )
    neurons = {s.name.layer: s for s in shards if s.name.kind == "neurons"}
    ranges = _tile(writer, examples, int(n_examples))
    columns = _columns(examples)
    layers = {
        p.split("/")[1]: shape
        for p, (shape, _, _) in columns.items()
        if p.startswith("layers/") and p.endswith("/activations")
    }
    for layer, shard in neurons.items():
        if layer not in layers:
            raise DataError(
                f"{shard.path.name} holds neurons of layer {layer!r} but the example shards have "
                f"no 'layers/{layer}/activations'; known layers: {sorted(layers) or '(none)'}"
            )
        for key, (shape, _, _) in shard.datasets.items():
            if shape[0] != layers[layer][0]:
                raise DataError(
                    f"{shard.path.name}: {key!r} has {shape[0]} units but layer {layer!r} has "
                    f"{layers[layer][0]} (activations are (N, {layers[layer][0]}))"
                )
    merged = _group_attrs(examples, neurons, group_attrs, layers)
    relative = writer.shards_dir.name
    with atomic_h5(writer.path) as f:
        group_of = Groups(f)
        f.attrs.update(writer.root_attrs)
        f.attrs["format"] = FORMAT_NAME
        every = [*columns, *(key for shard in neurons.values() for key in shard.datasets)]
        f.attrs["schema_version"] = schema_version_of(every)
        f.attrs["n_examples"] = int(n_examples)
        f.attrs["created_at"] = _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")
        for key, (trailing, dtype, compression) in columns.items():
            parsed = dataset_spec(key)
            group_of(parsed.group)
            if parsed.spec.per_token:  # flat token data is read from the shards (text/span)
                continue
            layout = h5py.VirtualLayout((int(n_examples), *trailing), dtype=dtype)
            for shard, (start, stop) in zip(examples, ranges, strict=True):
                layout[start:stop] = h5py.VirtualSource(
                    f"{relative}/{shard.path.name}", key, shape=(stop - start, *trailing)
                )
            ds = f.create_virtual_dataset(key, layout, fillvalue=parsed.spec.fill)
            ds.attrs["compression"] = compression or "none"
        for shard in neurons.values():
            for key, (shape, dtype, compression) in shard.datasets.items():
                parsed = dataset_spec(key)
                group_of(parsed.group)
                layout = h5py.VirtualLayout(shape, dtype=dtype)
                layout[...] = h5py.VirtualSource(f"{relative}/{shard.path.name}", key, shape=shape)
                ds = f.create_virtual_dataset(key, layout, fillvalue=parsed.spec.fill)
                ds.attrs["compression"] = compression or "none"
        for group, values in merged.items():
            group_of(group).attrs.update(values)
        ordered = examples + list(neurons.values())
        table = group_of("_shards")
        table.create_dataset("name", data=[s.path.name for s in ordered], dtype=h5py.string_dtype())
        starts = [r[0] for r in ranges] + [-1] * len(neurons)
        stops = [r[1] for r in ranges] + [-1] * len(neurons)
        table.create_dataset("start", data=np.array(starts, dtype=np.int64))
        table.create_dataset("stop", data=np.array(stops, dtype=np.int64))
        table.create_dataset("nbytes", data=np.array([s.nbytes for s in ordered], dtype=np.int64))
    return writer.path


def _tile(writer: ShardSet, examples: list[_Shard], n_examples: int) -> list[tuple[int, int]]:
    """The (start, stop) rows of each example shard; they must tile 0..n_examples exactly."""
    for expected, shard in enumerate(examples):
        if shard.name.ordinal != expected:
            missing = writer.shards_dir / f"examples-{expected:05d}.h5"
            raise IncompleteRunError(
                missing,
                f"example shard {missing.name} is missing (found up to {examples[-1].path.name}); "
                "rerun the same generate command to resume",
            )
    ranges: list[tuple[int, int]] = []
    start = 0
    for shard in examples:
        if shard.start not in (-1, start):
            raise DataError(
                f"{shard.path.name} says it starts at row {shard.start} but the shards before it "
                f"end at row {start}; example shards must be contiguous"
            )
        ranges.append((start, start + shard.rows))
        start += shard.rows
    if start != n_examples:
        where = writer.shards_dir
        raise IncompleteRunError(
            where,
            f"the {len(examples)} example shards hold {start} rows but n_examples={n_examples}; "
            + (
                "rerun the same generate command to write the rest"
                if start < n_examples
                else "pass the right n_examples"
            ),
        )
    return ranges


def _columns(examples: list[_Shard]) -> dict[str, tuple[tuple[int, ...], np.dtype, str]]:
    """Per-example datasets (path -> trailing shape, dtype, compression), same in every shard."""
    first = examples[0]
    columns = {k: (shape[1:], dt, c) for k, (shape, dt, c) in first.datasets.items()}
    for shard in examples[1:]:
        if set(shard.datasets) != set(columns):
            extra = sorted(set(shard.datasets) - set(columns))
            lacks = sorted(set(columns) - set(shard.datasets))
            raise DataError(
                f"{shard.path.name} has other datasets than {first.path.name} (extra: {extra}, "
                f"missing: {lacks}); every example shard of a run holds the same datasets"
            )
        for key, (shape, dtype, _) in shard.datasets.items():
            if shape[1:] != columns[key][0] or dtype != columns[key][1]:
                raise DataError(
                    f"{shard.path.name}: {key!r} is {shape[1:]} {dtype} per row but "
                    f"{first.path.name} has {columns[key][0]} {columns[key][1]}"
                )
    return columns


def _group_attrs(
    examples: list[_Shard],
    neurons: Mapping[str | None, _Shard],
    extra: Mapping[str, Mapping[str, Any]],
    layers: Mapping[str, tuple[int, ...]],
) -> dict[str, dict[str, Any]]:
    merged: dict[str, dict[str, Any]] = {}
    for shard in [examples[0], *neurons.values()]:
        for group, values in shard.group_attrs.items():
            merged.setdefault(group, {}).update(values)
    groups = {dataset_spec(k).group for k in examples[0].datasets} - {"examples", "text"}
    for group, given in extra.items():
        if group not in groups:
            raise ConfigError(
                f"group attributes given for {group!r}, which has no datasets in this run; "
                f"groups: {sorted(groups)}"
            )
        merged.setdefault(group, {}).update(given)
    for group in sorted(groups):
        values = merged.setdefault(group, {})
        if group.startswith("attributions/"):
            values.setdefault("params", "{}")
            if not isinstance(values.get("class"), str):
                raise ConfigError(
                    f"{group} needs a 'class' attribute (the Captum class name, e.g. "
                    "'IntegratedGradients'); pass it in group_attrs"
                )
        else:
            layer = group.split("/")[1]
            units = layers[layer][0]
            if values.setdefault("n_units", units) != units:
                raise DataError(
                    f"{group} says n_units={values['n_units']} but its activations have {units}"
                )
            for key, example in (("summary", "'max' or 'mean'"), ("kind", "'conv' or 'linear'")):
                if not isinstance(values.get(key), str):
                    raise ConfigError(
                        f"{group} needs a {key!r} attribute ({example}); pass it in group_attrs"
                    )
    return merged
