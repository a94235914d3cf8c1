"""Run files on disk: moving, other cwd, killed writers, resume, and every open_run error."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import h5py
import numpy as np
import pytest

from interpret_review.errors import (
    ConfigError,
    DamagedRunError,
    DataError,
    IncompleteRunError,
    NotARunError,
    RunFileError,
    RunVersionError,
)
from interpret_review.store import RunWriter, open_run
from interpret_review.store.files import atomic_h5

N, SHARD = 9, 4
ATTRS = {
    "model_fingerprint": "model-a",
    "dataset_fingerprint": "data-a",
    "config": {"methods": ["Saliency"]},
    "versions": {"torch": "2.13"},
}
GROUP_ATTRS = {
    "attributions/Saliency": {"class": "Saliency", "params": {}},
    "layers/fc": {"summary": "value", "kind": "linear"},
}


def columns(start: int, stop: int) -> dict[str, np.ndarray]:
    rows = np.arange(start, stop)
    n = len(rows)
    return {
        "examples/id": rows,
        "examples/label": rows % 3,
        "examples/prediction": (rows + 1) % 3,
        "examples/logits": np.repeat(rows[:, None], 3, 1).astype(np.float32),
        "examples/input": np.broadcast_to(rows[:, None, None, None], (n, 1, 2, 2)).astype(
            np.float32
        ),
        "examples/display": np.broadcast_to(rows[:, None, None, None], (n, 2, 2, 3)).astype(
            np.uint8
        ),
        "attributions/Saliency/values": np.ones((n, 1, 2, 2)) * rows[:, None, None, None],
        "attributions/Saliency/target": rows % 3,
        "layers/fc/activations": np.repeat(rows[:, None], 2, 1).astype(np.float32),
    }


def neurons() -> dict[str, np.ndarray]:
    base = "layers/fc/neurons/"
    return {
        base + "topk_index": np.array([[8, 7], [8, 7]]),
        base + "topk_value": np.array([[8.0, 7.0], [8.0, 7.0]], dtype=np.float32),
        base + "quantile_index": np.array([[0, 4], [0, 4]]),
        base + "quantile_value": np.array([[0.0, 4.0], [0.0, 4.0]], dtype=np.float32),
        base + "histogram": np.array([[5, 4], [5, 4]]),
        base + "bin_edges": np.array([[0, 4, 8], [0, 4, 8]], dtype=np.float32),
        base + "attribution": np.zeros((2, 2, 1, 2, 2)),
        base + "feature_viz": np.arange(8).reshape(2, 1, 2, 2),
    }


def write(path: Path, attrs: dict = ATTRS, shards: int | None = None, finish: bool = True) -> Path:
    writer = RunWriter(path, attrs=attrs)
    starts = list(range(0, N, SHARD))
    for ordinal, start in enumerate(starts[:shards]):
        name = f"examples-{ordinal:05d}"
        if not writer.has_shard(name):
            writer.write_shard(name, columns(start, min(start + SHARD, N)), group_attrs=GROUP_ATTRS)
    if finish:
        if not writer.has_shard("neurons-fc"):
            writer.write_shard("neurons-fc", neurons())
        writer.finalize(n_examples=N)
    return path


def check_readable(path: Path) -> None:
    with open_run(path) as run:
        assert [run.example(i).id for i in range(N)] == list(range(N))
        assert run.attribution("Saliency", 8).values[0, 0, 0] == 8.0
        card = run.neuron("fc", 1)
        assert card.topk_index.tolist() == [8, 7] and card.summary == "value"
        assert card.feature_viz is not None and card.feature_viz.ravel().tolist() == [4, 5, 6, 7]
        assert run.example(5).display.shape == (2, 2, 3)


def test_run_folder_can_be_moved_and_read_from_another_cwd(tmp_path: Path, monkeypatch) -> None:
    write(tmp_path / "a" / "digits.h5")
    shutil.move(tmp_path / "a", tmp_path / "renamed")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    check_readable(tmp_path / "renamed" / "digits.h5")
    monkeypatch.chdir(tmp_path / "renamed")
    check_readable(Path("digits.h5"))  # a relative index path too


def test_stale_partial_files_are_cleaned_and_never_read(tmp_path: Path) -> None:
    path = tmp_path / "digits.h5"
    write(path, shards=1, finish=False)
    shards = tmp_path / "digits.shards"
    # a writer killed mid-shard leaves a partial file: simulate one (garbage bytes)
    (shards / "examples-00001.h5.partial").write_bytes(b"\x89HDF\r\n\x1a\n" + b"\0" * 100)
    (tmp_path / "digits.h5.partial").write_bytes(b"half an index")
    with pytest.raises(IncompleteRunError, match="1 finished shards.*rerun the same generate"):
        open_run(path)
    writer = RunWriter(path, attrs=ATTRS)  # resume
    assert not (shards / "examples-00001.h5.partial").exists()
    assert not (tmp_path / "digits.h5.partial").exists()
    assert writer.has_shard("examples-00000") and not writer.has_shard("examples-00001")
    before = (shards / "examples-00000.h5").stat().st_mtime_ns
    write(path)
    assert (shards / "examples-00000.h5").stat().st_mtime_ns == before  # kept, not rewritten
    check_readable(path)
    assert sorted(p.name for p in shards.iterdir()) == [
        "examples-00000.h5",
        "examples-00001.h5",
        "examples-00002.h5",
        "neurons-fc.h5",
    ]


def test_a_failed_write_leaves_no_file(tmp_path: Path) -> None:
    writer = RunWriter(tmp_path / "digits.h5", attrs=ATTRS)
    bad = {**columns(0, 4), "examples/logits": np.full((4, 3), None)}
    with pytest.raises(DataError, match="must hold numbers"):
        writer.write_shard("examples-00000", bad)
    final = writer.shards_dir / "examples-00000.h5"
    with pytest.raises(RuntimeError, match="killed"):
        with atomic_h5(final) as f:
            f["x"] = np.zeros(3)
            assert (writer.shards_dir / "examples-00000.h5.partial").exists()
            raise RuntimeError("killed mid-write")
    assert list(writer.shards_dir.iterdir()) == []
    assert not writer.has_shard("examples-00000")


def test_resume_with_another_fingerprint_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "digits.h5"
    write(path, shards=1, finish=False)
    other = {**ATTRS, "config": {"methods": ["IntegratedGradients"]}}
    with pytest.raises(ConfigError, match="another fingerprint.*delete the old run"):
        RunWriter(path, attrs=other)
    write(path)
    with pytest.raises(ConfigError, match="another fingerprint"):
        RunWriter(path, attrs={**ATTRS, "model_fingerprint": "model-b"})
    RunWriter(path, attrs=dict(ATTRS))  # the same run may be reopened


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(RunFileError, match="no such file.*interpret-review generate") as err:
        open_run(tmp_path / "nothing.h5")
    assert err.value.path == tmp_path / "nothing.h5"


@pytest.mark.parametrize(
    ("content", "says"),
    [
        (b"just some notes\n", "text"),
        (b"\x89PNG\r\n\x1a\n" + bytes(200), "PNG image"),
        (b"", "empty"),
    ],
)
def test_not_hdf5(tmp_path: Path, content: bytes, says: str) -> None:
    path = tmp_path / "thing.h5"
    path.write_bytes(content)
    with pytest.raises(NotARunError, match=f"not an HDF5 file.*{says}") as err:
        open_run(path)
    assert str(path) in str(err.value)


def test_foreign_hdf5(tmp_path: Path) -> None:
    path = tmp_path / "weights.h5"
    with h5py.File(path, "w") as f:
        f["model_weights/dense"] = np.zeros(3)
        f["optimizer"] = np.zeros(2)
    with pytest.raises(NotARunError, match=r"no 'format' attribute.*'model_weights', 'optimizer'"):
        open_run(path)
    with h5py.File(path, "a") as f:
        f.attrs["format"] = "something-else"
    with pytest.raises(NotARunError, match="'something-else'"):
        open_run(path)


def test_newer_schema_version(tmp_path: Path) -> None:
    path = write(tmp_path / "digits.h5")
    with h5py.File(path, "a") as f:
        f.attrs["schema_version"] = 3
    with pytest.raises(
        RunVersionError, match="schema v3.*reads up to v2; upgrade interpret-review"
    ):
        open_run(path)


def test_truncated_index(tmp_path: Path) -> None:
    path = write(tmp_path / "digits.h5")
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(DamagedRunError, match="damaged or truncated") as err:
        open_run(path)
    assert err.value.path == path


def test_deleted_shard(tmp_path: Path) -> None:
    path = write(tmp_path / "digits.h5")
    (tmp_path / "digits.shards" / "examples-00001.h5").unlink()
    with pytest.raises(
        DamagedRunError, match="examples-00001.h5: shard of run digits.h5 is missing"
    ):
        open_run(path)
    write(path)  # rerunning generation rewrites the missing shard and the index
    check_readable(path)


def test_shard_replaced_by_a_shorter_one(tmp_path: Path) -> None:
    path = write(tmp_path / "digits.h5")
    write(tmp_path / "other" / "digits.h5")
    shutil.copy(  # a 1-row shard from another run in place of the 4-row one
        tmp_path / "other" / "digits.shards" / "examples-00002.h5",
        tmp_path / "digits.shards" / "examples-00000.h5",
    )
    with open_run(path) as run:  # same size now (small rows share a chunk): found on read
        run.example(5)  # a row of another shard reads fine
        with pytest.raises(DamagedRunError, match="examples-00000.h5: shard of run .* replaced"):
            run.example(0)
        with pytest.raises(DamagedRunError, match="replaced"):
            run.activations("fc")
    shard = tmp_path / "digits.shards" / "neurons-fc.h5"
    os.truncate(shard, shard.stat().st_size - 10)
    with pytest.raises(DamagedRunError):
        open_run(path)


def test_index_without_its_shards_folder(tmp_path: Path) -> None:
    path = write(tmp_path / "a" / "digits.h5")
    (tmp_path / "b").mkdir()
    shutil.move(path, tmp_path / "b" / "digits.h5")
    with pytest.raises(DamagedRunError, match="shards folder digits.shards/ is missing"):
        open_run(tmp_path / "b" / "digits.h5")


def test_open_reads_no_dataset(tmp_path: Path) -> None:
    """Lazy open: a run whose shard contents are garbage (right size) still opens; the
    garbage is only hit on the first read, which then raises DamagedRunError."""
    path = write(tmp_path / "digits.h5")
    shard = tmp_path / "digits.shards" / "examples-00001.h5"
    shard.write_bytes(b"\0" * shard.stat().st_size)
    with open_run(path) as run:
        assert run.n_examples == N and run.methods == ["Saliency"]
        assert run.example(0).id == 0  # other shards still read
        with pytest.raises(DamagedRunError, match="examples-00001.h5: shard cannot be read"):
            run.example(5)


KILLED_WRITER = """
import numpy as np
from interpret_review.store import RunWriter

