"""The linked view under a review item: what a click on the item's picture links to.

A click on a pixel or token lists the neurons that fire most there; a click on a neuron or
an example opens its card or attribution item; each is one click from the next. Read-only:
it shows items of the run of the task on screen and answers nothing. An account that
verifies descriptions of a run's units gets no linked views of that run (they would show
what the description must predict).
"""

from __future__ import annotations

import html
import logging
from typing import TYPE_CHECKING, Any, Protocol

import panel as pn

from interpret_review.addresses import parse_address
from interpret_review.app.host import Host
from interpret_review.app.messages import Peek, PeekPlace
from interpret_review.app.registry import viewer_class
from interpret_review.errors import ConfigError, InterpretReviewError
from interpret_review.review import Project, ReviewSession
from interpret_review.review.items import shown_maps
from interpret_review.review.links import linked_address, neurons_at

if TYPE_CHECKING:
    from interpret_review.store import Run

__all__ = ["LinkedView", "Reviewing", "neuron_list_html"]

log = logging.getLogger("interpret_review.app")


class Reviewing(Protocol):
    """What the linked view reads of the review page it sits in."""

    app: Host
    username: str
    project: Project
    task_names: list[str]
    session: ReviewSession | None


class LinkedView(pn.viewable.Viewer):
    """What a click on the item links to, under it: the neurons that fire most at a pixel or
    token, a neuron's card, or an example's attribution item; each one click from the next.
    Read-only: it shows items of the run of the task on screen, and answers nothing."""

    def __init__(self, page: Reviewing) -> None:
        super().__init__()
        self.page = page
        self.title = pn.pane.HTML("", sizing_mode="stretch_width", margin=(0, 5))
        self.body = pn.pane.HTML("", sizing_mode="stretch_width", margin=(0, 5))
        self.close_button = pn.widgets.Button(label="Close", width=80, margin=(5, 5))
        self.close_button.on_click(lambda _event: self.close())
        self.layout = pn.Card(
            pn.Row(self.title, self.close_button, sizing_mode="stretch_width"),
            self.body,
            title="Linked view",
            collapsible=False,
            visible=False,
            sizing_mode="stretch_width",
            margin=(5, 5),
            css_classes=["ir-linked"],
        )

    def __panel__(self) -> pn.viewable.Viewable:
        return self.layout

    def close(self) -> None:
        self.layout.visible = False
        self.body.object = ""

    def open(self, event: Peek | PeekPlace) -> None:
        """Show what a viewer's link (:class:`Peek`) or picked place (:class:`PeekPlace`)
        points at, beside the item."""
        session = self.page.session
        if session is None:
            return
        run = self.page.app.runs()[session.spec.run]
        if self._verifies(session.spec.run):
            self.title.object = "<b>No linked views</b>"
            self.body.object = (
                '<p class="ir-notice">You verify descriptions of this run\'s units, which '
                "you predict from the description alone: linked views, which show where "
                "units fire, are off for your account.</p>"
            )
            self.layout.visible = True
            return
        try:
            address = linked_address(run, event.address)
            if isinstance(event, Peek):
                self._show_item(run, address)
            else:
                self._show_place(run, address, event)
        except (InterpretReviewError, ValueError, TypeError, IndexError) as error:
            log.info("linked view refused for %r: %s", self.page.username, error)
            self.title.object = "<b>Cannot link there</b>"
            self.body.object = f'<p class="ir-notice">{html.escape(str(error))}</p>'
            self.layout.visible = True

    def _verifies(self, run: str) -> bool:
        """Whether this account may verify descriptions of units of ``run``."""
        tasks = self.page.project.tasks
        return any(
            tasks[name].stage == "verify" and tasks[name].run == run
            for name in self.page.task_names
        )

    def _show_item(self, run: Run, address: str) -> None:
        kind = parse_address(address).kind
        cls = viewer_class(kind, "review", run.modality)
        options: dict[str, Any] = {}
        spec = self.page.session.spec if self.page.session is not None else None
        if kind == "attribution" and spec is not None:  # the task's maps and trust gate
            options = {"methods": list(shown_maps(spec, run, address))}
            if "sanity" in cls.param:
                options["sanity"] = spec.sanity.as_dict()
        viewer = cls(run=run, **options)
        self.title.object = f"<b>{html.escape(address)}</b>"
        self.body.object = viewer.html_of(address)
        self.layout.visible = True

    def _show_place(self, run: Run, address: str, place: PeekPlace) -> None:
        parsed = parse_address(address)
        if parsed.kind != "attribution":
            raise ConfigError(f"a place is picked on an example's item, not {address!r}")
        if place.token is not None:
            if run.modality != "text":
                raise ConfigError(f"run {run.name!r} holds images: pick a pixel, not a token")
            tokens = run.tokens(parsed.index)[1]
            token = place.token
            if (
                isinstance(token, bool)
                or not isinstance(token, int)
                or not 0 <= token < len(tokens)
            ):
                raise ConfigError(
                    f"token {token!r} does not exist: example row {parsed.index} has "
                    f"{len(tokens)} tokens"
                )
            hits = neurons_at(run, parsed.index, token=token)
            where = f"token {html.escape(repr(tokens[token]))} (token {token + 1} of example row {parsed.index})"
        else:
            y, x = place.y, place.x
            if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (y, x)):
                raise ConfigError(f"a pixel is given as numbers y, x in 0..1, got {y!r}, {x!r}")
            y, x = float(y), float(x)  # type: ignore[arg-type]
            hits = neurons_at(run, parsed.index, y=y, x=x)
            where = f"the point ({y:.2f}, {x:.2f}) of example row {parsed.index}"
        self.title.object = f"<b>Neurons that fire most at {where}</b>"
        self.body.object = neuron_list_html(hits)
        self.layout.visible = True


def neuron_list_html(hits: list[Any]) -> str:
    """The neurons of :func:`neurons_at` as a list of links to their cards."""
    if not hits:
        return (
            '<p class="ir-notice">This run keeps no per-place activations of its layers '
            "(generate it with the spatial_maps setting on).</p>"
        )
    rows = "".join(
        f'<li><span role="link" tabindex="0" class="ir-link" data-link="{html.escape(h.address)}" '
        f'style="color:#1f5fbf;text-decoration:underline;cursor:pointer">unit {h.unit} of '
        f"{html.escape(h.layer)}</span> · activation {h.activation:.3g} "
        f"({100 * h.relative:.0f}% of its best)</li>"
        for h in hits
    )
    return (
        '<p class="legend">Ranked by activation here over the unit\'s best on the dataset; '
        f'click one for its card.</p><ol class="ir-neurons">{rows}</ol>'
    )
