"""Probe bundles, probes and TCAV on the digits demo, labelled by simulated reviewers through
the real review session (describe with marked examples, then verify by prediction)."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from pathlib import Path

import numpy as np
import pytest

from interpret_review.errors import BundleError, ExportError, ModelError, UnknownNameError
from interpret_review.export import (
    export_judgments,
    export_probe_bundle,
    load_bundle,
    train_probes,
)
from interpret_review.export.bundle import split_of
from interpret_review.judgments import JudgmentStore
from interpret_review.quality import compute_report
from interpret_review.review import ReviewSession, RunSet, load_project, sync_project
from interpret_review.review.simulated import simulate_reviews

pytestmark = pytest.mark.slow  # a labelled demo and trained probes: not in test-fast


@pytest.fixture(scope="session")
def labelled(demo_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the demo project (its own SQLite store) answered by simulated reviewers."""
    folder = tmp_path_factory.mktemp("labelled")
    project_file = folder / "digits-demo.toml"
    text = (demo_dir / "digits-demo.toml").read_text(encoding="utf-8")
    project_file.write_text(
        text.replace('"runs/digits.h5"', json.dumps(str(demo_dir / "runs" / "digits.h5"))),
        encoding="utf-8",
    )
    project = load_project(project_file)
    with JudgmentStore(project.database_url) as store, RunSet(project) as runs:
        sync_project(project, store, runs)
        summary = simulate_reviews(store, project, runs, seed=0)
    assert summary.answers == {"describe-neurons": 48, "verify-descriptions": 48}
    return project_file


def _bundle(project_file: Path, out: Path, **options) -> object:
    project = load_project(project_file)
    with JudgmentStore(project.database_url) as store:
        return export_probe_bundle(store, project, out, **options)


def test_a_bundle_reads_back_the_same_from_hdf5_and_parquet(labelled: Path, tmp_path: Path) -> None:
    h5 = _bundle(labelled, tmp_path / "h5")
    pq = _bundle(labelled, tmp_path / "pq", format="parquet")
    a, b = load_bundle(tmp_path / "h5"), load_bundle(tmp_path / "pq")
    assert h5.data.name == "bundle.h5" and pq.data.name == "bundle.parquet"
    for name in (
        "rows",
        "example_ids",
        "split",
        "label",
        "prediction",
        "inputs",
        "labels",
        "sources",
    ):
        assert np.array_equal(getattr(a, name), getattr(b, name)), name
    assert a.activations.keys() == b.activations.keys() == {"conv1", "conv2"}
    for layer in a.activations:
        assert np.allclose(a.activations[layer], b.activations[layer])
    assert a.concepts == b.concepts and len(a.concepts) == h5.concepts > 20
    # the manifest beside the file, and the card
    manifest = json.loads((tmp_path / "h5" / "manifest.json").read_text())
    assert manifest["run"]["model_fingerprint"].startswith("sha256:")
    assert manifest["split"]["by"] == "example id"
    kinds = {c["kind"] for c in manifest["concepts"]}
    assert kinds == {"neuron", "category"}
    card = (tmp_path / "h5" / "card.md").read_text()
    assert "# Dataset card" in card and "bundle.h5" in card and "TO FILL IN" in card


def test_labels_come_from_marks_and_predictions_and_match_the_activations(
    labelled: Path, tmp_path: Path
) -> None:
    _bundle(labelled, tmp_path / "b", layers=["conv2"])
    bundle = load_bundle(tmp_path / "b")
    assert list(bundle.activations) == ["conv2"]
    neurons = [c for c in bundle.concepts if c["kind"] == "neuron"]
    assert all(c["by_source"]["marks"] > 0 for c in neurons)
    assert sum(c["by_source"]["predictions"] for c in neurons) > 100
    # simulated reviewers follow the units' activations: positives are more active
    higher = 0
    for c in neurons:
        if c["address"].split("/")[1] != "conv2":
            continue
        unit = int(c["address"].rsplit("/", 1)[1])
        acts = bundle.activations["conv2"][:, unit]
        column = bundle.labels[:, c["index"]]
        higher += acts[column == 1].mean() > acts[column == 0].mean()
    assert higher >= 14  # of the 16 conv2 units