def write_all(path, rows=120):
    writer = RunWriter(path, attrs={"model_fingerprint": "m", "dataset_fingerprint": "d",
                                    "config": {}, "versions": {}})
    for i in range(rows):
        name = f"examples-{i:05d}"
        if writer.has_shard(name):
            continue
        r = np.array([i])
        writer.write_shard(name, {
            "examples/id": r, "examples/label": r, "examples/prediction": r,
            "examples/logits": np.full((1, 2), i, np.float32),
            "examples/input": np.full((1, 1, 8, 8), i, np.float32),
            "examples/display": np.zeros((1, 8, 8), np.uint8)})
    return writer.finalize(n_examples=rows)
"""


def test_writer_killed_with_sigkill_resumes(tmp_path: Path) -> None:
    import signal
    import subprocess
    import sys
    import time

    path = tmp_path / "killed.h5"
    code = KILLED_WRITER + f"\nwrite_all({str(path)!r})\n"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    proc = subprocess.Popen([sys.executable, "-c", code], env=env)
    shards = tmp_path / "killed.shards"
    try:
        while proc.poll() is None and len(list(shards.glob("examples-*.h5"))) < 3:
            time.sleep(0.005)  # until a few shards are finished
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait()
    finished = sorted(shards.glob("examples-*.h5"))
    assert proc.returncode == -signal.SIGKILL and len(finished) >= 3
    if not path.exists():  # the normal case: killed long before the index
        with pytest.raises(IncompleteRunError, match="rerun the same generate command"):
            open_run(path)
    namespace: dict = {}
    exec(KILLED_WRITER, namespace)
    namespace["write_all"](path)  # resume in this process
    assert not list(tmp_path.rglob("*.partial"))
    with open_run(path) as run:
        assert run.n_examples == 120
        rows = [run.example(i) for i in range(120)]
        assert [e.id for e in rows] == list(range(120))
        assert all(e.input[0, 0, 0] == e.index for e in rows)
