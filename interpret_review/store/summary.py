"""``Run.info()`` and ``Run.describe()``: what ``interpret-review info`` shows about a run."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from interpret_review.store.reader import Run

__all__ = ["describe", "run_info"]


def run_info(run: Run) -> dict[str, Any]:
    """A JSON-able dict: provenance, examples, methods, layers and the shard files."""
    f = run._f
    methods: dict[str, Any] = {}
    text = run.modality == "text"
    for method in run.methods:
        values = f[f"attributions/{method}/{'target' if text else 'values'}"]
        methods[method] = {
            **run.method_info(method),
            "shape": ["tokens"] if text else list(values.shape[1:]),
            "compression": "none" if text else str(values.attrs.get("compression", "none")),
            "sanity": run.sanity(method),
        }
    layers: dict[str, Any] = {}
    for layer in run.layers:
        info = run.layer_info(layer)
        if info["has_neurons"]:
            base = f"layers/{layer}/neurons/"
            info["top_k"] = int(f[base + "topk_index"].shape[1])
            info["n_quantiles"] = int(f[base + "quantile_index"].shape[1])
            info["histogram_bins"] = int(f[base + "histogram"].shape[1])
            if info["has_contexts"]:
                info["window"] = int(f[base + "topk_window"].shape[2])
        layers[layer] = info
    index_bytes = run.path.stat().st_size
    return {
        "path": str(run.path),
        "name": run.name,
        "format": run.attrs["format"],
        "schema_version": run.schema_version,
        "created_at": run.attrs.get("created_at", ""),
        "n_examples": run.n_examples,
        "modality": run.modality,
        "input_shape": ["tokens"] if text else list(f["examples/input"].shape[1:]),
        "n_classes": int(f["examples/logits"].shape[1]),
        "run_fingerprint": run.run_fingerprint,
        "model_fingerprint": run.model_fingerprint,
        "dataset_fingerprint": run.dataset_fingerprint,
        "versions": run.attrs.get("versions", {}),
        "config": run.attrs.get("config", {}),
        "methods": methods,
        "layers": layers,
        "shards": len(run.shards.names),
        "bytes": index_bytes + run.shards.total_bytes,
    }


def describe(info: dict[str, Any]) -> str:
    """Format :func:`run_info`'s dict as aligned lines for a terminal."""
    lines = [
        f"run {info['name']!r}  ({info['path']})",
        f"  format          {info['format']} v{info['schema_version']}, created {info['created_at']}",
        f"  examples        {info['n_examples']}  "
        + (
            "text (token sequences)"
            if info["modality"] == "text"
            else f"input {tuple(info['input_shape'])}"
        )
        + f", {info['n_classes']} classes",
        f"  fingerprints    run {info['run_fingerprint']}  model {info['model_fingerprint'][:16]}"
        f"  data {info['dataset_fingerprint'][:16]}",
        "  versions        " + ", ".join(f"{k} {v}" for k, v in sorted(info["versions"].items())),
        f"  files           index + {info['shards']} shards, {_size(info['bytes'])}",
    ]
    lines.append(f"  methods ({len(info['methods'])})")
    for name, method in info["methods"].items():
        params = ", ".join(f"{k}={v}" for k, v in sorted(method["params"].items()))
        extra = "" if method["compression"] == "none" else f" [{method['compression']}]"
        lines.append(
            f"    {name:<22} {method['class']}{extra}" + (f" ({params})" if params else "")
        )
        sanity = method.get("sanity")
        if sanity:
            lines.append(
                f"    {'':<22} sanity: randomization {sanity.get('randomization')}, "
                f"infidelity {sanity.get('infidelity')}, sensitivity {sanity.get('sensitivity')}"
                f" ({sanity.get('examples')} examples)"
            )
    lines.append(f"  layers ({len(info['layers'])})")
    for name, layer in info["layers"].items():
        neurons = (
            f"top-{layer['top_k']}, {layer['n_quantiles']} quantile samples, "
            f"{layer['histogram_bins']} bins"
            + (f", contexts of {layer['window']} tokens" if "window" in layer else "")
            if layer["has_neurons"]
            else "no neuron evidence"
        )
        lines.append(
            f"    {name:<22} {layer['kind']}, {layer['n_units']} units, "
            f"summary {layer['summary']}; {neurons}"
        )
    return "\n".join(lines)


def _size(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n} B"
