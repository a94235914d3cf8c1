"""The model-parameter randomization test on the digits demo. Prints one JSON object.

    .venv/bin/python benchmarks/bench_sanity.py [--examples 64]

Adebayo et al. 2018 ("Sanity Checks for Saliency Maps") randomise a trained network's
weights layer by layer from the top and compare the saliency maps with the trained
network's: Gradient and Grad-CAM maps change strongly, Guided Backprop's barely change
under randomisation of the top layers. This runs the same cascade on the digits CNN
(the demo's eight methods, ``--examples`` test digits) and prints, per method, the Spearman
rank correlation of the absolute maps and their SSIM after each step, Captum's infidelity
and max-sensitivity, the seconds it took, and whether the published direction holds.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time

import torch


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=64)
    args = parser.parse_args()

    from interpret_review.generation import METHODS, digits_cnn, digits_dataset
    from interpret_review.generation.methods import InputInfo, resolve_params
    from interpret_review.generation.sanity import sanity_checks
    from interpret_review.settings import Settings

    with tempfile.TemporaryDirectory() as cache:
        model = digits_cnn(cache_dir=cache).eval().requires_grad_(False)
    x = digits_dataset("test").tensors[0][: args.examples]
    with torch.no_grad():
        target = model(x).argmax(1)
    info = InputInfo(tuple(x.shape[1:]), 0.0, 1.0, "conv2")
    params = {m: resolve_params(m, info, Settings(), None) for m in METHODS}
    start = time.perf_counter()
    figures = sanity_checks(model, x, target, list(METHODS), params, torch.zeros(1, 1, 8, 8))
    seconds = time.perf_counter() - start
    top = {m: f["randomization"] for m, f in figures.items()}
    out = {
        "examples": len(x),
        "seconds": round(seconds, 2),
        "top_layer_spearman": top,
        "cascade_spearman": {
            m: {s["layer"]: s["spearman"] for s in f["randomization_steps"]}
            for m, f in figures.items()
        },
        "cascade_ssim": {
            m: {s["layer"]: s["ssim"] for s in f["randomization_steps"]} for m, f in figures.items()
        },
        "infidelity": {m: f["infidelity"] for m, f in figures.items()},
        "sensitivity": {m: f["sensitivity"] for m, f in figures.items()},
        "direction_holds": bool(
            top["GuidedBackprop"] > top["Saliency"] and top["GuidedBackprop"] > top["LayerGradCam"]
        ),
    }
    print(json.dumps(out))


if __name__ == "__main__":
    main()
