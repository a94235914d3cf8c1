"""Storage overhead of ``generate`` on the digits demo, and the demo's build time.

    PYTHONPATH=. python benchmarks/bench_generate.py [--repeat 5]

Prints one JSON object: the median wall time of ``generate`` (all 8 methods, layers conv1
and conv2, the 450 test digits, progress off) and of the same Captum calls on the same
batches with nothing stored (forward pass with activation hooks, the 8 attribution methods,
top-k and NeuronIntegratedGradients per unit), their ratio (goal <= 1.05), and the time to
build the demo from scratch (train the model + generate, empty cache).
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import torch


def bare(model, x, methods, params, baseline, settings, layers) -> None:
    """The Captum work of ``generate`` without storage."""
    from interpret_review.generate.methods import attribute
    from interpret_review.generate.neurons import neuron_attributions

    modules = dict(model.named_modules())
    acts = {name: [] for name in layers}
    for start in range(0, len(x), settings.batch_size):
        xb = x[start : start + settings.batch_size]
        captured = {}
        handles = [
            modules[name].register_forward_hook(
                lambda m, i, o, name=name, captured=captured: captured.__setitem__(name, o.detach())
            )
            for name in layers
        ]
        with torch.no_grad():
            target = model(xb).argmax(1)
        for handle in handles:
            handle.remove()
        for name in layers:
            acts[name].append(captured[name].amax(dim=(2, 3)))
        for method in methods:
            attribute(method, model, xb, target, baseline, params[method],
                      seed=settings.seed + start, modules=modules)  # fmt: skip
    for name in layers:
        layer_acts = torch.cat(acts[name])
        top = layer_acts.topk(settings.top_k, dim=0).indices.T  # (U, K)
        neuron_attributions(model, modules[name], "conv", x[top], baseline,
                            n_steps=settings.ig_steps, batch_size=settings.batch_size)  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    from interpret_review.generate import (
        METHODS,
        digits_cnn,
        digits_dataset,
        digits_display,
        generate,
    )
    from interpret_review.settings import Settings
    from interpret_review.store import open_run

    layers = ["conv1", "conv2"]
    methods = list(METHODS)
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        settings = Settings(cache_dir=str(tmp_path / "cache"))
        start = time.perf_counter()
        model = digits_cnn(cache_dir=settings.cache_path)
        trained = time.perf_counter()
        data = digits_dataset("test")
        path = generate(model, data, out=tmp_path / "demo" / "digits.h5", layers=layers,
                        display=digits_display, settings=settings, progress=False)  # fmt: skip
        build = time.perf_counter() - start
        train = trained - start
        params = {m: open_run(path).attribution(m, 0).params for m in methods}

        x = data.tensors[0]
        baseline = torch.zeros(1, *x.shape[1:])
        model.eval().requires_grad_(False)
        gen_times, bare_times = [], []
        for repeat in range(args.repeat + 1):  # the first round is a warm-up
            t0 = time.perf_counter()
            generate(model, data, out=tmp_path / f"r{repeat}" / "digits.h5", layers=layers,
                     display=digits_display, settings=settings, progress=False)  # fmt: skip
            t1 = time.perf_counter()
            bare(model, x, methods, params, baseline, settings, layers)
            t2 = time.perf_counter()
            if repeat:
                gen_times.append(t1 - t0)
                bare_times.append(t2 - t1)
        size = sum(p.stat().st_size for p in (tmp_path / "r1").rglob("*") if p.is_file())
    gen, ref = statistics.median(gen_times), statistics.median(bare_times)
    print(
        json.dumps(
            {
                "examples": len(x),
                "methods": methods,
                "layers": layers,
                "repeat": args.repeat,
                "generate_s": round(gen, 4),
                "captum_only_s": round(ref, 4),
                "ratio": round(gen / ref, 4),
                "goal_ratio": 1.05,
                "generate_s_all": [round(t, 4) for t in gen_times],
                "captum_only_s_all": [round(t, 4) for t in bare_times],
                "run_bytes": size,
                "demo_build_s": round(build, 3),
                "demo_train_s": round(train, 3),
                "torch_threads": torch.get_num_threads(),
                "numpy": np.__version__,
            }
        )
    )


if __name__ == "__main__":
    main()
