"""Token attributions (issue 6, first part): a text model trained in seconds on a corpus with
planted words, and Captum's methods putting their mass on those words; the same functions on
a HuggingFace model loaded from a local folder."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from interpret_review.errors import ConfigError, ModelError, UnknownNameError
from interpret_review.generation.text import (
    TEXT_METHODS,
    embedding_layer,
    text_forward,
    token_attributions,
)
from interpret_review.generation.zoo_text import (
    MAX_LEN,
    PLANTED,
    planted_corpus,
    planted_text_model,
    vocabulary,
)


@pytest.fixture(scope="module")
def trained() -> tuple[torch.nn.Module, object]:
    model = planted_text_model(seed=0)
    return model, planted_corpus(200, seed=1)  # held-out sentences


def test_the_corpus_plants_one_class_word_per_sentence() -> None:
    corpus = planted_corpus(50, seed=3)
    words = vocabulary()
    for ids, label, at, text in zip(
        corpus.ids, corpus.labels, corpus.planted, corpus.texts, strict=True
    ):
        tokens = [words[i] for i in ids if i]
        assert " ".join(tokens) == text and tokens[at] in PLANTED[label]
        assert sum(t in PLANTED[0] + PLANTED[1] for t in tokens) == 1
    assert corpus.ids.shape == (50, MAX_LEN) and set(corpus.labels) == {0, 1}
    assert np.array_equal(corpus.ids, planted_corpus(50, seed=3).ids)  # reproducible


def test_the_model_learns_the_planted_words(trained) -> None:
    model, corpus = trained
    with torch.no_grad():
        predicted = model(torch.as_tensor(corpus.ids), torch.as_tensor(corpus.mask)).argmax(1)
    assert (predicted.numpy() == corpus.labels).mean() > 0.95


@pytest.mark.parametrize("method", sorted(TEXT_METHODS))
def test_attributions_put_their_mass_on_the_planted_words(trained, method: str) -> None:
    model, corpus = trained
    ids, mask = torch.as_tensor(corpus.ids), torch.as_tensor(corpus.mask)
    target = torch.as_tensor(corpus.labels)
    scores = token_attributions(model, ids, mask, target, method)
    assert scores.shape == ids.shape and scores.dtype == np.float32
    assert not scores[corpus.mask == 0].any()  # padding scores nothing
    mass = np.abs(scores)
    rows = np.arange(len(ids))
    share = mass[rows, corpus.planted] / mass.sum(1)
    uniform = 1 / corpus.mask.sum(1)
    if method == "Saliency":  # gradient size: noisier, but the planted word ranks high
        masked = np.where(corpus.mask == 1, mass, -1.0)
        rank = (masked > mass[rows, corpus.planted][:, None]).sum(1)
        assert (rank < 3).mean() > 0.7 and share.mean() > 1.5 * uniform.mean()
    else:
        assert (mass.argmax(1) == corpus.planted).mean() > 0.9
        assert share.mean() > 0.4
    if TEXT_METHODS[method].signed:  # the planted word pushes towards its class
        assert (scores[rows, corpus.planted] > 0).mean() > 0.9


def test_a_huggingface_model_from_a_local_folder(tmp_path: Path) -> None:
    from transformers import BertConfig, BertForSequenceClassification, BertTokenizer

    from interpret_review.generation.text import load_text_model

    folder = tmp_path / "tiny-bert"
    folder.mkdir()
    words = [*vocabulary(), "[CLS]", "[SEP]", "[MASK]"]  # [PAD] 0, [UNK] 1
    BertTokenizer(vocab={w: i for i, w in enumerate(words)}).save_pretrained(folder)
    config = BertConfig(vocab_size=len(vocabulary()) + 3, hidden_size=16, num_hidden_layers=1,
                        num_attention_heads=2, intermediate_size=32, max_position_embeddings=32,
                        num_labels=2, pad_token_id=0)  # fmt: skip
    torch.manual_seed(0)
    BertForSequenceClassification(config).save_pretrained(folder)
    model, tokenizer = load_text_model(folder)  # from the folder alone (tests run offline)
    batch = tokenizer(planted_corpus(4, seed=0).texts, padding="max_length", max_length=MAX_LEN,
                      truncation=True, return_tensors="pt")  # fmt: skip
    ids, mask = batch["input_ids"], batch["attention_mask"]
    assert tokenizer.unk_token_id not in ids[mask.bool()].tolist()  # the folder's vocabulary
    assert embedding_layer(model) is model.get_input_embeddings()
    assert text_forward(model)(ids, mask).shape == (4, 2)
    for method in TEXT_METHODS:
        scores = token_attributions(model, ids, mask, torch.zeros(4, dtype=torch.long), method,
                                    pad_id=tokenizer.pad_token_id)  # fmt: skip
        assert scores.shape == (4, MAX_LEN) and np.isfinite(scores).all()
        assert not scores[mask.numpy() == 0].any()
    with pytest.raises(ModelError, match="no such folder"):
        load_text_model(tmp_path / "missing")
    with pytest.raises(ModelError, match="not a HuggingFace sequence classifier"):
        load_text_model(tmp_path)


def test_bad_models_and_inputs_say_what_is_wrong() -> None:
    class NoEmbedding(torch.nn.Module):
        def forward(self, ids: torch.Tensor) -> torch.Tensor:
            return ids.float()

    with pytest.raises(ModelError, match="has no nn.Embedding"):
        embedding_layer(NoEmbedding())
    model = planted_text_model(seed=0, n=64, epochs=1)
    ids = torch.ones(2, 5, dtype=torch.long)
    with pytest.raises(ConfigError, match=r"must both be \(batch, tokens\)"):
        token_attributions(model, ids, torch.ones(2, 4), torch.zeros(2), "Saliency")
    with pytest.raises(UnknownNameError, match="did you mean 'Saliency'"):
        token_attributions(model, ids, torch.ones_like(ids), torch.zeros(2), "Salency")

    class Scalar(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.embedding = torch.nn.Embedding(10, 4)

        def forward(self, ids: torch.Tensor) -> torch.Tensor:
            return self.embedding(ids).sum()

    with pytest.raises(ModelError, match=r"must return logits of shape \(batch, classes\)"):
        text_forward(Scalar())(ids, torch.ones_like(ids))


def test_neuron_evidence_of_the_mlp_layer(trained) -> None:
    from interpret_review.generation.neurons import neuron_statistics
    from interpret_review.generation.text_neurons import (
        context_window,
        neuron_token_attributions,
        summarise,
        token_activations,
    )

    model, corpus = trained
    ids, mask = torch.as_tensor(corpus.ids), torch.as_tensor(corpus.mask)
    layer = model.block.linear1
    acts = token_activations(model, layer, ids, mask)
    assert acts.shape == (len(ids), MAX_LEN, layer.out_features)
    summary, position = summarise(acts, mask)
    for i in range(5):  # the max over the real tokens only, and where it is
        real = acts[i, : corpus.mask[i].sum()].numpy()
        assert np.allclose(summary[i], real.max(0)) and (position[i] == real.argmax(0)).all()
    stats = neuron_statistics(summary, top_k=5, n_quantiles=4, bins=10, seed=0, layer="mlp")
    unit = int(np.argmax(summary.std(0)))  # a unit that varies
    top = stats["topk_index"][unit]
    assert (summary[top, unit] == stats["topk_value"][unit]).all()
    for row in top:
        start, stop = context_window(int(position[row, unit]), int(corpus.mask[row].sum()), 7)
        assert start <= position[row, unit] < stop <= corpus.mask[row].sum()
    rows = torch.as_tensor(top)
    scores = neuron_token_attributions(
        model, layer, unit, ids[rows], mask[rows], torch.as_tensor(position[top, unit]), n_steps=64
    )
    assert scores.shape == (len(top), MAX_LEN) and not scores[corpus.mask[top] == 0].any()
    # integrated gradients' completeness: the scores add up to activation - baseline activation
    baseline = token_activations(model, layer, torch.zeros_like(ids[rows]), mask[rows])
    expected = (
        summary[top, unit] - baseline[torch.arange(len(top)), position[top, unit], unit].numpy()
    )
    assert np.allclose(scores.sum(1), expected, atol=0.05 * np.abs(expected).max() + 1e-3)


def test_a_layer_without_tokens_is_refused(trained) -> None:
    from interpret_review.generation.text_neurons import token_activations

    model, corpus = trained
    ids, mask = torch.as_tensor(corpus.ids[:2]), torch.as_tensor(corpus.mask[:2])
    with pytest.raises(ModelError, match="one vector per token"):
        token_activations(model, model.head, ids, mask)


def test_pythons_topic_texts_give_labelled_english_sentences() -> None:
    from collections import Counter

    from interpret_review.generation.zoo_text import TOPIC_CLASSES, topic_sentences

    pairs = topic_sentences()
    counts = Counter(label for _, label in pairs)
    assert set(counts) == set(TOPIC_CLASSES) and min(counts.values()) >= 200
    assert pairs == topic_sentences()  # the same every time, from files Python ships
    for text, _ in pairs:
        assert 6 <= len(text.split()) <= 40 and text.endswith(".")
        assert "====" not in text and "****" not in text and ">>>" not in text
