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


# -- one-way flow: the import graph, TYPE_CHECKING and function-level imports included ------

#: The rooms from the bottom up: a module imports only from its own room and from rooms on
#: lower levels (rooms on one level never import each other). The foundation modules come
#: first, the composition roots last. docs/rooms.svg draws it (tools/draw_rooms.py).
LAYERS: tuple[tuple[str, ...], ...] = (
    ("_version", "_compat", "errors"),
    ("settings", "resources", "addresses"),
    ("store", "tasks"),
    ("generation", "judgments"),
    ("review",),
    ("quality",),
    ("export", "viewers"),
    ("app",),
    ("demo",),
    ("cli",),
    ("__main__",),
)
LEVEL = {room: level for level, rooms in enumerate(LAYERS) for room in rooms}


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT / "viewers" if path.is_relative_to(ROOT / "viewers") else ROOT)
    name = ".".join(parts.with_suffix("").parts)
    return name.removesuffix(".__init__")


MODULES = {module_name(p): p for p in SOURCES}


def room_of(module: str) -> str:
    if module.startswith("interpret_review_viewers"):
        return "viewers"
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "facade"


def dependencies(module: str) -> set[str]:
    """The package's modules ``module`` imports anywhere in its text: at the top, under
    TYPE_CHECKING or inside a function. ``from pkg import sub`` depends on ``pkg.sub``."""
    path = MODULES[module]
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([node.module] if node.module else [])])
            subs = {f"{base}.{a.name}" for a in node.names if f"{base}.{a.name}" in MODULES}
            found |= subs
            if len(subs) < len(node.names):
                found.add(base)
    return {name for name in found if name in MODULES and name != module}


GRAPH = {module: dependencies(module) for module in MODULES}


def test_every_room_has_a_level() -> None:
    rooms = {room_of(m) for m in MODULES} - {"facade"}
    assert rooms <= set(LEVEL), f"add {sorted(rooms - set(LEVEL))} to LAYERS"


@pytest.mark.parametrize("module", sorted(m for m in MODULES if room_of(m) != "facade"))
def test_imports_flow_one_way_between_rooms(module: str) -> None:
    """A room imports only from rooms below it (the facade re-exports from all)."""
    here = LEVEL[room_of(module)]
    upward = [
        dep for dep in GRAPH[module] if room_of(dep) != "facade" and LEVEL[room_of(dep)] > here
    ]
    facade = [dep for dep in GRAPH[module] if room_of(dep) == "facade"]
    assert not upward, f"{module} imports {upward}, of a room not below its own"
    assert not facade, f"{module} imports the facade {facade}; import from the room"


def test_the_module_graph_has_no_cycle() -> None:
    """No import circle of any length, the facade included."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(module: str) -> None:
        state[module] = 1
        path.append(module)
        for dep in sorted(GRAPH[module]):
            if state.get(dep) == 1:
                circle = path[path.index(dep) :] + [dep]
                raise AssertionError("import circle: " + " -> ".join(circle))
            if dep not in state:
                visit(dep)
        path.pop()
        state[module] = 2

    for module in sorted(GRAPH):
        if module not in state:
            visit(module)


def test_the_graph_sees_the_imports() -> None:
    """Guard against a vacuous pass: known edges are found, TYPE_CHECKING ones included."""
    assert "interpret_review.judgments" in GRAPH["interpret_review.review.sync"]
    assert "interpret_review.app.host" in GRAPH["interpret_review.app.page"]
    assert "interpret_review.store.summary" in GRAPH["interpret_review.store.reader"]
    assert "interpret_review.quality" in GRAPH["interpret_review.app.quality"]  # TYPE_CHECKING


MAX_LINES = 500


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_module_is_over_500_lines(path: Path) -> None:
    where = path.relative_to(ROOT).as_posix()
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_LINES, f"{where} has {lines} lines; split it by concern"


def test_the_picture_of_the_rooms_is_current() -> None:
    import importlib.util

    spec = importlib.util.spec_from_file_location("draw_rooms", ROOT / "tools" / "draw_rooms.py")
    assert spec is not None and spec.loader is not None
    draw = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(draw)
    picture = (ROOT / "docs" / "rooms.svg").read_text(encoding="utf-8")
    assert picture == draw.svg(), "docs/rooms.svg is out of date: python tools/draw_rooms.py"
