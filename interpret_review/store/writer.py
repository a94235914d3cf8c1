"""RunWriter: write a run as atomic shards, then join them with a virtual-dataset index.

Usage (what ``generate`` does)::

    writer = RunWriter("runs/digits.h5", attrs={"model_fingerprint": ..., "dataset_fingerprint":
                       ..., "config": {...}, "versions": {...}})
    for i, rows in enumerate(batches):               # skip what an earlier attempt finished
        if not writer.has_shard(f"examples-{i:05d}"):
            writer.write_shard(f"examples-{i:05d}", {"examples/input": x, ...})
    writer.write_shard("neurons-conv2", {"layers/conv2/neurons/topk_index": ..., ...})
    writer.finalize(n_examples=N)                    # writes runs/digits.h5 last
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from interpret_review.addresses import check_name
from interpret_review.errors import ConfigError, DamagedRunError, DataError, UnknownNameError
from interpret_review.store.files import PARTIAL_SUFFIX, Groups, atomic_h5, walk_datasets
from interpret_review.store.index import build_index
from interpret_review.store.schema import (
    ATTRIBUTION_SPECS,
    CONTEXT_LEAVES,
    EXAMPLE_SPECS,
    IMAGE_ONLY,
    NEURON_SPECS,
    SHARD_FORMAT_NAME,
    TEXT_SPECS,
    DatasetPath,
    attribution_path,
    canonical_json,
    check_group_path,
    check_run_attrs,
    dataset_spec,
    neuron_path,
    parse_shard_name,
    schema_version_of,
)

__all__ = ["RunWriter", "shards_dir_of"]


def shards_dir_of(index: Path) -> Path:
    """``DIR/NAME.h5`` -> ``DIR/NAME.shards``."""
    return index.with_name(index.stem + ".shards")


class RunWriter:
    """Writes one run: shards first (each atomic, never rewritten), the index file last.

    ``path`` is the index file ``DIR/NAME.h5``; shards go to ``DIR/NAME.shards/``. ``attrs``
    are the provenance attributes: ``model_fingerprint``, ``dataset_fingerprint``, ``config``
    (dict or JSON text), ``versions`` (dict), optionally ``name`` and other strings/numbers.
    Reopening the same path with the same fingerprints and config resumes: finished shards
    are kept (see :meth:`has_shard`), stale ``*.partial`` files are removed.
    """

    def __init__(self, path: str | Path, *, attrs: Mapping[str, Any]) -> None:
        self.path = Path(path)
        if self.path.suffix != ".h5":
            raise ConfigError(
                f"run path {str(self.path)!r} must name the index file DIR/NAME.h5 "
                f"(e.g. {str(self.path.with_suffix('.h5'))!r})"
            )
        self.root_attrs = check_run_attrs(attrs)
        self.name = check_name("run name", str(self.root_attrs.get("name", self.path.stem)))
        self.root_attrs["name"] = self.name
        self.run_fingerprint: str = self.root_attrs["run_fingerprint"]
        self.shards_dir = shards_dir_of(self.path)
        #: What this writer wrote, by shard file name, so finalize need not reopen those
        #: shards: rows, start, {dataset: (shape, dtype, compression)}, group attrs, bytes.
        self.written: dict[str, dict[str, Any]] = {}
        self.shards_dir.mkdir(parents=True, exist_ok=True)
        for stale in [*self.shards_dir.glob("*" + PARTIAL_SUFFIX)]:
            stale.unlink()
        self.path.with_name(self.path.name + PARTIAL_SUFFIX).unlink(missing_ok=True)
        self._check_resume()

    # -- shards ----------------------------------------------------------------------------

    def has_shard(self, name: str) -> bool:
        """Whether shard ``name`` ("examples-00003", "neurons-conv2") is finished."""
        return (self.shards_dir / parse_shard_name(name).filename).is_file()

    def shard_names(self) -> list[str]:
        """Finished shards, example shards first (by ordinal), then neuron shards by name."""
        names = [parse_shard_name(p.name) for p in self.shards_dir.glob("*.h5")]
        names.sort(key=lambda s: (s.kind != "examples", s.ordinal, s.name))
        return [s.name for s in names]

    def write_shard(
        self,
        name: str,
        datasets: Mapping[str, np.ndarray],
        *,
        group_attrs: Mapping[str, Mapping[str, Any]] = {},  # noqa: B006 (never mutated)
        compress: Collection[str] = (),
        start: int | None = None,
    ) -> Path:
        """Write shard ``name`` atomically and return its path.

        ``datasets`` maps schema paths ("examples/input", "attributions/Saliency/values",
        "layers/conv2/activations", "layers/conv2/neurons/topk_index", ...) to arrays whose
        axis 0 is the shard's example rows (example shards) or the layer's units (neuron
        shards). ``compress`` names datasets to store with gzip level 1. ``start`` (optional)
        is the first example row of an example shard; ``finalize`` checks it.

        A text shard's flat datasets (``text/token_ids``, ``text/tokens`` (str),
        ``attributions/<m>/token_values``) have axis 0 = the shard's tokens, row after row;
        ``text/span`` (rows, 2) gives each row's ``[start, stop)`` in them (starting at 0 in
        every shard). The texts are stored packed as UTF-8 (see the schema).
        """
        shard = parse_shard_name(name)
        final = self.shards_dir / shard.filename
        if final.exists():
            raise ConfigError(
                f"shard {shard.name!r} of run {self.name!r} is already finished ({final}); "
                "finished shards are never rewritten: check writer.has_shard() first"
            )
        arrays = _check_shard_arrays(
            shard.name, shard.kind, shard.layer, _pack_text(shard.name, datasets)
        )
        for key in compress:
            if key not in arrays:
                raise UnknownNameError(
                    "dataset to compress", key, arrays, hint=f"(shard {shard.name!r})"
                )
        attrs = {check_group_path(g): _encode_group_attrs(g, a) for g, a in group_attrs.items()}
        rows = next(a for p, a in arrays.values() if not p.spec.per_token).shape[0]
        with atomic_h5(final) as f:
            group_of = Groups(f)
            f.attrs["format"] = SHARD_FORMAT_NAME
            f.attrs["schema_version"] = schema_version_of(arrays)
            f.attrs["shard"] = shard.name
            f.attrs["run_fingerprint"] = self.run_fingerprint
            f.attrs["rows"] = rows
            f.attrs["start"] = -1 if start is None else int(start)
            for path, (parsed, array) in arrays.items():
                group_of(parsed.group)
                f.create_dataset(
                    path,
                    data=array,
                    chunks=(chunk_rows(array, path in compress), *array.shape[1:]),
                    fillvalue=parsed.spec.fill,
                    **({"compression": "gzip", "compression_opts": 1} if path in compress else {}),
                )
            for group, values in attrs.items():
                group_of(group).attrs.update(values)
        self.written[final.name] = {
            "rows": rows,
            "start": -1 if start is None else int(start),
            "datasets": {
                path: (array.shape, array.dtype, "gzip" if path in compress else "")
                for path, (_, array) in arrays.items()
            },
            "group_attrs": {g: dict(v) for g, v in attrs.items()},
            "nbytes": final.stat().st_size,
        }
        return final

    def read_shard_column(self, name: str, dataset: str) -> np.ndarray:
        """The whole of ``dataset`` of finished shard ``name`` (e.g. the activations of an
        example shard, to compute neuron statistics after a resume)."""
        shard = parse_shard_name(name)
        path = self.shards_dir / shard.filename
        if not path.is_file():
            raise UnknownNameError(
                "finished shard", shard.name, self.shard_names(), hint=f"(in {self.shards_dir})"
            )
        try:
            with h5py.File(path, "r") as f:
                if dataset not in f or not isinstance(f[dataset], h5py.Dataset):
                    known = [p for p, _ in walk_datasets(f)]
                    raise UnknownNameError("dataset", dataset, known, hint=f"(shard {path})")
                return np.asarray(f[dataset][()])
        except OSError as err:
            raise DamagedRunError(
                path, f"shard cannot be read ({err}); delete it and resume"
            ) from None

    # -- index -----------------------------------------------------------------------------

    def finalize(
        self,
        *,
        n_examples: int,
        group_attrs: Mapping[str, Mapping[str, Any]] = {},  # noqa: B006 (never mutated)
    ) -> Path:
        """Build the index file ``DIR/NAME.h5`` from every finished shard, atomically.

        Example shards are joined in ordinal order along axis 0 and must tile rows
        0..n_examples-1 exactly; neuron shards are mapped whole. ``group_attrs`` override
        the group attributes found in the shards. Returns the index path.
        """
        extra = {check_group_path(g): _encode_group_attrs(g, a) for g, a in group_attrs.items()}
        return build_index(self, n_examples=n_examples, group_attrs=extra)

    # -- helpers ---------------------------------------------------------------------------

    def _check_resume(self) -> None:
        """Refuse to mix shards of a different run (other model, data or config)."""
        found: list[tuple[Path, str]] = []
        if self.path.is_file():
            found.append((self.path, "index file"))
        found += [(p, "shard") for p in sorted(self.shards_dir.glob("*.h5"))]
        for path, what in found:
            try:
                with h5py.File(path, "r") as f:
                    other = f.attrs.get("run_fingerprint")
            except OSError as err:
                raise DamagedRunError(
                    path, f"existing {what} cannot be read ({err}); delete it and run again"
                ) from None
            other = other.decode() if isinstance(other, bytes) else other
            if other != self.run_fingerprint:
                raise ConfigError(
                    f"{self.shards_dir} holds a run with another fingerprint ({other!r} in "
                    f"{path.name}, this run is {self.run_fingerprint!r}: the model, dataset or "
                    "config changed); delete the old run (index file and shards folder) or "
                    "choose another output path"
                )


#: Rows are grouped into chunks of about this many bytes: one row per chunk for the big
#: arrays a reviewer's item reads (an image, a map), many for small rows (a label, a delta).
CHUNK_BYTES = 16 * 1024
#: Compressed chunks are decompressed whole on every read, so they stay smaller.
COMPRESSED_CHUNK_BYTES = 4 * 1024


def chunk_rows(array: np.ndarray, compressed: bool) -> int:
    """Rows per chunk of ``array`` (axis 0 = rows): at least 1, at most all of them."""
    row_bytes = max(1, int(np.prod(array.shape[1:], dtype=np.int64)) * array.dtype.itemsize)
    target = COMPRESSED_CHUNK_BYTES if compressed else CHUNK_BYTES
    return int(min(max(1, target // row_bytes), array.shape[0]))


def _check_shard_arrays(
    shard: str, kind: str, layer: str | None, datasets: Mapping[str, Any]
) -> dict[str, tuple[DatasetPath, np.ndarray]]:
    """Parse, type-check and convert the arrays of one shard."""
    if not datasets:
        raise DataError(f"shard {shard!r} has no datasets; pass at least one array")
    out: dict[str, tuple[DatasetPath, np.ndarray]] = {}
    rows: int | None = None
    flat: dict[str, tuple[str, int]] = {}  # flat axis -> its first dataset and its length
    for key, value in datasets.items():
        parsed = dataset_spec(key)
        path = "/".join(key.strip("/").split("/"))
        if kind == "examples" and not parsed.spec.per_example:
            raise ConfigError(f"{path!r} is neuron evidence: write it to shard 'neurons-<layer>'")
        if kind == "neurons" and (parsed.spec.per_example or parsed.layer != layer):
            raise ConfigError(
                f"shard {shard!r} holds only 'layers/{layer}/neurons/*' datasets, got {path!r}"
            )
        array = _convert(shard, path, parsed, value)
        if parsed.spec.per_token:
            first, length = flat.setdefault(parsed.spec.flat, (path, array.shape[0]))
            if array.shape[0] != length:
                raise DataError(
                    f"shard {shard!r}: {path!r} has {array.shape[0]} tokens but {first!r} "
                    f"has {length}; every flat token dataset of a shard has the same length"
                )
            out[path] = (parsed, array)
            continue
        if rows is None:
            rows = array.shape[0]
        elif array.shape[0] != rows:
            first = next(p for p, (q, _) in out.items() if not q.spec.per_token)
            raise DataError(
                f"shard {shard!r}: {path!r} has {array.shape[0]} rows but {first!r} has {rows}; "
                "every dataset of a shard has the same axis 0"
            )
        out[path] = (parsed, array)
    if rows is None:
        raise DataError(
            f"shard {shard!r} holds only flat token datasets; it needs its per-example ones "
            "(examples/id, ..., text/span) too"
        )
    required = _required(kind, layer, out)
    missing = [p for p in required if p not in out]
    if missing:
        raise DataError(f"shard {shard!r} lacks the datasets {missing}; every shard needs them")
    return out


def _required(kind: str, layer: str | None, arrays: Mapping[str, Any]) -> list[str]:
    if kind == "neurons":
        base = neuron_path(str(layer))
        required = [base + leaf for leaf, s in NEURON_SPECS.items() if s.required]
        if any(base + leaf in arrays for leaf in CONTEXT_LEAVES):  # a text layer
            required += [base + leaf for leaf in CONTEXT_LEAVES]
        return required
    text = any(p.startswith("text/") for p in arrays)
    if text:
        wrong = [p for p in arrays if p in IMAGE_ONLY or p.endswith("/values")]
        if wrong:
            raise ConfigError(
                f"a text shard has no {wrong}: its input is text/token_ids and its scores are "
                "attributions/<method>/token_values, one per token"
            )
        required = [
            f"examples/{leaf}" for leaf in EXAMPLE_SPECS if f"examples/{leaf}" not in IMAGE_ONLY
        ]
        required += [f"text/{leaf}" for leaf in TEXT_SPECS]
    else:
        required = [f"examples/{leaf}" for leaf in EXAMPLE_SPECS]
    methods = {p.split("/")[1] for p in arrays if p.startswith("attributions/")}
    for method in sorted(methods):
        required += [
            attribution_path(method, leaf)
            for leaf, s in ATTRIBUTION_SPECS.items()
            if (s.required and leaf not in ("values", "token_values"))
            or leaf == ("token_values" if text else "values")
        ]
    return required


def _pack_text(shard: str, datasets: Mapping[str, Any]) -> Mapping[str, Any]:
    """A text shard's ``text/tokens`` (str) and (rows, 2) token spans as stored: the texts
    as UTF-8 bytes (``text/chars``), each token's end in its row (``text/token_ends``), and
    ``text/span`` (rows, 4) with the rows' byte ranges."""
    keys = {"/".join(k.strip("/").split("/")): k for k in datasets}
    if not any(k.startswith("text/") for k in keys):
        return datasets
    for needed in ("text/span", "text/tokens"):
        if needed not in keys:
            raise DataError(
                f"shard {shard!r} lacks the datasets ['{needed}']; a text shard gives "
                "text/span (rows, 2), text/token_ids and text/tokens (str), one per token"
            )
    for packed in ("text/chars", "text/token_ends"):
        if packed in keys:
            raise ConfigError(
                f"shard {shard!r}: {packed!r} is written by the store; pass text/tokens"
            )
    tokens = np.asarray(datasets[keys["text/tokens"]], dtype=object)
    if tokens.ndim != 1 or not all(isinstance(t, str) for t in tokens):
        raise DataError(f"shard {shard!r}: 'text/tokens' must hold text (str), one per token")
    spans = np.asarray(datasets[keys["text/span"]])
    if spans.ndim != 2 or spans.shape[1] != 2 or spans.dtype.kind not in "iu" or not len(spans):
        raise DataError(
            f"shard {shard!r}: 'text/span' has shape {spans.shape} {spans.dtype}; give (rows, 2) "
            "whole numbers: [start, stop) of each row's tokens"
        )
    _check_spans(shard, spans, len(tokens))
    encoded = [t.encode("utf-8") for t in tokens]
    sizes = np.array([len(b) for b in encoded], dtype=np.int64)
    ends = np.cumsum(sizes)
    byte_stop = np.array([ends[stop - 1] if stop else 0 for stop in spans[:, 1]], dtype=np.int64)
    byte_start = np.concatenate([[0], byte_stop[:-1]])
    row_of_token = np.repeat(np.arange(len(spans)), spans[:, 1] - spans[:, 0])
    out = {k: v for k, v in datasets.items() if _key(k) not in ("text/tokens", "text/span")}
    out["text/span"] = np.column_stack([spans, byte_start, byte_stop])
    out["text/token_ends"] = (ends - byte_start[row_of_token]).astype(np.int32)
    out["text/chars"] = np.frombuffer(b"".join(encoded) or b"\0", dtype=np.uint8)
    return out


