"""Viewers by item kind, found through the ``interpret_review.viewers`` entry point group.

Built-in viewers are registered the same way as a third party's (see ``pyproject.toml``)::

    [project.entry-points."interpret_review.viewers"]
    neuron = "interpret_review_viewers.neuron:NeuronCard"
    text-neuron = "interpret_review_viewers.text:TextNeuronCard"

The name is the item kind, ``KIND.STAGE`` for a later stage, and ``text-`` in front for the
viewer of a text run's items (``run.modality``).
"""

from __future__ import annotations

from functools import cache
from importlib.metadata import EntryPoint, entry_points

from interpret_review_viewers import ItemViewer

from interpret_review.errors import ConfigError, UnknownNameError

__all__ = ["GROUP", "viewer_class", "viewer_kinds", "viewer_name"]

GROUP = "interpret_review.viewers"


@cache
def _entry_points() -> dict[str, EntryPoint]:
    return {ep.name: ep for ep in entry_points(group=GROUP)}


def viewer_kinds() -> list[str]:
    """The item kinds (and ``KIND.STAGE`` for later stages) that have a viewer installed."""
    return sorted(_entry_points())


def viewer_name(kind: str, stage: str = "review", modality: str = "image") -> str:
    """The entry point name of a viewer: ``neuron``, ``neuron.verify``, ``text-neuron``."""
    name = kind if stage == "review" else f"{kind}.{stage}"
    return name if modality == "image" else f"{modality}-{name}"


def viewer_class(kind: str, stage: str = "review", modality: str = "image") -> type[ItemViewer]:
    """The viewer class registered for ``kind`` of runs of ``modality`` (``image`` or
    ``text``), at ``stage``."""
    found = _entry_points()
    name = viewer_name(kind, stage, modality)
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
    shows = (
        getattr(cls, "kind", None),
        getattr(cls, "stage", None),
        getattr(cls, "modality", None),
    )
    if not ok or shows != (kind, stage, modality):
        raise ConfigError(
            f"entry point {found[name].value!r} registered for {name!r} must be an "
            f"ItemViewer subclass whose kind is {kind!r}, stage {stage!r} and modality "
            f"{modality!r}"
        )
    return cls
