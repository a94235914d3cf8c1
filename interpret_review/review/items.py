"""Which items a task holds, and what each item shows a reviewer.

``task_addresses`` turns a task of a project file into the canonical addresses of its items
(checked against the run); ``shown_examples`` and ``shown_maps`` say which example rows and
which attribution maps an item puts in front of a reviewer. The app's viewers show exactly
these, and answers that mark examples or rate maps are checked against them, so a reviewer
can only mark what they were shown.

A verify task's item shows ``held_out_examples``: examples of the unit that the describe
stage never showed, drawn from its high, medium and low activations and shuffled, the same
for every description of the unit (so their scores compare); ``simulation_score`` is the
correlation of a reviewer's predictions with the unit's real activations on them.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from interpret_review.addresses import item_address, parse_address
from interpret_review.errors import ConfigError, ProjectError, UnknownNameError
from interpret_review.store import Run
from interpret_review.tasks import Task
from interpret_review.tasks.sanity import judge

__all__ = [
    "held_out_examples",
    "item_examples",
    "range_samples",
    "shown_examples",
    "shown_maps",
    "simulation_score",
    "task_addresses",
    "task_methods",
]

_HELD_OUT_CACHE: OrderedDict[tuple[Any, ...], dict[int, float]] = OrderedDict()
_HELD_OUT_CACHED = 256


def task_addresses(task: Task, run: Run) -> list[str]:
    """The addresses of ``task``'s items in ``run``, in queue order.

    Neuron tasks: every unit of each layer in ``task.layers``, then the units listed in
    ``task.units``. Attribution tasks: the first ``task.examples`` rows, the listed rows, or
    every row when ``examples`` is not set.
    """
    where = f"task {task.name!r} (run {run.name!r}, {run.path})"
    if task.stage != "review":
        return []  # a later stage's items come from its source task's judgments
    selected = _selected(task, run, where)
    for address in task.gold:  # gold items outside the selection join the queue too
        if address not in selected:
            parsed = parse_address(address)
            if parsed.kind == "neuron":
                units = _neuron_units(run, str(parsed.layer), where)
                if parsed.index >= units:
                    raise ProjectError(f"{where}: gold item {address!r} does not exist")
            elif parsed.index >= run.n_examples:
                raise ProjectError(f"{where}: gold item {address!r} does not exist")
            selected.append(address)
    return selected


def _selected(task: Task, run: Run, where: str) -> list[str]:
    if task.kind == "neuron":
        wanted: dict[str, list[int]] = {}
        for layer in task.layers:
            wanted.setdefault(layer, []).extend(range(_neuron_units(run, layer, where)))
        for layer, units in task.units.items():
            n_units = _neuron_units(run, layer, where)
            bad = [u for u in units if u >= n_units]
            if bad:
                raise ProjectError(
                    f"{where}: units {bad} of layer {layer!r} do not exist; the layer has "
                    f"{n_units} units (0..{n_units - 1})"
                )
            wanted.setdefault(layer, []).extend(units)
        return [
            item_address("neuron", run.name, unit, layer=layer)
            for layer, units in wanted.items()
            for unit in dict.fromkeys(units)
        ]
    if task.kind == "attribution":
        task_methods(task, run)  # checks the methods exist
        if task.examples is None:
            rows: Sequence[int] = range(run.n_examples)
        elif isinstance(task.examples, int):
            rows = range(min(task.examples, run.n_examples))
        else:
            rows = list(dict.fromkeys(task.examples))
            bad = [r for r in rows if r >= run.n_examples]
            if bad:
                raise ProjectError(
                    f"{where}: example rows {bad[:5]} do not exist; the run has "
                    f"{run.n_examples} examples (rows 0..{run.n_examples - 1})"
                )
        return [item_address("attribution", run.name, row) for row in rows]
    raise UnknownNameError("item kind", task.kind, ("attribution", "neuron"))


def task_methods(task: Task, run: Run) -> tuple[str, ...]:
    """The attribution maps an attribution task shows: ``task.methods``, or all of the run's."""
    if not task.methods:
        return tuple(run.methods)
    for method in task.methods:
        if method not in run.methods:
            raise ProjectError(
                f"task {task.name!r}: "
                + str(UnknownNameError("method", method, run.methods, hint=f"(run {run.name!r})"))
            )
    return tuple(task.methods)


def _neuron_units(run: Run, layer: str, where: str) -> int:
    if layer not in run.layers:
        raise ProjectError(f"{where}: " + str(UnknownNameError("layer", layer, run.layers)))
    if not run.layer_info(layer)["has_neurons"]:
        raise ProjectError(
            f"{where}: layer {layer!r} has activations but no neuron evidence; regenerate the "
            "run with this layer in 'layers'"
        )
    return run.n_units(layer)


