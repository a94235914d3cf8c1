"""Viewers by item kind, found through the ``interpret_review.viewers`` entry point group.

Built-in viewers are registered the same way as a third party's (see ``pyproject.toml``)::

    [project.entry-points."interpret_review.viewers"]
    neuron = "interpret_review_viewers.neuron:NeuronCard"
"""

from __future__ import annotations

from functools import cache
from importlib.metadata import EntryPoint, entry_points

from interpret_review_viewers import ItemViewer

from interpret_review.errors import ConfigError, UnknownNameError

__all__ = ["GROUP", "viewer_class", "viewer_kinds"]

GROUP = "interpret_review.viewers"


@cache
def _entry_points() -> dict[str, EntryPoint]:
    return {ep.name: ep for ep in entry_points(group=GROUP)}


def viewer_kinds() -> list[str]:
    """The item kinds (and ``KIND.STAGE`` for later stages) that have a viewer installed."""
    return sorted(_entry_points())


def viewer_class(kind: str, stage: str = "review") -> type[ItemViewer]:
    """The viewer class registered for ``kind`` (``KIND.STAGE`` for a later stage)."""
    found = _entry_points()
    name = kind if stage == "review" else f"{kind}.{stage}"
    if name not in found:
        raise UnknownNameError(
            "viewer kind",
            name,
            found,
            hint=f"Viewers are registered under the {GROUP!r} entry point group; is the package "
            "that provides this kind installed?",
        )
    cls = found[name].load()
    ok = isinstance(cls, type) and issubclass(cls, ItemViewer)
    if not ok or (getattr(cls, "kind", None), getattr(cls, "stage", None)) != (kind, stage):
        raise ConfigError(
            f"entry point {found[name].value!r} registered for {name!r} must be an "
            f"ItemViewer subclass whose kind is {kind!r} and stage {stage!r}"
        )
    return cls
