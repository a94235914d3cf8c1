"""The phases of a run, written once for image and text runs.

A run is made in three phases, each resumable shard by shard:

1. **examples**: rows in shards of ``shard_size``, each computed batch by batch
   (:meth:`Phases.batch`) and written by one background thread while the next shard is
   computed;
2. **neurons**: each layer's statistics over every example's activations (top-k and
   quantile examples, histograms), then its evidence (:meth:`Phases.neuron_columns`:
   attributions, contexts, feature visualizations), one shard per layer;
3. **sanity**: the methods' sanity figures on the first ``sanity_examples`` examples
   (:meth:`Phases.sanity`), kept in the run's attributes.

Subclasses (``runner._ImageJob``, ``text_runner._TextJob``) give what depends on the data's
modality; the order, the resumption, the progress bars and the writes are here.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

import numpy as np
from tqdm.auto import tqdm

from interpret_review.generation.neurons import neuron_statistics
from interpret_review.settings import Settings
from interpret_review.store.schema import attribution_path, layer_path, neuron_path

if TYPE_CHECKING:
    from interpret_review.store.writer import RunWriter

__all__ = ["Phases"]


class Phases:
    """The phases of one run over ``n`` examples (see the module's documentation).

    Shards are written by one background thread: at most one write is in flight, and a
    column of a shard still being written is read from memory instead (:meth:`column`).
    """

    #: What the examples phase's progress bar counts.
    rows_label: tuple[str, str] = ("examples", "ex")

    def __init__(self, settings: Settings, n: int) -> None:
        self.settings, self.n = settings, n
        self._pool: ThreadPoolExecutor | None = None
        self._in_flight: Future[Any] | None = None
        self._recent: tuple[str, dict[str, np.ndarray]] | None = None  # last shard written

    # -- what a modality gives ---------------------------------------------------------

    def batch(self, start: int, stop: int) -> dict[str, np.ndarray]:
        """Rows ``start..stop-1``: every column of an example shard."""
        raise NotImplementedError

    def shard_columns(self, columns: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """The columns of a shard as written, from its batches' columns joined."""
        return columns

    def shard_options(self) -> dict[str, Any]:
        """Options of :meth:`RunWriter.write_shard` for an example shard."""
        return {}

    def layer_units(self) -> dict[str, int]:
        """Units analysed in each layer, by layer name."""
        raise NotImplementedError

    def prepare_neurons(
        self, writer: RunWriter, shards: list[str], stats: dict[str, dict[str, np.ndarray]]
    ) -> None:
        """Called once before the layers' evidence is computed (e.g. to read back inputs)."""

    def neuron_columns(
        self, layer: str, stats: dict[str, np.ndarray], on_units: Callable[[int], Any]
    ) -> dict[str, np.ndarray]:
        """The evidence of ``layer``'s units besides their statistics (keys under
        ``layers/LAYER/neurons/``); ``on_units(k)`` reports progress."""
        raise NotImplementedError

    def sanity_steps(self) -> int:
        """Steps of the sanity checks, for their progress bar."""
        raise NotImplementedError

    def sanity(self, count: int, on_step: Callable[..., Any]) -> dict[str, dict[str, Any]]:
        """Each method's sanity figures on the first ``count`` examples."""
        raise NotImplementedError

    # -- the phases ----------------------------------------------------------------------

    def run(self, writer: RunWriter, group_attrs: dict[str, Any], progress: bool) -> None:
        """Every phase; each method group's attributes in ``group_attrs`` get its sanity
        figures."""
        with self.writing():
            shards = self.example_phase(writer, group_attrs, progress)
            self.neuron_phase(writer, shards, group_attrs, progress)
        for method, figures in self.sanity_phase(progress).items():
            group_attrs[attribution_path(method)]["sanity"] = figures

    def example_phase(
        self, writer: RunWriter, group_attrs: dict[str, Any], progress: bool
    ) -> list[str]:
        n, size = self.n, self.settings.shard_size
        shards = [f"examples-{i:05d}" for i in range((n + size - 1) // size)]
        todo = [i for i, shard in enumerate(shards) if not writer.has_shard(shard)]
        done = n - sum(min(size, n - i * size) for i in todo)
        desc, unit = self.rows_label
        bar = tqdm(total=n, initial=done, desc=desc, unit=unit, disable=not progress)
        try:
            for index in todo:
                start, stop = index * size, min((index + 1) * size, n)
                parts: list[dict[str, np.ndarray]] = []
                for first in range(start, stop, self.settings.batch_size):
                    last = min(first + self.settings.batch_size, stop)
                    parts.append(self.batch(first, last))
                    bar.update(last - first)
                columns = {key: np.concatenate([p[key] for p in parts]) for key in parts[0]}
                self.write(
                    writer,
                    shards[index],
                    self.shard_columns(columns),
                    group_attrs=group_attrs,
                    start=start,
                    **self.shard_options(),
                )
        finally:
            bar.close()
        return shards

    def neuron_phase(
        self, writer: RunWriter, shards: list[str], group_attrs: dict[str, Any], progress: bool
    ) -> None:
        units = self.layer_units()
        todo = [layer for layer in units if not writer.has_shard(f"neurons-{layer}")]
        if not todo:
            return
        total = sum(units.values())
        done = total - sum(units[layer] for layer in todo)
        s = self.settings
        stats = {
            layer: neuron_statistics(
                np.concatenate(
                    [
                        self.column(writer, shard, layer_path(layer, "activations"))
                        for shard in shards
                    ]
                ),
                top_k=s.top_k,
                n_quantiles=s.n_quantiles,
                bins=s.histogram_bins,
                seed=s.seed,
                layer=layer,
            )
            for layer in todo
        }
        self.prepare_neurons(writer, shards, stats)
        bar = tqdm(total=total, initial=done, desc="neurons", unit="unit", disable=not progress)
        try:
            for layer in todo:
                evidence = {**stats[layer], **self.neuron_columns(layer, stats[layer], bar.update)}
                prefix = neuron_path(layer)
                self.write(
                    writer,
                    f"neurons-{layer}",
                    {prefix + key: value for key, value in evidence.items()},
                    group_attrs={layer_path(layer): group_attrs[layer_path(layer)]},
                )
        finally:
            bar.close()

    def sanity_phase(self, progress: bool) -> dict[str, dict[str, Any]]:
        """Sanity figures of every method (see :mod:`interpret_review.generation.sanity`);
        none when ``sanity_examples`` is 0."""
        count = min(self.settings.sanity_examples, self.n)
        if count == 0:
            return {}
        bar = tqdm(
            total=self.sanity_steps(), desc="sanity checks", unit="map set", disable=not progress
        )
        try:
            return self.sanity(count, bar.update)
        finally:
            bar.close()

    # -- the background writer ----------------------------------------------------------

    @contextlib.contextmanager
    def writing(self) -> Iterator[None]:
        """Run the phases with the background writer; every write has finished on exit."""
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="shard-writer") as pool:
            self._pool = pool
            try:
                yield
                self._wait()
            finally:
                self._pool = None

    def _wait(self) -> None:
        if self._in_flight is not None:
            future, self._in_flight = self._in_flight, None
            future.result()  # re-raises a failed write here, in the caller's thread

    def write(
        self, writer: RunWriter, name: str, columns: dict[str, np.ndarray], **options: Any
    ) -> None:
        """Write shard ``name`` (in the background inside :meth:`writing`)."""
        self._wait()
        if self._pool is None:
            writer.write_shard(name, columns, **options)
            return
        self._in_flight = self._pool.submit(writer.write_shard, name, columns, **options)
        if name.startswith("examples-"):
            self._recent = (name, columns)

    def column(self, writer: RunWriter, shard: str, key: str) -> np.ndarray:
        """Column ``key`` of example shard ``shard``: from memory while it is being written."""
        if self._recent is not None and self._recent[0] == shard:
            return self._recent[1][key]
        self._wait()
        return writer.read_shard_column(shard, key)
