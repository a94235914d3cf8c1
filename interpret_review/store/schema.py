"""Run file schema version 1: dataset table, shard names, provenance attributes.

A run named NAME is the index file ``DIR/NAME.h5`` plus its shards in ``DIR/NAME.shards/``::

    examples-00000.h5, examples-00001.h5, ...   contiguous ranges of example rows
    neurons-<layer>.h5                           the neuron evidence of one layer

Per-example datasets (axis 0 = the N example rows; stored in example shards)::

    examples/id (N,) int64, label (N,) int64, prediction (N,) int64,
    examples/logits (N, n_classes) float32, input (N, C, H, W) float32,
    examples/display (N, H, W) or (N, H, W, 3) uint8
    attributions/<method>/values (N, C, H, W) float16, target (N,) int64, delta (N,) float32
    layers/<layer>/activations (N, U) float32
    layers/<layer>/spatial (N, U, h, w) float16 (optional: a conv layer's activation maps)

A text run (tokens of different lengths) has no ``input``/``display``; its example shards
hold ragged data as flat values plus offsets (ARCHITECTURE.md: 4.8 us a read, against 55 us
for variable-length datasets). ``text/span`` is per example; the flat datasets live in the
shards only, never in the index, on two axes: T tokens and C bytes of token text::

    text/span (N, 4) int64             [token start, token stop, byte start, byte stop) of
                                       the row in ITS SHARD's flat datasets (local offsets)
    text/token_ids (T,) int64          the model's token ids
    text/token_ends (T,) int32         where each token's text ends, in bytes from its row's
                                       first byte
    text/chars (C,) uint8              the tokens' texts as UTF-8, back to back, as the
                                       tokenizer writes them (so the app needs no tokenizer)
    attributions/<method>/token_values (T,) float16   one score per token

Writers pass ``text/span`` as (N, 2) token spans and the texts as ``text/tokens`` (T,) str;
the writer packs them into the layout above (variable-length strings read 5x slower and
took 3x the space).

Per-unit datasets (axis 0 = the U units of a layer; stored in ``neurons-<layer>``)::

    layers/<layer>/neurons/topk_index (U, K) int64, topk_value (U, K) float32,
    quantile_index (U, Q) int64, quantile_value (U, Q) float32, histogram (U, B) int64,
    bin_edges (U, B + 1) float32, attribution (U, K, C, H, W) float16,
    feature_viz (U, D, C, H, W) float32 (optional; D optima per unit, (U, C, H, W) in older
    runs), feature_viz_value (U, D) float32 (the activation each optimum reaches)

A text layer's units have contexts: for each top-k and quantile example, the token where
the unit's activation is largest and a window of W tokens around it (the window is
:func:`~interpret_review.generation.text_neurons.context_window` of that position; NaN past
the text's end), and the neuron attribution of each window's tokens::

    topk_position (U, K) int64, topk_window (U, K, W) float32 activations,
    quantile_position (U, Q) int64, quantile_window (U, Q, W) float32,
    attribution (U, K, W) float16

This module opens no files: it only knows names, dtypes, ranks and attributes.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from interpret_review.addresses import check_name
from interpret_review.errors import ConfigError, UnknownNameError

__all__ = [
    "FORMAT_NAME",
    "LIBVER",
    "REQUIRED_ATTRS",
    "SCHEMA_VERSION",
    "SHARD_FORMAT_NAME",
    "TEXT_SPECS",
    "DatasetSpec",
    "ShardName",
    "attribution_path",
    "canonical_json",
    "dataset_spec",
    "layer_path",
    "neuron_path",
    "parse_shard_name",
    "run_fingerprint",
    "schema_version_of",
]

#: The newest schema this code reads and writes: v2 added ragged text (``text/*``,
#: ``token_values``, neuron contexts), several feature visualizations per unit and
#: per-example activation maps. Runs without any of them are still written as v1, which
#: every older reader opens.
SCHEMA_VERSION = 2
FIRST_SCHEMA_VERSION = 1


def schema_version_of(paths: Collection[str]) -> int:
    """The schema version a file holding the datasets ``paths`` is written as."""
    new = ("/token_values", "/topk_window", "/feature_viz_value", "/spatial")
    v2 = any(p.startswith("text/") or p.endswith(new) for p in paths)
    return SCHEMA_VERSION if v2 else FIRST_SCHEMA_VERSION  # v2: ragged text, neuron contexts


FORMAT_NAME = "interpret-review-run"
SHARD_FORMAT_NAME = "interpret-review-shard"
#: Oldest and newest HDF5 object formats used: files written with "latest" were
#: unreadable by HDF5 1.10 tools (ARCHITECTURE.md, "Run files").
LIBVER = ("v110", "v114")
#: The neuron datasets of a text layer: all of them or none.
CONTEXT_LEAVES = ("topk_position", "topk_window", "quantile_position", "quantile_window")
#: Root attributes the caller of RunWriter must pass.
REQUIRED_ATTRS = ("model_fingerprint", "dataset_fingerprint", "config", "versions")
#: Root attributes stored as JSON text and decoded by the reader.
JSON_ATTRS = ("config", "versions")


@dataclass(frozen=True)
class DatasetSpec:
    """What one dataset of the schema holds. ``ranks``: allowed numbers of dimensions."""

    leaf: str
    dtype: np.dtype
    ranks: tuple[int, ...]
    per_example: bool  # axis 0 is the example row (else the unit of a layer)
    required: bool = True
    #: Axis 0 is a flat axis of an example shard (ragged text: "token" or "char"), read
    #: through ``text/span`` and never joined into the index; "" for row-aligned data.
    flat: str = ""

    @property
    def per_token(self) -> bool:
        """Whether axis 0 is a flat (ragged) axis rather than rows or units."""
        return bool(self.flat)

    @property
    def fill(self) -> float | int:
        """Fill value of the virtual dataset: what a missing source would read as."""
        if self.dtype.kind == "f":
            return float("nan")
        if self.dtype.kind == "u":
            return 0
        return -1


def _spec(
    leaf: str,
    dtype: type,
    ranks: tuple[int, ...],
    per_example: bool,
    required: bool = True,
    flat: str = "",
) -> DatasetSpec:
    return DatasetSpec(leaf, np.dtype(dtype), ranks, per_example, required, flat)


#: Datasets only an image run has (a text run's input is its tokens).
IMAGE_ONLY = ("examples/input", "examples/display")


EXAMPLE_SPECS: dict[str, DatasetSpec] = {
    s.leaf: s
    for s in (
        _spec("id", np.int64, (1,), True),
        _spec("label", np.int64, (1,), True),
        _spec("prediction", np.int64, (1,), True),
        _spec("logits", np.float32, (2,), True),
        _spec("input", np.float32, (4,), True),
        _spec("display", np.uint8, (3, 4), True),
    )
}
ATTRIBUTION_SPECS: dict[str, DatasetSpec] = {
    s.leaf: s
    for s in (
        _spec("values", np.float16, (4,), True),
        _spec("token_values", np.float16, (1,), True, flat="token"),
        _spec("target", np.int64, (1,), True),
        _spec("delta", np.float32, (1,), True, required=False),
    )
}
TEXT_SPECS: dict[str, DatasetSpec] = {
    s.leaf: s
    for s in (
        _spec("span", np.int64, (2,), True),
        _spec("token_ids", np.int64, (1,), True, flat="token"),
        _spec("token_ends", np.int32, (1,), True, flat="token"),
        _spec("chars", np.uint8, (1,), True, flat="char"),
    )
}
ACTIVATION_SPEC = _spec("activations", np.float32, (2,), True)
#: Where each unit fires, for the linked views: a conv layer's activation map per example
#: (N, U, h, w), or a text layer's activation per token (T, U) on the flat token axis.
PLACE_SPECS: dict[str, DatasetSpec] = {
    s.leaf: s
    for s in (
        _spec("spatial", np.float16, (4,), True, required=False),
        _spec("token_activations", np.float16, (2,), True, required=False, flat="token"),
    )
}
NEURON_SPECS: dict[str, DatasetSpec] = {
    s.leaf: s
    for s in (
        _spec("topk_index", np.int64, (2,), False),
        _spec("topk_value", np.float32, (2,), False),
        _spec("quantile_index", np.int64, (2,), False),
        _spec("quantile_value", np.float32, (2,), False),
        _spec("histogram", np.int64, (2,), False),
        _spec("bin_edges", np.float32, (2,), False),
        _spec("attribution", np.float16, (3, 5), False),
        _spec("feature_viz", np.float32, (4, 5), False, required=False),
        _spec("feature_viz_value", np.float32, (2,), False, required=False),
        _spec("topk_position", np.int64, (2,), False, required=False),
        _spec("topk_window", np.float32, (3,), False, required=False),
        _spec("quantile_position", np.int64, (2,), False, required=False),
        _spec("quantile_window", np.float32, (3,), False, required=False),
    )
}

_KNOWN_PATTERNS = (
    [f"examples/{leaf}" for leaf in EXAMPLE_SPECS]
    + [f"text/{leaf}" for leaf in TEXT_SPECS]
    + [f"attributions/<method>/{leaf}" for leaf in ATTRIBUTION_SPECS]
    + ["layers/<layer>/activations"]
    + [f"layers/<layer>/{leaf}" for leaf in PLACE_SPECS]
    + [f"layers/<layer>/neurons/{leaf}" for leaf in NEURON_SPECS]
)


@dataclass(frozen=True)
class DatasetPath:
    """A parsed dataset path: ``group`` is "examples", "attributions/<m>" or "layers/<l>"."""

    path: str
    group: str
    spec: DatasetSpec
    method: str | None = None
    layer: str | None = None


def attribution_path(method: str, dataset: str | None = None) -> str:
    """The group ``attributions/METHOD``, or its dataset ``attributions/METHOD/DATASET``."""
    if dataset is not None and dataset not in ATTRIBUTION_SPECS:
        raise UnknownNameError("attribution dataset", dataset, ATTRIBUTION_SPECS)
    return f"attributions/{method}" if dataset is None else f"attributions/{method}/{dataset}"


def layer_path(layer: str, dataset: str | None = None) -> str:
    """The group ``layers/LAYER``, or its per-example dataset ``layers/LAYER/DATASET``
    (``activations``, ``spatial``, ``token_activations``)."""
    if dataset is not None and dataset != ACTIVATION_SPEC.leaf and dataset not in PLACE_SPECS:
        raise UnknownNameError("layer dataset", dataset, [ACTIVATION_SPEC.leaf, *PLACE_SPECS])
    return f"layers/{layer}" if dataset is None else f"layers/{layer}/{dataset}"


def neuron_path(layer: str, dataset: str = "") -> str:
    """``layers/LAYER/neurons/DATASET``; without a dataset, the prefix of them all."""
    if dataset and dataset not in NEURON_SPECS:
        raise UnknownNameError("neuron dataset", dataset, NEURON_SPECS)
    return f"layers/{layer}/neurons/{dataset}"


def dataset_spec(path: str) -> DatasetPath:
    """Parse a dataset path such as ``"attributions/Saliency/values"`` against the schema."""
    parts = str(path).strip("/").split("/")
    if len(parts) == 2 and parts[0] == "examples" and parts[1] in EXAMPLE_SPECS:
        return DatasetPath(path, "examples", EXAMPLE_SPECS[parts[1]])
    if len(parts) == 2 and parts[0] == "text" and parts[1] in TEXT_SPECS:
        return DatasetPath(path, "text", TEXT_SPECS[parts[1]])
    if len(parts) == 3 and parts[0] == "attributions" and parts[2] in ATTRIBUTION_SPECS:
        method = check_name("attribution method", parts[1])
        return DatasetPath(path, f"attributions/{method}", ATTRIBUTION_SPECS[parts[2]], method)
    if len(parts) == 3 and parts[0] == "layers" and parts[2] == "activations":
        layer = check_name("layer name", parts[1])
        return DatasetPath(path, f"layers/{layer}", ACTIVATION_SPEC, layer=layer)
    if len(parts) == 3 and parts[0] == "layers" and parts[2] in PLACE_SPECS:
        layer = check_name("layer name", parts[1])
        return DatasetPath(path, f"layers/{layer}", PLACE_SPECS[parts[2]], layer=layer)
    if len(parts) == 4 and parts[0] == "layers" and parts[2] == "neurons":
        if parts[3] in NEURON_SPECS:
            layer = check_name("layer name", parts[1])
            return DatasetPath(path, f"layers/{layer}", NEURON_SPECS[parts[3]], layer=layer)
    raise UnknownNameError(
        "dataset path", path, _KNOWN_PATTERNS, hint="See interpret_review/store/schema.py."
    )


def check_group_path(path: str) -> str:
    """Check a group path that may carry attributes ("attributions/<m>" or "layers/<l>")."""
    parts = str(path).strip("/").split("/")
    if len(parts) == 2 and parts[0] == "attributions":
        check_name("attribution method", parts[1])
    elif len(parts) == 2 and parts[0] == "layers":
        check_name("layer name", parts[1])
    else:
        raise ConfigError(
            f"group attributes may only be set on 'attributions/<method>' or "
            f"'layers/<layer>' groups, got {path!r}"
        )
    return "/".join(parts)


@dataclass(frozen=True)
class ShardName:
    """A parsed shard name: ``examples-00003`` (ordinal 3) or ``neurons-conv2``."""

    name: str
    kind: str  # "examples" or "neurons"
    ordinal: int = -1
    layer: str | None = None

    @property
    def filename(self) -> str:
        return self.name + ".h5"


_EXAMPLE_SHARD = re.compile(r"^examples-(\d{5,})$")


def parse_shard_name(name: str) -> ShardName:
    """Parse ``examples-NNNNN`` (five or more digits) or ``neurons-<layer>``."""
    text = str(name)
    if text.endswith(".h5"):
        text = text[:-3]
    match = _EXAMPLE_SHARD.match(text)
    if match:
        return ShardName(text, "examples", ordinal=int(match.group(1)))
    if text.startswith("neurons-") and len(text) > len("neurons-"):
        layer = check_name("layer name", text[len("neurons-") :])
        return ShardName(text, "neurons", layer=layer)
    raise ConfigError(
        f"bad shard name {name!r}: use 'examples-NNNNN' (the shard's ordinal, five digits, "
        "e.g. 'examples-00003') or 'neurons-<layer>' (e.g. 'neurons-conv2')"
    )


def canonical_json(value: Any, what: str) -> str:
    """``value`` (a dict/list or JSON text) as canonical JSON text (sorted keys, no spaces)."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError as err:
            raise ConfigError(f"{what} is not valid JSON ({err}): {value[:80]!r}") from None
    try:
        return json.dumps(value, sort_keys=True, separators=(",", ":"), allow_nan=True)
    except (TypeError, ValueError) as err:
        raise ConfigError(
            f"{what} cannot be stored as JSON ({err}); pass plain dicts, lists, strings and numbers"
        ) from None


