"""Feature visualization by optimization (issue 7): optimised inputs excite their units more
than the median dataset example, several optima per unit differ, and they are stored in the
run and shown on the neuron card."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from interpret_review.generation import digits_cnn, digits_dataset
from interpret_review.generation.feature_viz import feature_visualizations
from interpret_review.settings import Settings
from interpret_review.store import open_run


@pytest.fixture(scope="module")
def digits():
    model = digits_cnn().eval().requires_grad_(False)
    return model, digits_dataset("test").tensors[0]


def _summaries(model, layer, x) -> np.ndarray:
    captured = []
    handle = layer.register_forward_hook(lambda m, i, o: captured.append(o))
    with torch.no_grad():
        model(x)
    handle.remove()
    return captured[0].amax(dim=(2, 3)).numpy()


@pytest.mark.parametrize("name", ["conv1", "conv2"])
def test_optimised_inputs_beat_the_median_example(digits, name: str) -> None:
    model, x = digits
    layer = dict(model.named_modules())[name]
    acts = _summaries(model, layer, x)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    images, reached = feature_visualizations(model, layer, "conv", acts.shape[1], (1, 8, 8),
                                             0.0, 1.0, optima=1)  # fmt: skip
    assert images.shape == (acts.shape[1], 1, 1, 8, 8) and reached.shape == (acts.shape[1], 1)
    assert images.min() >= 0.0 and images.max() <= 1.0  # inside the data's range
    assert (reached[:, 0] > np.median(acts, axis=0)).mean() >= 0.75  # most units
    # what is reported is the activation the stored image really reaches
    again = _summaries(model, layer, torch.as_tensor(images[:, 0]))
    assert np.allclose(again[np.arange(len(again)), np.arange(len(again))], reached[:, 0],
                       atol=1e-4)  # fmt: skip
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())


def test_several_optima_per_unit_are_diverse(digits) -> None:
    model, x = digits
    layer = model.conv2
    images, reached = feature_visualizations(model, layer, "conv", 16, (1, 8, 8), 0.0, 1.0,
                                             optima=2)  # fmt: skip
    first, second = images[:, 0].reshape(16, -1), images[:, 1].reshape(16, -1)
    same = [np.corrcoef(a, b)[0, 1] for a, b in zip(first, second, strict=True)]
    assert np.mean(same) < 0.5  # the diversity term pushes them apart
    median = np.median(_summaries(model, layer, x), axis=0)
    assert (reached.min(axis=1) > median).mean() >= 0.5  # and both still excite the unit


def test_feature_viz_is_stored_and_shown(tiny_run: Path, tmp_path: Path) -> None:
    from interpret_review_viewers import NeuronCard

    from interpret_review.generation import generate
    from tests.conftest import load_generate_helpers

    with open_run(tiny_run) as run:
        evidence = run.neuron("conv2", 1)
        assert evidence.feature_viz is not None and evidence.feature_viz.shape == (1, 1, 6, 6)
        assert (
            evidence.feature_viz_value is not None and np.isfinite(evidence.feature_viz_value).all()
        )
        assert run.schema_version == 2  # several optima per unit: a v2 run
        card = NeuronCard(run=run, address="neuron:tiny/conv2/1").html()
    assert "Inputs optimised to excite the unit" in card and card.count("data-optimum=") == 1
    assert "the best example" in card
    helpers = load_generate_helpers()
    plain = generate(helpers.tiny_model(), helpers.tiny_data(6), out=tmp_path / "plain.h5",
                     methods=["Saliency"], layers=["conv1"],
                     settings=Settings(feature_viz=0, sanity_examples=0, spatial_maps=0),
                     progress=False)  # fmt: skip
    with open_run(plain) as run:
        assert run.neuron("conv1", 0).feature_viz is None and run.schema_version == 1
        assert "Inputs optimised" not in NeuronCard(run=run, address="neuron:plain/conv1/0").html()
