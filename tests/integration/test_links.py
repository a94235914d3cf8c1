"""Linked views below the browser (issue 7): per-place activations stored in the run, and
the neurons that fire most at a pixel or a token."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from interpret_review.errors import ConfigError
from interpret_review.review.links import linked_address, neurons_at
from interpret_review.settings import Settings
from interpret_review.store import open_run
from tests.conftest import load_generate_helpers


def test_conv_maps_are_stored_and_ranked_at_a_pixel(tiny_run: Path) -> None:
    helpers = load_generate_helpers()
    model, (x, _) = helpers.tiny_model(), helpers.tiny_data(12)
    captured = []
    handle = model.conv2.register_forward_hook(lambda m, i, o: captured.append(o))
    with torch.no_grad():
        model(x)
    handle.remove()
    with open_run(tiny_run) as run:
        maps = run.spatial("conv2", 5)
        assert maps.shape == (4, 6, 6)
        assert np.allclose(maps, captured[0][5].numpy(), atol=1e-2)  # stored as float16
        hits = neurons_at(run, 5, y=0.0, x=0.99)
        assert len(hits) == 6 and {h.layer for h in hits} <= {"conv1", "conv2"}
        assert [h.relative for h in hits] == sorted((h.relative for h in hits), reverse=True)
        best = [h for h in hits if h.layer == "conv2"][0]
        expected = maps[best.unit, 0, 5] / run.neuron_maxima("conv2")[best.unit]
        assert best.relative == pytest.approx(expected, rel=1e-4)
        assert best.address == f"neuron:tiny/conv2/{best.unit}"
        with pytest.raises(ConfigError, match="fractions y, x in 0..1"):
            neurons_at(run, 5, y=1.5, x=0.2)
        assert linked_address(run, "neuron:tiny/conv1/2") == "neuron:tiny/conv1/2"
        for bad, message in (
            ("neuron:tiny/conv1/9", "no such unit"),
            ("attribution:tiny/99", "has 12 examples"),
            ("attribution:other/1", "not an item of run 'tiny'"),
        ):
            with pytest.raises(ConfigError, match=message):
                linked_address(run, bad)


def test_token_activations_are_stored_and_ranked_at_a_token(text_run: Path) -> None:
    with open_run(text_run) as run:
        per_token = run.token_activations("block.linear1", 3)
        tokens = run.tokens(3)[1]
        assert per_token.shape == (len(tokens), 6)
        evidence = run.neuron("block.linear1", 2)
        row, slot = int(evidence.topk_index[0]), 0
        peak = int(evidence.topk_position[slot])
        values = run.token_activations("block.linear1", row)
        assert values[peak, 2] == pytest.approx(evidence.topk_value[0], rel=1e-2)
        hits = neurons_at(run, row, token=peak)
        assert len(hits) == 6 and hits[0].relative >= hits[-1].relative
        with pytest.raises(ConfigError, match="does not exist"):
            neurons_at(run, 3, token=len(tokens))


def test_a_run_without_place_maps_links_nothing(tmp_path: Path) -> None:
    from interpret_review.generation import generate

    helpers = load_generate_helpers()
    path = generate(helpers.tiny_model(), helpers.tiny_data(6), out=tmp_path / "lean.h5",
                    methods=["Saliency"], layers=["conv1"],
                    settings=Settings(spatial_maps=0, sanity_examples=0, feature_viz=0),
                    progress=False)  # fmt: skip
    with open_run(path) as run:
        assert run.spatial("conv1", 0) is None and neurons_at(run, 0, y=0.5, x=0.5) == []
