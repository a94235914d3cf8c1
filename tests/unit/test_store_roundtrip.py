"""Write shards -> finalize -> open_run: every record equals what was written."""

from __future__ import annotations

import json
from pathlib import Path

import h5py
import numpy as np
import pytest

from interpret_review.errors import ConfigError, DataError, UnknownNameError
from interpret_review.store import (
    FORMAT_NAME,
    RunWriter,
    open_run,
    run_fingerprint,
)
from interpret_review.store.files import atomic_h5
from interpret_review.store.schema import FIRST_SCHEMA_VERSION
from interpret_review.store.writer import chunk_rows

N, SHARD, C, H, W, CLASSES = 10, 4, 1, 4, 4, 3
UNITS, K, Q, B = 4, 3, 2, 5
METHODS = {"Saliency": "Saliency", "Occlusion": "Occlusion"}
ATTRS = {
    "model_fingerprint": "m" * 64,
    "dataset_fingerprint": "d" * 64,
    "config": {"methods": list(METHODS), "seed": 0},
    "versions": {"torch": "2.13", "captum": "0.9", "interpret_review": "0.1.0"},
}
GROUP_ATTRS = {
    **{f"attributions/{m}": {"class": c, "params": {"seed": 0}} for m, c in METHODS.items()},
    "layers/conv1": {"summary": "max", "kind": "conv", "n_units": UNITS},
}


