"""Text data and a text classifier for tests and demos: no download, ever.

**Planted corpus.** A text classifier trained in seconds on a generated corpus with planted words.

``planted_corpus(n, seed)`` makes sentences of filler words, each with exactly one planted
word that sets its class (positive or negative), so a test knows which token must carry
the attribution. ``PlantedTextModel`` is a one-block transformer over word ids (embedding,
learned positions, self-attention, an MLP of ``ff`` units, masked mean pooling, a linear
head) that takes ``(ids, attention_mask)``; ``planted_text_model(seed)`` trains it on CPU.

**Python's own topic texts.** ``topic_sentences()`` cuts the help topics that ship with
Python (``pydoc_data.topics``: the language reference's pages on statements, expressions
and types) into sentences, each labelled with the kind of topic it comes from
(:data:`TOPIC_CLASSES`): real English, for the text demo.

>>> corpus = planted_corpus(4, seed=0)
>>> len(corpus.ids), corpus.ids.shape[1] == MAX_LEN
(4, True)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

__all__ = [
    "FILLER",
    "MAX_LEN",
    "PAD",
    "PLANTED",
    "PlantedCorpus",
    "PlantedTextModel",
    "planted_corpus",
    "planted_text_model",
    "TOPIC_CLASSES",
    "topic_sentences",
    "vocabulary",
]

PAD, UNK = "[PAD]", "[UNK]"
MAX_LEN = 16
#: The words that set a sentence's class: class 0 (negative) and class 1 (positive).
PLANTED: tuple[tuple[str, ...], tuple[str, ...]] = (
    ("terrible", "awful", "boring"),
    ("excellent", "wonderful", "brilliant"),
)
FILLER: tuple[str, ...] = tuple(
    """the a movie film plot story was is and it this that its with of to in on for very quite
    really actors acting scenes music ending script director cast camera long short first
    second part time people they we saw watched found thought felt seemed looked some many
    most every again still just also then""".split()
)


def vocabulary() -> list[str]:
    """Token ids are positions in this list: ``[PAD]`` is 0."""
    return [PAD, UNK, *FILLER, *(w for words in PLANTED for w in words)]


@dataclass(frozen=True)
class PlantedCorpus:
    """``ids`` (n, MAX_LEN) int64 padded with 0, ``mask`` (n, MAX_LEN) int64, ``labels`` (n,),
    ``planted`` (n,) the position of each sentence's planted word, ``texts`` the sentences."""

    ids: np.ndarray
    mask: np.ndarray
    labels: np.ndarray
    planted: np.ndarray
    texts: list[str]


def planted_corpus(n: int, seed: int = 0) -> PlantedCorpus:
    """``n`` sentences of 6 to 14 words; half of each class, in a random order."""
    rng = np.random.default_rng(seed)
    index = {word: i for i, word in enumerate(vocabulary())}
    ids = np.zeros((n, MAX_LEN), dtype=np.int64)
    labels = rng.permutation(np.arange(n) % 2)
    planted = np.zeros(n, dtype=np.int64)
    texts = []
    for i, label in enumerate(labels):
        length = int(rng.integers(6, 15))
        words = [str(w) for w in rng.choice(FILLER, size=length)]
        at = int(rng.integers(0, length))
        words[at] = str(rng.choice(PLANTED[label]))
        ids[i, :length] = [index[w] for w in words]
        planted[i] = at
        texts.append(" ".join(words))
    return PlantedCorpus(ids, (ids != 0).astype(np.int64), labels.astype(np.int64), planted, texts)


