"""ItemViewer: the base of every viewer, one per item kind.

A viewer is a ``param``-declared :class:`panel.viewable.Viewer` with a class attribute
``kind`` (the item kind it shows). Give it a run (a :class:`~interpret_review.store.Run` or
the path of a run's index file) and an item address; it renders the item as HTML in one
pane and re-renders when either changes. The same object works in the review app and in a
notebook cell::

    NeuronCard(run="demo/runs/digits.h5", address="neuron:digits/conv2/5")
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import ClassVar

import panel as pn
import param

from interpret_review.addresses import Address, parse_address
from interpret_review.errors import ConfigError
from interpret_review.store import Run, open_run

__all__ = ["ItemViewer"]

STYLE = """
<style>
.ir-viewer { font-family: system-ui, sans-serif; font-size: 14px; color: #1d2733; }
.ir-viewer h2 { font-size: 16px; margin: 0 0 6px 0; }
.ir-viewer h3 { font-size: 13px; margin: 12px 0 4px 0; color: #394b5e;
  text-transform: uppercase; letter-spacing: 0.04em; }
.ir-viewer .meta { color: #4c5d70; margin: 0 0 8px 0; }
.ir-viewer .grid { display: flex; flex-wrap: wrap; gap: 8px; }
.ir-viewer figure { margin: 0; text-align: center; font-size: 12px; }
.ir-viewer .maps figure { width: 140px; }
.ir-viewer .top figure { width: 104px; }
.ir-viewer figure img { display: block; image-rendering: pixelated; border: 1px solid #c8d0da;
  border-radius: 3px; background: #fff; }
.ir-viewer figcaption { margin-top: 2px; line-height: 1.25; }
.ir-viewer .num { display: inline-block; min-width: 1.4em; border-radius: 3px;
  background: #1d2733; color: #fff; font-weight: 600; padding: 0 3px; margin-right: 3px; }
.ir-viewer .legend { font-size: 12px; color: #4c5d70; }
.ir-viewer svg text { fill: #394b5e; font-family: system-ui, sans-serif; }
.ir-viewer .ir-pick { display: inline-block; line-height: 0; cursor: crosshair; }
.ir-viewer [data-link] { cursor: pointer; }
.ir-viewer [data-token] { cursor: pointer; }
</style>
"""


class ItemViewer(pn.viewable.Viewer):
    """Shows one item of one kind. Subclasses set ``kind`` and implement :meth:`render`."""

    kind: ClassVar[str] = ""
    #: The stage of a pipeline it serves: ``review``, or a later stage (entry point
    #: ``KIND.STAGE``, e.g. ``neuron.verify``) that also shows the earlier stages' work.
    stage: ClassVar[str] = "review"
    #: The runs it shows: ``image`` or ``text`` (entry point ``text-KIND[.STAGE]``).
    modality: ClassVar[str] = "image"

    run = param.Parameter(
        default=None, doc="The run: a Run, or the path of its index file (NAME.h5)."
    )
    address = param.String(default="", doc="The item's canonical address.")

    #: Items rendered ahead of time and kept until shown (see :meth:`prefetch`).
    PREFETCHED = 4

    def __init__(self, **params: object) -> None:
        self._pane = pn.pane.HTML("", sizing_mode="stretch_width", margin=0)
        self._opened: Run | None = None  # a run this viewer opened from a path (and closes)
        self._prefetched: dict[tuple[object, ...], str] = {}
        super().__init__(**params)
        self._refresh()

    def __panel__(self) -> pn.viewable.Viewable:
        return self._pane

    @param.depends("run", "address", watch=True)
    def _refresh(self) -> None:
        self._pane.object = self.html()

    def html(self) -> str:
        """The item as an HTML fragment (empty without an address)."""
        if not self.address:
            return ""
        ready = self._prefetched.pop(self._key(self.address), None)
        return ready if ready is not None else self.html_of(self.address)

    def prefetch(self, address: str) -> None:
        """Render ``address`` now, so that showing it next costs nothing. The review page
        calls this for the next item while the reviewer looks at the current one."""
        key = self._key(address)
        if key not in self._prefetched:
            self._prefetched[key] = self.html_of(address)
            while len(self._prefetched) > self.PREFETCHED:
                self._prefetched.pop(next(iter(self._prefetched)))

    def html_of(self, text: str) -> str:
        """Item ``text`` (an address) as an HTML fragment, with this viewer's settings."""
        address = self.parsed(text)
        run = self.open_run()
        if address.run != run.name:
            raise ConfigError(f"item {text!r} is not in run {run.name!r} ({run.path})")
        if run.modality != self.modality:
            raise ConfigError(
                f"{type(self).__name__} shows {self.modality} runs but run {run.name!r} holds "
                f"{run.modality}; use ir.show(), which picks the viewer of the run"
            )
        shown = html.escape(str(address))
        return (
            STYLE
            + f'<section class="ir-viewer" data-address="{shown}" aria-label="item {shown}">'
            + self.render(run, address)
            + "</section>"
        )

    def variant(self) -> tuple[object, ...]:
        """The settings besides run and address that change the picture (for prefetching)."""
        return ()

    def _key(self, address: str) -> tuple[object, ...]:
        return (id(self.open_run()), address, *self.variant())

    def parsed(self, text: str | None = None) -> Address:
        text = self.address if text is None else text
        address = parse_address(text)
        if address.kind != self.kind:
            raise ConfigError(
                f"{type(self).__name__} shows {self.kind!r} items, not {text!r}; "
                f"use the viewer of kind {address.kind!r}"
            )
        return address

    def open_run(self) -> Run:
        """The run to read from, opened on first use when given as a path."""
        if isinstance(self.run, Run):
            return self.run
        if isinstance(self.run, (str, Path)):
            path = Path(self.run)
            if self._opened is None or self._opened.path != path:
                if self._opened is not None:
                    self._opened.close()
                self._opened = open_run(path)
            return self._opened
        raise ConfigError(
            f"{type(self).__name__}.run must be a Run or the path of a run file, got "
            f"{type(self.run).__name__}"
        )

    def render(self, run: Run, address: Address) -> str:
        """The body of the item's HTML. Escape every text that comes from data."""
        raise NotImplementedError
