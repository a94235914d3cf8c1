"""The canonical address of every reviewable item.

An item address is a short string that names one thing a reviewer looks at inside one run,
independent of the database and of the app::

    attribution:digits/17          the attribution maps of example 17 (row index) of run "digits"
    neuron:digits/conv2/5          unit 5 of layer "conv2" of run "digits"

``item_address`` is the only function that builds addresses; ``parse_address`` is its
inverse. Run names and layer names may hold letters, digits, ``_ - . [ ]``; never ``/``
or ``:``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from interpret_review.errors import ConfigError, UnknownNameError

__all__ = ["ITEM_KINDS", "Address", "item_address", "parse_address", "check_name"]

#: Item kinds and the parts of their address after the run name.
ITEM_KINDS: dict[str, tuple[str, ...]] = {
    "attribution": ("index",),
    "neuron": ("layer", "unit"),
}

_NAME = re.compile(r"^[A-Za-z0-9_.\-\[\]]+$")


def check_name(what: str, name: str) -> str:
    """Return ``name`` if it may appear in an address, else raise a ConfigError."""
    if not isinstance(name, str) or not _NAME.match(name):
        raise ConfigError(
            f"{what} {name!r} cannot be used in an item address: use letters, digits and "
            "'_ - . [ ]' only (no '/', ':' or spaces)"
        )
    return name


@dataclass(frozen=True, order=True)
class Address:
    """A parsed item address. ``index`` is an example row for attribution items and the
    unit number for neuron items."""

    kind: str
    run: str
    index: int
    layer: str | None = None

    def __str__(self) -> str:
        return item_address(self.kind, self.run, self.index, layer=self.layer)


def item_address(kind: str, run: str, index: int, *, layer: str | None = None) -> str:
    """Build the canonical address of an item.

    >>> item_address("neuron", "digits", 5, layer="conv2")
    'neuron:digits/conv2/5'
    >>> item_address("attribution", "digits", 17)
    'attribution:digits/17'
    """
    if kind not in ITEM_KINDS:
        raise UnknownNameError("item kind", kind, ITEM_KINDS)
    check_name("run name", run)
    if isinstance(index, bool) or not isinstance(index, int) or index < 0:
        raise ConfigError(f"item index must be a whole number >= 0, got {index!r}")
    if kind == "neuron":
        if layer is None:
            raise ConfigError("a neuron address needs a layer name")
        return f"neuron:{run}/{check_name('layer name', layer)}/{index}"
    if layer is not None:
        raise ConfigError(f"a {kind} address takes no layer, got layer={layer!r}")
    return f"{kind}:{run}/{index}"


def parse_address(text: str) -> Address:
    """Parse an address made by :func:`item_address`.

    >>> parse_address("neuron:digits/conv2/5")
    Address(kind='neuron', run='digits', index=5, layer='conv2')
    """
    kind, sep, rest = str(text).partition(":")
    if not sep:
        raise ConfigError(
            f"{text!r} is not an item address: expected 'KIND:RUN/...', "
            "for example 'neuron:digits/conv2/5' or 'attribution:digits/17'"
        )
    if kind not in ITEM_KINDS:
        raise UnknownNameError("item kind", kind, ITEM_KINDS)
    parts = rest.split("/")
    expected = 1 + len(ITEM_KINDS[kind])
    if len(parts) != expected or not re.fullmatch(r"[0-9]+", parts[-1]):
        shape = "/".join(("RUN",) + tuple(p.upper() for p in ITEM_KINDS[kind]))
        raise ConfigError(f"{text!r} is not a valid {kind} address: expected '{kind}:{shape}'")
    layer = parts[1] if kind == "neuron" else None
    address = Address(kind=kind, run=parts[0], index=int(parts[-1]), layer=layer)
    # Round-trip through the builder so both agree on what is valid.
    item_address(address.kind, address.run, address.index, layer=address.layer)
    return address