def shown_examples(run: Run, address: str) -> dict[int, str]:
    """The example rows an item shows, in display order, with the names the page gives
    them: a neuron's top-k examples are ``"1".."K"`` (highest first), then its range
    samples (lowest activation first) ``"R1".."RQ"``, each row once; an attribution item
    shows its one example, named ``"1"``."""
    parsed = parse_address(address)
    if parsed.run != run.name:
        raise ConfigError(f"item {address!r} is not in run {run.name!r}")
    if parsed.kind == "attribution":
        if parsed.index >= run.n_examples:
            raise ConfigError(
                f"item {address!r}: run {run.name!r} has {run.n_examples} examples "
                f"(rows 0..{run.n_examples - 1})"
            )
        return {parsed.index: "1"}
    evidence = run.neuron(str(parsed.layer), parsed.index)
    names = {int(row): str(rank) for rank, row in enumerate(evidence.topk_index.tolist(), 1)}
    for position, row in enumerate(
        range_samples(evidence.quantile_index, evidence.quantile_value), 1
    ):
        names.setdefault(row, f"R{position}")
    return names


def range_samples(rows: np.ndarray, values: np.ndarray) -> list[int]:
    """A neuron's quantile-sampled example rows, lowest activation first (ties: stored order)."""
    order = np.argsort(np.asarray(values), kind="stable")
    return [int(rows[i]) for i in order]


def shown_maps(task: Task, run: Run, address: str) -> tuple[str, ...]:
    """Attribution maps an item shows (none for a neuron item): the task's methods, less
    those that fail its sanity thresholds when its sanity action is ``hide``."""
    if parse_address(address).kind != "attribution":
        return ()
    methods = task_methods(task, run)
    if task.sanity.action == "hide":
        methods = tuple(m for m in methods if judge(run.sanity(m), task.sanity).level != "fail")
    return methods


def item_examples(task: Task, run: Run, address: str) -> dict[int, str]:
    """The example rows an item of ``task`` shows, with their names on the page: a verify
    item's held-out examples, else :func:`shown_examples`."""
    if task.stage == "verify":
        return {row: str(i) for i, row in enumerate(held_out_examples(task, run, address), 1)}
    return shown_examples(run, address)


def held_out_examples(task: Task, run: Run, address: str) -> dict[int, float]:
    """``row -> activation`` of the held-out examples a verify item shows, in the order shown.

    Never an example the neuron card shows. ``task.held_out`` says how many to draw from the
    top decile of the rest (high), the middle fifth (medium) and the lower half (low); the
    draw and its order are fixed by the task's name and the address.
    """
    parsed = parse_address(address)
    if parsed.kind != "neuron" or parsed.run != run.name:
        raise ConfigError(f"{address!r} is not a neuron item of run {run.name!r}")
    counts = tuple(sorted(task.held_out.items()))
    key = (run.run_fingerprint, task.name, address, counts)
    cached = _HELD_OUT_CACHE.get(key)
    if cached is not None:
        _HELD_OUT_CACHE.move_to_end(key)
        return cached
    values = np.asarray(run.activations(str(parsed.layer), parsed.index), dtype=np.float64)
    shown = set(shown_examples(run, address))
    rest = np.array([row for row in np.argsort(-values, kind="stable") if int(row) not in shown])
    seed = int.from_bytes(
        hashlib.blake2b(f"{task.name}:{address}".encode(), digest_size=8).digest(), "big"
    )
    rng = np.random.default_rng(seed)
    n = len(rest)
    bands = {
        "high": rest[: max(1, n // 10)],
        "medium": rest[int(n * 0.4) : max(int(n * 0.4) + 1, int(n * 0.6))],
        "low": rest[n // 2 :],
    }
    chosen: list[int] = []
    for band, want in task.held_out.items():
        pool = [int(r) for r in bands[band] if int(r) not in chosen]
        chosen.extend(int(r) for r in rng.choice(pool, size=min(want, len(pool)), replace=False))
    rng.shuffle(chosen)
    out = {row: float(values[row]) for row in chosen}
    _HELD_OUT_CACHE[key] = out
    while len(_HELD_OUT_CACHE) > _HELD_OUT_CACHED:
        _HELD_OUT_CACHE.popitem(last=False)
    return out


def simulation_score(
    predictions: Mapping[str, str], levels: Sequence[str], activations: Mapping[int, float]
) -> tuple[float, int]:
    """``(score, n)``: the Pearson correlation of predicted levels (their index in
    ``levels``) with the real activations over the ``n`` predicted examples. Predictions that
    do not vary carry no information and score 0; so do activations that do not vary."""
    rows = [int(row) for row in predictions if int(row) in activations]
    if len(rows) < 2:
        return 0.0, len(rows)
    predicted = np.array([levels.index(predictions[str(row)]) for row in rows], dtype=np.float64)
    actual = np.array([activations[row] for row in rows], dtype=np.float64)
    if np.ptp(predicted) == 0 or np.ptp(actual) == 0:
        return 0.0, len(rows)
    return float(np.corrcoef(predicted, actual)[0, 1]), len(rows)
