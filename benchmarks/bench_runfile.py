"""Run-file read latency, open time and size. Prints one JSON object on stdout.

    PYTHONPATH=. .venv/bin/python benchmarks/bench_runfile.py [--sizes 1000,100000]
        [--open-size 1000000] [--reads 2000] [--shard-size 1024]

For runs of each size (8x8 single-channel inputs, 3 methods' maps, one layer of 16 units
with activations and neuron evidence) it measures the p50/p99 latency of one review item
read at random (``example`` + ``attribution`` of every method) and of one ``neuron`` card,
over ``--reads`` random reads after a warm-up of 200 (so the first read of some shards,
which opens and checks the shard file, is among them), and again once every shard has been
read (as in a long-running review server); then the time ``open_run`` takes on a
1,000,000-example run made of many shards (tiny per-example shapes), and the file sizes.
"""

from __future__ import annotations

import argparse
import json
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from interpret_review.store import RunWriter, open_run

METHODS = {"Saliency": False, "IntegratedGradients": False, "Occlusion": True}  # compress?
UNITS, K, Q, B = 16, 9, 8, 40
ATTRS = {
    "model_fingerprint": "bench-model",
    "dataset_fingerprint": "bench-data",
    "config": {"bench": True},
    "versions": {"interpret_review": "bench"},
}


def _group_attrs() -> dict[str, dict]:
    attrs: dict[str, dict] = {f"attributions/{m}": {"class": m, "params": {}} for m in METHODS}
    attrs["layers/conv"] = {"summary": "max", "kind": "conv", "n_units": UNITS}
    return attrs


def _example_columns(start: int, stop: int, shape: tuple[int, ...], full: bool) -> dict:
    rng = np.random.default_rng(start)
    n = stop - start
    cols = {
        "examples/id": np.arange(start, stop),
        "examples/label": rng.integers(0, 10, n),
        "examples/prediction": rng.integers(0, 10, n),
        "examples/logits": rng.normal(size=(n, 10 if full else 1)).astype(np.float32),
        "examples/input": rng.normal(size=(n, *shape)).astype(np.float32),
        "examples/display": rng.integers(0, 256, (n, *shape[1:]), dtype=np.uint8),
    }
    if full:
        cols["layers/conv/activations"] = rng.normal(size=(n, UNITS)).astype(np.float32)
        for method, blocky in METHODS.items():
            values = rng.normal(size=(n, *shape))
            if blocky:  # occlusion-like maps are constant over 4x4 blocks
                values = np.repeat(np.repeat(values[..., ::4, ::4], 4, -2), 4, -1)
            cols[f"attributions/{method}/values"] = values.astype(np.float16)
            cols[f"attributions/{method}/target"] = rng.integers(0, 10, n)
            cols[f"attributions/{method}/delta"] = rng.normal(size=n).astype(np.float32)
    return cols


def _write(path: Path, n: int, shard_size: int, shape: tuple[int, ...], full: bool) -> float:
    t0 = time.perf_counter()
    writer = RunWriter(path, attrs=ATTRS)
    compress = {f"attributions/{m}/values" for m, blocky in METHODS.items() if blocky and full}
    for ordinal, start in enumerate(range(0, n, shard_size)):
        cols = _example_columns(start, min(start + shard_size, n), shape, full)
        writer.write_shard(
            f"examples-{ordinal:05d}",
            cols,
            group_attrs=_group_attrs() if full else {},
            compress=compress,
        )
    if full:
        rng = np.random.default_rng(1)
        base = "layers/conv/neurons/"
        writer.write_shard(
            "neurons-conv",
            {
                base + "topk_index": rng.integers(0, n, (UNITS, K)),
                base + "topk_value": rng.normal(size=(UNITS, K)).astype(np.float32),
                base + "quantile_index": rng.integers(0, n, (UNITS, Q)),
                base + "quantile_value": rng.normal(size=(UNITS, Q)).astype(np.float32),
                base + "histogram": rng.integers(0, 100, (UNITS, B)),
                base + "bin_edges": np.sort(rng.normal(size=(UNITS, B + 1)), 1).astype(np.float32),
                base + "attribution": rng.normal(size=(UNITS, K, *shape)).astype(np.float16),
            },
        )
    writer.finalize(n_examples=n)
    return time.perf_counter() - t0