def test_splits_depend_on_the_example_id_alone(labelled: Path, tmp_path: Path) -> None:
    _bundle(labelled, tmp_path / "a", layers=["conv1"])
    _bundle(labelled, tmp_path / "b", layers=["conv2"], split_seed=0)
    _bundle(labelled, tmp_path / "c", layers=["conv2"], split_seed=7)
    a, b, c = (load_bundle(tmp_path / x) for x in "abc")
    assert np.array_equal(a.split, b.split) and not np.array_equal(a.split, c.split)
    fractions = {"train": 0.6, "validation": 0.2, "test": 0.2}
    assert [split_of(i, 0, fractions) for i in a.example_ids] == list(a.split)
    counts = {name: int((a.split == name).sum()) for name in fractions}
    assert counts["train"] > counts["test"] > 0 and counts["validation"] > 0


def test_concept_ids_change_when_the_labels_change(labelled: Path, tmp_path: Path) -> None:
    before = load_bundle(_bundle(labelled, tmp_path / "before").folder)
    project = load_project(labelled)
    with JudgmentStore(project.database_url) as store, RunSet(project) as runs:
        session = ReviewSession(store, project, "describe-neurons", "alice", runs)
        item = session.item(0)  # alice's first unit: she now marks none of its examples
        session.submit(
            client_id=str(uuid.uuid4()),
            key=item.key,
            answers={**item.answers, "fits": [next(iter(item.shown_examples))]},
            duration_ms=5000,
            supersedes=item.judgment,
        )
        after = load_bundle(_bundle(labelled, tmp_path / "after").folder)
        session.submit(  # and back, for the other tests
            client_id=str(uuid.uuid4()),
            key=item.key,
            answers=item.answers,
            duration_ms=5000,
            supersedes=store.current_of(
                project.name, "describe-neurons", "alice", item.key
            ).client_id,
        )
    old = {c["key"]: c for c in before.concepts}
    new = {c["key"]: c for c in after.concepts}
    changed = [k for k in old if k in new and old[k]["labels_hash"] != new[k]["labels_hash"]]
    assert item.address in changed
    for key in old:
        if key in new:
            same = old[key]["labels_hash"] == new[key]["labels_hash"]
            assert (old[key]["id"] == new[key]["id"]) == same, key


def test_probes_beat_shuffled_labels_on_the_labelled_neurons(
    labelled: Path, tmp_path: Path
) -> None:
    bundle = load_bundle(_bundle(labelled, tmp_path / "b").folder)
    report = train_probes(bundle, shuffles=5)
    summary = report.to_dict()["summary"]
    assert summary["measured"] >= 10
    assert summary["mean_auc"] > summary["mean_shuffled_auc"] + 0.15, summary
    assert summary["beat_shuffled"] > summary["measured"] / 2
    # a unit's own layer encodes its concept almost perfectly
    own = [
        r
        for r in report.results
        if r.concept.startswith("neuron:digits/conv2/") and r.layer == "conv2" and r.auc is not None
    ]
    # (each on a handful of test examples, so judged on the mean against shuffled labels)
    own_auc = np.mean([r.auc for r in own])
    assert own and own_auc > 0.7 and own_auc > np.mean([r.shuffled_auc for r in own]) + 0.2
    table = report.table()
    assert "neuron:digits/conv2/" in table and "beat their shuffled probe" in table


def test_the_probe_command_prints_a_table_and_json(labelled: Path, tmp_path: Path) -> None:
    run = [sys.executable, "-m", "interpret_review.cli"]
    out = tmp_path / "bundle"
    done = subprocess.run([*run, "export", str(labelled), "--probe-bundle", "--out", str(out),
                           "--layers", "conv2"], capture_output=True, text=True, timeout=300)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "probe bundle:" in done.stdout and f"interpret-review probe {out}" in done.stdout
    table = subprocess.run([*run, "probe", str(out)], capture_output=True, text=True, timeout=300)
    assert table.returncode == 0 and "shuf_auc" in table.stdout
    data = json.loads(
        subprocess.run(
            [*run, "probe", str(out / "manifest.json"), "--json"],
            capture_output=True,
            text=True,
            timeout=300,
        ).stdout  # fmt: skip
    )
    assert {r["layer"] for r in data["results"]} == {"conv2"}
    first = json.loads(
        subprocess.run(
            [*run, "probe", str(out), "--json", "--concepts", "0", "--quiet"],
            capture_output=True,
            text=True,
            timeout=300,
        ).stdout  # fmt: skip
    )
    assert {r["concept"] for r in first["results"]} == {data["results"][0]["concept"]}
    assert data["summary"]["mean_auc"] > data["summary"]["mean_shuffled_auc"]
    bad = subprocess.run([*run, "probe", str(tmp_path)], capture_output=True, text=True, timeout=60)
    assert bad.returncode == 1 and "no such manifest" in bad.stderr


