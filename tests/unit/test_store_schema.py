"""The run-file schema: names, dataset paths, provenance attributes, exported API."""

from __future__ import annotations

import json

import numpy as np
import pytest

import interpret_review.store as store
from interpret_review.errors import ConfigError, UnknownNameError
from interpret_review.store.schema import check_run_attrs, dataset_spec, parse_shard_name

ATTRS = {"model_fingerprint": "m", "dataset_fingerprint": "d", "config": {}, "versions": {}}


def test_exports_are_sorted_and_present() -> None:
    assert store.__all__ == sorted(store.__all__, key=lambda n: (not n.isupper(), n))
    for name in store.__all__:
        assert getattr(store, name) is not None
    assert store.SCHEMA_VERSION == 2 and store.FORMAT_NAME == "interpret-review-run"


def test_shard_names() -> None:
    assert parse_shard_name("examples-00003").ordinal == 3
    assert parse_shard_name("examples-123456.h5").ordinal == 123456
    neurons = parse_shard_name("neurons-layer1.0.conv1")
    assert neurons.kind == "neurons" and neurons.layer == "layer1.0.conv1"
    assert neurons.filename == "neurons-layer1.0.conv1.h5"
    for bad in ("examples-3", "examples", "neurons-", "neurons-a/b", "foo-00001"):
        with pytest.raises(ConfigError):
            parse_shard_name(bad)


def test_dataset_paths() -> None:
    values = dataset_spec("attributions/Saliency/values")
    assert values.method == "Saliency" and values.spec.dtype == np.float16
    assert values.spec.per_example and np.isnan(values.spec.fill)
    topk = dataset_spec("layers/fc.1/neurons/topk_index")
    assert topk.layer == "fc.1" and not topk.spec.per_example and topk.spec.fill == -1
    assert dataset_spec("examples/display").spec.ranks == (3, 4)
    with pytest.raises(UnknownNameError, match="did you mean 'examples/label'"):
        dataset_spec("examples/labels")
    with pytest.raises(ConfigError, match="address"):
        dataset_spec("attributions/Sal iency/values")


def test_run_attrs_are_checked_and_fingerprinted() -> None:
    out = check_run_attrs({**ATTRS, "config": '{"b": 1, "a": 2}', "note": "x"})
    assert out["config"] == '{"a":2,"b":1}' and out["note"] == "x"
    assert {"python", "numpy", "h5py"} <= set(json.loads(out["versions"]))
    assert out["run_fingerprint"] == store.run_fingerprint("m", "d", {"a": 2, "b": 1})
    with pytest.raises(ConfigError, match="leave it out"):
        check_run_attrs({**ATTRS, "run_fingerprint": "0" * 16})
    with pytest.raises(ConfigError, match="set by the store"):
        check_run_attrs({**ATTRS, "schema_version": 1})
    with pytest.raises(ConfigError, match="not valid JSON"):
        check_run_attrs({**ATTRS, "config": "{nope"})
    with pytest.raises(ConfigError, match="string or a number"):
        check_run_attrs({**ATTRS, "extra": [1, 2]})
    with pytest.raises(ConfigError, match="non-empty string"):
        check_run_attrs({**ATTRS, "model_fingerprint": ""})


def test_dataset_paths_are_built_in_one_place() -> None:
    """The schema builds the method and layer paths; a misspelt dataset is refused, and no
    other module of the package writes ``f"attributions/{...}"`` or ``f"layers/{...}"``."""
    import re
    from pathlib import Path

    from interpret_review.errors import UnknownNameError
    from interpret_review.store.schema import (
        attribution_path,
        dataset_spec,
        layer_path,
        neuron_path,
    )

    assert attribution_path("Saliency") == "attributions/Saliency"
    assert layer_path("conv1", "spatial") == "layers/conv1/spatial"
    assert neuron_path("conv1") + "topk_index" == neuron_path("conv1", "topk_index")
    for path in (attribution_path("IG", "delta"), layer_path("l", "activations"),
                 neuron_path("l", "attribution")):  # fmt: skip
        assert dataset_spec(path).path == path
    for build, name in ((attribution_path, "value"), (layer_path, "activation"),
                        (neuron_path, "topk")):  # fmt: skip
        with pytest.raises(UnknownNameError):
            build("x", name)
    package = Path(__file__).parents[2] / "interpret_review"
    by_hand = re.compile(r"""f["'](attributions|layers)/\{""")
    found = [
        str(p.relative_to(package))
        for p in package.rglob("*.py")
        if p.name != "schema.py" and by_hand.search(p.read_text(encoding="utf-8"))
    ]
    assert found == []
