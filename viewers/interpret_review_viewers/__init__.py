"""The viewers of interpret-review: one ``pn.viewable.Viewer`` per item kind.

Each is registered under the ``interpret_review.viewers`` entry point group with its kind
as the name (``text-KIND`` for the viewers of text runs; see ``pyproject.toml``);
third-party packages add kinds the same way. Use one
alone in a notebook cell::

    from interpret_review_viewers import NeuronCard
    NeuronCard(run="demo/runs/digits.h5", address="neuron:digits/conv2/5")
"""

from __future__ import annotations

from interpret_review_viewers.attribution import AttributionView
from interpret_review_viewers.base import ItemViewer
from interpret_review_viewers.neuron import NeuronCard
from interpret_review_viewers.stages import (
    AdjudicationCard,
    SimulationCard,
    TextAdjudicationCard,
    TextSimulationCard,
)
from interpret_review_viewers.text import TextNeuronCard, TokenAttributionView

__all__ = [
    "AdjudicationCard",
    "AttributionView",
    "ItemViewer",
    "NeuronCard",
    "SimulationCard",
    "TextAdjudicationCard",
    "TextNeuronCard",
    "TextSimulationCard",
    "TokenAttributionView",
]
