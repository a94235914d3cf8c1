"""Heavy libraries stay in their rooms (STYLE.md, "Layout and boundaries")."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SOURCES = sorted((ROOT / "interpret_review").rglob("*.py")) + sorted(
    (ROOT / "viewers").rglob("*.py")
)

#: top-level import name -> the folders (relative to the repository) allowed to import it
ROOMS = {
    "torch": ("interpret_review/generation/",),
    "captum": ("interpret_review/generation/",),
    "h5py": ("interpret_review/store/",),
    "sqlalchemy": ("interpret_review/judgments/",),
    "alembic": ("interpret_review/judgments/",),
    "panel": ("interpret_review/app/", "viewers/"),
    "bokeh": ("interpret_review/app/", "viewers/"),
    "param": ("interpret_review/app/", "viewers/"),
    "tornado": ("interpret_review/app/",),
    "krippendorff": ("interpret_review/quality/",),
    "pandas": ("interpret_review/quality/",),
    "pyarrow": ("interpret_review/export/",),
    "sklearn": ("interpret_review/generation/", "interpret_review/export/probe.py"),
    "scipy": ("interpret_review/generation/",),
    # reference implementations, for the tests only: the extras do not install them
    "crowdkit": (),
    "statsmodels": (),
}
#: the public facade re-exports names lazily from every room
_FACADE = "interpret_review/__init__.py"
#: the core never imports the app, the viewers or the CLI
UPWARD = {
    "interpret_review.app": ("interpret_review/app/", "interpret_review/cli.py", _FACADE),
    "interpret_review_viewers": ("interpret_review/app/", "viewers/"),
    "interpret_review.cli": ("interpret_review/__main__.py",),
}


def imported(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(ROOT)))
def test_imports_stay_in_their_rooms(path: Path) -> None:
    where = path.relative_to(ROOT).as_posix()
    for name in imported(path):
        top = name.split(".")[0]
        if top in ROOMS:
            assert where.startswith(ROOMS[top]), f"{where} imports {name}"
        for module, allowed in UPWARD.items():
            if name == module or name.startswith(module + "."):
                assert where.startswith(allowed) or where in allowed, f"{where} imports {name}"


def test_the_check_sees_the_rooms() -> None:
    """Guard against a vacuous pass: the rooms do import their libraries."""
    found = {name.split(".")[0] for path in SOURCES for name in imported(path)}
    assert {"torch", "captum", "h5py", "sqlalchemy", "panel", "krippendorff", "sklearn"} <= found
