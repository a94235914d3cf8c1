"""Low-level file helpers shared by the writer and the reader: atomic writes, groups, walks."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import h5py

from interpret_review.store.schema import LIBVER

__all__ = [
    "PARTIAL_SUFFIX",
    "atomic_h5",
    "atomic_path",
    "Groups",
    "ensure_group",
    "fsync_dir",
    "group_attrs_of",
    "walk_datasets",
]

PARTIAL_SUFFIX = ".partial"


def fsync_dir(directory: Path) -> None:
    """fsync a directory so a rename inside it survives a crash."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextlib.contextmanager
def atomic_path(final: Path) -> Iterator[Path]:
    """Yield ``<final>.partial`` to write; when the block ends, fsync it, rename it to
    ``final`` and fsync the folder. If the block raises, the partial file is removed and
    ``final`` is untouched: a file that exists is complete."""
    partial = final.with_name(final.name + PARTIAL_SUFFIX)
    partial.unlink(missing_ok=True)
    try:
        yield partial
        fd = os.open(partial, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(partial, final)
        fsync_dir(final.parent)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise


@contextlib.contextmanager
def atomic_h5(final: Path) -> Iterator[h5py.File]:
    """Write an HDF5 file through :func:`atomic_path`. A finished file is never opened for
    writing again."""
    with atomic_path(final) as partial:
        with h5py.File(partial, "w", libver=LIBVER, track_order=True) as f:
            yield f
            f.flush()


def ensure_group(f: h5py.Group, path: str) -> h5py.Group:
    """Create the groups of ``path`` one level at a time, tracking creation order."""
    group = f
    for part in path.split("/"):
        if part not in group:
            group = group.create_group(part, track_order=True)
        else:
            group = group[part]
    return group


class Groups:
    """``groups(path)``: :func:`ensure_group` with the groups kept, for a writer that
    touches the same few groups for many datasets (each h5py lookup costs ~50 us)."""

    def __init__(self, f: h5py.Group) -> None:
        self.f = f
        self._made: dict[str, h5py.Group] = {}

    def __call__(self, path: str) -> h5py.Group:
        group = self._made.get(path)
        if group is None:
            group = self._made[path] = ensure_group(self.f, path)
        return group


def walk_datasets(group: h5py.Group, prefix: str = "") -> Iterator[tuple[str, h5py.Dataset]]:
    """Every dataset under ``group`` as ``(path, dataset)``, in creation order."""
    for key in group:
        item: Any = group[key]
        path = f"{prefix}{key}"
        if isinstance(item, h5py.Dataset):
            yield path, item
        elif isinstance(item, h5py.Group):
            yield from walk_datasets(item, path + "/")


def group_attrs_of(f: h5py.File) -> dict[str, dict[str, Any]]:
    """Attributes of the ``attributions/<m>`` and ``layers/<l>`` groups of a file."""
    out: dict[str, dict[str, Any]] = {}
    for top in ("attributions", "layers"):
        if top in f:
            for key in f[top]:
                attrs = dict(f[top][key].attrs)
                out[f"{top}/{key}"] = {k: _plain(v) for k, v in attrs.items()}
    return out


def _plain(value: Any) -> Any:
    if isinstance(value, bytes):
        return value.decode("utf-8")
    if hasattr(value, "item") and getattr(value, "shape", None) == ():
        return value.item()
    return value