def run_fingerprint(model_fingerprint: str, dataset_fingerprint: str, config: Any) -> str:
    """sha256 over model fingerprint + dataset fingerprint + canonical config JSON, 16 hex."""
    text = "\n".join(
        [str(model_fingerprint), str(dataset_fingerprint), canonical_json(config, "config")]
    )
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def check_run_attrs(attrs: Mapping[str, Any]) -> dict[str, Any]:
    """Validate the caller's provenance attributes and return the root attributes to store
    (JSON ones as text, ``run_fingerprint`` computed); ``name``/``created_at`` come later."""
    missing = [key for key in REQUIRED_ATTRS if key not in attrs]
    if missing:
        raise ConfigError(
            f"run attrs lack {', '.join(missing)}; pass attrs={{'model_fingerprint': ..., "
            "'dataset_fingerprint': ..., 'config': {...}, 'versions': {...}}"
        )
    out: dict[str, Any] = {}
    for key, value in attrs.items():
        if key in ("format", "schema_version", "n_examples"):
            raise ConfigError(f"run attr {key!r} is set by the store; remove it from attrs")
        if key in JSON_ATTRS:
            out[key] = canonical_json(value, key)
        elif isinstance(value, (str, int, float, np.integer, np.floating)) and not isinstance(
            value, bool
        ):
            out[key] = value
        else:
            raise ConfigError(
                f"run attr {key!r} must be a string or a number, got {type(value).__name__}; "
                "put structured values into 'config'"
            )
    for key in ("model_fingerprint", "dataset_fingerprint"):
        if not isinstance(out[key], str) or not out[key]:
            raise ConfigError(f"run attr {key!r} must be a non-empty string, got {out[key]!r}")
    versions = json.loads(out["versions"])
    if not isinstance(versions, dict):
        raise ConfigError(
            f"run attr 'versions' must be a dict of package -> version, got {versions!r}"
        )
    out["versions"] = canonical_json({**versions, **_own_versions()}, "versions")
    fingerprint = run_fingerprint(
        out["model_fingerprint"], out["dataset_fingerprint"], out["config"]
    )
    given = out.get("run_fingerprint")
    if given is not None and given != fingerprint:
        raise ConfigError(
            f"run attr 'run_fingerprint' is {given!r} but the fingerprints and config give "
            f"{fingerprint!r}; leave it out, the store computes it"
        )
    out["run_fingerprint"] = fingerprint
    return out


def _own_versions() -> dict[str, str]:
    import platform

    import h5py

    return {"python": platform.python_version(), "numpy": np.__version__, "h5py": h5py.__version__}
