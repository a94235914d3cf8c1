"""``Run.info()`` and ``Run.describe()``: what ``interpret-review info`` shows about a run."""

from __future__ import annotations

from typing import Any

__all__ = ["describe"]


def describe(info: dict[str, Any]) -> str:
    """Format ``Run.info()``'s dict as aligned lines for a terminal."""
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
