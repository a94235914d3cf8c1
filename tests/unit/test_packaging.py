"""What the package declares matches what it is: packages, dependencies per room, shipped
recipes, licence and changelog; missing extras and mistyped variables are named."""

from __future__ import annotations

import ast
import fnmatch
import functools
import importlib.metadata
import pickle
import re
import sys
import warnings
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from interpret_review._compat import tomllib
from interpret_review.errors import (
    ConfigError,
    ConfigWarning,
    MissingDependencyError,
    missing_dependency,
    missing_module,
)
from interpret_review.resources import dataset_file, dataset_names, datasets_dir
from interpret_review.settings import Settings, check_environment

ROOT = Path(__file__).resolve().parents[2]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
PROJECT = PYPROJECT["project"]
SOURCES = sorted((ROOT / "interpret_review").rglob("*.py")) + sorted(
    (ROOT / "viewers").rglob("*.py")
)

#: The extras a room may rely on at import time (beyond the core dependencies).
ROOM_EXTRAS = {
    "interpret_review/generation/": {"generate", "text"},
    "interpret_review/quality/": {"quality"},
    "interpret_review/export/": {"export"},
    "interpret_review/app/": {"app", "quality"},
    "viewers/": {"app"},
}


def _name(requirement: str) -> str:
    return re.sub(r"[-_.]+", "-", Requirement(requirement).name).lower()


def declared(extra: str | None) -> set[str]:
    """Distribution names the core (None) or an extra declares, following self-references."""
    if extra is None:
        return {_name(r) for r in PROJECT["dependencies"]}
    names = set()
    for text in PROJECT["optional-dependencies"][extra]:
        requirement = Requirement(text)
        if _name(text) == "interpret-review":
            for inner in requirement.extras:
                names |= declared(inner)
        else:
            names.add(_name(text))
    return names


