"""Viewers of text runs: token attributions and text neuron cards.

* :class:`TokenAttributionView` (``attribution`` items of a text run): the text once per
  method, one under another, each token shaded by its score on a diverging scale with a
  colour bar; hovering a token shows its score. Methods are numbered 1..M, the numbers the
  answer form rates them by.
* :class:`TextNeuronCard` (``neuron`` items of a text run): the unit's top-k contexts (a
  window of tokens around the token where it fires most, every token shaded by its
  activation, the peak outlined, with the unit's integrated gradients on the window under
  it), contexts sampled across its activation range, and its activation histogram. Top
  contexts are numbered 1..K and range samples R1..RQ, the names the answer form marks.

Every token is escaped before it is shaded (:func:`~.render.token_spans`): a token that
holds HTML or script is shown as text.
"""

from __future__ import annotations

import html
from typing import Any

import numpy as np

from interpret_review.addresses import Address
from interpret_review.review.items import range_samples, shown_examples
from interpret_review.store import Run
from interpret_review.store.records import context_window, join_tokens
from interpret_review_viewers.attribution import HIDDEN, AttributionView, softmax
from interpret_review_viewers.base import ItemViewer
from interpret_review_viewers.render import (
    Scale,
    colorbar_svg,
    example_link,
    histogram_svg,
    scale_for,
    token_spans,
)
from interpret_review_viewers.sanity import STYLE as SANITY_STYLE

LINK_TITLE = "click: this text's token attributions"

__all__ = ["TextNeuronCard", "TokenAttributionView", "class_name", "text_block"]

STYLE = """
<style>
.ir-viewer .tokens { line-height: 1.95; font-size: 15px; margin: 2px 0 6px;
  font-family: ui-monospace, SFMono-Regular, Menlo, monospace; }
.ir-viewer .ir-token { padding: 1px 3px; border-radius: 3px; white-space: pre; }
.ir-viewer .ir-max { outline: 2px solid #1d2733; outline-offset: 0; font-weight: 700; }
.ir-viewer .method { margin: 6px 0 10px; }
.ir-viewer .method .name { font-weight: 600; }
.ir-viewer .contexts { display: grid; grid-template-columns: max-content 1fr; gap: 2px 10px;
  align-items: start; }
.ir-viewer .contexts .tag { font-size: 12px; color: #4c5d70; white-space: nowrap;
  padding-top: 5px; }
.ir-viewer .contexts .tokens { margin: 0; }
.ir-viewer .contexts .why { font-size: 12px; line-height: 1.7; opacity: 0.9; }
.ir-viewer .gap { color: #8795a4; }
.ir-viewer .legend svg.colorbar { vertical-align: middle; margin-left: 6px; }
.ir-viewer .method svg.colorbar { vertical-align: middle; margin-left: 8px; }
.ir-viewer .plain { font-size: 15px; line-height: 1.6; margin: 2px 0 8px; }
</style>
"""


def class_name(run: Run, index: int) -> str:
    """A class as the run names it (``TextData.class_names``), else its number."""
    names = run.attrs.get("config", {}).get("class_names") or []
    if index < 0:
        return "unknown"
    return f"{names[index]}" if 0 <= index < len(names) else str(index)


def text_block(run: Run, row: int) -> str:
    """Example ``row``'s text, plain (escaped): what a verifier reads without activations."""
    return f'<p class="plain">{html.escape(join_tokens(run.tokens(row)[1]))}</p>'


class TokenAttributionView(AttributionView):
    """The text with its tokens shaded by each method's score, methods one under another."""

    modality = "text"

    def render(self, run: Run, address: Address) -> str:
        example = run.example(address.index)
        probabilities = softmax(example.logits)
        best = np.argsort(-probabilities)[:3]
        top = ", ".join(
            f"{html.escape(class_name(run, int(c)))} ({probabilities[c]:.2f})" for c in best
        )
        blocks, targets = [], set()
        methods = run.methods if self.methods is None else self.methods
        for number, method in enumerate(methods, start=1):
            scores = run.attribution(method, example.index)
            targets.add(scores.target)
            scale = _token_scale(scores.values)
            name = html.escape(method)
            badge, _ = self.badge(run, method)
            blocks.append(
                f'<div class="method" data-method="{name}"><span class="num">{number}</span>'
                f'<span class="name">{name}</span> {badge} '
                f"{colorbar_svg(scale, 140, method + ' token scores')}"
                f'<div class="tokens">'
                f"{token_spans(list(example.tokens), scores.values, scale, of=str(address))}"
                "</div></div>"
            )
        explained = ", ".join(html.escape(class_name(run, t)) for t in sorted(targets))
        label = html.escape(class_name(run, example.label))
        predicted = html.escape(class_name(run, example.prediction))
        verdict = (
            ""
            if example.label < 0
            else (" · correct" if example.label == example.prediction else " · <b>wrong</b>")
        )
        return (
            STYLE + SANITY_STYLE + f"<h2>Text row {example.index}</h2>"
            f'<p class="meta">true class <b>{label}</b> · predicted <b>{predicted}</b> '
            f"(p {probabilities[example.prediction]:.2f}){verdict} · scores explain "
            f"<b>{explained}</b> · top classes {top} · {len(example.tokens)} tokens</p>"
            "<h3>Token attributions (each method on its own scale)</h3>"
            '<p class="legend">Red pushes towards the explained class, blue against it; '
            "hover a token for its score, click it for the neurons that fire there.</p>"
            + ("".join(blocks) or HIDDEN)
        )


