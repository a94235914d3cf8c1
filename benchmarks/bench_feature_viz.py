"""Feature visualization on the digits demo: do optimised inputs excite their units more
than the dataset does? Prints one JSON object.

    .venv/bin/python benchmarks/bench_feature_viz.py [--optima 1]

For every unit of conv1 and conv2 of the digits CNN, the input optimised by
:func:`interpret_review.generation.feature_viz.feature_visualizations` (Fourier
parameterisation, jitter, total-variation penalty) against the unit's activations (maximum
over space) on the 450 test digits: the share of units whose optimum beats the median
example (goal: most) and the best example, the median ratio to the best example, and the
seconds per layer.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time

import numpy as np
import torch


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--optima", type=int, default=1)
    args = parser.parse_args()

    from interpret_review.generation import digits_cnn, digits_dataset
    from interpret_review.generation.feature_viz import feature_visualizations

    with tempfile.TemporaryDirectory() as cache:
        model = digits_cnn(cache_dir=cache).eval().requires_grad_(False)
    x = digits_dataset("test").tensors[0]
    out: dict = {"examples": len(x), "optima": args.optima, "layers": {}}
    for name in ("conv1", "conv2"):
        layer = dict(model.named_modules())[name]
        captured: list[torch.Tensor] = []
        handle = layer.register_forward_hook(lambda m, i, o, c=captured: c.append(o))
        with torch.no_grad():
            model(x)
        handle.remove()
        acts = captured[0].amax(dim=(2, 3)).numpy()
        start = time.perf_counter()
        _, reached = feature_visualizations(
            model, layer, "conv", acts.shape[1], tuple(x.shape[1:]), 0.0, 1.0, optima=args.optima
        )
        seconds = time.perf_counter() - start
        best_of_unit = reached.max(axis=1)
        median, best = np.median(acts, axis=0), acts.max(axis=0)
        out["layers"][name] = {
            "units": int(acts.shape[1]),
            "beats_median_example": round(float((best_of_unit > median).mean()), 3),
            "beats_best_example": round(float((best_of_unit > best).mean()), 3),
            "median_ratio_to_best_example": round(float(np.median(best_of_unit / best)), 3),
            "seconds": round(seconds, 2),
        }
    out["most_units_beat_the_median"] = all(
        v["beats_median_example"] > 0.5 for v in out["layers"].values()
    )
    print(json.dumps(out))


if __name__ == "__main__":
    main()
