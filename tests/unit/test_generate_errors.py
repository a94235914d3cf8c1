"""Bad models, data and arguments are refused with messages that say what to fix."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
import torch
from torch.utils.data import DataLoader, Dataset, TensorDataset

from interpret_review.errors import ConfigError, DataError, ModelError, UnknownNameError
from interpret_review.generation import generate

pytestmark = pytest.mark.torch

_spec = importlib.util.spec_from_file_location(
    "conftest_generate", Path(__file__).parents[1] / "integration" / "conftest_generate.py"
)
helpers = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(helpers)


@pytest.fixture
def model():
    return helpers.tiny_model()


@pytest.fixture
def data():
    return helpers.tiny_data(6)


def test_not_a_module(tmp_path, data):
    with pytest.raises(ModelError, match="must be a torch.nn.Module, got function"):
        generate(lambda x: x, data, out=tmp_path / "r.h5", progress=False)


class _Bad(torch.nn.Module):
    def forward(self, x):
        return x.flatten(2)  # (b, 1, 36): not (b, n_classes)


def test_model_output_not_logits(tmp_path, data):
    with pytest.raises(
        ModelError, match=r"logits of shape \(2, n_classes\); it returned \(2, 1, 36\)"
    ):
        generate(_Bad(), data, out=tmp_path / "r.h5", progress=False)


def test_inputs_of_wrong_rank(tmp_path, model):
    x = torch.rand(5, 6, 6)
    with pytest.raises(DataError, match=r"shape \(C, H, W\); found examples of shape \(6, 6\)"):
        generate(model, x, out=tmp_path / "r.h5", progress=False)


def test_layer_typo_suggests(tmp_path, model, data):
    with pytest.raises(UnknownNameError, match="did you mean 'conv1'") as info:
        generate(model, data, out=tmp_path / "r.h5", layers=["conv_1"], progress=False)
    assert "fc2" in str(info.value)  # lists the known layers


def test_unknown_method_suggests(tmp_path, model, data):
    with pytest.raises(UnknownNameError, match="did you mean 'IntegratedGradients'"):
        generate(model, data, out=tmp_path / "r.h5", methods=["IntegratedGradient"], progress=False)


def test_target_true_without_labels(tmp_path, model, data):
    with pytest.raises(ConfigError, match="target='true' needs labels"):
        generate(model, data[0], out=tmp_path / "r.h5", target="true", progress=False)


def test_target_class_out_of_range(tmp_path, model, data):
    with pytest.raises(ConfigError, match=r"target class 7 is out of range.*3 classes \(0..2\)"):
        generate(model, data, out=tmp_path / "r.h5", target=7, progress=False)


def test_empty_dataset(tmp_path, model):
    empty = TensorDataset(torch.zeros(0, 1, 6, 6), torch.zeros(0, dtype=torch.long))
    with pytest.raises(DataError, match="the dataset is empty"):
        generate(model, empty, out=tmp_path / "r.h5", progress=False)


def test_shuffling_loader(tmp_path, model, data):
    loader = DataLoader(TensorDataset(*data), batch_size=2, shuffle=True)
    with pytest.raises(DataError, match="RandomSampler.*shuffle=False"):
        generate(model, loader, out=tmp_path / "r.h5", progress=False)


def test_integer_pixels_refused(tmp_path, model):
    x = torch.zeros(3, 1, 6, 6, dtype=torch.uint8)
    with pytest.raises(DataError, match="floating-point pixels.*torch.uint8"):
        generate(model, x, out=tmp_path / "r.h5", progress=False)


def test_unknown_method_params_key(tmp_path, model, data):
    with pytest.raises(UnknownNameError, match="did you mean 'Saliency'"):
        generate(
            model,
            data,
            out=tmp_path / "r.h5",
            methods=["Saliency"],
            method_params={"Salency": {}},
            progress=False,
        )


class _ItemsOnly(Dataset):
    """A map-style dataset of bare inputs (no labels)."""

    def __init__(self, x):
        self.x = x

    def __len__(self):
        return len(self.x)

    def __getitem__(self, index):
        return self.x[index]


def test_unlabelled_dataset_and_plain_loader_work(tmp_path, model, data):
    from interpret_review.store import open_run

    loader = DataLoader(_ItemsOnly(data[0]), batch_size=4)
    path = generate(
        model,
        loader,
        out=tmp_path / "r.h5",
        methods=["Saliency"],
        target=2,
        limit=5,
        progress=False,
    )
    run = open_run(path)
    assert run.n_examples == 5
    assert run.example(4).label == -1
    assert run.attribution("Saliency", 4).target == 2


def test_image_and_text_runs_share_one_set_of_phases() -> None:
    """The phases (their order, resumption, progress and background writes) are written
    once; the image and text jobs give only what depends on the modality."""
    from interpret_review.generation.phases import Phases
    from interpret_review.generation.runner import _ImageJob
    from interpret_review.generation.text_runner import _TextJob

    shared = ("run", "example_phase", "neuron_phase", "sanity_phase", "write", "column")
    for job in (_ImageJob, _TextJob):
        assert issubclass(job, Phases)
        assert not [name for name in shared if name in vars(job)], job
        for hook in ("batch", "layer_units", "neuron_columns", "sanity_steps", "sanity"):
            assert hook in vars(job), (job, hook)
