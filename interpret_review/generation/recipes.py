"""Recipes: a TOML file that says how to build a run (model, data, generation options).

::

    name = "digits"
    title = "..."
    description = "..."
    model = "interpret_review.generation.zoo:digits_cnn"      # module:callable -> nn.Module
    data = "interpret_review.generation.zoo:digits_dataset"   # module:callable -> Dataset
    display = "interpret_review.generation.zoo:digits_display"  # optional
    extra = "generate"   # the interpret-review extra it needs (default; "text" for HF models)
    [data_args]                                             # keywords of the data callable
    split = "test"
    [generate]                                              # keywords of generate(), plus the
    methods = ["IntegratedGradients", ...]                  # generation settings (top_k, ...)
    layers = ["conv1", "conv2"]
"""

from __future__ import annotations

import importlib
import inspect
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from interpret_review._compat import tomllib
from interpret_review.errors import (
    ConfigError,
    ConfigWarning,
    ProjectError,
    UnknownNameError,
    missing_dependency,
    missing_module,
)
from interpret_review.resources import dataset_file, dataset_names
from interpret_review.settings import Settings, generation_settings

__all__ = ["Recipe", "dataset_names", "load_recipe", "run_recipe"]

_TOP_KEYS = ("name", "title", "description", "model", "model_args", "data", "data_args",
             "display", "extra", "generate")  # fmt: skip
#: The extras a recipe may say it needs (``extra = ...``).
EXTRAS = ("generate", "text")
_GENERATE_KEYS = ("methods", "layers", "target", "baselines", "method_params", "limit", "device",
                  "max_units")  # fmt: skip
_SETTING_KEYS = generation_settings()


@dataclass(frozen=True)
class Recipe:
    """A parsed recipe file. ``generate`` holds generate() keywords, ``settings`` overrides."""

    path: Path
    name: str
    title: str
    description: str
    model: str
    data: str
    model_args: dict[str, Any] = field(default_factory=dict)
    data_args: dict[str, Any] = field(default_factory=dict)
    display: str | None = None
    extra: str = "generate"
    generate: dict[str, Any] = field(default_factory=dict)
    settings: dict[str, Any] = field(default_factory=dict)


def _need(path: Path, table: Mapping[str, Any], key: str, kind: type, where: str = "") -> Any:
    if key not in table:
        raise ProjectError(f"{path}: the recipe has no {where}{key!r}; add {key} = ...")
    value = table[key]
    if not isinstance(value, kind):
        raise ProjectError(
            f"{path}: {where}{key!r} must be a {kind.__name__}, got {type(value).__name__} "
            f"{value!r}"
        )
    return value


def load_recipe(path: str | Path) -> Recipe:
    """Read and check a recipe: a TOML file, or the name of one that ships with the
    package (``load_recipe("digits")`` reads ``datasets/digits/recipe.toml``; see
    :mod:`interpret_review.resources`)."""
    path = Path(path)
    if not path.exists() and path.suffix != ".toml" and len(path.parts) == 1:
        if str(path) not in dataset_names():
            raise UnknownNameError(
                "recipe",
                str(path),
                dataset_names(),
                hint="Pass a recipe file (.toml) or the name of a shipped recipe.",
            )
        path = dataset_file(str(path), "recipe.toml")
    try:
        table = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ProjectError(f"{path}: no such recipe file") from None
    except tomllib.TOMLDecodeError as error:
        raise ProjectError(f"{path}: not valid TOML: {error}") from None
    for key in table:
        if key not in _TOP_KEYS:
            raise UnknownNameError("recipe key", key, _TOP_KEYS, hint=f"(in {path})")
    generate = dict(table.get("generate", {}))
    if not isinstance(table.get("generate", {}), dict):
        raise ProjectError(f"{path}: [generate] must be a table")
    settings = {}
    for key in list(generate):
        if key in _SETTING_KEYS:
            settings[key] = generate.pop(key)
        elif key not in _GENERATE_KEYS:
            raise UnknownNameError(
                "[generate] key", key, _GENERATE_KEYS + _SETTING_KEYS, hint=f"(in {path})"
            )
    try:
        Settings(**settings)
    except ConfigError as error:
        raise ProjectError(f"{path}: [generate]: {error}") from None
    for key in ("model", "data", "display"):
        value = table.get(key)
        if value is not None and (not isinstance(value, str) or value.count(":") != 1):
            raise ProjectError(
                f"{path}: {key!r} must be 'module:callable', e.g. "
                f"'interpret_review.generation.zoo:digits_cnn'; got {value!r}"
            )
    for key in ("model_args", "data_args"):
        if not isinstance(table.get(key, {}), dict):
            raise ProjectError(f"{path}: [{key}] must be a table of keyword arguments")
    if table.get("extra", "generate") not in EXTRAS:
        raise UnknownNameError("recipe extra", table["extra"], EXTRAS, hint=f"(in {path})")
    return Recipe(
        path=path,
        name=_need(path, table, "name", str),
        title=str(table.get("title", table.get("name", ""))),
        description=str(table.get("description", "")),
        model=_need(path, table, "model", str),
        data=_need(path, table, "data", str),
        model_args=dict(table.get("model_args", {})),
        data_args=dict(table.get("data_args", {})),
        display=table.get("display"),
        extra=table.get("extra", "generate"),
        generate=generate,
        settings=settings,
    )


