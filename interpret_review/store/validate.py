"""The checks ``open_run`` makes before it trusts a run file (cheap: no dataset is read)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import h5py
import numpy as np

from interpret_review.errors import (
    DamagedRunError,
    IncompleteRunError,
    NotARunError,
    RunFileError,
    RunVersionError,
)
from interpret_review.store.schema import FORMAT_NAME, REQUIRED_ATTRS, SCHEMA_VERSION

__all__ = ["ShardTable", "open_index"]

_GENERATE_HINT = "generate a run with `interpret-review generate`"
_MAGIC = {
    b"\x89PNG": "a PNG image",
    b"\xff\xd8\xff": "a JPEG image",
    b"PK\x03\x04": "a zip archive",
    b"SQLite format 3": "an SQLite database",
    b"\x89HDF": "an HDF5 file",
    b"CDF": "a NetCDF-3 file",
}


@dataclass(frozen=True)
class ShardTable:
    """The ``/_shards`` table: name, example rows [start, stop) (-1 for neuron shards), bytes."""

    directory: Path
    names: list[str]
    starts: np.ndarray
    stops: np.ndarray
    nbytes: np.ndarray

    @property
    def total_bytes(self) -> int:
        return int(self.nbytes.sum())


def open_index(path: Path) -> tuple[h5py.File, ShardTable]:
    """Open and check an index file; return the open handle and its shard table."""
    shards_dir = path.with_name(path.stem + ".shards")
    if not path.exists():
        if shards_dir.is_dir():
            raise IncompleteRunError(
                path,
                f"the run's generation has not finished: {shards_dir.name}/ holds "
                f"{len(list(shards_dir.glob('*.h5')))} finished shards but the index file was "
                "never written; rerun the same generate command to resume",
            )
        raise RunFileError(path, f"no such file; {_GENERATE_HINT}")
    if path.is_dir():
        raise RunFileError(
            path, "is a folder; pass the run's index file DIR/NAME.h5 (next to NAME.shards/)"
        )
    if not h5py.is_hdf5(path):
        raise NotARunError(path, f"not an HDF5 file ({_sniff(path)}); {_GENERATE_HINT}")
    try:
        handle = h5py.File(path, "r")
    except OSError as err:
        raise DamagedRunError(
            path, f"the file is damaged or truncated ({_short(err)}); generate the run again"
        ) from None
    try:
        table = _check(path, handle, shards_dir)
    except BaseException:
        handle.close()
        raise
    return handle, table


def _check(path: Path, f: h5py.File, shards_dir: Path) -> ShardTable:
    try:
        found = f.attrs.get("format")
        found = found.decode() if isinstance(found, bytes) else found
        if found != FORMAT_NAME:
            groups = sorted(f.keys())[:8]
            what = f"format attribute {found!r}" if found is not None else "no 'format' attribute"
            raise NotARunError(
                path,
                f"an HDF5 file but not an interpret-review run ({what}; top-level names: "
                f"{groups or '(none)'}); {_GENERATE_HINT}",
            )
        version = f.attrs.get("schema_version")
        if version is None or not np.issubdtype(np.asarray(version).dtype, np.integer):
            raise DamagedRunError(path, f"bad schema_version attribute {version!r}")
        if int(version) > SCHEMA_VERSION:
            raise RunVersionError(
                path,
                f"written by schema v{int(version)}, this interpret-review reads up to "
                f"v{SCHEMA_VERSION}; upgrade interpret-review",
            )
        missing = [
            key
            for key in (*REQUIRED_ATTRS, "name", "n_examples", "run_fingerprint")
            if key not in f.attrs
        ]
        if missing or "_shards" not in f:
            raise DamagedRunError(
                path,
                f"index lacks {missing or ['/_shards']}; the file was not written by RunWriter "
                "or is damaged: generate the run again",
            )
        group = f["_shards"]
        table = ShardTable(
            shards_dir,
            [n.decode() if isinstance(n, bytes) else str(n) for n in group["name"][()]],
            group["start"][()],
            group["stop"][()],
            group["nbytes"][()],
        )
    except RunFileError:
        raise
    except (OSError, KeyError) as err:
        raise DamagedRunError(path, f"the index file is damaged ({_short(err)})") from None
    if table.names and not shards_dir.is_dir():
        raise DamagedRunError(
            path,
            f"its shards folder {shards_dir.name}/ is missing; keep {path.name} and "
            f"{shards_dir.name}/ together in one folder when moving a run",
        )
    for name, size in zip(table.names, table.nbytes.tolist(), strict=True):
        shard = shards_dir / name
        try:
            actual = os.stat(shard).st_size
        except FileNotFoundError:
            raise DamagedRunError(
                shard,
                f"shard of run {path.name} is missing; rerun the same generate command to "
                "rewrite it (finished shards are kept)",
            ) from None
        if actual != size:
            raise DamagedRunError(
                shard,
                f"shard has {actual} bytes but the index recorded {size}: it was replaced or "
                "truncated; delete it and rerun the same generate command",
            )
    return table


def _sniff(path: Path) -> str:
    try:
        with open(path, "rb") as f:
            head = f.read(64)
    except OSError as err:
        return f"cannot read it: {err}"
    for magic, what in _MAGIC.items():
        if head.startswith(magic):
            return f"it looks like {what}"
    if not head:
        return "it is empty"
    try:
        head.decode("utf-8")
        return f"it looks like text starting {head[:24].decode('utf-8')!r}"
    except UnicodeDecodeError:
        return f"it starts with bytes {head[:8]!r}"


def _short(err: BaseException) -> str:
    text = str(err)
    return text if len(text) < 200 else text[:200] + "..."
