"""The command line, run as a user runs it: a subprocess per command."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from pathlib import Path

from interpret_review.judgments import JudgmentStore
from interpret_review.review import ReviewSession, RunSet, load_project, sync_project


def cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "interpret_review.cli", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=300,
    )


def test_generate_then_info(tmp_path: Path, demo_dir: Path) -> None:
    out = tmp_path / "runs" / "small.h5"
    result = cli("generate", "digits", "--out", str(out), "--limit", "20", "--methods",
                 "Saliency,Occlusion", "--layers", "conv2", "--top-k", "3", "--quiet")  # fmt: skip
    assert result.returncode == 0, result.stderr
    info = json.loads(cli("info", str(out), "--json").stdout)
    assert info["n_examples"] == 20 and list(info["methods"]) == ["Saliency", "Occlusion"]
    assert list(info["layers"]) == ["conv2"] and info["layers"]["conv2"]["top_k"] == 3
    text = cli("info", str(out)).stdout
    assert "run 'digits'" in text and "Occlusion" in text


def test_errors_are_one_line_with_exit_status_1(tmp_path: Path) -> None:
    not_a_run = tmp_path / "notes.h5"
    not_a_run.write_text("hello")
    result = cli("info", str(not_a_run))
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        f"error: {not_a_run}: not an HDF5 file (it looks like text starting 'hello'); "
        "generate a run with `interpret-review generate`"
    ]
    result = cli("generate", "digts", "--out", str(tmp_path / "x.h5"))
    assert result.returncode == 1 and "did you mean 'digits'" in result.stderr
    assert "Traceback" not in result.stderr
    result = cli("serve", str(tmp_path / "missing.toml"))
    assert result.returncode == 1 and "no such project file" in result.stderr


def test_demo_builds_once_and_export_writes_the_judgments(demo_dir: Path, tmp_path: Path) -> None:
    result = cli("demo", "--dir", str(demo_dir), "--no-serve", "--quiet")
    assert result.returncode == 0, result.stderr
    assert "alice" in result.stdout and "alice-demo" in result.stdout
    project_file = demo_dir / "digits-demo.toml"
    copy = tmp_path / "copy.toml"  # a store of its own beside the copy
    copy.write_text(
        project_file.read_text().replace('"runs/digits.h5"', f'"{demo_dir / "runs/digits.h5"}"')
    )
    project = load_project(copy)
    with JudgmentStore(project.database_url) as store, RunSet(project) as runs:
        sync_project(project, store, runs)
        session = ReviewSession(store, project, "describe-neurons", "alice", runs)
        label = '=HYPERLINK("x") <b>loop</b>'
        address = session.item(session.first_open()).address
        session.submit(
            client_id=str(uuid.uuid4()),
            key=address,
            answers={"label": label, "category": "loop", "confidence": 4},
            duration_ms=2000,
        )
    out = tmp_path / "labels.jsonl"
    result = cli("export", str(copy), "--out", str(out))  # the format from the suffix
    assert result.returncode == 0 and result.stdout.startswith("1 judgments written to")
    assert f"dataset card: {tmp_path / 'labels.card.md'}" in result.stdout
    assert "export jsonl" in result.stderr and "row" in result.stderr  # the progress bar
    row = json.loads(out.read_text())
    assert row["answers"]["label"] == label and row["reviewer"] == "reviewer-1"
    assert row["address"] == address and len(row["run_fingerprint"]) == 16
    assert row["model_fingerprint"].startswith("sha256:") and row["stale"] is False
    assert cli("export", str(copy), "--out", str(out), "--names", "--no-card").returncode == 0
    assert json.loads(out.read_text())["reviewer"] == "alice"
    csv_out = tmp_path / "labels.csv"
    assert cli("export", str(copy), "--format", "csv", "--out", str(csv_out)).returncode == 0
    assert "'=HYPERLINK" in csv_out.read_text()  # neutralised for spreadsheets
    bad = cli("export", str(copy), "--out", str(tmp_path / "labels.xlsx"))
    assert bad.returncode == 1 and "name it .jsonl, .csv or .parquet" in bad.stderr
    bad = cli("export", str(copy), "--out", str(tmp_path / "x.h5"), "--format", "hdf5")
    assert bad.returncode == 1 and "add --probe-bundle" in bad.stderr
    result = cli("quality", str(copy))
    assert result.returncode == 0, result.stderr
    assert "describe-neurons (review): 1 answers from 1 reviewers" in result.stdout
    assert "too few items" in result.stdout and "alice" in result.stdout
    report = json.loads(cli("quality", str(copy), "--json", "--apply").stdout)
    assert report["tasks"]["describe-neurons"]["consensus"][0]["value"] == "loop"
    assert report["reviewers"]["alice"]["items"] == 1 and report["applied"] == []
