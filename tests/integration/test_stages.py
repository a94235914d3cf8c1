"""Three stages on a real run: describe -> verify by simulation -> adjudicate, each item
moving on as soon as it has what the next stage needs (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import numpy as np
import pytest

from interpret_review.errors import AuthorizationError
from interpret_review.export import export_judgments
from interpret_review.judgments import JudgmentStore
from interpret_review.review import ReviewSession, RunSet, load_project, sync_project
from interpret_review.review.items import held_out_examples, shown_examples, simulation_score

PIPELINE = """
[project]
name = "pipeline"

[[runs]]
name = "tiny"
path = "{run}"

[[tasks]]
name = "describe"
kind = "neuron"
layers = ["conv1"]
overlap = 2
shuffle = false
categories = ["edge", "blob"]

[[tasks]]
name = "verify"
kind = "neuron"
stage = "verify"
source = "describe"
held_out = {{ high = 2, medium = 1, low = 2 }}

[[tasks]]
name = "adjudicate"
kind = "neuron"
stage = "adjudicate"
source = "verify"
categories = ["edge", "blob"]

[[reviewers]]
username = "ann"
password = "pw"

[[reviewers]]
username = "ben"
password = "pw"

[[reviewers]]
username = "cat"
password = "pw"

[[reviewers]]
username = "ada"
password = "pw"
role = "adjudicator"
"""

UNIT0 = "neuron:tiny/conv1/0"
LEVELS = ("none", "weak", "medium", "strong")


@pytest.fixture
def pipeline(tmp_path: Path, tiny_run: Path, judgment_store: JudgmentStore):
    path = tmp_path / "pipeline.toml"
    path.write_text(PIPELINE.format(run=tiny_run.as_posix()), encoding="utf-8")
    project = load_project(path)
    with RunSet(project) as runs:
        sync_project(project, judgment_store, runs)
        yield project, judgment_store, runs


def session(pipeline, task: str, reviewer: str) -> ReviewSession:
    project, store, runs = pipeline
    return ReviewSession(store, project, task, reviewer, runs)


def describe(pipeline, reviewer: str, label: str, **changes):
    s = session(pipeline, "describe", reviewer)
    item = s.item(0 if "supersedes" in changes else s.first_open())  # an edit: the first one
    answers = {"label": label, "category": "edge", "confidence": 4}
    return s.submit(
        client_id=str(uuid.uuid4()), key=item.key, answers=answers, duration_ms=10, **changes
    )


def predict(pipeline, reviewer: str, levels) -> tuple:
    """Verify the next description handed to ``reviewer``: ``levels(row) -> level``."""
    s = session(pipeline, "verify", reviewer)
    item = s.item(s.first_open())
    predictions = {str(row): levels(row) for row in item.shown_examples}
    stored = s.submit(
        client_id=str(uuid.uuid4()),
        key=item.key,
        answers={"predictions": predictions},
        duration_ms=10,
    )
    return item, stored


def test_a_description_moves_through_verify_and_adjudicate(pipeline) -> None:
    project, store, runs = pipeline
    run = runs["tiny"]
    assert store.items("pipeline", "verify") == [] and store.items("pipeline", "adjudicate") == []
    first = describe(pipeline, "ann", "<b>left</b> edge")
    # the verify stage has the description at once, before the describe stage is finished
    [item] = store.items("pipeline", "verify")
    assert item.key == f"{UNIT0}@{first.client_id}" and item.source == first.client_id
    # blind: who described a unit never verifies a description of it
    assert session(pipeline, "verify", "ann").first_open() is None
    second = describe(pipeline, "ben", "a blob")
    assert len(store.items("pipeline", "verify")) == 2

    activations = run.activations("conv1", 0)
    truth = dict(held_out_examples(project.task("verify"), run, UNIT0))
    order = sorted(truth, key=lambda r: truth[r])
    level_of = {row: LEVELS[min(i, 3)] for i, row in enumerate(order)}
    item, stored = predict(pipeline, "cat", level_of.__getitem__)
    # held-out examples: never shown in stage 1, high to low, with their real activations
    assert not set(item.shown_examples) & set(shown_examples(run, UNIT0))
    assert len(item.shown_examples) == len(truth) >= 3
    assert {r: float(activations[r]) for r in item.shown_examples} == truth
    assert item.context["description"]["label"] in ("<b>left</b> edge", "a blob")
    expected, n = simulation_score(stored.answers["predictions"], LEVELS, truth)
    assert n == len(truth) and expected > 0.7  # predictions in the order of the activations
    scores = store.description_scores("pipeline", "verify")
    assert scores[stored.source] == pytest.approx((expected, 1))

    assert store.items("pipeline", "adjudicate") == []  # one description is not verified yet
    predict(pipeline, "cat", lambda row: "weak")  # no information: scores 0
    [adjudicate] = store.items("pipeline", "adjudicate")
    assert adjudicate.key == UNIT0

    with pytest.raises(AuthorizationError, match="adjudicator"):
        session(pipeline, "adjudicate", "cat")
    judge = session(pipeline, "adjudicate", "ada")
    shown = judge.item(judge.first_open())
    descriptions = shown.context["descriptions"]
    assert [d["answers"]["label"] for d in descriptions] == [
        store.judgment(stored.source).answers["label"],
        ({"<b>left</b> edge", "a blob"} - {store.judgment(stored.source).answers["label"]}).pop(),
    ]  # best simulated first
    assert [d["score"] for d in descriptions] == pytest.approx([expected, 0.0])
    assert all(d["reviewer"] in ("R1", "R2") for d in descriptions)  # no names
    final = judge.submit(
        client_id=str(uuid.uuid4()),
        key=shown.key,
        answers={"label": "left edge", "category": "edge", "confidence": 4, "rationale": "R1"},
        duration_ms=10,
    )
    assert final.task == "adjudicate" and final.reviewer == "ada"
    assert {first.client_id, second.client_id} == {d["id"] for d in descriptions}
    np.testing.assert_allclose(sorted(truth.values()), sorted(activations[list(truth)]))
    out = project.path.with_name("labels.jsonl")
    export_judgments(store, "pipeline", format="jsonl", out=out, task="verify")
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert {r["source"] for r in rows} == {first.client_id, second.client_id}  # what each verified
    assert all(r["address"] == UNIT0 for r in rows)


def test_editing_a_description_replaces_its_verify_item(pipeline) -> None:
    project, store, _ = pipeline
    first = describe(pipeline, "ann", "edge")
    edit = describe(pipeline, "ann", "a sharp edge", supersedes=first.client_id)
    items = {i.key: i.active for i in store.items("pipeline", "verify")}
    assert items == {f"{UNIT0}@{first.client_id}": False, f"{UNIT0}@{edit.client_id}": True}
    s = session(pipeline, "verify", "cat")
    assert s.item(s.first_open()).context["description"]["label"] == "a sharp edge"


def test_a_stage_added_later_catches_up(pipeline, tmp_path: Path) -> None:
    project, store, runs = pipeline
    describe(pipeline, "ann", "edge")
    describe(pipeline, "ben", "blob")
    text = project.path.read_text().replace('name = "verify"', 'name = "verify-2"')
    text = text.replace('source = "verify"', 'source = "verify-2"')
    later = project.path.with_name("later.toml")
    later.write_text(text)
    sync_project(load_project(later), store, runs)
    assert len(store.items("pipeline", "verify-2")) == 2  # both descriptions, at once
