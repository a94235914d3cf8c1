"""Viewers of the later stages of a neuron pipeline.

* :class:`SimulationCard` (``verify``): one reviewer's description of a unit and a shuffled
  set of held-out examples, with no activation shown: the verifier predicts from the words
  alone how strongly the unit fires on each (numbered 1..N, as in the answer form).
* :class:`AdjudicationCard` (``adjudicate``): the unit's card and every description of it
  with its simulation score, for the final label.

Both take what the earlier stages produced as ``context`` (``ReviewItem.context``); every
text in it came from a reviewer and is escaped. :class:`TextSimulationCard` and
:class:`TextAdjudicationCard` are the same for text runs (examples shown as their text).
"""

from __future__ import annotations

import html
from typing import Any

import param

from interpret_review.addresses import Address
from interpret_review.store import Run
from interpret_review_viewers.base import ItemViewer
from interpret_review_viewers.neuron import NeuronCard
from interpret_review_viewers.render import img_tag
from interpret_review_viewers.text import TextNeuronCard, text_block

__all__ = ["AdjudicationCard", "SimulationCard", "TextAdjudicationCard", "TextSimulationCard"]

EXAMPLE_SIZE = 96

STYLE = """
<style>
.ir-viewer .description { border-left: 4px solid #1f5fbf; background: #eef3fb;
  padding: 8px 12px; margin: 4px 0 10px; border-radius: 4px; }
.ir-viewer .description .label { font-size: 17px; font-weight: 600; }
.ir-viewer .description .meta { margin: 4px 0 0; }
.ir-viewer table.descriptions { border-collapse: collapse; width: 100%; margin-top: 6px; }
.ir-viewer table.descriptions th, .ir-viewer table.descriptions td { text-align: left;
  padding: 4px 6px; border-bottom: 1px solid #d8dee6; vertical-align: top; }
.ir-viewer .scorebar { display: inline-block; height: 8px; background: #1e6b34;
  border-radius: 2px; vertical-align: middle; margin-right: 4px; }
.ir-viewer .scorebar.neg { background: #b3261e; }
</style>
"""


def _describe(answers: dict[str, Any] | None) -> str:
    """A description's answers as HTML: the label, then category, confidence and flags."""
    if not answers:
        return '<p class="meta">(the description could not be read)</p>'
    label = html.escape(str(answers.get("label") or "(no label)"))
    meta = []
    if answers.get("category"):
        meta.append(f"category: {html.escape(str(answers['category']))}")
    if answers.get("confidence") is not None:
        meta.append(f"confidence {html.escape(str(answers['confidence']))}/5")
    if answers.get("flags"):
        meta.append("flags: " + html.escape(", ".join(map(str, answers["flags"]))))
    return f'<div class="label">{label}</div><p class="meta">{" · ".join(meta)}</p>'


class SimulationCard(ItemViewer):
    """A description and the held-out examples to predict, without their activations."""

    kind = "neuron"
    stage = "verify"

    context = param.Dict(default={}, doc="``description``: the answers being verified.")
    examples = param.List(
        default=[], item_type=int, doc="The held-out example rows, in the order shown."
    )

    @param.depends("context", "examples", watch=True)
    def _refresh_context(self) -> None:
        self._refresh()

    def variant(self) -> tuple[object, ...]:
        return (tuple(self.examples), repr(sorted((self.context or {}).items())))

    def render(self, run: Run, address: Address) -> str:
        figures = []
        for number, row in enumerate(self.examples, start=1):
            figures.append(self._example(run, int(row), number))
        return (
            STYLE + f"<h2>Does this description predict unit {address.index} of layer "
            f"{html.escape(str(address.layer))}?</h2>"
            + '<p class="meta">Another reviewer described the unit as:</p>'
            + f'<div class="description">{_describe(self.context.get("description"))}</div>'
            + "<h3>Predict how strongly the unit fires on each example</h3>"
            + '<p class="legend">Judge from the description alone. The examples are mixed '
            "from the unit's strong, middling and weak responses, in random order.</p>"
            + f'<div class="{self._examples_class}">{"".join(figures)}</div>'
        )

    _examples_class = "grid top"

    def _example(self, run: Run, row: int, number: int) -> str:
        example = run.example(row)
        return (
            f'<figure data-row="{row}">'
            f"{img_tag(example.image, f'example {number}', EXAMPLE_SIZE)}"
            f'<figcaption><span class="num">{number}</span></figcaption></figure>'
        )


class TextSimulationCard(SimulationCard):
    """:class:`SimulationCard` for a text run: each held-out example is its text."""

    modality = "text"
    _examples_class = "contexts"

    def _example(self, run: Run, row: int, number: int) -> str:
        return (
            f'<div class="tag" data-row="{row}"><span class="num">{number}</span></div>'
            f"<div>{text_block(run, row)}</div>"
        )

    def render(self, run: Run, address: Address) -> str:
        from interpret_review_viewers.text import STYLE as TEXT_STYLE

        return TEXT_STYLE + super().render(run, address)


def _descriptions(context: dict[str, Any]) -> str:
    """Every description of the unit with its simulation score, best first."""
    rows = []
    for d in context.get("descriptions", []):
        score = d.get("score")
        if score is None:
            shown = "not verified"
        else:
            width = int(round(abs(score) * 60))
            bar = f'<span class="scorebar{" neg" if score < 0 else ""}" style="width:{width}px"></span>'
            n = int(d.get("verifications", 0))
            shown = f"{bar}{score:+.2f} ({n} verification{'' if n == 1 else 's'})"
        rows.append(
            f"<tr><td>{html.escape(str(d.get('reviewer', '')))}</td>"
            f"<td>{_describe(d.get('answers'))}</td><td>{shown}</td></tr>"
        )
    table = (
        '<table class="descriptions"><thead><tr><th></th><th>Description</th>'
        "<th>Simulation score</th></tr></thead><tbody>" + "".join(rows) + "</tbody></table>"
        if rows
        else '<p class="meta">No descriptions yet.</p>'
    )
    return (
        STYLE
        + "<h3>Descriptions, best simulated first</h3>"
        + '<p class="legend">Score: how well other reviewers predicted the unit from the '
        "description (correlation of their predictions with its real activations, -1 to "
        "1).</p>" + table
    )


class _Adjudication(param.Parameterized):
    """What both adjudication cards add to their neuron card: the descriptions table."""

    stage = "adjudicate"

    context = param.Dict(default={}, doc="``descriptions``: the answers with their scores.")

    @param.depends("context", watch=True)
    def _refresh_context(self) -> None:
        self._refresh()  # type: ignore[attr-defined]

    def variant(self) -> tuple[object, ...]:
        return (repr(self.context),)

    def render(self, run: Run, address: Address) -> str:
        return _descriptions(self.context) + super().render(run, address)  # type: ignore[misc]


class AdjudicationCard(_Adjudication, NeuronCard):
    """The neuron card with every description of the unit and its simulation score."""


class TextAdjudicationCard(_Adjudication, TextNeuronCard):
    """The text neuron card with every description of the unit and its simulation score."""
