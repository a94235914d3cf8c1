"""NeuronCard: what one unit of a layer responds to.

Shows the unit's top-k activating examples with its neuron attribution painted over each
(where in the input the unit fires), examples sampled across its activation range, and the
histogram of its activation over the whole dataset with both sets marked on it. Top examples
are numbered 1..K and range samples R1..RQ, the names the answer form uses to mark them.
"""

from __future__ import annotations

import html

import numpy as np

from interpret_review.addresses import Address
from interpret_review.review.items import range_samples, shown_examples
from interpret_review.store import NeuronEvidence, Run
from interpret_review_viewers.base import ItemViewer
from interpret_review_viewers.render import (
    colorbar_svg,
    example_link,
    histogram_svg,
    img_tag,
    overlay,
    scale_for,
    to_map,
    upsample,
)

__all__ = ["NeuronCard", "to_display"]

TOP_SIZE = 96
RANGE_SIZE = 64
SUMMARY = {"max": "maximum over space", "value": "its value"}


class NeuronCard(ItemViewer):
    """Top-k examples with the neuron's attribution overlaid, quantile samples, histogram."""

    kind = "neuron"

    @staticmethod
    def _where_it_fires(run: Run, evidence: NeuronEvidence) -> str:
        """The unit's activation map on each top example, over the example (conv layers
        of runs that keep the maps)."""
        maps = []
        for row in evidence.topk_index.tolist():
            spatial = run.spatial(evidence.layer, int(row))
            if spatial is None:
                return ""
            maps.append((int(row), spatial[evidence.unit]))
        scale = scale_for(*(m for _, m in maps))
        figures = []
        for rank, (row, activation) in enumerate(maps, start=1):
            image = run.example(row).image
            shown = overlay(image, upsample(activation, *image.shape[:2]), scale)
            alt = f"top example {rank}: where the unit fires (its activation map)"
            figures.append(
                f'<figure data-row="{row}" {example_link(run.name, row)}>{img_tag(shown, alt, TOP_SIZE)}'
                f'<figcaption><span class="num">{rank}</span>row {row}</figcaption></figure>'
            )
        return (
            "<h3>Where it fires</h3>"
            '<p class="legend">The unit\'s activation over each top example (red: high); '
            "click an example for its attribution item.</p>"
            f'<div class="grid top fires">{"".join(figures)}</div>'
        )

    @staticmethod
    def _feature_viz(evidence: NeuronEvidence) -> str:
        if evidence.feature_viz is None:
            return ""
        many = len(evidence.feature_viz) > 1
        return (
            "<h3>Inputs optimised to excite the unit</h3>"
            '<p class="legend">Feature visualization: '
            + ("diverse inputs, each" if many else "an input")
            + " found by gradient ascent on the unit's activation (Fourier "
            "parameterisation, jitter, smoothness penalty), not a dataset example; its "
            f"activation against the best example's ({float(evidence.topk_value[0]):.3g}).</p>"
            f'<div class="grid top optima">{_optimum_figures(evidence.feature_viz, evidence)}</div>'
        )

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
                f'<figure data-row="{int(row)}" {example_link(run.name, int(row))}>{img_tag(overlay(example.image, values, scale), alt, TOP_SIZE)}'
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
                f'<figure data-row="{row}" {example_link(run.name, row)}>{img_tag(example.image, alt, RANGE_SIZE)}'
                f'<figcaption><span class="num">R{position}</span>act {value:.3g}<br>'
                f"row {row}{same}</figcaption></figure>"
            )
        optima = self._feature_viz(evidence)
        fires = self._where_it_fires(run, evidence)
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
            f"{fires}{optima}"
            f"<h3>Across the activation range (lowest to highest)</h3>"
            f'<div class="grid range">{"".join(samples)}</div>'
            f"<h3>Activation over all {run.n_examples} examples</h3>"
            f'<p class="legend">Ticks under the axis: <span style="color:#c0392b">top examples'
            f'</span>, <span style="color:#2471a3">range samples</span>.</p>'
            f"{histogram}"
        )


def to_display(image: np.ndarray) -> np.ndarray:
    """An optimised input (C, H, W) as a uint8 picture: grey for one channel, else RGB
    (its first three), each scaled from its own min to max."""
    values = np.asarray(image, dtype=np.float64)
    values = values[0] if values.shape[0] == 1 else np.moveaxis(values[:3], 0, -1)
    span = np.ptp(values)
    scaled = (values - values.min()) / span if span > 0 else np.zeros_like(values)
    return np.rint(255 * scaled).astype(np.uint8)


def _optimum_figures(images: np.ndarray, evidence: NeuronEvidence) -> str:
    """Each feature visualization (``images``, the unit's optima) with the activation it
    reaches, against the best example."""
    best = float(evidence.topk_value[0])
    reached = evidence.feature_viz_value
    figures = []
    for i, image in enumerate(images, start=1):
        value = None if reached is None else float(reached[i - 1])
        caption = "" if value is None else f"act {value:.3g}"
        if value is not None and best > 0:
            caption += f"<br>{value / best:.2f}× the best example"
        alt = f"optimised input {i}" + ("" if value is None else f", activation {value:.3g}")
        figures.append(
            f'<figure data-optimum="{i}">{img_tag(to_display(image), alt, TOP_SIZE)}'
            f"<figcaption>{caption}</figcaption></figure>"
        )
    return "".join(figures)
