"""Token attributions for text classifiers: one score per token, through Captum.

A text model here is any ``torch.nn.Module`` called as ``model(ids, attention_mask)`` (or
``model(ids)``) that returns logits, or an object with ``.logits`` (HuggingFace models).
:func:`text_forward` wraps either into ``f(ids, mask) -> logits``. The methods
(:data:`TEXT_METHODS`) work on the **embedding layer** (found by :func:`embedding_layer`:
HuggingFace's ``get_input_embeddings()``, else the model's first ``nn.Embedding``):

* ``LayerIntegratedGradients``: gradients integrated from a baseline of padding tokens
  (same length, same attention mask) to the sentence, summed over embedding dimensions;
* ``Saliency``: the L2 norm of the gradient with respect to each token's embedding;
* ``FeatureAblation``: the drop of the target logit when one token's id is replaced by the
  padding id (its attention mask stays 1: the model reads the padding token there).

Positions outside the attention mask score 0. This module is the torch side; storing the
scores (ragged, as flat values and offsets) is the run writer's.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from captum.attr import FeatureAblation, LayerGradientXActivation, LayerIntegratedGradients

from interpret_review.errors import (
    ConfigError,
    ModelError,
    UnknownNameError,
    missing_dependency,
)

__all__ = [
    "TEXT_METHODS",
    "TextData",
    "TextMethod",
    "embedding_layer",
    "load_text_model",
    "takes_mask",
    "text_forward",
    "token_attributions",
]


@dataclass(frozen=True)
class TextMethod:
    """One row of the text method table."""

    name: str
    help: str
    defaults: Mapping[str, Any]
    signed: bool  # scores can be negative (a diverging colour scale) or not


TEXT_METHODS: Mapping[str, TextMethod] = {
    m.name: m
    for m in (
        TextMethod(
            "LayerIntegratedGradients",
            "Integrated gradients on the embedding layer from a padding baseline.",
            {"n_steps": 32},
            signed=True,
        ),
        TextMethod(
            "Saliency",
            "L2 norm of the gradient with respect to each token's embedding.",
            {},
            signed=False,
        ),
        TextMethod(
            "FeatureAblation",
            "Drop of the target logit when the token is replaced by padding.",
            {"perturbations_per_eval": 16},
            signed=True,
        ),
    )
}


@dataclass(frozen=True)
class TextData:
    """What a text run is generated from: token ids, their mask, labels and token texts.

    ``ids`` and ``mask`` are ``(N, L)`` int64 (mask 1 on real tokens, 0 on padding);
    ``labels`` ``(N,)`` (-1 where unknown) or None; ``vocabulary[i]`` is the text of token
    id ``i``, stored beside each token so the app never needs the tokenizer; ``pad_id`` is
    the padding token (the attribution baseline). Build one with :meth:`from_ids` (a plain
    model over your own ids) or :meth:`from_texts` (a HuggingFace tokenizer).
    """

    ids: np.ndarray
    mask: np.ndarray
    labels: np.ndarray | None
    vocabulary: tuple[str, ...]
    pad_id: int = 0
    class_names: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        ids, mask = np.asarray(self.ids), np.asarray(self.mask)
        if ids.ndim != 2 or ids.shape != mask.shape or ids.dtype.kind not in "iu":
            raise ConfigError(
                f"text ids and mask must be whole-number arrays of one shape (N, tokens), got "
                f"{ids.shape} {ids.dtype} and {mask.shape} {mask.dtype}"
            )
        if len(ids) == 0 or not np.all(mask.sum(1) > 0):
            empty = np.flatnonzero(mask.sum(1) == 0)[:5].tolist()
            raise ConfigError(
                "every text needs at least one real token (mask 1)"
                + (f"; rows {empty} have none" if len(ids) else "; got no texts")
            )
        if not 0 <= self.pad_id < len(self.vocabulary):
            raise ConfigError(
                f"pad_id {self.pad_id} is not a token of the vocabulary (0..{len(self.vocabulary) - 1})"
            )
        if ids.min() < 0 or ids.max() >= len(self.vocabulary):
            raise ConfigError(
                f"token ids run from {ids.min()} to {ids.max()} but the vocabulary has "
                f"{len(self.vocabulary)} entries; pass the tokenizer's whole vocabulary"
            )
        if self.labels is not None:
            labels = np.asarray(self.labels)
            if labels.shape != (len(ids),) or labels.dtype.kind not in "iu":
                raise ConfigError(
                    f"labels must be (N,) = ({len(ids)},) whole numbers (-1: unknown), got "
                    f"{labels.shape} {labels.dtype}"
                )
            object.__setattr__(self, "labels", labels.astype(np.int64))
        object.__setattr__(self, "ids", ids.astype(np.int64))
        object.__setattr__(self, "mask", (mask != 0).astype(np.int64))

    def __len__(self) -> int:
        return len(self.ids)

    @classmethod
    def from_ids(
        cls,
        ids: Any,
        vocabulary: Any,
        *,
        labels: Any = None,
        mask: Any = None,
        pad_id: int = 0,
        class_names: Any = (),
    ) -> TextData:
        """Ids ``(N, L)`` padded with ``pad_id`` (the mask defaults to ids != pad_id)."""
        ids = np.asarray(ids)
        mask = (ids != pad_id) if mask is None else np.asarray(mask)
        return cls(
            ids,
            mask,
            None if labels is None else np.asarray(labels),
            tuple(str(v) for v in vocabulary),
            int(pad_id),
            tuple(str(c) for c in class_names),
        )

    @classmethod
    def from_texts(
        cls,
        texts: list[str],
        tokenizer: Any,
        *,
        labels: Any = None,
        max_length: int = 64,
        class_names: Any = (),
    ) -> TextData:
        """Tokenise ``texts`` with a HuggingFace tokenizer (padded, cut at ``max_length``)."""
        encoded = tokenizer(
            list(texts), padding=True, truncation=True, max_length=max_length, return_tensors="np"
        )
        vocab = tokenizer.get_vocab()
        words = [""] * (max(vocab.values()) + 1)
        for word, index in vocab.items():
            words[index] = word
        return cls(
            np.asarray(encoded["input_ids"]),
            np.asarray(encoded["attention_mask"]),
            None if labels is None else np.asarray(labels),
            tuple(words),
            int(tokenizer.pad_token_id or 0),
            tuple(str(c) for c in class_names),
        )

    def tokens(self, row: int) -> tuple[np.ndarray, list[str]]:
        """The real tokens of ``row``: ids and texts."""
        ids = self.ids[row][self.mask[row] != 0]
        return ids, [self.vocabulary[i] for i in ids.tolist()]


def embedding_layer(model: torch.nn.Module) -> torch.nn.Module:
    """The layer whose output is the token embeddings."""
    getter = getattr(model, "get_input_embeddings", None)
    if callable(getter):
        layer = getter()
        if isinstance(layer, torch.nn.Module):
            return layer
    for module in model.modules():
        if isinstance(module, torch.nn.Embedding):
            return module
    raise ModelError(
        f"{type(model).__name__} has no nn.Embedding (and no get_input_embeddings()); "
        "token attributions need the layer that embeds the token ids"
    )


def takes_mask(model: torch.nn.Module) -> bool:
    """Whether ``model``'s forward takes ``attention_mask`` (by name, or as ``**kwargs``)."""
    import inspect

    try:
        parameters = inspect.signature(model.forward).parameters.values()
    except (TypeError, ValueError):
        return True
    return any(
        p.name == "attention_mask" or p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters
    )


