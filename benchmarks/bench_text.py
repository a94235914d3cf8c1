"""Text runs: the storage overhead of generating one, and ragged read latency. Prints JSON.

    .venv/bin/python benchmarks/bench_text.py [--texts 480] [--repeat 3] [--rows 100000]
        [--reads 2000] [--device cpu]

1. **Generation overhead.** ``generate`` on the planted-word text model (three token
   attribution methods, neuron evidence for its 64-unit MLP) against the same Captum calls
   on the same batches with nothing stored (forward pass with the layer hook, the three
   methods, neuron integrated gradients on each unit's top-k texts), in alternating rounds;
   the ratio of median wall times and the median of the paired ratios.
2. **Ragged read latency.** A synthetic text run of ``--rows`` texts (8 to 64 tokens, three
   methods) written through RunWriter; p50/p99 of one review item read at random
   (``run.tokens`` + every method's ``attribution``) against the same item read from a
   padded layout (ids and scores as ``(N, 64)`` datasets, one row per chunk) with raw
   h5py in the same file system, and both files' sizes. Then the render time of the two
   text viewers on the planted run.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

import h5py
import numpy as np
import torch

METHODS = ["LayerIntegratedGradients", "Saliency", "FeatureAblation"]
LAYER = "block.linear1"


def bare(model, data, settings) -> None:
    """The Captum work of a text ``generate`` without storage."""
    from interpret_review.generation.neurons import neuron_statistics
    from interpret_review.generation.text import token_attributions
    from interpret_review.generation.text_neurons import (
        neuron_token_attributions,
        summarise,
        token_activations,
    )

    layer = dict(model.named_modules())[LAYER]
    summaries, positions = [], []
    for start in range(0, len(data), settings.batch_size):
        ids = torch.as_tensor(data.ids[start : start + settings.batch_size])
        mask = torch.as_tensor(data.mask[start : start + settings.batch_size])
        acts = token_activations(model, layer, ids, mask)
        with torch.no_grad():
            target = model(ids, mask).argmax(1)
        summary, position = summarise(acts, mask)
        summaries.append(summary)
        positions.append(position)
        for method in METHODS:
            params = {"n_steps": settings.ig_steps} if method == "LayerIntegratedGradients" else {}
            token_attributions(model, ids, mask, target, method, params=params)
    summary, position = np.concatenate(summaries), np.concatenate(positions)
    stats = neuron_statistics(summary, top_k=settings.top_k, n_quantiles=settings.n_quantiles,
                              bins=settings.histogram_bins, seed=0, layer=LAYER)  # fmt: skip
    for unit, rows in enumerate(stats["topk_index"]):
        neuron_token_attributions(
            model, layer, unit, torch.as_tensor(data.ids[rows]), torch.as_tensor(data.mask[rows]),
            torch.as_tensor(position[rows, unit]), n_steps=settings.ig_steps,
        )  # fmt: skip


def generation(texts: int, repeat: int, tmp: Path) -> dict:
    from interpret_review.generation import generate
    from interpret_review.generation.text import TextData
    from interpret_review.generation.zoo_text import planted_corpus, planted_text_model, vocabulary
    from interpret_review.settings import Settings

    start = time.perf_counter()
    model = planted_text_model(seed=0)
    trained = time.perf_counter() - start
    corpus = planted_corpus(texts, seed=1)
    data = TextData.from_ids(corpus.ids, vocabulary(), labels=corpus.labels)
    settings = Settings()
    wall: dict[str, list[float]] = {"generate": [], "bare": []}
    for round_ in range(repeat + 1):  # round 0 warms up
        order = ["generate", "bare"] if round_ % 2 else ["bare", "generate"]
        for which in order:
            t0 = time.perf_counter()
            if which == "generate":
                generate(model, data, out=tmp / f"gen-{round_}" / "planted.h5", layers=[LAYER],
                         settings=settings, progress=False)  # fmt: skip
            else:
                model.eval().requires_grad_(False)
                bare(model, data, settings)
            if round_:
                wall[which].append(time.perf_counter() - t0)
    gen, ref = statistics.median(wall["generate"]), statistics.median(wall["bare"])
    paired = [g / b for g, b in zip(wall["generate"], wall["bare"], strict=True)]
    return {
        "texts": texts,
        "model_train_s": round(trained, 3),
        "generate_s": round(gen, 4),
        "captum_only_s": round(ref, 4),
        "ratio": round(gen / ref, 4),
        "paired_ratio": round(statistics.median(paired), 4),
        "texts_per_s": round(texts / gen, 1),
        "generate_s_all": [round(t, 4) for t in wall["generate"]],
        "captum_only_s_all": [round(t, 4) for t in wall["bare"]],
    }


def _percentiles(samples: list[float]) -> dict:
    us = np.array(samples) * 1e6
    return {"p50_us": round(float(np.percentile(us, 50)), 1),
            "p99_us": round(float(np.percentile(us, 99)), 1)}  # fmt: skip


def ragged_reads(rows: int, reads: int, tmp: Path) -> dict:
    from interpret_review.store import RunWriter, open_run

    rng = np.random.default_rng(0)
    lengths = rng.integers(8, 65, size=rows)
    attrs = {"model_fingerprint": "bench", "dataset_fingerprint": "bench", "config": {},
             "versions": {}}  # fmt: skip
    writer = RunWriter(tmp / "ragged" / "text.h5", attrs=attrs)
    words = np.array([f"w{i}" for i in range(5000)], dtype=object)
    shard_size = 1024
    for index, start in enumerate(range(0, rows, shard_size)):
        part = lengths[start : start + shard_size]
        stops = np.cumsum(part)
        n = int(stops[-1])
        ids = rng.integers(0, 5000, size=n)
        columns = {
            "examples/id": np.arange(start, start + len(part)),
            "examples/label": np.zeros(len(part), dtype=np.int64),
            "examples/prediction": np.zeros(len(part), dtype=np.int64),
            "examples/logits": np.zeros((len(part), 2), dtype=np.float32),
            "text/span": np.stack([stops - part, stops], axis=1),
            "text/token_ids": ids,
            "text/tokens": words[ids],
        }
        for method in METHODS:
            columns[f"attributions/{method}/token_values"] = rng.standard_normal(n)
            columns[f"attributions/{method}/target"] = np.zeros(len(part), dtype=np.int64)
        writer.write_shard(f"examples-{index:05d}", columns, start=start)
    path = writer.finalize(
        n_examples=rows,
        group_attrs={f"attributions/{m}": {"class": m} for m in METHODS},
    )
    ragged_bytes = sum(p.stat().st_size for p in path.parent.rglob("*.h5"))

    padded = tmp / "padded.h5"
    with h5py.File(padded, "w", libver=("v110", "v114")) as f:
        for start in range(0, rows, 8192):
            part = lengths[start : start + 8192]
            if start == 0:
                f.create_dataset("ids", (rows, 64), dtype=np.int64, chunks=(1, 64))
                for method in METHODS:
                    f.create_dataset(method, (rows, 64), dtype=np.float16, chunks=(1, 64))
            mask = np.arange(64)[None] < part[:, None]
            f["ids"][start : start + len(part)] = np.where(mask, 1, 0)
            for method in METHODS:
                f[method][start : start + len(part)] = np.where(mask, 0.5, 0).astype(np.float16)
        f.create_dataset("length", data=lengths)
    padded_bytes = padded.stat().st_size

    order = rng.integers(0, rows, size=reads + 200)
    ours, base = [], []
    with open_run(path) as run, h5py.File(padded, "r") as f:
        datasets = [f["ids"], *(f[m] for m in METHODS)]
        length = f["length"][()]
        for i, row in enumerate(order.tolist()):
            t0 = time.perf_counter()
            run.tokens(row)
            for method in METHODS:
                run.attribution(method, row)
            t1 = time.perf_counter()
            n = int(length[row])
            for ds in datasets:
                ds[row, :n]
            t2 = time.perf_counter()
            if i >= 200:
                ours.append(t1 - t0)
                base.append(t2 - t1)
    return {
        "rows": rows,
        "item": {**_percentiles(ours), "reads": reads},
        "padded_raw_h5py": _percentiles(base),
        "ratio_p50": round(float(np.median(ours) / np.median(base)), 3),
        "ragged_bytes": ragged_bytes,
        "padded_bytes": padded_bytes,
        "size_ratio": round(ragged_bytes / padded_bytes, 3),
    }


def render(tmp: Path, reads: int = 200) -> dict:
    from interpret_review_viewers.text import TextNeuronCard, TokenAttributionView

    from interpret_review.store import open_run

    path = next(tmp.glob("gen-1/planted.h5"))
    rng = np.random.default_rng(1)
    out = {}
    with open_run(path) as run:
        for name, viewer, address in (
            ("token_attribution", TokenAttributionView, "attribution:planted/{}"),
            ("text_neuron_card", TextNeuronCard, f"neuron:planted/{LAYER}/{{}}"),
        ):
            size = run.n_examples if "attribution" in address else run.n_units(LAYER)
            view = viewer(run=run)
            times = []
            for index in rng.integers(0, size, size=reads).tolist():
                t0 = time.perf_counter()
                view.html_of(address.format(index))
                times.append(time.perf_counter() - t0)
            out[name] = {"p50_ms": round(1e3 * float(np.median(times)), 2),
                         "p99_ms": round(1e3 * float(np.percentile(times, 99)), 2)}  # fmt: skip
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--texts", type=int, default=480)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--reads", type=int, default=2000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp_dir:
        tmp = Path(tmp_dir)
        out = {"generation": generation(args.texts, args.repeat, tmp)}
        out["render"] = render(tmp)
        out["ragged_reads"] = ragged_reads(args.rows, args.reads, tmp)
    out["torch_threads"] = torch.get_num_threads()
    print(json.dumps(out))


if __name__ == "__main__":
    main()
