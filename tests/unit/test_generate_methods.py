"""Stored attribution maps equal Captum's own output within float16 rounding."""

from __future__ import annotations

import importlib.util
import math
from pathlib import Path

import numpy as np
import pytest
import torch
from captum.attr import LayerAttribution

from interpret_review.generation import METHODS, generate, seeded
from interpret_review.settings import Settings
from interpret_review.store import open_run

_spec = importlib.util.spec_from_file_location(
    "conftest_generate", Path(__file__).parents[1] / "integration" / "conftest_generate.py"
)
helpers = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(helpers)

# batch_size 4 and shard_size 6: batches [0:4] [4:6] | [6:10] — uneven, across two shards.
SETTINGS = Settings(
    batch_size=4, shard_size=6, ig_steps=6, top_k=3, n_quantiles=4, histogram_bins=5
)
BATCHES = [(0, 4), (4, 6), (6, 10)]
# Captum announces its ReLU hooks when the reference DeepLift/GuidedBackprop run.
pytestmark = [pytest.mark.torch, pytest.mark.filterwarnings("ignore:Setting .*hooks")]


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    model = helpers.tiny_model()
    x, y = helpers.tiny_data(10)
    out = tmp_path_factory.mktemp("run") / "tiny.h5"
    path = generate(
        model, (x, y), out=out, layers=["conv2", "fc1"], settings=SETTINGS, progress=False
    )
    return model, x, y, open_run(path)


def _reference(name, model, x, target, params, seed):
    """Captum called directly, the way its documentation shows."""
    spec = METHODS[name]
    kwargs = {k: tuple(v) if isinstance(v, list) else v for k, v in params.items()}
    baseline = torch.zeros_like(x)
    if spec.layer_method:
        layer = dict(model.named_modules())[kwargs.pop("layer")]
        mode = kwargs.pop("interpolate_mode")
        cam = spec.captum_class(model, layer).attribute(x, target=target, **kwargs)
        return LayerAttribution.interpolate(cam, tuple(x.shape[2:]), mode), None
    if spec.needs_baseline:
        kwargs["baselines"] = baseline[:1] if name == "GradientShap" else baseline
    if spec.has_delta:
        kwargs["return_convergence_delta"] = True
    with seeded(seed):
        out = spec.captum_class(model).attribute(
            x.clone().requires_grad_(True), target=target, **kwargs
        )
    return (out[0], out[1]) if spec.has_delta else (out, None)


@pytest.mark.parametrize("name", sorted(METHODS))
def test_stored_map_equals_captum(tiny_run, name):
    model, x, _, run = tiny_run
    assert name in run.methods
    params = run.attribution(name, 0).params
    for start, stop in BATCHES:
        with torch.no_grad():
            target = model(x[start:stop]).argmax(1)
        expected, delta = _reference(
            name, model, x[start:stop], target, params, SETTINGS.seed + start
        )
        expected = expected.detach().numpy()
        for row in range(start, stop):
            stored = run.attribution(name, row)
            assert stored.target == int(target[row - start])
            want = expected[row - start].astype(np.float16).astype(np.float32)
            assert stored.values.shape == want.shape
            scale = float(np.abs(expected).max()) or 1.0
            np.testing.assert_allclose(stored.values, want, rtol=2e-3, atol=1e-3 * scale)
            if delta is None:
                assert math.isnan(stored.delta)
            elif name != "GradientShap":
                assert stored.delta == pytest.approx(float(delta[row - start]), rel=1e-4, abs=1e-6)


def test_layer_gradcam_defaults_to_last_conv_and_maps_are_not_trivial(tiny_run):
    _, x, _, run = tiny_run
    params = run.attribution("LayerGradCam", 0).params
    assert params["layer"] == "conv2"
    assert run.attribution("LayerGradCam", 0).values.shape == (1, 6, 6)
    assert any(np.abs(run.attribution("Saliency", i).values).sum() > 0 for i in range(10))


def test_examples_hold_inputs_logits_and_predictions(tiny_run):
    model, x, y, run = tiny_run
    assert run.n_examples == 10
    with torch.no_grad():
        logits = model(x).numpy()
    for row in (0, 5, 9):
        example = run.example(row)
        np.testing.assert_array_equal(example.input, x[row].numpy())
        np.testing.assert_allclose(example.logits, logits[row], rtol=1e-5, atol=1e-6)
        assert example.prediction == int(logits[row].argmax())
        assert example.label == int(y[row])
        assert example.display.shape == (6, 6) and example.display.dtype == np.uint8


def test_provenance_attrs(tiny_run):
    model, _, _, run = tiny_run
    from interpret_review.generation import model_fingerprint

    assert run.attrs["model_fingerprint"] == model_fingerprint(model)
    assert {"torch", "captum", "interpret_review"} <= set(run.attrs["versions"])
    assert run.attrs["versions"]["torch"] == torch.__version__
    assert run.attrs["config"]["methods"] == list(METHODS)
    assert run.attrs["config"]["settings"]["batch_size"] == 4
