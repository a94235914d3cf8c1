"""Demo models trained once and kept as state dicts in ``Settings.cache_dir``.

A model is cached under its name and a key that hashes the code that builds and trains it,
its arguments and the torch version, so a change retrains. Training holds a lock file
beside the cache entry: processes that ask for the same model at once (two servers, test
workers, a notebook kernel) train it once; the others wait and load it. The entry is
written to a temporary file and renamed into place, so a killed trainer leaves no half file.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

import torch
from torch import nn

from interpret_review.settings import Settings

__all__ = ["cache_key", "cached_model"]

M = TypeVar("M", bound=nn.Module)


def cache_key(*parts: str) -> str:
    """A short hash of ``parts`` and the torch version (a state dict may not load across)."""
    text = "\0".join([*parts, torch.__version__.split("+")[0]])
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """An exclusive lock on ``path`` (POSIX ``flock``; elsewhere no lock: at worst two
    processes train the same model and the second rename wins)."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        yield
        return
    with open(path, "a+b") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def cached_model(
    name: str,
    key: str,
    empty: Callable[[], M],
    train: Callable[[], M],
    cache_dir: str | Path | None = None,
) -> M:
    """The model ``name`` in eval mode: loaded from ``cache_dir`` (default:
    ``Settings.from_env().cache_path``) into ``empty()`` when an entry with ``key`` is
    there, otherwise ``train()``-ed and stored."""
    folder = Path(cache_dir) if cache_dir is not None else Settings.from_env().cache_path
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}-{key}.pt"
    with _locked(path.with_suffix(".lock")):
        if path.exists():
            model = empty()
            model.load_state_dict(torch.load(path, weights_only=True))
            return model.eval()
        model = train()
        handle, partial = tempfile.mkstemp(dir=folder, suffix=".partial")
        os.close(handle)
        torch.save(model.state_dict(), partial)
        os.replace(partial, path)
    return model.eval()