def text_forward(model: torch.nn.Module) -> Callable[[torch.Tensor, torch.Tensor], torch.Tensor]:
    """``f(ids, mask) -> logits (b, classes)`` for a model that takes the mask
    (``attention_mask=``) or not (see :func:`takes_mask`: decided once, from its signature)
    and returns a tensor or an object with ``.logits``."""
    with_mask = takes_mask(model)

    def forward(ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        out = model(ids, attention_mask=mask) if with_mask else model(ids)
        logits = getattr(out, "logits", out)
        if not isinstance(logits, torch.Tensor) or logits.ndim != 2:
            raise ModelError(
                f"{type(model).__name__} must return logits of shape (batch, classes), got "
                f"{getattr(logits, 'shape', type(logits).__name__)}"
            )
        return logits

    return forward


def token_attributions(
    model: torch.nn.Module,
    ids: torch.Tensor,
    mask: torch.Tensor,
    target: torch.Tensor,
    method: str,
    *,
    pad_id: int = 0,
    params: Mapping[str, Any] | None = None,
) -> np.ndarray:
    """``(b, L)`` float32 scores of ``method`` for the ``target`` class of each sentence."""
    if method not in TEXT_METHODS:
        raise UnknownNameError("text attribution method", method, TEXT_METHODS)
    if ids.shape != mask.shape or ids.ndim != 2:
        raise ConfigError(
            f"ids and attention_mask must both be (batch, tokens), got {tuple(ids.shape)} and "
            f"{tuple(mask.shape)}"
        )
    options = {**TEXT_METHODS[method].defaults, **(params or {})}
    forward = text_forward(model)
    layer = embedding_layer(model)
    baseline = torch.full_like(ids, pad_id)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # Captum's notes on requires_grad
        if method == "LayerIntegratedGradients":
            scores = LayerIntegratedGradients(forward, layer).attribute(
                ids,
                baselines=baseline,
                target=target,
                additional_forward_args=(mask,),
                n_steps=int(options["n_steps"]),
            )
            values = scores.sum(-1)
        elif method == "Saliency":
            gradients = LayerGradientXActivation(forward, layer, multiply_by_inputs=False)
            values = gradients.attribute(ids, target=target, additional_forward_args=(mask,))
            values = values.norm(dim=-1)
        else:
            values = FeatureAblation(forward).attribute(
                ids,
                baselines=pad_id,
                target=target,
                additional_forward_args=(mask,),
                perturbations_per_eval=int(options["perturbations_per_eval"]),
            )
    values = values.detach().float() * (mask != 0)
    return values.cpu().numpy().astype(np.float32)


def load_text_model(path: str | Path) -> tuple[torch.nn.Module, Any]:
    """``(model, tokenizer)`` of a HuggingFace sequence classifier saved in the folder
    ``path`` (``save_pretrained``), read from that folder only: nothing is downloaded."""
    folder = Path(path)
    if not folder.is_dir():
        raise ModelError(
            f"{folder}: no such folder; give the folder a HuggingFace model was saved to "
            "(save_pretrained), with its config.json, weights and tokenizer files"
        )
    try:
        from transformers import AutoModelForSequenceClassification, AutoTokenizer
    except ModuleNotFoundError as error:
        raise missing_dependency(error, "load_text_model", "text") from None
    try:
        tokenizer = AutoTokenizer.from_pretrained(folder, local_files_only=True)
        model = AutoModelForSequenceClassification.from_pretrained(folder, local_files_only=True)
    except (OSError, ValueError) as error:
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise ModelError(
            f"{folder}: not a HuggingFace sequence classifier with its tokenizer ({first})"
        ) from None
    return model.eval(), tokenizer
