"""The digits demo: a run, a review project and demo accounts, built where missing.

``build_demo(directory)`` makes ``DIRECTORY/runs/digits.h5`` from the ``digits`` recipe
(training the small CNN on first use; an interrupted build resumes) and writes the project
file ``DIRECTORY/digits-demo.toml`` from ``datasets/digits/project.toml``: a three-stage
pipeline on the CNN's units (describe, verify by simulation, adjudicate), a task rating
attribution maps, and five accounts. What exists is kept, so running it again costs a
second. ``interpret-review demo`` then serves the project.

``build_demo(directory, dataset="topics")`` builds the text demo the same way, from the
``topics`` recipe and the project file shipped beside it (``datasets/topics/project.toml``).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from interpret_review._compat import tomllib
from interpret_review.errors import (
    EXTRAS_OF,
    IncompleteRunError,
    MissingDependencyError,
    UnknownNameError,
)
from interpret_review.resources import dataset_file, dataset_names
from interpret_review.settings import Settings

__all__ = ["DEMO_ACCOUNTS", "build_demo", "demo_names", "missing_extras"]

#: (user name, password, role) of the demo's accounts. Demo only: never reuse them.
DEMO_ACCOUNTS: tuple[tuple[str, str, str], ...] = (
    ("alice", "alice-demo", "reviewer"),
    ("bob", "bob-demo", "reviewer"),
    ("carol", "carol-demo", "reviewer"),
    ("ada", "ada-demo", "adjudicator"),
    ("rita", "rita-demo", "researcher"),
)


def _accounts() -> str:
    return "".join(
        f'\n[[reviewers]]\nusername = "{name}"\npassword = "{password}"\nrole = "{role}"\n'
        for name, password, role in DEMO_ACCOUNTS
    )


def demo_names() -> list[str]:
    """The demos: every shipped dataset with a ``project.toml``, ``digits`` first."""
    return sorted(dataset_names("project.toml"), key=lambda name: (name != "digits", name))


def missing_extras(
    directory: str | Path = "interpret-review-demo", *, dataset: str = "digits", serve: bool = False
) -> tuple[list[str], str | None]:
    """``(extras, first missing module)`` that building demo ``dataset`` in ``directory``
    (and serving it, with ``serve``) needs and this installation lacks: the recipe's extra
    (``generate``, or ``text`` for the text demo) while its run is not built yet, ``app``
    to serve it. Nothing is imported."""
    if dataset not in demo_names():
        raise UnknownNameError("demo", dataset, demo_names())
    wanted = []
    if not _finished(Path(directory) / "runs" / f"{dataset}.h5"):
        recipe = tomllib.loads(dataset_file(dataset, "recipe.toml").read_text(encoding="utf-8"))
        extra = recipe.get("extra", "generate")
        wanted += ["generate", "text"] if extra == "text" else ["generate"]
    if serve:
        wanted.append("app")
    missing: list[str] = []
    module = None
    for extra in wanted:  # the modules an extra is the first to bring (errors.EXTRAS_OF)
        modules = [m for m, extras in EXTRAS_OF.items() if extras[0] == extra]
        absent = [m for m in modules if importlib.util.find_spec(m) is None]
        if absent:
            missing.append(extra)
            module = module or absent[0]
    if "text" in missing and "generate" in missing:
        missing.remove("generate")  # the text extra brings the generate one
    return missing, module


def build_demo(
    directory: str | Path = "interpret-review-demo",
    *,
    dataset: str = "digits",
    settings: Settings | None = None,
    progress: bool = True,
) -> Path:
    """Build what is missing of demo ``dataset`` in ``directory``; return its project file.

    ``digits`` (the default) is the image demo; ``topics`` the text demo (needs the
    ``text`` extra). Needs torch and Captum (``interpret-review[generate]``) only when the
    run must be built.
    """
    extras, module = missing_extras(directory, dataset=dataset)
    if module:  # said before anything is written
        raise MissingDependencyError(f"building the {dataset} demo's run", module, ",".join(extras))
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    run_path = directory / "runs" / f"{dataset}.h5"
    if not _finished(run_path):
        from interpret_review.generation import run_recipe

        run_recipe(dataset, run_path, settings=settings, progress=progress)
    project = directory / f"{dataset}-demo.toml"
    if not project.exists():
        text = dataset_file(dataset, "project.toml").read_text(encoding="utf-8")
        partial = project.with_name(project.name + ".partial")
        partial.write_text(text + _accounts(), encoding="utf-8")
        partial.replace(project)
    return project


def _finished(run_path: Path) -> bool:
    """Whether the demo run exists and opens; an interrupted one is resumed by the caller."""
    from interpret_review.store import open_run

    if not run_path.exists() and not run_path.with_name(run_path.stem + ".shards").exists():
        return False
    try:
        open_run(run_path).close()
    except IncompleteRunError:
        return False
    return True
