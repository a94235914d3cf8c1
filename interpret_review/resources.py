"""The recipes, demo projects and dataset cards that ship with interpret-review.

They are written and edited in the repository's top-level ``datasets/`` folder (one folder
per dataset: ``recipe.toml``, and where there is one a demo ``project.toml`` and a
``card.md``). The build maps that folder into the package as ``interpret_review/datasets``
(``pyproject.toml``: ``package-dir``), so an installed wheel carries the same files, found
here through :mod:`importlib.resources`. In a source checkout (an editable install, or the
tree on ``sys.path``) the package has no such folder and the files are read from
``datasets/`` itself: one source, two layouts. Never an import name ``datasets``, which is
HuggingFace's package.

>>> "digits" in dataset_names()
True
>>> dataset_file("digits", "recipe.toml").name
'recipe.toml'
"""

from __future__ import annotations

import functools
import importlib.resources
from pathlib import Path

from interpret_review.errors import ConfigError, UnknownNameError

__all__ = ["dataset_file", "dataset_names", "datasets_dir"]

_PACKAGE = "interpret_review"


@functools.cache
def datasets_dir() -> Path:
    """The folder holding one folder per shipped dataset."""
    package = importlib.resources.files(_PACKAGE)
    installed = package / "datasets"
    if installed.is_dir():
        return Path(str(installed))
    # a source checkout: the package folder sits beside pyproject.toml and datasets/
    root = Path(str(package)).parent
    if (root / "pyproject.toml").is_file() and (root / "datasets").is_dir():
        return root / "datasets"
    raise ConfigError(
        f"the recipes that ship with interpret-review are missing: neither {installed} nor "
        f"{root / 'datasets'} exists; reinstall the package (pip install --force-reinstall "
        "interpret-review)"
    )


def dataset_names(filename: str = "recipe.toml") -> list[str]:
    """Names of the shipped datasets that have ``filename`` (``"digits"``, ...)."""
    return sorted(p.parent.name for p in datasets_dir().glob(f"*/{filename}"))


def dataset_file(name: str, filename: str) -> Path:
    """The path of ``filename`` of shipped dataset ``name``; an unknown name lists the
    known ones."""
    path = datasets_dir() / name / filename
    if not path.is_file():
        raise UnknownNameError(
            "dataset" if filename == "recipe.toml" else f"dataset with a {filename}",
            name,
            dataset_names(filename),
        )
    return path
