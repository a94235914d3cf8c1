"""NeuronCard: what one unit of a layer responds to.

Shows the unit's top-k activating examples with its neuron attribution painted over each
(where in the input the unit fires), examples sampled across its activation range, and the
histogram of its activation over the whole dataset with both sets marked on it. Top examples
are numbered 1..K and range samples R1..RQ, the names the answer form uses to mark them.
"""

from __future__ import annotations

import html

from interpret_review.addresses import Address
from interpret_review.review.items import range_samples, shown_examples
from interpret_review.store import Run
from interpret_review_viewers.base import ItemViewer
from interpret_review_viewers.render import (
    colorbar_svg,
    histogram_svg,
    img_tag,
    overlay,
    scale_for,
    to_map,
)

__all__ = ["NeuronCard"]

TOP_SIZE = 96
RANGE_SIZE = 64
SUMMARY = {"max": "maximum over space", "value": "its value"}


class NeuronCard(ItemViewer):
    """Top-k examples with the neuron's attribution overlaid, quantile samples, histogram."""

    kind = "neuron"

    def render(self, run: Run, address: Address) -> str:
        layer, unit = str(address.layer), address.index
        evidence = run.neuron(layer, unit)
        info = run.layer_info(layer)
        maps = [to_map(a) for a in evidence.attribution]
        scale = scale_for(*maps)
        top = []
        for rank, (row, value, values) in enumerate(
            zip(evidence.topk_index, evidence.topk_value, maps, strict=True), start=1
        ):
            example = run.example(int(row))
            alt = (
                f"top example {rank}: row {int(row)}, activation {value:.3g}, label "
                f"{example.label}, with the neuron's attribution overlaid"
            )
            top.append(
                f'<figure data-row="{int(row)}">{img_tag(overlay(example.image, values, scale), alt, TOP_SIZE)}'
                f'<figcaption><span class="num">{rank}</span>act {value:.3g}<br>'
                f"row {int(row)} · label {example.label}</figcaption></figure>"
            )
        names = shown_examples(run, str(address))
        values_of = dict(
            zip(evidence.quantile_index.tolist(), evidence.quantile_value.tolist(), strict=True)
        )
        samples = []
        for position, row in enumerate(
            range_samples(evidence.quantile_index, evidence.quantile_value), start=1
        ):
            value = float(values_of[row])
            example = run.example(row)
            same = "" if names[row] == f"R{position}" else f" (= {names[row]})"
            alt = f"range sample {position}: row {row}, activation {value:.3g}"
            samples.append(
                f'<figure data-row="{row}">{img_tag(example.image, alt, RANGE_SIZE)}'
                f'<figcaption><span class="num">R{position}</span>act {value:.3g}<br>'
                f"row {row}{same}</figcaption></figure>"
            )
        histogram = histogram_svg(
            evidence.histogram,
            evidence.bin_edges,
            marks={
                "top example": (evidence.topk_value, "#c0392b"),
                "range sample": (evidence.quantile_value, "#2471a3"),
            },
            label=f"activation ({SUMMARY.get(evidence.summary, evidence.summary)})",
        )
        return (
            f"<h2>Unit {unit} of layer {html.escape(layer)}</h2>"
            f'<p class="meta">{html.escape(info["kind"])} layer with {info["n_units"]} units · '
            f"run {html.escape(run.name)} · activation = "
            f"{html.escape(SUMMARY.get(evidence.summary, evidence.summary))}</p>"
            f"<h3>Top activating examples</h3>"
            f'<p class="legend">Colour: where the unit fires (neuron integrated gradients; red '
            f"raises the activation, blue lowers it). {colorbar_svg(scale, 120, 'neuron attribution')}</p>"
            f'<div class="grid top">{"".join(top)}</div>'
            f"<h3>Across the activation range (lowest to highest)</h3>"
            f'<div class="grid range">{"".join(samples)}</div>'
            f"<h3>Activation over all {run.n_examples} examples</h3>"
            f'<p class="legend">Ticks under the axis: <span style="color:#c0392b">top examples'
            f'</span>, <span style="color:#2471a3">range samples</span>.</p>'
            f"{histogram}"
        )