def example_columns(start: int, stop: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(start)
    n = stop - start
    columns = {
        "examples/id": np.arange(start, stop) + 1000,
        "examples/label": rng.integers(0, CLASSES, n),
        "examples/prediction": rng.integers(0, CLASSES, n),
        "examples/logits": rng.normal(size=(n, CLASSES)).astype(np.float32),
        "examples/input": rng.normal(size=(n, C, H, W)).astype(np.float32),
        "examples/display": rng.integers(0, 256, (n, H, W)).astype(np.uint8),
        "layers/conv1/activations": rng.normal(size=(n, UNITS)).astype(np.float32),
    }
    for method in METHODS:
        columns[f"attributions/{method}/values"] = rng.normal(size=(n, C, H, W)).astype(np.float32)
        columns[f"attributions/{method}/target"] = rng.integers(0, CLASSES, n)
        columns[f"attributions/{method}/delta"] = rng.normal(size=n).astype(np.float32)
    return columns


def neuron_columns() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(99)
    base = "layers/conv1/neurons/"
    return {
        base + "topk_index": rng.integers(0, N, (UNITS, K)),
        base + "topk_value": rng.normal(size=(UNITS, K)).astype(np.float32),
        base + "quantile_index": rng.integers(0, N, (UNITS, Q)),
        base + "quantile_value": rng.normal(size=(UNITS, Q)).astype(np.float32),
        base + "histogram": rng.integers(0, 9, (UNITS, B)),
        base + "bin_edges": np.sort(rng.normal(size=(UNITS, B + 1))).astype(np.float32),
        base + "attribution": rng.normal(size=(UNITS, K, C, H, W)).astype(np.float32),
    }


def write_run(path: Path) -> dict[str, np.ndarray]:
    """Write a 10-example run in 3 shards plus one neuron shard; return all columns."""
    writer = RunWriter(path, attrs=ATTRS)
    parts = []
    for ordinal, start in enumerate(range(0, N, SHARD)):
        columns = example_columns(start, min(start + SHARD, N))
        parts.append(columns)
        writer.write_shard(
            f"examples-{ordinal:05d}",
            columns,
            group_attrs=GROUP_ATTRS,
            compress={"attributions/Occlusion/values"},
            start=start,
        )
    neurons = neuron_columns()
    writer.write_shard("neurons-conv1", neurons)
    writer.finalize(n_examples=N)
    everything = {key: np.concatenate([p[key] for p in parts]) for key in parts[0]}
    return {**everything, **neurons}


def test_every_record_reads_back_as_written(tmp_path: Path) -> None:
    data = write_run(tmp_path / "digits.h5")
    with open_run(tmp_path / "digits.h5") as run:
        assert run.n_examples == N and run.name == "digits"
        assert run.methods == ["Saliency", "Occlusion"]  # stored order, not sorted
        assert run.layers == ["conv1"]
        assert run.n_units("conv1") == UNITS
        for row in range(N):
            ex = run.example(row)
            assert ex.index == row and ex.id == 1000 + row
            assert ex.label == data["examples/label"][row]
            assert ex.prediction == data["examples/prediction"][row]
            np.testing.assert_array_equal(ex.logits, data["examples/logits"][row])
            np.testing.assert_array_equal(ex.input, data["examples/input"][row])
            np.testing.assert_array_equal(ex.display, data["examples/display"][row])
            assert ex.display.dtype == np.uint8
            for method in METHODS:
                amap = run.attribution(method, row)
                written = data[f"attributions/{method}/values"][row]
                assert amap.values.dtype == np.float32 and amap.values.shape == (C, H, W)
                np.testing.assert_array_equal(amap.values, written.astype(np.float16))
                assert amap.target == data[f"attributions/{method}/target"][row]
                assert amap.delta == pytest.approx(data[f"attributions/{method}/delta"][row])
                assert amap.params == {"seed": 0}
        for unit in range(UNITS):
            card = run.neuron("conv1", unit)
            for leaf in ("topk_index", "topk_value", "quantile_index", "histogram", "bin_edges"):
                np.testing.assert_array_equal(
                    getattr(card, leaf), data[f"layers/conv1/neurons/{leaf}"][unit]
                )
            expected = data["layers/conv1/neurons/attribution"][unit].astype(np.float16)
            np.testing.assert_array_equal(card.attribution, expected)
            assert card.summary == "max" and card.feature_viz is None
        np.testing.assert_array_equal(run.activations("conv1"), data["layers/conv1/activations"])
        np.testing.assert_array_equal(
            run.activations("conv1", slice(1, 3)), data["layers/conv1/activations"][:, 1:3]
        )
        np.testing.assert_array_equal(
            run.activations("conv1", 2), data["layers/conv1/activations"][:, 2]
        )


def test_root_attributes_and_fingerprint(tmp_path: Path) -> None:
    write_run(tmp_path / "digits.h5")
    with open_run(tmp_path / "digits.h5") as run:
        assert run.attrs["format"] == FORMAT_NAME
        assert run.schema_version == FIRST_SCHEMA_VERSION  # no text: still v1
        assert run.attrs["config"] == ATTRS["config"]
        versions = run.attrs["versions"]
        assert versions["torch"] == "2.13" and versions["h5py"] == h5py.__version__
        assert {"python", "numpy"} <= set(versions)
        assert run.run_fingerprint == run_fingerprint("m" * 64, "d" * 64, ATTRS["config"])
        assert len(run.run_fingerprint) == 16
        assert run.model_fingerprint == "m" * 64 and run.dataset_fingerprint == "d" * 64
        assert "T" in run.attrs["created_at"]
        assert run.method_info("Occlusion") == {"class": "Occlusion", "params": {"seed": 0}}
        info = run.info()
        json.dumps(info)  # JSON-able
        assert info["methods"]["Occlusion"]["compression"] == "gzip"
        assert info["methods"]["Saliency"]["compression"] == "none"
        assert info["layers"]["conv1"]["top_k"] == K and info["shards"] == 4
        text = run.describe()
        assert "digits" in text and "Occlusion" in text and "conv1" in text and "top-3" in text


def test_fingerprint_ignores_config_key_order_and_json_form() -> None:
    a = run_fingerprint("m", "d", {"a": 1, "b": [1, 2]})
    assert a == run_fingerprint("m", "d", '{"b": [1, 2], "a": 1}')
    assert a != run_fingerprint("m", "d", {"a": 2, "b": [1, 2]})
    assert a != run_fingerprint("m2", "d", {"a": 1, "b": [1, 2]})


def test_chunks_hold_one_big_row_or_many_small_ones() -> None:
    big = np.zeros((50, 3, 64, 64), np.float32)  # 48 KiB a row: one row a chunk
    assert chunk_rows(big, compressed=False) == 1 and chunk_rows(big, compressed=True) == 1
    small = np.zeros((5000, 1, 8, 8), np.float16)  # 128 bytes a row
    assert chunk_rows(small, compressed=False) == 128  # 16 KiB
    assert chunk_rows(small, compressed=True) == 32  # 4 KiB: decompressed whole on each read
    assert chunk_rows(np.zeros(10, np.int64), compressed=False) == 10  # never past the rows


def test_chunk_sizes_and_libver(tmp_path: Path) -> None:
    write_run(tmp_path / "digits.h5")
    shard = tmp_path / "digits.shards" / "examples-00000.h5"
    with h5py.File(shard, "r") as f:
        for key in ("examples/input", "examples/id", "attributions/Occlusion/values"):
            data = f[key]
            compressed = data.compression is not None
            assert data.chunks == (chunk_rows(data[()], compressed), *data.shape[1:])
        assert f["attributions/Saliency/values"].dtype == np.float16
        assert f["attributions/Saliency/values"].compression is None
        assert f["attributions/Occlusion/values"].compression == "gzip"
        assert f["attributions/Occlusion/values"].compression_opts == 1
    with h5py.File(tmp_path / "digits.shards" / "neurons-conv1.h5", "r") as f:
        attribution = f["layers/conv1/neurons/attribution"]
        assert attribution.chunks == (chunk_rows(attribution[()], False), K, C, H, W)
    for path in [tmp_path / "digits.h5", shard]:
        # superblock version 3: written with a v110+ low bound ('earliest' writes 0, v108 2)
        assert path.read_bytes()[:8] == b"\x89HDF\r\n\x1a\n" and path.read_bytes()[8] == 3
    # h5py reports a file's bounds only while the writer holds it open
    with atomic_h5(tmp_path / "probe.h5") as f:
        assert f.libver == ("v110", "v114")
    assert (tmp_path / "probe.h5").read_bytes()[8] == 3


def test_index_holds_virtual_datasets_with_relative_sources(tmp_path: Path) -> None:
    write_run(tmp_path / "digits.h5")
    with h5py.File(tmp_path / "digits.h5", "r") as f:
        ds = f["examples/input"]
        assert ds.is_virtual
        sources = {s.file_name for s in ds.virtual_sources()}
        assert sources == {f"digits.shards/examples-0000{i}.h5" for i in range(3)}
        assert np.isnan(f["examples/logits"].fillvalue)
        assert f["examples/id"].fillvalue == -1
        assert list(f["_shards/nbytes"][()]) == [
            (tmp_path / "digits.shards" / n.decode()).stat().st_size for n in f["_shards/name"][()]
        ]


def test_unknown_names_and_ranges_say_what_is_known(tmp_path: Path) -> None:
    write_run(tmp_path / "digits.h5")
    with open_run(tmp_path / "digits.h5") as run:
        with pytest.raises(UnknownNameError, match="did you mean 'Saliency'") as err:
            run.attribution("Salency", 0)
        assert err.value.known == ["Occlusion", "Saliency"]
        with pytest.raises(UnknownNameError, match="did you mean 'conv1'.*Known layers: conv1"):
            run.neuron("conv2", 0)
        with pytest.raises(UnknownNameError, match="conv1"):
            run.activations("conv", None)
        with pytest.raises(ConfigError, match=r"out of range: valid values are 0\.\.9"):
            run.example(10)
        with pytest.raises(ConfigError, match=r"0\.\.9"):
            run.attribution("Saliency", -1)
        with pytest.raises(ConfigError, match=r"unit of layer 'conv1' 4 is out of range.*0\.\.3"):
            run.neuron("conv1", 4)
        with pytest.raises(ConfigError, match="whole number"):
            run.example(1.5)  # type: ignore[arg-type]
        assert run.example(np.int64(3)).index == 3


def test_writer_rejects_bad_shards(tmp_path: Path) -> None:
    writer = RunWriter(tmp_path / "r.h5", attrs=ATTRS)
    columns = example_columns(0, 4)
    with pytest.raises(UnknownNameError, match="dataset path"):
        writer.write_shard("examples-00000", {**columns, "examples/extra": np.zeros(4)})
    with pytest.raises(DataError, match="dimensions"):
        writer.write_shard("examples-00000", {**columns, "examples/input": np.zeros((4, 4, 4))})
    with pytest.raises(DataError, match="rows"):
        writer.write_shard("examples-00000", {**columns, "examples/id": np.arange(3)})
    with pytest.raises(DataError, match="whole numbers"):
        writer.write_shard("examples-00000", {**columns, "examples/label": np.zeros(4)})
    with pytest.raises(DataError, match="lacks"):
        writer.write_shard("examples-00000", {"examples/id": np.arange(4)})
    with pytest.raises(ConfigError, match="neurons-<layer>"):
        writer.write_shard("examples-00000", {**columns, **neuron_columns()})
    with pytest.raises(ConfigError, match="bad shard name"):
        writer.write_shard("examples-3", columns)
    with pytest.raises(ConfigError, match="attrs lack dataset_fingerprint"):
        RunWriter(tmp_path / "r.h5", attrs={k: v for k, v in ATTRS.items() if "data" not in k})
    with pytest.raises(ConfigError, match="DIR/NAME.h5"):
        RunWriter(tmp_path / "r.hdf5", attrs=ATTRS)
    assert not writer.has_shard("examples-00000")  # nothing half-written was left
    assert list(writer.shards_dir.iterdir()) == []
    writer.write_shard("examples-00000", columns, group_attrs=GROUP_ATTRS)
    with pytest.raises(ConfigError, match="never rewritten"):
        writer.write_shard("examples-00000", columns)
    np.testing.assert_array_equal(
        writer.read_shard_column("examples-00000", "examples/input"), columns["examples/input"]
    )
    with pytest.raises(UnknownNameError, match="examples-00000"):
        writer.read_shard_column("examples-00001", "examples/input")


def test_finalize_checks_that_shards_tile_the_rows(tmp_path: Path) -> None:
    writer = RunWriter(tmp_path / "r.h5", attrs=ATTRS)
    writer.write_shard("examples-00000", example_columns(0, 4), group_attrs=GROUP_ATTRS)
    writer.write_shard("examples-00002", example_columns(8, 10), group_attrs=GROUP_ATTRS)
    with pytest.raises(Exception, match="examples-00001.h5 is missing"):
        writer.finalize(n_examples=10)
    writer.write_shard("examples-00001", example_columns(4, 8), start=5)
    with pytest.raises(DataError, match="starts at row 5"):
        writer.finalize(n_examples=10)
    assert not (tmp_path / "r.h5").exists()  # a failed finalize leaves no index


def test_finalize_needs_method_and_layer_attributes(tmp_path: Path) -> None:
    writer = RunWriter(tmp_path / "r.h5", attrs=ATTRS)
    writer.write_shard("examples-00000", example_columns(0, 4))
    with pytest.raises(ConfigError, match="'class' attribute"):
        writer.finalize(n_examples=4)
    with pytest.raises(ConfigError, match="no datasets in this run"):
        writer.finalize(n_examples=4, group_attrs={**GROUP_ATTRS, "layers/fc": {"kind": "x"}})
    with pytest.raises(Exception, match="hold 4 rows but n_examples=5"):
        writer.finalize(n_examples=5, group_attrs=GROUP_ATTRS)
    path = writer.finalize(n_examples=4, group_attrs=GROUP_ATTRS)
    with open_run(path) as run:
        assert run.method_info("Saliency")["class"] == "Saliency"
        assert run.layer_info("conv1")["has_neurons"] is False
        with pytest.raises(ConfigError, match="no neuron evidence"):
            run.neuron("conv1", 0)