def test_tcav_on_the_demo(labelled: Path, demo_dir: Path, tmp_path: Path) -> None:
    from interpret_review.export.tcav import concept_sets, run_tcav
    from interpret_review.generation.zoo import digits_cnn

    bundle = load_bundle(_bundle(labelled, tmp_path / "b").folder)
    model = digits_cnn(progress=False)
    key = "category:describe-neurons/stroke"
    positive, negative = concept_sets(bundle, key)
    info = bundle.concepts[bundle.concept(key)]
    assert (positive.id, negative.id) == (info["id"], info["negative_id"])
    assert sum(len(b) for b in positive.data_iter) == info["positives"]
    result = run_tcav(bundle, key, model, n_random=4, save_path=tmp_path / "cav")
    assert result.target == 1 and result.n_inputs > 10  # strokes: mostly ones
    for layer, scores in result.layers.items():
        assert 0 <= scores["sign_count"] <= 1 and 0 <= scores["random_sign_count"] <= 1, layer
    # the CAVs are cached under the concept's id, which changes with the labels
    cached = {p.name for p in (tmp_path / "cav").rglob("*.pkl")}
    assert any(name.startswith(f"{info['id']}-{info['negative_id']}-") for name in cached), cached
    other = digits_cnn(progress=False)
    with __import__("torch").no_grad():
        other.conv1.weight.add_(0.01)
    with pytest.raises(ModelError, match="not the one the bundle's run was made with"):
        run_tcav(bundle, key, other)


def test_bad_bundles_and_bad_requests(labelled: Path, demo_dir: Path, tmp_path: Path) -> None:
    with pytest.raises(BundleError, match="not a probe bundle"):
        load_bundle(demo_dir / "runs" / "digits.h5")  # an HDF5 run, not a bundle
    text = tmp_path / "bundle.h5"
    text.write_text("hello")
    with pytest.raises(BundleError, match="not an HDF5 file"):
        load_bundle(text)
    with pytest.raises(BundleError, match="no such probe bundle"):
        load_bundle(tmp_path / "missing.h5")
    with pytest.raises(UnknownNameError, match="did you mean 'conv2'"):
        _bundle(labelled, tmp_path / "x", layers=["conv3"])
    with pytest.raises(ExportError, match="it is a file"):
        _bundle(labelled, text)


def test_an_unlabelled_project_says_what_is_missing(demo_dir: Path, tmp_path: Path) -> None:
    project_file = tmp_path / "fresh.toml"
    project_file.write_text(
        (demo_dir / "digits-demo.toml")
        .read_text()
        .replace('"runs/digits.h5"', json.dumps(str(demo_dir / "runs" / "digits.h5")))
    )
    project = load_project(project_file)
    with JudgmentStore(project.database_url) as store:
        sync_project(project, store)
        with pytest.raises(ExportError, match="label more items first"):
            export_probe_bundle(store, project, tmp_path / "b")


def test_items_export_gives_one_row_per_item_with_its_consensus(
    labelled: Path, tmp_path: Path
) -> None:
    import pandas as pd

    project = load_project(labelled)
    with JudgmentStore(project.database_url) as store:
        report = compute_report(store, project, n_boot=50)
        result = export_judgments(
            store, project, format="parquet", shape="items", out=tmp_path / "items.parquet",
            report=report,
        )  # fmt: skip
        n_items = sum(len(store.items(project.name, t)) for t in project.tasks)
    frame = pd.read_parquet(result.path)
    assert result.rows == len(frame) == n_items
    consensus = {c.item: c for c in report.tasks["describe-neurons"].consensus}
    describe = frame[frame["task"] == "describe-neurons"]
    assert len(describe) == 24 and set(describe["n_reviewers"]) == {2}
    for row in describe.itertuples():
        assert row.label == consensus[row.item].value and row.field == "category"
        assert row.confidence == pytest.approx(consensus[row.item].confidence)
        assert row.model_fingerprint.startswith("sha256:") and not row.stale
    unanswered = frame[frame["task"] == "rate-attributions"]
    assert unanswered["label"].isna().all() and (unanswered["n_reviewers"] == 0).all()
    card = result.card.read_text()
    assert "## Known limitations" in card and "describe-neurons" in card
    assert "agreement on `category`" in card