def _key(key: str) -> str:
    return "/".join(key.strip("/").split("/"))


def _check_spans(shard: str, spans: np.ndarray, n_tokens: int) -> None:
    """Rows' token spans must tile the shard's flat datasets, in row order, from 0."""
    starts, stops = spans[:, 0], spans[:, 1]
    problem = None
    if starts[0] != 0 or stops[-1] != n_tokens:
        problem = f"it runs from {starts[0]} to {stops[-1]} but the shard holds {n_tokens} tokens"
    elif np.any(stops < starts) or np.any(starts[1:] != stops[:-1]):
        problem = "each row must start where the one before it stops"
    if problem:
        raise DataError(f"shard {shard!r}: 'text/span' is wrong: {problem}")


def _convert(shard: str, path: str, parsed: DatasetPath, value: Any) -> np.ndarray:
    array = np.asarray(value)
    spec = parsed.spec
    if array.ndim not in spec.ranks:
        raise DataError(
            f"shard {shard!r}: {path!r} has shape {array.shape} ({array.ndim} dimensions); "
            f"the schema wants {' or '.join(str(r) for r in spec.ranks)} dimensions"
        )
    if 0 in array.shape:
        raise DataError(f"shard {shard!r}: {path!r} has an empty shape {array.shape}")
    if spec.dtype.kind in "iu" and array.dtype.kind not in "iu":
        raise DataError(
            f"shard {shard!r}: {path!r} must hold whole numbers ({spec.dtype}), got {array.dtype}"
        )
    if spec.dtype.kind == "f" and array.dtype.kind not in "fiu":
        raise DataError(f"shard {shard!r}: {path!r} must hold numbers, got {array.dtype}")
    if spec.dtype == np.uint8 and array.dtype != np.uint8:
        if array.min() < 0 or array.max() > 255:
            raise DataError(
                f"shard {shard!r}: {path!r} must hold uint8 pixels 0..255, got values in "
                f"{array.min()}..{array.max()}"
            )
    if path.endswith("examples/display") and array.ndim == 4 and array.shape[-1] != 3:
        raise DataError(
            f"shard {shard!r}: {path!r} has shape {array.shape}; colour display images are "
            "(N, H, W, 3), grey ones (N, H, W)"
        )
    return np.ascontiguousarray(array, dtype=spec.dtype)


def _encode_group_attrs(group: str, attrs: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in attrs.items():
        if key == "params" or isinstance(value, (dict, list, tuple)):
            out[key] = canonical_json(value, f"{group} attribute {key!r}")
        elif isinstance(value, (str, int, float, np.integer, np.floating)):
            out[key] = value
        else:
            raise ConfigError(
                f"{group} attribute {key!r} must be a string, number or JSON-able dict/list, "
                f"got {type(value).__name__}"
            )
    return out
