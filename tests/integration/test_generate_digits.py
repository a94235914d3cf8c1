"""The digits demo: recipe, model training and cache, and the run it builds."""

from __future__ import annotations

from pathlib import Path

import pytest

from interpret_review.errors import ProjectError, UnknownNameError
from interpret_review.generation import (
    METHODS,
    digits_accuracy,
    digits_cnn,
    digits_dataset,
    load_recipe,
    model_fingerprint,
    run_recipe,
)
from interpret_review.settings import Settings
from interpret_review.store import open_run

RECIPE = Path(__file__).parents[2] / "datasets" / "digits" / "recipe.toml"


def test_recipe_loads():
    recipe = load_recipe(RECIPE)
    assert recipe.name == "digits"
    assert recipe.model == "interpret_review.generation.zoo:digits_cnn"
    assert recipe.data_args == {"split": "test"}
    assert sorted(recipe.generate["methods"]) == sorted(METHODS)
    assert recipe.generate["layers"] == ["conv1", "conv2"]
    assert recipe.settings["top_k"] == 9


@pytest.mark.slow
def test_model_trains_caches_and_reaches_accuracy(tmp_path):
    model = digits_cnn(cache_dir=tmp_path)
    assert [n for n, _ in model.named_children()][:2] == ["conv1", "relu1"]
    assert digits_accuracy(model, "test") > 0.9
    cached = list(tmp_path.glob("digits_cnn-*.pt"))
    assert len(cached) == 1
    again = digits_cnn(cache_dir=tmp_path)  # loaded, not retrained
    assert model_fingerprint(again) == model_fingerprint(model)
    assert len(digits_dataset("test")) == 450 and len(digits_dataset("train")) == 1347


@pytest.mark.slow
def test_recipe_builds_the_demo_run(tmp_path):
    settings = Settings(cache_dir=str(tmp_path / "cache"))
    path = run_recipe(
        load_recipe(RECIPE), tmp_path / "digits.h5", settings=settings, progress=False
    )
    run = open_run(path)
    assert run.n_examples == 450
    assert sorted(run.methods) == sorted(METHODS)
    assert sorted(run.layers) == ["conv1", "conv2"]
    assert run.neuron("conv2", 3).topk_index.shape == (9,)
    example = run.example(0)
    assert example.display.max() <= 255 and example.display.shape == (8, 8)
    correct = sum(run.example(i).prediction == run.example(i).label for i in range(450))
    assert correct / 450 > 0.9


def test_bad_recipes_name_the_file_and_key(tmp_path):
    bad = tmp_path / "recipe.toml"
    bad.write_text('name = "x"\nmodel = "a:b"\ndata = "c:d"\nmodle_args = {}\n')
    with pytest.raises(UnknownNameError, match="did you mean 'model_args'") as info:
        load_recipe(bad)
    assert str(bad) in str(info.value)
    bad.write_text('name = "x"\nmodel = "a:b"\ndata = "c:d"\n[generate]\ntop_k = -1\n')
    with pytest.raises(ProjectError, match=r"recipe.toml: \[generate\]: setting top_k"):
        load_recipe(bad)
    bad.write_text('name = "x"\ndata = "c:d"\n')
    with pytest.raises(ProjectError, match="the recipe has no 'model'"):
        load_recipe(bad)
    bad.write_text("name = [")
    with pytest.raises(ProjectError, match="not valid TOML"):
        load_recipe(bad)


def test_a_recipe_naming_the_old_room_still_runs_and_is_told_the_new_name(tmp_path):
    """Recipes written before 0.2 say ``interpret_review.generate.zoo``; the module moved to
    ``interpret_review.generation`` (so ``interpret_review.generate`` is a plain function)."""
    from interpret_review.errors import ConfigWarning
    from interpret_review.generation.recipes import _resolve
    from interpret_review.generation.zoo import digits_dataset as moved

    old = tmp_path / "recipe.toml"
    old.write_text(
        'name = "old"\nmodel = "interpret_review.generate.zoo:digits_cnn"\n'
        'data = "interpret_review.generate.zoo:digits_dataset"\n'
    )
    recipe = load_recipe(old)
    with pytest.warns(ConfigWarning, match="interpret_review.generation.zoo:digits_dataset"):
        found = _resolve(recipe, "data", recipe.data)
    assert found is moved


@pytest.mark.slow
def test_a_recipe_run_without_settings_follows_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Settings come from ``INTERPRET_REVIEW_<NAME>`` when a Python call gives none: the
    recipe's model is cached where the variable says (never in ``~/.cache``), so the model
    a notebook loads afterwards is the one the run was made with."""
    import dataclasses

    import interpret_review as ir
    from interpret_review.generation.fingerprints import model_fingerprint
    from interpret_review.generation.zoo import digits_cnn

    monkeypatch.setenv("INTERPRET_REVIEW_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    recipe = ir.load_recipe("digits")
    small = {**recipe.generate, "limit": 8, "layers": ["conv1"], "methods": ["Saliency"]}
    path = ir.run_recipe(dataclasses.replace(recipe, generate=small), tmp_path / "d.h5",
                         progress=False)  # fmt: skip
    assert list((tmp_path / "cache").glob("digits_cnn-*.pt"))
    assert not (tmp_path / "home").exists()
    with open_run(path) as run:
        assert run.model_fingerprint == model_fingerprint(digits_cnn())
