"""Plain records the run reader returns: numpy arrays, no h5py objects.

Shapes are written as ``(C, H, W)`` for one image input, ``K`` for top-k, ``Q`` for
quantile samples, ``B`` for histogram bins.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from interpret_review.errors import ConfigError

__all__ = ["AttributionMap", "Example", "NeuronEvidence", "context_window", "join_tokens"]


@dataclass(frozen=True)
class Example:
    """One dataset example as stored in a run (row ``index`` of ``/examples``)."""

    index: int
    id: int  # the caller's example id (defaults to the row index)
    label: int  # true class, -1 when unknown
    prediction: int
    logits: np.ndarray  # (n_classes,) float32
    input: np.ndarray  # (C, H, W) float32, the model's input; a text run's token ids (L,)
    display: np.ndarray | None  # (H, W) or (H, W, 3) uint8, what a person is shown (images)
    tokens: tuple[str, ...] = ()  # a text run's tokens as the tokenizer writes them

    @property
    def is_text(self) -> bool:
        return self.display is None

    @property
    def image(self) -> np.ndarray:
        """The display image of an image run's example (a text example has none)."""
        if self.display is None:
            raise ConfigError(
                f"example row {self.index} is text ({len(self.tokens)} tokens) and has no "
                "image; show it with the text viewers (its .tokens)"
            )
        return self.display

    @property
    def text(self) -> str:
        """The tokens joined by spaces (WordPiece ``##`` pieces glued to the one before)."""
        return join_tokens(self.tokens)


#: Marks of a word's first piece in SentencePiece (``▁``) and byte-level BPE (``Ġ``) vocabularies.
WORD_STARTS = ("\u2581", "\u0120")


def join_tokens(tokens: tuple[str, ...] | list[str]) -> str:
    """Tokens as readable text. WordPiece: spaces between tokens, ``##`` pieces glued on;
    SentencePiece and byte-level BPE (tokens marked ``▁``/``Ġ`` where a word starts): the
    marks become spaces and the other pieces are glued on.

    >>> join_tokens(["the", "play", "##ing", "field"])
    'the playing field'
    >>> join_tokens(["\u2581the", "\u2581play", "ing", "\u2581field"])
    'the playing field'
    """
    if any(t.startswith(WORD_STARTS) for t in tokens):
        text = "".join(t.replace("\u2581", " ").replace("\u0120", " ") for t in tokens)
        return " ".join(text.split())
    out: list[str] = []
    for token in tokens:
        if token.startswith("##") and out:
            out[-1] += token[2:]
        else:
            out.append(token)
    return " ".join(out)


@dataclass(frozen=True)
class AttributionMap:
    """One method's attribution of one example (row ``index`` of ``/attributions/<method>``)."""

    method: str
    index: int
    values: np.ndarray  # (C, H, W) float32 (stored float16); a text run's (L,), one per token
    target: int  # the class the attribution explains
    delta: float  # convergence delta where the method has one, else NaN
    params: dict[str, Any] = field(default_factory=dict)  # method parameters used


@dataclass(frozen=True)
class NeuronEvidence:
    """What a run holds about one unit of one layer (``/layers/<layer>/neurons`` row ``unit``)."""

    layer: str
    unit: int
    topk_index: np.ndarray  # (K,) int64 example rows, highest activation first
    topk_value: np.ndarray  # (K,) float32 activation summary of those examples
    quantile_index: np.ndarray  # (Q,) int64 example rows sampled across activation quantiles
    quantile_value: np.ndarray  # (Q,) float32
    histogram: np.ndarray  # (B,) int64 counts of the activation summary over all examples
    bin_edges: np.ndarray  # (B + 1,) float32
    attribution: np.ndarray  # (K, C, H, W) float32 neuron attribution on each top-k example;
    #                          a text layer's (K, W): on each top-k context window's tokens
    summary: str = "max"  # how a conv channel's spatial map is reduced to one number
    feature_viz: np.ndarray | None = None  # (D, C, H, W) float32 optimised inputs, if stored
    feature_viz_value: np.ndarray | None = None  # (D,) the activation each one reaches
    # A text layer's contexts: the token of each example where the unit peaks, and the
    # activations of the W tokens around it (NaN past the text's end).
    topk_position: np.ndarray | None = None  # (K,) int64
    topk_window: np.ndarray | None = None  # (K, W) float32
    quantile_position: np.ndarray | None = None  # (Q,) int64
    quantile_window: np.ndarray | None = None  # (Q, W) float32

    @property
    def has_contexts(self) -> bool:
        return self.topk_window is not None

    def contexts(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """``(topk_position, topk_window, quantile_position, quantile_window)`` of a text
        layer's unit."""
        found = (self.topk_position, self.topk_window, self.quantile_position,
                 self.quantile_window)  # fmt: skip
        if any(part is None for part in found):
            raise ConfigError(
                f"layer {self.layer!r} has no token contexts (not a text layer); show its "
                "units with the image neuron card"
            )
        return found  # type: ignore[return-value]


def context_window(position: int, length: int, window: int) -> tuple[int, int]:
    """``[start, stop)`` of ``window`` tokens around ``position`` in a text of ``length``
    tokens: centred where it can be, shifted at either end, never past the text. The run's
    context windows are cut this way, so their tokens can be found again from the position.

    >>> context_window(5, 20, 5), context_window(0, 20, 5), context_window(19, 20, 5)
    ((3, 8), (0, 5), (15, 20))
    """
    window = max(1, min(window, length))
    start = min(max(0, position - window // 2), length - window)
    return start, start + window
