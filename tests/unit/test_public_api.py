"""The public API: ``__all__`` is sorted, complete and importable, and importing the package
pulls in neither torch nor Panel (the review app must install and serve without torch)."""

from __future__ import annotations

import subprocess
import sys
import types

import pytest

import interpret_review


@pytest.mark.torch
def test_all_is_sorted_and_every_name_resolves() -> None:
    names = interpret_review.__all__
    assert names == sorted(names)
    for name in names:
        assert getattr(interpret_review, name) is not None, name


@pytest.mark.torch
def test_public_names_are_exactly_all() -> None:
    for name in interpret_review.__all__:  # resolve the lazy names first
        getattr(interpret_review, name)
    public = {n for n in vars(interpret_review) if not n.startswith("_")}
    # subpackages become attributes once imported; they are rooms, not API
    modules = {
        n
        for n in public
        if isinstance(vars(interpret_review)[n], types.ModuleType)
        and vars(interpret_review)[n].__name__ == f"interpret_review.{n}"
    }
    assert public - modules == set(interpret_review.__all__) - {"__version__"}
    assert set(dir(interpret_review)) >= set(interpret_review.__all__)


@pytest.mark.torch
def test_generate_is_a_plain_function_whatever_was_imported_first() -> None:
    code = (
        "import interpret_review.generation.zoo, interpret_review as ir, inspect;"
        "from interpret_review.generation.runner import generate;"
        "print(inspect.isfunction(ir.generate), ir.generate is generate,"
        " list(inspect.signature(ir.generate).parameters)[:3])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "True True ['model', 'data', 'out']"


def test_import_is_light() -> None:
    code = (
        "import sys, interpret_review as ir;"
        "ir.item_address('attribution', 'r', 1);"
        "print(sorted(m for m in ('torch', 'captum', 'panel', 'bokeh', 'h5py', 'sqlalchemy')"
        " if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_unknown_attribute_is_an_attribute_error() -> None:
    try:
        interpret_review.no_such_name  # noqa: B018
    except AttributeError as error:
        assert "no_such_name" in str(error)
    else:  # pragma: no cover
        raise AssertionError("expected AttributeError")
