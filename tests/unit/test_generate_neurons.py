"""Neuron evidence: top-k, quantile samples, histograms and neuron attributions are right."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest
import torch
from captum.attr import NeuronIntegratedGradients

from interpret_review.generation import generate
from interpret_review.generation.neurons import neuron_statistics
from interpret_review.settings import Settings
from interpret_review.store import open_run

pytestmark = pytest.mark.torch

_spec = importlib.util.spec_from_file_location(
    "conftest_generate", Path(__file__).parents[1] / "integration" / "conftest_generate.py"
)
helpers = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(helpers)

SETTINGS = Settings(
    batch_size=5, shard_size=7, ig_steps=6, top_k=3, n_quantiles=4, histogram_bins=6
)
N = 12


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    model = helpers.tiny_model()
    x, _ = helpers.tiny_data(N)
    out = tmp_path_factory.mktemp("run") / "neurons.h5"
    path = generate(
        model,
        x,
        out=out,
        methods=["Saliency"],
        layers=["conv1", "fc1"],
        settings=SETTINGS,
        progress=False,
    )
    return model, x, open_run(path)


def _conv_max(x: torch.Tensor, layer: torch.nn.Module, model: torch.nn.Module) -> np.ndarray:
    captured = {}
    handle = layer.register_forward_hook(lambda m, i, o: captured.__setitem__("o", o))
    with torch.no_grad():
        model(x)
    handle.remove()
    out = captured["o"]
    return (out.amax(dim=(2, 3)) if out.ndim == 4 else out).numpy()


@pytest.mark.parametrize("layer", ["conv1", "fc1"])
def test_activations_are_the_max_over_space(tiny_run, layer):
    model, x, run = tiny_run
    expected = _conv_max(x, dict(model.named_modules())[layer], model)
    np.testing.assert_allclose(run.activations(layer), expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("layer", ["conv1", "fc1"])
def test_topk_quantiles_and_histogram(tiny_run, layer):
    _, _, run = tiny_run
    acts = run.activations(layer)
    assert acts.shape[0] == N
    for unit in range(acts.shape[1]):
        evidence = run.neuron(layer, unit)
        order = np.argsort(-acts[:, unit], kind="stable")
        np.testing.assert_array_equal(evidence.topk_index, order[:3])
        np.testing.assert_array_equal(evidence.topk_value, acts[order[:3], unit])
        ranks = np.argsort(np.argsort(acts[:, unit], kind="stable"), kind="stable")
        for j, row in enumerate(evidence.quantile_index):
            assert j * N // 4 <= ranks[row] < (j + 1) * N // 4
            assert evidence.quantile_value[j] == acts[row, unit]
        assert evidence.histogram.sum() == N
        assert evidence.bin_edges[0] == pytest.approx(acts[:, unit].min())
        assert evidence.bin_edges[-1] == pytest.approx(acts[:, unit].max())
        assert len(evidence.bin_edges) == len(evidence.histogram) + 1 == 7


@pytest.mark.parametrize("layer", ["conv1", "fc1"])
def test_neuron_attribution_equals_captum(tiny_run, layer):
    model, x, run = tiny_run
    module = dict(model.named_modules())[layer]
    for unit in range(run.activations(layer).shape[1]):
        evidence = run.neuron(layer, unit)
        top = x[evidence.topk_index]
        if layer == "conv1":
            selector = lambda out, u=unit: out[:, u].amax(dim=(1, 2))  # noqa: E731
        else:
            selector = (unit,)
        expected = (
            NeuronIntegratedGradients(model, module)
            .attribute(
                top.clone().requires_grad_(True),
                neuron_selector=selector,
                baselines=torch.zeros_like(top),
                n_steps=SETTINGS.ig_steps,
            )
            .detach()
            .numpy()
        )
        scale = float(np.abs(expected).max()) or 1.0
        np.testing.assert_allclose(evidence.attribution, expected, rtol=2e-3, atol=1e-3 * scale)
        assert np.abs(expected).max() > 0


def test_quantile_sampling_is_seeded_and_handles_fewer_rows_than_slices():
    acts = np.random.default_rng(3).normal(size=(3, 2)).astype(np.float32)
    a = neuron_statistics(acts, top_k=5, n_quantiles=4, bins=3, seed=1, layer="l")
    b = neuron_statistics(acts, top_k=5, n_quantiles=4, bins=3, seed=1, layer="l")
    for key in a:
        np.testing.assert_array_equal(a[key], b[key])
    assert a["topk_index"].shape == (2, 3)  # K = min(top_k, N)
    assert a["quantile_index"].shape == (2, 4)
    assert (a["quantile_index"] < 3).all()