class PlantedTextModel(nn.Module):
    """(ids (b, L), attention_mask (b, L)) -> (b, 2) logits; ``block.linear1`` is the MLP."""

    def __init__(self, vocab_size: int, dim: int = 32, heads: int = 2, ff: int = 64) -> None:
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, dim, padding_idx=0)
        self.position = nn.Embedding(MAX_LEN, dim)
        self.block = nn.TransformerEncoderLayer(
            dim, heads, dim_feedforward=ff, dropout=0.0, batch_first=True
        )
        self.head = nn.Linear(dim, 2)

    def forward(
        self, ids: torch.Tensor, attention_mask: torch.Tensor | None = None
    ) -> torch.Tensor:
        if attention_mask is None:
            attention_mask = (ids != 0).long()
        positions = torch.arange(ids.shape[1], device=ids.device)
        x = self.embedding(ids) + self.position(positions)[None]
        x = self.block(x, src_key_padding_mask=attention_mask == 0)
        weights = attention_mask.unsqueeze(-1).to(x.dtype)
        pooled = (x * weights).sum(1) / weights.sum(1).clamp(min=1.0)
        return self.head(pooled)


def planted_text_model(seed: int = 0, n: int = 2000, epochs: int = 6) -> PlantedTextModel:
    """The model trained on ``planted_corpus(n, seed)`` (a few seconds on a CPU)."""
    corpus = planted_corpus(n, seed)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = PlantedTextModel(len(vocabulary()))
        optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
        ids, mask = torch.as_tensor(corpus.ids), torch.as_tensor(corpus.mask)
        labels = torch.as_tensor(corpus.labels)
        order = torch.Generator().manual_seed(seed)
        model.train()
        for _ in range(epochs):
            for batch in torch.randperm(n, generator=order).split(64):
                optimizer.zero_grad()
                loss = nn.functional.cross_entropy(model(ids[batch], mask[batch]), labels[batch])
                loss.backward()
                optimizer.step()
    return model.eval()


#: Help topics by the kind of language feature they document (the demo's classes).
TOPIC_CLASSES: dict[str, tuple[str, ...]] = {
    "statements": (
        "assert", "assignment", "async", "augassign", "break", "class", "compound", "continue",
        "del", "for", "function", "global", "if", "import", "nonlocal", "pass", "raise",
        "return", "try", "while", "with", "yield",
    ),
    "expressions": (
        "atom-identifiers", "atom-literals", "attribute-references", "await", "binary",
        "bitwise", "booleans", "calls", "comparisons", "conversions", "exprlists",
        "formatstrings", "in", "lambda", "operator-summary", "power", "shifting", "slicings",
        "subscriptions", "unary",
    ),
    "types": (
        "bltin-code-objects", "bltin-ellipsis-object", "bltin-null-object", "bltin-type-objects",
        "callable-types", "dict", "floating", "imaginary", "integers", "lists", "numbers",
        "numeric-types", "sequence-types", "string-methods", "strings", "truth", "types",
        "typesfunctions", "typesmapping", "typesmethods", "typesmodules", "typesseq",
        "typesseq-mutable",
    ),
}  # fmt: skip


def topic_sentences(min_words: int = 6, max_words: int = 40) -> list[tuple[str, str]]:
    """``(sentence, class)`` pairs from the help topics of :data:`TOPIC_CLASSES`, in topic
    and text order: prose sentences of ``min_words`` to ``max_words`` words (code examples,
    headings and tables left out)."""
    import re
    from pydoc_data.topics import topics

    out: list[tuple[str, str]] = []
    for label, names in TOPIC_CLASSES.items():
        for name in names:
            lines = topics.get(name, "").splitlines()
            kept = []
            for i, line in enumerate(lines):
                underline = i + 1 < len(lines) and re.fullmatch(
                    r"[=*~^-]{3,}", lines[i + 1].strip()
                )
                rule = re.fullmatch(r"[=*~^+|-]{3,}.*", line.strip())
                code = line.strip().startswith((">>>", "..."))
                if line.strip() and not (underline or rule or code):
                    kept.append(line.strip())
            prose = " ".join(kept)
            for sentence in re.split(r"(?<=[.!?])\s+(?=[A-Z])", prose):
                words = sentence.split()
                if min_words <= len(words) <= max_words and sentence.endswith("."):
                    out.append((" ".join(words), label))
    return out
