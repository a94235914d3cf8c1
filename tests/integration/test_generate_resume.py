"""A run killed with SIGKILL at any point and started again ends equal to an uninterrupted one."""

from __future__ import annotations

import importlib.util
import math
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from interpret_review.errors import ConfigError
from interpret_review.generation import generate
from interpret_review.settings import Settings
from interpret_review.store import open_run

HELPERS = Path(__file__).with_name("conftest_generate.py")

_spec = importlib.util.spec_from_file_location("conftest_generate", HELPERS)
helpers = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(helpers)

N = 12
METHODS = ["Saliency", "IntegratedGradients", "GradientShap", "Occlusion"]
LAYERS = ["conv1", "conv2"]
SETTINGS = dict(batch_size=4, shard_size=4, ig_steps=4, top_k=2, n_quantiles=3, histogram_bins=4)

SCRIPT = f"""
import importlib.util, sys
spec = importlib.util.spec_from_file_location("conftest_generate", sys.argv[1])
helpers = importlib.util.module_from_spec(spec); spec.loader.exec_module(helpers)
from interpret_review.generation import generate
from interpret_review.settings import Settings
generate(helpers.tiny_model(pause=float(sys.argv[3])), helpers.tiny_data({N}), out=sys.argv[2],
         methods={METHODS!r}, layers={LAYERS!r}, settings=Settings(**{SETTINGS!r}), progress=False)
"""


def _run_here(out: Path, seed: int = 0) -> Path:
    return generate(
        helpers.tiny_model(),
        helpers.tiny_data(N),
        out=out,
        methods=METHODS,
        layers=LAYERS,
        settings=Settings(**SETTINGS, seed=seed),
        progress=False,
    )


def _kill_when(out: Path, pattern: str) -> list[str]:
    """Start generation in a subprocess (a slowed model: 0.1 s a forward pass), SIGKILL it as
    soon as a shard matching ``pattern`` is finished; return the finished shards."""
    shards = out.with_name(out.stem + ".shards")
    process = subprocess.Popen(
        [sys.executable, "-c", SCRIPT, str(HELPERS), str(out), "0.1"], env=dict(os.environ)
    )
    try:
        for _ in range(12000):  # at most 60 s
            if list(shards.glob(pattern)) or process.poll() is not None:
                break
            time.sleep(0.005)
        process.send_signal(signal.SIGKILL)
    finally:
        process.wait(timeout=60)
    assert process.returncode == -signal.SIGKILL, "generation ended before it could be killed"
    assert not out.exists(), "the index file was written: the kill came too late"
    return sorted(p.name for p in shards.glob("*.h5"))


def _assert_same_run(a, b) -> None:
    assert a.n_examples == b.n_examples == N
    assert sorted(a.methods) == sorted(b.methods) == sorted(METHODS)
    assert sorted(a.layers) == sorted(b.layers) == sorted(LAYERS)
    for key in ("model_fingerprint", "dataset_fingerprint", "config", "versions"):
        assert a.attrs[key] == b.attrs[key]
    for row in range(N):
        ea, eb = a.example(row), b.example(row)
        for field in ("id", "label", "prediction", "logits", "input", "display"):
            np.testing.assert_array_equal(getattr(ea, field), getattr(eb, field))
        for method in METHODS:
            ma, mb = a.attribution(method, row), b.attribution(method, row)
            np.testing.assert_array_equal(ma.values, mb.values)
            assert ma.target == mb.target
            assert (math.isnan(ma.delta) and math.isnan(mb.delta)) or ma.delta == mb.delta
    for layer in LAYERS:
        np.testing.assert_array_equal(a.activations(layer), b.activations(layer))
        for unit in range(a.activations(layer).shape[1]):
            na, nb = a.neuron(layer, unit), b.neuron(layer, unit)
            for field in ("topk_index", "topk_value", "quantile_index", "quantile_value",
                          "histogram", "bin_edges", "attribution"):  # fmt: skip
                np.testing.assert_array_equal(getattr(na, field), getattr(nb, field))


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory):
    return open_run(_run_here(tmp_path_factory.mktemp("whole") / "tiny.h5"))


@pytest.mark.slow
def test_killed_during_examples_then_resumed(tmp_path, uninterrupted):
    out = tmp_path / "tiny.h5"
    finished = _kill_when(out, "examples-*.h5")
    assert "examples-00000.h5" in finished and "examples-00002.h5" not in finished
    _assert_same_run(open_run(_run_here(out)), uninterrupted)


@pytest.mark.slow
def test_killed_during_neurons_then_resumed(tmp_path, uninterrupted):
    out = tmp_path / "tiny.h5"
    finished = _kill_when(out, "neurons-*.h5")
    assert "neurons-conv1.h5" in finished and "neurons-conv2.h5" not in finished
    _assert_same_run(open_run(_run_here(out)), uninterrupted)


def test_other_arguments_on_existing_shards_are_refused(tmp_path):
    out = tmp_path / "tiny.h5"
    _run_here(out)
    _run_here(out)  # same arguments: nothing to do, same run
    with pytest.raises(ConfigError, match="fingerprint"):
        _run_here(out, seed=1)