def third_party_imports(path: Path) -> tuple[set[str], set[str]]:
    """``(at import time, inside functions)``: top-level module names not of the stdlib
    nor of this project."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    top, lazy = set(), set()
    functions = [
        n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))
    ]
    inside = {id(n) for f in functions for n in ast.walk(f)}
    checking = [
        n
        for n in ast.walk(tree)
        if isinstance(n, ast.If) and "TYPE_CHECKING" in ast.unparse(n.test)
    ]
    typing_only = {id(n) for block in checking for n in ast.walk(block)}
    for node in ast.walk(tree):
        if id(node) in typing_only:
            continue
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        else:
            continue
        for name in names:
            first = name.split(".")[0]
            if first in sys.stdlib_module_names or first.startswith("interpret_review"):
                continue
            (lazy if id(node) in inside else top).add(first)
    return top, lazy


@functools.cache
def _packages() -> dict[str, list[str]]:
    return dict(importlib.metadata.packages_distributions())


def distributions_of(module: str) -> set[str]:
    """The distributions that install ``module`` (by its own name where none is installed
    here, e.g. ``tomli``, needed on Python 3.10 only)."""
    found = _packages().get(module, [module])
    return {re.sub(r"[-_.]+", "-", d).lower() for d in found}


def _folders(root: Path, package: str) -> set[str]:
    """Every folder below ``root`` that holds a file, as a dotted package name."""
    return {
        ".".join([package, *p.parent.relative_to(root).parts])
        for p in root.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    }


def _glob_match(relative: str, pattern: str) -> bool:
    """Whether a glob pattern of package data takes the file (``*`` stays in one folder)."""
    parts, wanted = relative.split("/"), pattern.split("/")
    return len(parts) == len(wanted) and all(map(fnmatch.fnmatchcase, parts, wanted))


def test_every_folder_of_the_tree_ships() -> None:
    """Each folder with a file is a listed package (data folders too), and each file is a
    module or matches the package data: nothing is left out of the wheel silently."""
    tool = PYPROJECT["tool"]["setuptools"]
    tree = _folders(ROOT / "interpret_review", "interpret_review")
    tree |= _folders(ROOT / "viewers" / "interpret_review_viewers", "interpret_review_viewers")
    datasets = {"interpret_review.datasets"}  # the recipe folders are data of this package
    assert set(tool["packages"]) == tree | datasets
    assert tool["package-dir"]["interpret_review.datasets"] == "datasets"
    assert not (ROOT / "datasets" / "__init__.py").exists()  # never an import name `datasets`

    def folder(package: str) -> Path:
        for mapped, where in tool["package-dir"].items():
            if package == mapped or package.startswith(mapped + "."):
                return ROOT / where / package[len(mapped) :].replace(".", "/").lstrip("/")
        return ROOT / package.replace(".", "/")

    roots = {package: folder(package) for package in tool["packages"]}
    for path in [*(ROOT / "interpret_review").rglob("*"), *(ROOT / "datasets").rglob("*"),
                 *(ROOT / "viewers").rglob("*")]:  # fmt: skip
        if not path.is_file() or path.suffix in (".py", ".pyc"):
            continue
        # a pattern of the package holding the file, or of one above it (setuptools' rule)
        owners = [(k, r) for k, r in roots.items() if r in path.parents]
        assert any(
            _glob_match(path.relative_to(r).as_posix(), pattern)
            for k, r in owners
            for pattern in tool["package-data"].get(k, [])
        ), (
            f"{path.relative_to(ROOT)} matches no package-data pattern: "
            "it would be left out of the wheel"
        )


@pytest.mark.reference  # reads which distribution installs each module: needs every extra
@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_import_is_declared_in_its_rooms_extras(path: Path) -> None:
    where = path.relative_to(ROOT).as_posix()
    allowed = declared(None)
    for room, extras in ROOM_EXTRAS.items():
        if where.startswith(room):
            for extra in extras:
                allowed |= declared(extra)
    anywhere = set().union(
        *(declared(e) for e in PROJECT["optional-dependencies"] if e not in ("dev", "all"))
    ) | declared(None)
    top, lazy = third_party_imports(path)
    for module, pool in [(m, allowed) for m in top] + [(m, anywhere) for m in lazy]:
        assert distributions_of(module) & pool, (
            f"{where} imports {module} ({distributions_of(module) or 'not installed'}), "
            "which its extras do not declare"
        )


def test_the_app_extra_carries_no_heavy_reference_package() -> None:
    app = declared("app")
    assert not app & {"crowd-kit", "statsmodels", "transformers", "nltk", "scikit-learn",
                      "pyarrow", "torch", "scipy"}  # fmt: skip
    assert "markdown-it-py" in app
    assert "tomli" in declared(None)


def test_recipes_and_demo_projects_ship_with_the_package() -> None:
    import interpret_review

    package = Path(interpret_review.__file__).parent
    found = datasets_dir()
    if package == ROOT / "interpret_review":  # this checkout: its own datasets/
        assert found == ROOT / "datasets"
    else:  # an installed wheel (the install tests run this there): the package's copy
        assert found == package / "datasets"
        for recipe in (ROOT / "datasets").rglob("*.*"):
            copy = found / recipe.relative_to(ROOT / "datasets")
            assert copy.read_bytes() == recipe.read_bytes()
    print(f"recipes read from {found}")
    assert dataset_names() == ["digits", "planted-text", "topics"]
    assert dataset_names("project.toml") == ["digits", "topics"]
    assert dataset_file("digits", "project.toml").read_text().startswith("# The interpret")
    with pytest.raises(ConfigError, match="unknown dataset 'digit'; did you mean 'digits'"):
        dataset_file("digit", "recipe.toml")


def test_licence_changelog_and_type_marker() -> None:
    assert "Apache License" in (ROOT / "LICENSE").read_text()
    assert PROJECT["license"] == "Apache-2.0" and PROJECT["license-files"] == ["LICENSE"]
    assert f"## {PROJECT['version']}" in (ROOT / "CHANGELOG.md").read_text()
    assert (ROOT / "interpret_review" / "py.typed").exists()
    assert (ROOT / "interpret_review" / "__main__.py").exists()


def test_missing_dependency_names_its_extra_or_its_distribution() -> None:
    error = MissingDependencyError("interpret-review serve", "panel.io")
    assert str(error) == (
        "interpret-review serve needs panel, which is not installed: "
        "pip install 'interpret-review[app]'"
    )
    assert isinstance(error, ImportError) and isinstance(error, ConfigError)
    assert error.name == "panel" and error.msg == str(error)
    assert str(pickle.loads(pickle.dumps(error))) == str(error)
    # a module several extras bring: the caller's extra where it is one of them
    assert MissingDependencyError("x", "sklearn", "export").extra == "export"
    assert MissingDependencyError("x", "sklearn", "quality").extra == "generate"
    assert MissingDependencyError("x", "torch", "generate,app").extra == "generate,app"
    assert "needs pillow" in str(MissingDependencyError("x", "PIL"))
    # a module no extra brings: its own distribution, never interpret-review[all]
    assert str(MissingDependencyError("recipe 'mine'", "timm", "generate")).endswith(
        "needs timm, which is not installed: pip install timm"
    )


def test_only_a_module_that_is_not_installed_becomes_a_missing_extra() -> None:
    try:
        import not_installed_here.sub  # noqa: F401
    except ModuleNotFoundError as missing:
        found = missing_dependency(missing, "probes", "export")
    assert isinstance(found, MissingDependencyError)
    assert str(found).endswith("pip install not_installed_here")
    # part of an installed package (a version mismatch), or one of ours: the error itself
    for name in ("numpy.not_a_module_in_this_version", "interpret_review.gone"):
        error = ModuleNotFoundError(f"No module named {name!r}", name=name)
        assert missing_dependency(error, "x", "app") is error
    unnamed = ModuleNotFoundError("No module named 'not_installed_here'")  # name=None
    assert missing_module(unnamed) == "not_installed_here"
    assert isinstance(missing_dependency(unnamed, "x"), MissingDependencyError)
    other = ImportError("cannot import name 'x' from 'numpy'")
    assert missing_dependency(other, "x") is other


def test_a_mistyped_variable_is_warned_of_with_the_closest_setting() -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        settings = Settings.from_env({"INTERPRET_REVIEW_PROT": "7", "INTERPRET_REVIEW_PORT": "9"})
        Settings.from_env({"INTERPRET_REVIEW_ZZZ": "1", "OTHER_PROT": "1"})
    assert settings.port == 9
    messages = [str(w.message) for w in caught if issubclass(w.category, ConfigWarning)]
    assert messages == [
        "environment variable INTERPRET_REVIEW_PROT is not a setting and is ignored; "
        "did you mean INTERPRET_REVIEW_PORT?",
        "environment variable INTERPRET_REVIEW_ZZZ is not a setting and is ignored; "
        "the settings are address, allowed_hosts, batch_size, cache_dir, context_tokens, "
        "cookie_secret, database_url, feature_viz, histogram_bins, ig_steps, n_quantiles, "
        "num_procs, oauth_extra_params, oauth_key, oauth_provider, oauth_redirect_uri, "
        "oauth_secret, port, sanity_examples, seed, session_days, shard_size, spatial_maps, "
        "tier_minutes, top_k (as INTERPRET_REVIEW_NAME)",
    ]
    # a lower-case name is not read: it is warned of, with the name that is
    with pytest.warns(ConfigWarning, match="did you mean INTERPRET_REVIEW_PORT"):
        assert check_environment({"INTERPRET_REVIEW_port": "7"}) == ["INTERPRET_REVIEW_port"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        Settings.from_env({"INTERPRET_REVIEW_DATABASE_URL": "sqlite:///x.sqlite"})
