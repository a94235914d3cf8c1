"""Probe bundles: per-concept labels, the run's activations and deterministic splits.

``export_probe_bundle`` writes, into a folder, one data file (``bundle.h5`` or
``bundle.parquet``), ``manifest.json`` and the dataset card (``card.md``). The data holds one
row per example that any concept labels: its run row and example id, its split, its class
and the model's prediction, its input, the activations of the chosen layers, and one label
per concept (1, 0, or unlabelled). The split of an example depends only on its id (and the
split seed), so it is the same in every bundle of every concept. ``load_bundle`` reads
either format back as a :class:`ProbeBundle`.

Parquet columns: ``row``, ``example_id``, ``split`` (``train``, ``validation``, ``test``),
``label``, ``prediction``, ``input`` (flattened; ``input_shape`` is in the manifest),
``act.<layer>`` (a list per example), and per concept ``concept.<i>`` (1, 0 or null) and
``source.<i>`` (bits, see ``concepts.SOURCES``), ``i`` its index in the manifest.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from tqdm.auto import tqdm

from interpret_review.errors import BundleError, ExportError, UnknownNameError
from interpret_review.export.concepts import SOURCES, ConceptLabels, concept_id, derive_concepts
from interpret_review.export.formats import require_pyarrow, write_text
from interpret_review.export.rows import RowContext
from interpret_review.judgments import JudgmentStore
from interpret_review.review.project import Project
from interpret_review.review.provenance import record_runs
from interpret_review.review.runs import RunSet
from interpret_review.store.bundles import (
    BUNDLE_FORMAT,
    BUNDLE_VERSION,
    read_bundle_h5,
    write_bundle_h5,
)
from interpret_review.store.files import atomic_path

if TYPE_CHECKING:
    from interpret_review.quality.report import QualityReport
    from interpret_review.store import Run

__all__ = ["SPLITS", "BundleResult", "ProbeBundle", "export_probe_bundle", "load_bundle"]

#: The splits and the share of examples each gets by default.
SPLITS: dict[str, float] = {"train": 0.6, "validation": 0.2, "test": 0.2}
_FILES = {"hdf5": "bundle.h5", "parquet": "bundle.parquet"}


@dataclass(frozen=True)
class ProbeBundle:
    """A probe bundle read back: ``labels[:, i]`` is concept ``concepts[i]`` (1, 0, -1)."""

    path: Path
    manifest: dict[str, Any]
    rows: np.ndarray  # (N,) run rows
    example_ids: np.ndarray  # (N,)
    split: np.ndarray  # (N,) str: train, validation or test
    label: np.ndarray  # (N,) the examples' classes
    prediction: np.ndarray  # (N,) the model's predictions
    inputs: np.ndarray  # (N, ...) the model's inputs
    activations: dict[str, np.ndarray]  # layer -> (N, units)
    labels: np.ndarray  # (N, C) int8
    sources: np.ndarray  # (N, C) uint8

    @property
    def concepts(self) -> list[dict[str, Any]]:
        return list(self.manifest["concepts"])

    def concept(self, name: str | int) -> int:
        """The column of a concept given by index, key, or name."""
        for i, c in enumerate(self.concepts):
            if name in (i, c["key"], c["name"]):
                return i
        raise UnknownNameError("concept", name, [c["key"] for c in self.concepts])

    def examples(self, concept: str | int, value: int) -> np.ndarray:
        """Indices (into this bundle's rows) of a concept's positives (1) or negatives (0)."""
        return np.flatnonzero(self.labels[:, self.concept(concept)] == value)


@dataclass(frozen=True)
class BundleResult:
    """What ``export_probe_bundle`` wrote."""

    folder: Path
    data: Path
    manifest: Path
    card: Path | None
    concepts: int
    examples: int


def split_of(example_id: int, seed: int, fractions: dict[str, float]) -> str:
    """The split of an example: fixed by its id and the seed alone."""
    digest = hashlib.blake2b(f"{seed}:{int(example_id)}".encode(), digest_size=8).digest()
    u = int.from_bytes(digest, "big") / 2**64
    edge = 0.0
    for name, share in fractions.items():
        edge += share
        if u < edge:
            return name
    return list(fractions)[-1]


def export_probe_bundle(
    store: JudgmentStore,
    project: Project,
    out: str | Path,
    *,
    run: str | None = None,
    layers: Sequence[str] | None = None,
    format: str = "hdf5",
    split_seed: int = 0,
    splits: dict[str, float] | None = None,
    report: QualityReport | None = None,
    card: bool = True,
    progress: bool = False,
) -> BundleResult:
    """Write a probe bundle of ``project``'s concepts on ``run`` into the folder ``out``.

    ``run`` defaults to the project's only run (or the run of its first neuron task);
    ``layers`` to every layer of it with activations; ``splits`` to :data:`SPLITS`.
    ``report`` is the project's ``QualityReport`` (computed when not given); ``progress``
    shows a progress bar while the examples are read from the run."""
    if format not in _FILES:
        raise UnknownNameError("probe bundle format", format, _FILES)
    fractions = dict(splits or SPLITS)
    if set(fractions) != set(SPLITS) or abs(sum(fractions.values()) - 1) > 1e-9:
        raise ExportError(
            f"splits must give train, validation and test shares summing to 1, got {fractions}"
        )
    if format == "parquet":  # what is missing is said before anything is read or written
        require_pyarrow("a Parquet probe bundle")
    if report is None:
        from interpret_review.export.labels import require_quality

        require_quality("a probe bundle (its concepts come from consensus labels)")
    folder = Path(out)
    if folder.exists() and not folder.is_dir():
        raise ExportError(f"cannot write a probe bundle to {folder}: it is a file; give a folder")
    if not folder.parent.is_dir():
        raise ExportError(
            f"cannot write {folder}: the folder {folder.parent} does not exist; create it"
        )
    folder.mkdir(exist_ok=True)
    history = record_runs(project, store)
    context = RowContext(
        history, pseudonyms=store.pseudonyms(project.name), tiers=store.tiers(project.name)
    )
    if report is None:
        from interpret_review.export.labels import quality_report

        report = quality_report(store, project, "a probe bundle")
    with RunSet(project) as runs:
        the_run = runs[_run_name(project, run)]
        chosen = list(layers) if layers else list(the_run.layers)
        for layer in chosen:
            if layer not in the_run.layers:
                raise UnknownNameError(
                    "layer", layer, the_run.layers, hint=f"(run {the_run.name!r})"
                )
        concepts = derive_concepts(store, project, the_run, report, context)
        if not concepts:
            raise ExportError(
                f"project {project.name!r} has no concept with both positive and negative "
                f"examples on run {the_run.name!r} yet: a neuron needs a consensus label and "
                "marked examples or verify-stage predictions; label more items first"
            )
        rows = np.array(sorted({row for c in concepts for row in c.labels}), dtype=np.int64)
        arrays = _arrays(the_run, rows, chosen, concepts, split_seed, fractions, progress)
        manifest = _manifest(
            project, the_run, history, chosen, concepts, arrays, split_seed, fractions, format
        )
    data = folder / _FILES[format]
    if format == "hdf5":
        write_bundle_h5(data, arrays, manifest)
    else:
        _write_parquet(data, arrays, manifest)
    manifest_path = folder / "manifest.json"
    write_text(manifest_path, json.dumps(manifest, indent=2) + "\n")
    card_file = None
    if card:
        from interpret_review.export.card import write_card

        card_file = write_card(
            folder / "card.md",
            store,
            project,
            report=report,
            context=context,
            files={
                data.name: f"{len(rows)} examples, {len(concepts)} concepts, activations of "
                + ", ".join(chosen),
                manifest_path.name: "what the columns and concepts are",
            },
        )
    return BundleResult(folder, data, manifest_path, card_file, len(concepts), len(rows))


def _run_name(project: Project, run: str | None) -> str:
    if run is not None:
        if run not in project.runs:
            raise UnknownNameError("run", run, project.runs, hint=f"({project.path})")
        return run
    if len(project.runs) == 1:
        return next(iter(project.runs))
    for spec in project.tasks.values():
        if spec.kind == "neuron" and spec.stage == "review":
            return spec.run
    raise ExportError(f"project {project.name!r} has several runs; choose one with run= (--run)")


def _arrays(
    run: Run,
    rows: np.ndarray,
    layers: list[str],
    concepts: list[ConceptLabels],
    seed: int,
    fractions: dict[str, float],
    progress: bool = False,
) -> dict[str, np.ndarray]:
    reading = tqdm(rows.tolist(), desc="bundle examples", unit="example", disable=not progress)
    examples = [run.example(int(r)) for r in reading]
    ids = np.array([e.id for e in examples], dtype=np.int64)
    labels = np.full((len(rows), len(concepts)), -1, dtype=np.int8)
    sources = np.zeros((len(rows), len(concepts)), dtype=np.uint8)
    position = {int(r): i for i, r in enumerate(rows)}
    for j, concept in enumerate(concepts):
        for row, value in concept.labels.items():
            labels[position[row], j] = value
            sources[position[row], j] = concept.sources.get(row, 0)
    arrays = {
        "examples/row": rows,
        "examples/id": ids,
        "examples/split": np.array([split_of(i, seed, fractions) for i in ids], dtype="S10"),
        "examples/label": np.array([e.label for e in examples], dtype=np.int64),
        "examples/prediction": np.array([e.prediction for e in examples], dtype=np.int64),
        "examples/input": _inputs(run, examples),
        "labels": labels,
        "sources": sources,
    }
    for layer in layers:
        arrays[f"activations/{layer}"] = np.asarray(run.activations(layer), dtype=np.float32)[rows]
    return arrays


def _inputs(run: Run, examples: list[Any]) -> np.ndarray:
    """The examples' model inputs as one float32 array: images as stored; a text run's
    token ids padded with its pad id to its longest text (``config["max_tokens"]``)."""
    if getattr(run, "modality", "image") != "text":
        return np.stack([e.input for e in examples]).astype(np.float32)
    config = run.attrs.get("config", {})
    width = int(config.get("max_tokens") or max(len(e.input) for e in examples))
    out = np.full((len(examples), width), float(config.get("pad_id", 0)), dtype=np.float32)
    for i, example in enumerate(examples):
        out[i, : len(example.input)] = example.input
    return out


def _input_note(run: Run) -> dict[str, Any]:
    """What ``examples/input`` holds, for a reader of the manifest."""
    if getattr(run, "modality", "image") != "text":
        return {"kind": "image", "as": "the model's input, float32"}
    return {
        "kind": "token_ids",
        "as": "each text's real tokens from column 0, then pad_id to the run's max_tokens "
        "(a text the model read left-padded, or with gaps in its mask, is packed to the left)",
        "pad_id": int(run.attrs.get("config", {}).get("pad_id", 0)),
    }


def _manifest(
    project: Project,
    run: Run,
    history: Any,
    layers: list[str],
    concepts: list[ConceptLabels],
    arrays: dict[str, np.ndarray],
    seed: int,
    fractions: dict[str, float],
    format: str,
) -> dict[str, Any]:
    from interpret_review._version import __version__

    splits = arrays["examples/split"].astype(str)
    return {
        "format": BUNDLE_FORMAT,
        "version": BUNDLE_VERSION,
        "created": datetime.now(timezone.utc).isoformat(),
        "interpret_review": __version__,
        "project": project.name,
        "file": _FILES[format],
        "file_format": format,
        "run": {
            "name": run.name,
            "run_fingerprint": run.run_fingerprint,
            "model_fingerprint": run.model_fingerprint,
            "dataset_fingerprint": run.dataset_fingerprint,
            "n_examples": run.n_examples,
        },
        "layers": {
            layer: {"units": int(arrays[f"activations/{layer}"].shape[1])} for layer in layers
        },
        "input_shape": list(arrays["examples/input"].shape[1:]),
        "input": _input_note(run),
        "examples": len(arrays["examples/row"]),
        "split": {
            "seed": seed,
            "fractions": fractions,
            "counts": {name: int((splits == name).sum()) for name in fractions},
            "by": "example id",
        },
        "sources": SOURCES,
        "tasks": {name: spec.kind for name, spec in project.tasks.items()},
        "concepts": [
            {
                "index": i,
                "key": c.key,
                "name": c.name,
                "kind": c.kind,
                "task": c.task,
                "address": c.address,
                "category": c.category,
                "positives": c.positives,
                "negatives": c.negatives,
                "by_source": c.by_source(),
                "labels_hash": c.labels_hash,
                "id": concept_id(c),
                "negative_id": concept_id(c, negative=True),
            }
            for i, c in enumerate(concepts)
        ],
    }


def _write_parquet(path: Path, arrays: dict[str, np.ndarray], manifest: dict[str, Any]) -> None:
    pa, pq = require_pyarrow()
    n = len(arrays["examples/row"])
    columns: dict[str, Any] = {
        "row": arrays["examples/row"],
        "example_id": arrays["examples/id"],
        "split": arrays["examples/split"].astype(str),
        "label": arrays["examples/label"],
        "prediction": arrays["examples/prediction"],
        "input": list(arrays["examples/input"].reshape(n, -1)),
    }
    for layer in manifest["layers"]:
        columns[f"act.{layer}"] = list(arrays[f"activations/{layer}"])
    for i in range(arrays["labels"].shape[1]):
        values = arrays["labels"][:, i]
        columns[f"concept.{i}"] = pa.array(values, pa.int8(), mask=values < 0)
        columns[f"source.{i}"] = arrays["sources"][:, i]
    table = pa.table(columns).replace_schema_metadata({"interpret_review": json.dumps(manifest)})
    with atomic_path(path) as partial:
        pq.write_table(table, str(partial), compression="zstd")


def load_bundle(path: str | Path) -> ProbeBundle:
    """Read a probe bundle: its folder, its ``manifest.json``, or its data file."""
    path = Path(path)
    if path.is_dir():
        path = path / "manifest.json"
    if path.name == "manifest.json":
        try:
            manifest = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise BundleError(f"{path}: no such manifest; give a probe bundle's folder") from None
        except ValueError as error:
            raise BundleError(f"{path}: not a JSON manifest ({error})") from None
        if manifest.get("format") != BUNDLE_FORMAT:
            raise BundleError(
                f"{path}: not a probe bundle manifest (format {manifest.get('format')!r})"
            )
        path = path.with_name(str(manifest.get("file", "")))
    if path.suffix == ".parquet":
        return _read_parquet(path)
    arrays, manifest = read_bundle_h5(path)
    return _bundle(path, arrays, manifest)


def _bundle(path: Path, arrays: dict[str, np.ndarray], manifest: dict[str, Any]) -> ProbeBundle:
    try:
        return ProbeBundle(
            path=path,
            manifest=manifest,
            rows=arrays["examples/row"],
            example_ids=arrays["examples/id"],
            split=np.asarray(arrays["examples/split"]).astype(str),
            label=arrays["examples/label"],
            prediction=arrays["examples/prediction"],
            inputs=arrays["examples/input"],
            activations={layer: arrays[f"activations/{layer}"] for layer in manifest["layers"]},
            labels=arrays["labels"],
            sources=arrays["sources"],
        )
    except KeyError as error:
        raise BundleError(f"{path}: a probe bundle without {error}; export it again") from None


def _read_parquet(path: Path) -> ProbeBundle:
    pa, pq = require_pyarrow("reading a Parquet probe bundle")
    if not path.exists():
        raise BundleError(
            f"{path}: no such probe bundle; write one with `interpret-review export --probe-bundle`"
        )
    try:
        table = pq.read_table(str(path))
    except (pa.ArrowInvalid, OSError) as error:
        raise BundleError(f"{path}: not a Parquet probe bundle ({error})") from None
    raw = (table.schema.metadata or {}).get(b"interpret_review")
    if raw is None:
        raise BundleError(f"{path}: a Parquet file but not a probe bundle (no manifest in it)")
    manifest = json.loads(raw)
    n = table.num_rows
    shape = [n, *manifest["input_shape"]]
    concepts = range(len(manifest["concepts"]))
    arrays = {
        "examples/row": table.column("row").to_numpy(),
        "examples/id": table.column("example_id").to_numpy(),
        "examples/split": np.array(table.column("split").to_pylist()),
        "examples/label": table.column("label").to_numpy(),
        "examples/prediction": table.column("prediction").to_numpy(),
        "examples/input": _matrix(table.column("input")).reshape(shape),
        "labels": np.stack(
            [table.column(f"concept.{i}").fill_null(-1).to_numpy() for i in concepts], axis=1
        ).astype(np.int8)
        if concepts
        else np.zeros((n, 0), np.int8),
        "sources": np.stack(
            [table.column(f"source.{i}").to_numpy() for i in concepts], axis=1
        ).astype(np.uint8)
        if concepts
        else np.zeros((n, 0), np.uint8),
    }
    for layer in manifest["layers"]:
        arrays[f"activations/{layer}"] = _matrix(table.column(f"act.{layer}"))
    return _bundle(path, arrays, manifest)


def _matrix(column: Any) -> np.ndarray:
    values = column.combine_chunks()
    return np.asarray(values.flatten().to_numpy(zero_copy_only=False), dtype=np.float32).reshape(
        len(values), -1
    )