def _token_scale(*values: np.ndarray) -> Scale:
    finite = [np.asarray(v, dtype=np.float64) for v in values]
    finite = [v[np.isfinite(v)] for v in finite]
    return (
        scale_for(*(v for v in finite if v.size))
        if any(v.size for v in finite)
        else Scale(1.0, True)
    )


class TextNeuronCard(ItemViewer):
    """Top-k and range-sampled contexts with every token's activation, and the histogram."""

    kind = "neuron"
    modality = "text"

    def render(self, run: Run, address: Address) -> str:
        layer, unit = str(address.layer), address.index
        evidence = run.neuron(layer, unit)
        info = run.layer_info(layer)
        top_position, top_window, range_position, range_window = evidence.contexts()
        scale = _token_scale(top_window, range_window)
        why_scale = _token_scale(evidence.attribution)
        top = []
        for rank, row in enumerate(evidence.topk_index.tolist(), start=1):
            slot = rank - 1
            value = float(evidence.topk_value[slot])
            tokens, lo, hi, length, peak = self._window(
                run, row, int(top_position[slot]), top_window.shape[1]
            )
            width = hi - lo
            label = html.escape(class_name(run, run.example(row).label))
            top.append(
                f'<div class="tag" data-row="{row}" {example_link(run.name, row, LINK_TITLE)}><span class="num">{rank}</span>'
                f"act {value:.3g}<br>row {row} · {label}</div>"
                f'<div><div class="tokens">{_cut(lo, 0)}'
                f"{token_spans(tokens, top_window[slot][:width], scale, marked=peak)}"
                f"{_cut(hi, length)}</div>"
                f'<div class="tokens why" aria-label="what makes it fire">'
                f"{token_spans(tokens, evidence.attribution[slot][:width], why_scale)}</div></div>"
            )
        names = shown_examples(run, str(address))
        order = range_samples(evidence.quantile_index, evidence.quantile_value)
        slots = {int(r): i for i, r in enumerate(evidence.quantile_index.tolist())}
        samples = []
        for position, row in enumerate(order, start=1):
            slot = slots[row]
            value = float(evidence.quantile_value[slot])
            tokens, lo, hi, length, peak = self._window(
                run, row, int(range_position[slot]), range_window.shape[1]
            )
            same = "" if names[row] == f"R{position}" else f" (= {names[row]})"
            samples.append(
                f'<div class="tag" data-row="{row}" {example_link(run.name, row, LINK_TITLE)}><span class="num">R{position}</span>'
                f"act {value:.3g}<br>row {row}{same}</div>"
                f'<div class="tokens">{_cut(lo, 0)}'
                f"{token_spans(tokens, range_window[slot][: hi - lo], scale, marked=peak)}"
                f"{_cut(hi, length)}</div>"
            )
        histogram = histogram_svg(
            evidence.histogram,
            evidence.bin_edges,
            marks={
                "top context": (evidence.topk_value, "#c0392b"),
                "range sample": (evidence.quantile_value, "#2471a3"),
            },
            label="activation (maximum over the text's tokens)",
        )
        return (
            STYLE + f"<h2>Unit {unit} of layer {html.escape(layer)}</h2>"
            f'<p class="meta">{info["n_units"]} units analysed · run {html.escape(run.name)} · '
            "activation of a text = its largest over the text's tokens</p>"
            "<h3>Top activating contexts</h3>"
            f'<p class="legend">Upper line: the unit\'s activation on each token, outlined where '
            f"it is largest. {colorbar_svg(scale, 120, 'activation')}</p>"
            '<p class="legend">Lower line: which tokens make it fire there (integrated '
            "gradients; red raises it, blue lowers it). "
            f"{colorbar_svg(why_scale, 120, 'neuron attribution')}</p>"
            f'<div class="contexts top">{"".join(top)}</div>'
            "<h3>Across the activation range (lowest to highest)</h3>"
            f'<div class="contexts range">{"".join(samples)}</div>'
            f"<h3>Activation over all {run.n_examples} texts</h3>"
            '<p class="legend">Ticks under the axis: <span style="color:#c0392b">top contexts'
            '</span>, <span style="color:#2471a3">range samples</span>.</p>' + histogram
        )

    @staticmethod
    def _window(run: Run, row: int, position: int, width: int) -> tuple[Any, int, int, int, int]:
        """The tokens of the context window of ``row`` around ``position``: tokens, start,
        stop, the text's length and the peak's index in the window."""
        tokens = run.tokens(row)[1]
        lo, hi = context_window(position, len(tokens), width)
        return list(tokens[lo:hi]), lo, hi, len(tokens), position - lo


def _cut(at: int, end: int) -> str:
    """An ellipsis where the window cuts the text (``at`` is not the text's ``end``)."""
    return '<span class="gap"> … </span>' if at != end else ""
