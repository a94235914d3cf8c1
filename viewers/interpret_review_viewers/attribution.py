"""AttributionView: one example with the maps of several attribution methods side by side.

Each map has its own colour scale (methods differ in units and range by orders of magnitude)
and a colour bar; maps are numbered 1..M, the numbers the answer form rates them by. The
header gives the true label, the prediction with its probability, and the class the maps
explain.
"""

from __future__ import annotations

import html

import numpy as np
import param

from interpret_review.addresses import Address
from interpret_review.store import Run
from interpret_review_viewers.base import ItemViewer
from interpret_review_viewers.render import (
    colorbar_svg,
    colorize,
    img_tag,
    pickable,
    scale_for,
    to_map,
)
from interpret_review_viewers.sanity import STYLE as SANITY_STYLE
from interpret_review_viewers.sanity import rules_from, sanity_badge

__all__ = ["AttributionView", "softmax"]

#: What an item shows when a task's sanity gate hid every map of it.
HIDDEN = (
    '<p class="ir-notice" role="note">Every map of this example fails the task\'s sanity '
    "checks and is hidden: there is nothing to rate. Skip the item.</p>"
)

INPUT_SIZE = 160
MAP_SIZE = 128


def softmax(logits: np.ndarray) -> np.ndarray:
    z = np.asarray(logits, dtype=np.float64)
    z = np.exp(z - z.max())
    return z / z.sum()


class AttributionView(ItemViewer):
    """The input, the prediction and target, and each method's map with its colour bar."""

    kind = "attribution"

    methods = param.List(
        default=None,
        allow_None=True,
        item_type=str,
        doc="The maps to show, in order; None: all of the run's (an empty list shows none: a "
        "task's sanity gate hid them all).",
    )
    sanity = param.Dict(
        default={},
        doc="The task's sanity rules (SanityRules.as_dict()); empty: the default thresholds.",
    )

    @param.depends("run", "address", "methods", "sanity", watch=True)
    def _refresh(self) -> None:
        super()._refresh()

    def variant(self) -> tuple[object, ...]:
        return (
            None if self.methods is None else tuple(self.methods),
            repr(sorted(self.sanity.items())),
        )

    def badge(self, run: Run, method: str) -> tuple[str, bool]:
        """The method's sanity badge, and whether its map is to be flagged."""
        rules = rules_from(self.sanity)
        badge, verdict = sanity_badge(run.sanity(method), rules)
        return badge, rules.action == "flag" and verdict.level == "fail"

    def render(self, run: Run, address: Address) -> str:
        example = run.example(address.index)
        probabilities = softmax(example.logits)
        best = np.argsort(-probabilities)[:3]
        top = ", ".join(f"{int(c)} ({probabilities[c]:.2f})" for c in best)
        methods = run.methods if self.methods is None else self.methods
        figures, targets = [], set()
        for number, method in enumerate(methods, start=1):
            amap = run.attribution(method, example.index)
            targets.add(amap.target)
            values = to_map(amap.values)
            scale = scale_for(values)
            delta = "" if np.isnan(amap.delta) else f" · δ {amap.delta:.2g}"
            name = html.escape(method)
            alt = f"map {number}: {method} attribution of class {amap.target}"
            badge, flagged = self.badge(run, method)
            image = img_tag(colorize(values, scale), alt, MAP_SIZE, "flagged" if flagged else "")
            image = pickable(image, str(address))
            note = (
                '<br><span class="flag-note">Fails the sanity check: this map barely depends '
                "on what the model learned.</span>"
                if flagged
                else ""
            )
            figures.append(
                f'<figure data-method="{name}">{image}'
                f'<figcaption><span class="num">{number}</span>{name}{delta}<br>'
                f"{colorbar_svg(scale, MAP_SIZE, method + ' attribution')}<br>{badge}{note}"
                "</figcaption></figure>"
            )
        explained = ", ".join(str(t) for t in sorted(targets))
        label = "unknown" if example.label < 0 else str(example.label)
        verdict = (
            ""
            if example.label < 0
            else (" · correct" if example.label == example.prediction else " · <b>wrong</b>")
        )
        alt = f"example row {example.index}, true label {label}"
        return (
            SANITY_STYLE + f"<h2>Example row {example.index}</h2>"
            f'<p class="meta">true label <b>{label}</b> · predicted <b>{example.prediction}</b> '
            f"(p {probabilities[example.prediction]:.2f}){verdict} · maps explain class "
            f"<b>{explained}</b> · top classes {top}</p>"
            f'<div class="grid"><figure>{pickable(img_tag(example.image, alt, INPUT_SIZE), str(address))}'
            f"<figcaption>input · click a place for the neurons that fire there</figcaption>"
            "</figure></div>"
            f"<h3>Attribution maps (each on its own scale)</h3>"
            f'<p class="legend">Red pushes towards the explained class, blue against it.</p>'
            + (f'<div class="grid maps">{"".join(figures)}</div>' if figures else HIDDEN)
        )
