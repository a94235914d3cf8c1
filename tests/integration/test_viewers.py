"""Viewers render items of a real run, are found by entry point, and refuse wrong items."""

from __future__ import annotations

import re
from pathlib import Path

import panel as pn
import pytest
from interpret_review_viewers import (
    AdjudicationCard,
    AttributionView,
    NeuronCard,
    SimulationCard,
    TextAdjudicationCard,
    TextSimulationCard,
)

from interpret_review.app import viewer_class, viewer_kinds
from interpret_review.errors import ConfigError, UnknownNameError
from interpret_review.store import open_run


def test_viewers_are_registered_by_entry_point() -> None:
    assert viewer_kinds() == [
        "attribution", "neuron", "neuron.adjudicate", "neuron.verify",
        "text-attribution", "text-neuron", "text-neuron.adjudicate", "text-neuron.verify",
    ]  # fmt: skip
    assert viewer_class("neuron") is NeuronCard
    assert viewer_class("attribution") is AttributionView
    assert viewer_class("neuron", "verify") is SimulationCard
    assert viewer_class("neuron", "adjudicate") is AdjudicationCard
    with pytest.raises(UnknownNameError, match="attribution.verify"):
        viewer_class("attribution", "verify")
    with pytest.raises(UnknownNameError, match="did you mean 'neuron'"):
        viewer_class("neurons")
    assert viewer_class("neuron", "verify", "text") is TextSimulationCard
    assert viewer_class("neuron", "adjudicate", "text") is TextAdjudicationCard
    with pytest.raises(UnknownNameError, match="'text-attribution.verify'"):
        viewer_class("attribution", "verify", "text")


def test_the_neuron_card_shows_the_runs_evidence(tiny_run: Path) -> None:
    with open_run(tiny_run) as run:
        evidence = run.neuron("conv2", 1)
        html = NeuronCard(run=run, address="neuron:tiny/conv2/1").html()
    assert 'data-address="neuron:tiny/conv2/1"' in html
    top = re.findall(r'<div class="grid top">(.*?)</div>', html, re.S)[0]
    assert [int(r) for r in re.findall(r'data-row="(\d+)"', top)] == evidence.topk_index.tolist()
    samples = re.findall(r'<div class="grid range">(.*?)</div>', html, re.S)[0]
    assert sorted(int(r) for r in re.findall(r'data-row="(\d+)"', samples)) == sorted(
        evidence.quantile_index.tolist()
    )
    histogram = html[html.index('<svg class="histogram"') :]
    assert histogram.count("examples</title></rect>") == len(evidence.histogram)  # a bar a bin
    assert f"act {evidence.topk_value[0]:.3g}" in html


def test_the_attribution_view_shows_each_method_on_its_own_scale(tiny_run: Path) -> None:
    view = AttributionView(run=str(tiny_run), address="attribution:tiny/2")
    html = view.html()
    assert re.findall(r'data-method="(\w+)"', html) == [
        "Saliency",
        "IntegratedGradients",
        "Occlusion",
    ]
    assert html.count('class="colorbar"') == 3
    view.methods = ["Occlusion"]
    assert re.findall(r'data-method="(\w+)"', view._pane.object) == ["Occlusion"]
    view.address = "attribution:tiny/3"  # re-renders in place
    assert 'data-address="attribution:tiny/3"' in view._pane.object
    assert isinstance(pn.panel(view), pn.viewable.Viewable)  # renders in a notebook cell


def test_wrong_items_are_refused(tiny_run: Path) -> None:
    with open_run(tiny_run) as run:
        with pytest.raises(ConfigError, match="use the viewer of kind 'neuron'"):
            AttributionView(run=run, address="neuron:tiny/conv1/0")
        with pytest.raises(ConfigError, match="not in run 'tiny'"):
            NeuronCard(run=run, address="neuron:other/conv1/0")
        with pytest.raises(ConfigError, match="out of range"):
            NeuronCard(run=run, address="neuron:tiny/conv1/99")
    with pytest.raises(ConfigError, match="must be a Run or the path"):
        NeuronCard(run=42, address="neuron:tiny/conv1/0")


def test_a_prefetched_item_is_shown_without_rendering_again(tiny_run: Path, monkeypatch) -> None:
    with open_run(tiny_run) as run:
        card = NeuronCard(run=run, address="neuron:tiny/conv1/0")
        calls = []
        render = NeuronCard.render
        monkeypatch.setattr(
            NeuronCard, "render", lambda self, r, a: calls.append(str(a)) or render(self, r, a)
        )
        card.prefetch("neuron:tiny/conv1/1")
        assert calls == ["neuron:tiny/conv1/1"]
        card.address = "neuron:tiny/conv1/1"
        assert calls == ["neuron:tiny/conv1/1"]  # taken from the prefetched HTML
        assert 'data-address="neuron:tiny/conv1/1"' in card._pane.object
        card.address = "neuron:tiny/conv1/2"
        assert calls[-1] == "neuron:tiny/conv1/2"
    view = AttributionView(run=str(tiny_run), address="attribution:tiny/0", methods=["Saliency"])
    view.prefetch("attribution:tiny/1")
    view.methods = ["Occlusion"]  # other settings: the prefetched picture is not used
    view.address = "attribution:tiny/1"
    assert re.findall(r'data-method="(\w+)"', view._pane.object) == ["Occlusion"]


HOSTILE = '<img src=x onerror="alert(1)"><script>alert(2)</script>'


def test_stage_viewers_show_the_earlier_stages_work_escaped(tiny_run: Path) -> None:
    with open_run(tiny_run) as run:
        shown = SimulationCard(
            run=run,
            address="neuron:tiny/conv2/1",
            context={"description": {"label": HOSTILE, "category": "edge", "flags": ["dead"]}},
            examples=[5, 0, 7],
        ).html()
        card = AdjudicationCard(
            run=run,
            address="neuron:tiny/conv2/1",
            context={
                "descriptions": [
                    {
                        "reviewer": "R1",
                        "answers": {"label": HOSTILE},
                        "score": 0.81,
                        "verifications": 2,
                    },
                    {
                        "reviewer": "R2",
                        "answers": {"label": "blob"},
                        "score": None,
                        "verifications": 0,
                    },
                ]
            },
        ).html()
    for html in (shown, card):
        assert "<script>" not in html and "&lt;script&gt;" in html
    # the verifier sees the examples in the given order, with no activation values
    assert [int(r) for r in re.findall(r'data-row="(\d+)"', shown)] == [5, 0, 7]
    assert "act " not in shown
    assert "+0.81 (2 verifications)" in card and "not verified" in card
    assert '<div class="grid top">' in card  # the neuron card itself is there too
