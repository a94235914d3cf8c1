"""Storage overhead of ``generate`` on the digits demo, and the demo's build time.

    .venv/bin/python benchmarks/bench_generate.py [--repeat 5] [--scales 1,8]

Prints one JSON object: the median wall time of ``generate`` (all 8 methods, layers conv1
and conv2, progress off) and of the same Captum calls on the same batches with nothing
stored (forward pass with activation hooks, the 8 attribution methods, top-k and
NeuronIntegratedGradients per unit), measured in alternating rounds, and their ratio (goal
<= 1.05), on the 450 test digits and on them repeated ``--scales`` times (a run of several
shards, where the fixed cost of writing the index weighs less), with the sanity checks and
feature visualization off (extra computation, not storage; the per-example activation maps
stay on); and the time to build the demo from scratch (train the model + generate with
every default, empty cache).
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
    from interpret_review.generation.methods import attribute
    from interpret_review.generation.neurons import neuron_attributions

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


def _measure(model, data, layers, methods, settings, tmp_path, repeat, label) -> dict:
    """Rounds of generate and of the bare Captum calls (the first round is a warm-up).

    This machine's speed drifts by 20% and more within a minute (a shared VM), so besides
    the ratio of median wall times the figures include the median of the per-round ratios
    (each generate paired with the bare run beside it; which runs first alternates) and the ratio of CPU times
    (process time, which does not count time the VM was descheduled).
    """
    from interpret_review.generation import digits_display, generate
    from interpret_review.store import open_run

    x = data.tensors[0]
    baseline = torch.zeros(1, *x.shape[1:])
    wall: dict[str, list[float]] = {"generate": [], "bare": []}
    cpu: dict[str, list[float]] = {"generate": [], "bare": []}
    params = None

    def run_generate(out: Path) -> None:
        generate(model, data, out=out, layers=layers, display=digits_display, settings=settings,
                 progress=False)  # fmt: skip

    def run_bare() -> None:
        bare(model, x, methods, params, baseline, settings, layers)

    for round_ in range(repeat + 1):
        out = tmp_path / f"{label}-{round_}" / "digits.h5"
        if params is None:
            run_generate(tmp_path / f"{label}-params" / "digits.h5")
            with open_run(tmp_path / f"{label}-params" / "digits.h5") as run:
                params = {m: run.attribution(m, 0).params for m in methods}
        # alternate which goes first, so that neither always runs on a warmer machine
        order = ["generate", "bare"] if round_ % 2 else ["bare", "generate"]
        for which in order:
            w0, c0 = time.perf_counter(), time.process_time()
            run_generate(out) if which == "generate" else run_bare()
            if round_:
                wall[which].append(time.perf_counter() - w0)
                cpu[which].append(time.process_time() - c0)
    gen, ref = statistics.median(wall["generate"]), statistics.median(wall["bare"])
    paired = [g / b for g, b in zip(wall["generate"], wall["bare"], strict=True)]
    size = sum(p.stat().st_size for p in (tmp_path / f"{label}-1").rglob("*") if p.is_file())
    return {
        "examples": len(x),
        "generate_s": round(gen, 4),
        "captum_only_s": round(ref, 4),
        "ratio": round(gen / ref, 4),
        "paired_ratio": round(statistics.median(paired), 4),
        "cpu_ratio": round(statistics.median(cpu["generate"]) / statistics.median(cpu["bare"]), 4),
        "captum_only_spread": round((max(wall["bare"]) - min(wall["bare"])) / ref, 3),
        "generate_s_all": [round(t, 4) for t in wall["generate"]],
        "captum_only_s_all": [round(t, 4) for t in wall["bare"]],
        "run_bytes": size,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument(
        "--scales", default="1,8", help="the 450 test digits repeated this many times"
    )
    args = parser.parse_args()

    from torch.utils.data import TensorDataset

    from interpret_review.generation import METHODS, digits_cnn, digits_dataset, digits_display
    from interpret_review.generation import generate as generate_run
    from interpret_review.settings import Settings

    layers = ["conv1", "conv2"]
    methods = list(METHODS)
    out: dict = {"methods": methods, "layers": layers, "repeat": args.repeat, "goal_ratio": 1.05}
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        settings = Settings(cache_dir=str(tmp_path / "cache"))
        start = time.perf_counter()
        model = digits_cnn(cache_dir=settings.cache_path)
        trained = time.perf_counter()
        data = digits_dataset("test")
        generate_run(model, data, out=tmp_path / "demo" / "digits.h5", layers=layers,
                     display=digits_display, settings=settings, progress=False)  # fmt: skip
        out["demo_build_s"] = round(time.perf_counter() - start, 3)
        out["demo_train_s"] = round(trained - start, 3)
        model.eval().requires_grad_(False)
        x, y = data.tensors
        # the comparison is of the same Captum calls: sanity checks and feature viz (part of
        # the demo build above) are extra work, not storage
        settings = settings.replace(sanity_examples=0, feature_viz=0)
        out["scales"] = {}
        for scale in [int(s) for s in args.scales.split(",") if s]:
            tiled = TensorDataset(x.repeat(scale, 1, 1, 1), y.repeat(scale))
            out["scales"][str(scale)] = _measure(
                model, tiled, layers, methods, settings, tmp_path, args.repeat, f"s{scale}"
            )
    out["torch_threads"] = torch.get_num_threads()
    out["numpy"] = np.__version__
    print(json.dumps(out))


if __name__ == "__main__":
    main()
