"""The shard files of a run being read: opened on first use, checked, kept open within a bound.

An item is read from the shard file that holds it rather than through the index's virtual
datasets (a virtual dataset costs a second file open on first use and about three times
more per read). Each shard's identity is checked when it is first opened: a shard of
another run, or holding other rows than the index expects, would read as garbage. At most
``MAX_OPEN_SHARDS`` stay open; the least recently used is closed first.
"""

from __future__ import annotations

from collections import OrderedDict
from pathlib import Path

import h5py
import numpy as np

from interpret_review.errors import DamagedRunError
from interpret_review.store.validate import ShardTable

__all__ = ["MAX_OPEN_SHARDS", "ShardFiles"]

#: Shard files a run keeps open for reading at most (least recently used ones are closed).
MAX_OPEN_SHARDS = 128
#: Rows whose ``text/span`` is remembered (an item reads it once for its tokens and once per
#: method).
_SPANS = 64

Rows = tuple[int, int]


class ShardFiles:
    """The shards listed in ``table`` of run ``run_file`` (its index file's name), which
    must carry ``run_fingerprint``."""

    def __init__(self, table: ShardTable, run_fingerprint: str, run_file: str) -> None:
        self.table = table
        self.run_fingerprint = run_fingerprint
        self.run_file = run_file
        self._open: OrderedDict[str, h5py.File] = OrderedDict()
        self._datasets: dict[tuple[str, str], h5py.Dataset] = {}
        self._verified: set[str] = set()  # shards whose identity has been checked
        self._spans: dict[tuple[str, int], np.ndarray] = {}  # recent rows' text/span
        self._examples = [i for i, start in enumerate(table.starts.tolist()) if start >= 0]
        self._stops = table.stops[self._examples]

    def close(self) -> None:
        self._datasets.clear()
        self._spans.clear()
        for handle in self._open.values():
            if handle.id.valid:
                handle.close()
        self._open.clear()

    # -- rows ------------------------------------------------------------------------------

    def locate(self, row: int) -> tuple[str, Rows, int]:
        """The example shard that holds ``row``: its name, its rows, the row's index in it."""
        i = self._examples[int(np.searchsorted(self._stops, row, side="right"))]
        start = int(self.table.starts[i])
        return self.table.names[i], (start, int(self.table.stops[i])), row - start

    def row(self, path: str, row: int) -> np.ndarray:
        """Row ``row`` of per-example dataset ``path``, from the shard that holds it."""
        name, rows, local = self.locate(row)
        return self.read(name, rows, path, local)

    def tokens(self, path: str, row: int) -> np.ndarray:
        """Row ``row``'s slice of the flat token dataset ``path`` of the shard that holds it
        (ragged data: ``text/span`` gives the slice, local to the shard)."""
        name, rows, local = self.locate(row)
        span = self.span(name, rows, local)
        return self.read(name, rows, path, slice(int(span[0]), int(span[1])))

    def span(self, name: str, rows: Rows, local: int) -> np.ndarray:
        """``text/span`` of a row, remembered for the last few rows."""
        key = (name, local)
        span = self._spans.get(key)
        if span is None:
            span = self._spans[key] = self.read(name, rows, "text/span", local)
            if len(self._spans) > _SPANS:
                del self._spans[next(iter(self._spans))]
        return span

    def has(self, path: str) -> bool:
        """Whether the example shards hold dataset ``path`` (flat token data is never in
        the index)."""
        if not self._examples:
            return False
        i = self._examples[0]
        handle = self.open(self.table.names[i], self._rows_of(i))
        return path in handle

    def read(self, name: str, rows: Rows | None, path: str, index: int | slice) -> np.ndarray:
        """``path[index]`` of shard ``name`` (which holds example ``rows``, or None)."""
        dataset = self._datasets.get((name, path))
        if dataset is None:
            handle = self.open(name, rows)
            try:
                dataset = self._datasets[(name, path)] = handle[path]
            except KeyError:
                raise DamagedRunError(
                    handle.filename, f"shard lacks dataset {path!r}; generate the run again"
                ) from None
        else:
            self._open.move_to_end(name)
        try:
            return np.asarray(dataset[index])
        except OSError as err:
            raise DamagedRunError(
                self.table.directory / name,
                f"reading {path!r} failed ({err}); the shard is damaged: generate the run again",
            ) from None

    # -- files -----------------------------------------------------------------------------

    def check_examples(self) -> None:
        """Check every example shard (before a whole column is read through the index)."""
        for i in self._examples:
            if self.table.names[i] not in self._verified:
                self.open(self.table.names[i], self._rows_of(i), keep=False)

    def open(self, name: str, rows: Rows | None, keep: bool = True) -> h5py.File:
        """Shard ``name`` opened for reading, its identity checked on first open: this run's
        shard, holding rows ``rows`` (example shards). Without ``keep`` it is closed again."""
        handle = self._open.get(name)
        if handle is not None:
            self._open.move_to_end(name)
            return handle
        path = self.table.directory / name
        try:
            handle = h5py.File(path, "r")
        except OSError as err:
            raise DamagedRunError(path, f"shard cannot be read ({err}); rerun generate") from None
        try:
            self._check(path, handle, rows)
        except BaseException:
            handle.close()
            raise
        if not keep:
            handle.close()
            return handle
        self._open[name] = handle
        while len(self._open) > MAX_OPEN_SHARDS:
            old, closing = self._open.popitem(last=False)
            for key in [k for k in self._datasets if k[0] == old]:
                del self._datasets[key]
            closing.close()
        return handle

    def _rows_of(self, i: int) -> Rows:
        return int(self.table.starts[i]), int(self.table.stops[i])

    def _check(self, path: Path, handle: h5py.File, rows: Rows | None) -> None:
        """A shard of another run, or with other rows, would read as garbage: refuse it."""
        if path.name in self._verified:
            return
        found = {key: handle.attrs.get(key) for key in ("run_fingerprint", "rows", "start")}
        fingerprint = found["run_fingerprint"]
        if isinstance(fingerprint, bytes):
            fingerprint = fingerprint.decode()
        problem = None
        if fingerprint != self.run_fingerprint:
            problem = f"it belongs to run {fingerprint!r}, not {self.run_fingerprint!r}"
        elif rows is not None:
            count = int(found["rows"] or 0)
            first = int(found["start"]) if found["start"] is not None else -1
            if count != rows[1] - rows[0] or first not in (-1, rows[0]):
                problem = (
                    f"it holds {count} rows from row {first} but the index expects rows "
                    f"{rows[0]}..{rows[1] - 1}"
                )
        if problem:
            raise DamagedRunError(
                path,
                f"shard of run {self.run_file} was replaced: {problem}; delete the run and "
                "generate it again",
            )
        self._verified.add(path.name)