#: Where this room's modules lived before 0.2 (``interpret_review.generate.zoo``).
_OLD_ROOM = "interpret_review.generate."


def _resolve(recipe: Recipe, key: str, reference: str) -> Callable[..., Any]:
    module_name, _, attr = reference.partition(":")
    if module_name.startswith(_OLD_ROOM):
        new = "interpret_review.generation." + module_name[len(_OLD_ROOM) :]
        warnings.warn(
            f"{recipe.path}: {key} = {reference!r}: the module is {new} now; write "
            f"'{new}:{attr}' (the old name is read for now)",
            ConfigWarning,
            stacklevel=2,
        )
        module_name = new
    try:
        module = importlib.import_module(module_name)
    except ImportError as error:
        missing = missing_dependency(error, f"recipe {recipe.name!r} ({key})", recipe.extra)
        if missing is not error and missing_module(error) != module_name.split(".")[0]:
            raise missing from None  # a library the named module needs is not installed
        raise ProjectError(
            f"{recipe.path}: {key} = {reference!r}: cannot import: {error}"
        ) from None
    target = getattr(module, attr, None)
    if not callable(target):
        raise ProjectError(
            f"{recipe.path}: {key} = {reference!r}: module {module_name} has no callable {attr!r}"
        )
    return target


def run_recipe(
    recipe: Recipe | str | Path,
    out: str | Path,
    settings: Settings | None = None,
    progress: bool = True,
) -> Path:
    """Build the model and data the recipe names and generate its run at ``out``."""
    from interpret_review.generation.runner import generate

    if not isinstance(recipe, Recipe):
        recipe = load_recipe(recipe)
    settings = (settings or Settings.from_env()).replace(**recipe.settings)
    make_model = _resolve(recipe, "model", recipe.model)
    model_args = dict(recipe.model_args)
    accepted = inspect.signature(make_model).parameters
    if "cache_dir" in accepted:
        model_args.setdefault("cache_dir", settings.cache_path)
    if "progress" in accepted:
        model_args.setdefault("progress", progress)
    try:  # a zoo model or dataset may need an extra (transformers, scikit-learn's data)
        model = make_model(**model_args)
        data = _resolve(recipe, "data", recipe.data)(**recipe.data_args)
    except ModuleNotFoundError as error:
        missing = missing_dependency(error, f"recipe {recipe.name!r}", recipe.extra)
        if missing is error:
            raise
        raise missing from None
    display = _resolve(recipe, "display", recipe.display) if recipe.display else None
    return generate(
        model,
        data,
        out=out,
        name=recipe.name,
        display=display,
        settings=settings,
        progress=progress,
        **recipe.generate,
    )
