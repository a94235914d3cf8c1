"""Probe bundles in HDF5: a handful of arrays and a JSON manifest, written atomically.

Layout (``N`` labelled examples, ``C`` concepts)::

    /examples/{row, id, split, label, prediction}   (N,)
    /examples/input                                 (N, ...) the model's inputs
    /activations/<layer>                            (N, units) float32
    /labels                                         (N, C) int8: 1, 0, or -1 (unlabelled)
    /sources                                        (N, C) uint8: bits of where a label came from
    attrs: format, version, manifest (JSON)

The manifest (also written beside the file as ``manifest.json``) names the concepts in
column order. This module only moves arrays; what they mean is decided in ``export/``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from interpret_review.errors import BundleError
from interpret_review.store.files import atomic_h5

__all__ = ["BUNDLE_FORMAT", "BUNDLE_VERSION", "read_bundle_h5", "write_bundle_h5"]

BUNDLE_FORMAT = "interpret-review-probe-bundle"
BUNDLE_VERSION = 1


def write_bundle_h5(
    path: Path, arrays: Mapping[str, np.ndarray], manifest: Mapping[str, Any]
) -> None:
    """Write ``arrays`` (``"examples/row"``, ``"activations/conv2"``, ...) and the manifest to
    ``path`` atomically (``store.files.atomic_h5``)."""
    with atomic_h5(path) as f:
        f.attrs["format"] = BUNDLE_FORMAT
        f.attrs["version"] = BUNDLE_VERSION
        f.attrs["manifest"] = json.dumps(manifest)
        for name, values in arrays.items():
            values = np.asarray(values)
            big = values.size > 4096
            options = {"compression": "gzip", "compression_opts": 1} if big else {}
            f.create_dataset(name, data=values, **options)


def read_bundle_h5(path: Path) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """Every array of the bundle at ``path`` (by its name) and its manifest."""
    if not path.exists():
        raise BundleError(
            f"{path}: no such probe bundle; write one with `interpret-review export --probe-bundle`"
        )
    if not h5py.is_hdf5(path):
        raise BundleError(f"{path}: not an HDF5 file, so not a probe bundle in HDF5")
    try:
        with h5py.File(path, "r") as f:
            if f.attrs.get("format") != BUNDLE_FORMAT:
                raise BundleError(
                    f"{path}: an HDF5 file but not a probe bundle (format "
                    f"{f.attrs.get('format')!r}); write one with `interpret-review export --probe-bundle`"
                )
            version = int(f.attrs.get("version", 0))
            if version > BUNDLE_VERSION:
                raise BundleError(
                    f"{path}: probe bundle version {version} is newer than this interpret-review "
                    f"reads ({BUNDLE_VERSION}); upgrade interpret-review"
                )
            manifest = json.loads(f.attrs["manifest"])
            arrays: dict[str, np.ndarray] = {}
            f.visititems(
                lambda name, node: (
                    arrays.__setitem__(name, node[()]) if isinstance(node, h5py.Dataset) else None
                )
            )
    except (OSError, KeyError, ValueError) as error:
        raise BundleError(f"{path}: damaged probe bundle ({error}); export it again") from None
    return arrays, manifest