def _percentiles(seconds: list[float]) -> dict[str, float]:
    ms = np.asarray(seconds) * 1000
    return {
        "p50_ms": round(float(np.percentile(ms, 50)), 4),
        "p99_ms": round(float(np.percentile(ms, 99)), 4),
        "max_ms": round(float(ms.max()), 4),
    }


def _bench_reads(path: Path, reads: int) -> dict:
    run = open_run(path)
    rng = np.random.default_rng(0)
    n = run.n_examples

    def item(row: int) -> None:
        run.example(row)
        for method in run.methods:
            run.attribution(method, row)

    for row in rng.integers(0, n, 200):  # warm-up: opens datasets and shard files
        item(int(row))
        run.neuron("conv", int(row) % UNITS)
    item_times, neuron_times = [], []
    for row in rng.integers(0, n, reads):
        t0 = time.perf_counter()
        item(int(row))
        item_times.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        run.neuron("conv", int(row) % UNITS)
        neuron_times.append(time.perf_counter() - t0)
    # a long-running review server has opened every shard after a while: read again warm
    for start in range(0, n, 512):
        item(start)
    warm_times = []
    for row in rng.integers(0, n, reads):
        t0 = time.perf_counter()
        item(int(row))
        warm_times.append(time.perf_counter() - t0)
    t0 = time.perf_counter()
    run.activations("conv")
    column_s = time.perf_counter() - t0
    run.close()
    return {
        "item_read": _percentiles(item_times),
        "item_read_all_shards_open": _percentiles(warm_times),
        "neuron_read": _percentiles(neuron_times),
        "activations_column_s": round(column_s, 4),
    }


def _sizes(path: Path) -> dict:
    shards = path.with_name(path.stem + ".shards")
    shard_bytes = sum(p.stat().st_size for p in shards.iterdir())
    return {
        "index_bytes": path.stat().st_size,
        "shard_bytes": shard_bytes,
        "n_shards": len(list(shards.iterdir())),
    }


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,100000")
    parser.add_argument("--open-size", type=int, default=1_000_000)
    parser.add_argument("--reads", type=int, default=2000)
    parser.add_argument("--shard-size", type=int, default=1024)
    args = parser.parse_args(argv)
    out: dict = {
        "benchmark": "runfile",
        "python": platform.python_version(),
        "shape": [1, 8, 8],
        "methods": list(METHODS),
        "units": UNITS,
        "shard_size": args.shard_size,
        "runs": {},
    }
    tmp = Path(tempfile.mkdtemp(prefix="bench-runfile-"))
    try:
        for n in [int(s) for s in args.sizes.split(",") if s]:
            path = tmp / f"run{n}.h5"
            write_s = _write(path, n, args.shard_size, (1, 8, 8), full=True)
            out["runs"][str(n)] = {"write_s": round(write_s, 3), **_sizes(path)}
            out["runs"][str(n)].update(_bench_reads(path, args.reads))
        if args.open_size:
            path = tmp / "open.h5"
            write_s = _write(path, args.open_size, args.shard_size, (1, 2, 2), full=False)
            times = []
            for _ in range(5):
                t0 = time.perf_counter()
                run = open_run(path)
                times.append(time.perf_counter() - t0)
                run.close()
            out["open"] = {
                "n_examples": args.open_size,
                "write_s": round(write_s, 3),
                **_sizes(path),
                "open_ms_first": round(times[0] * 1000, 3),
                "open_ms_median": round(float(np.median(times)) * 1000, 3),
            }
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    json.dump(out, sys.stdout)
    sys.stdout.write("\n")
    return out


if __name__ == "__main__":
    main()
