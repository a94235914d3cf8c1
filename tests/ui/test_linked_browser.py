"""Linked views in Chromium (issue 7): from a pixel or a token of an attribution item to the
neurons that fire most there and on to a neuron's card; from a neuron card's example to its
attribution item."""

from __future__ import annotations

import re
from pathlib import Path

from tests.ui.test_review_browser import log_in


def _linked(page):
    return page.locator(".ir-linked")


def test_from_a_pixel_to_a_neuron_and_from_a_neuron_to_an_example(
    page, server_for, tiny_project: Path
) -> None:
    server = server_for(tiny_project)
    log_in(page, server)
    card = page.locator(".ir-viewer[data-address='neuron:tiny/conv1/0']")
    card.wait_for(timeout=30_000)
    assert (
        "where it fires" in card.inner_text().lower()
    )  # the unit's activation map on each example
    first = card.locator(".fires figure[data-link]").first
    row = first.get_attribute("data-row")
    first.click()
    linked = _linked(page)
    shown = linked.locator(f".ir-viewer[data-address='attribution:tiny/{row}']")
    shown.wait_for(timeout=15_000)
    assert f"Example row {row}" in shown.inner_text()

    page.get_by_label("Task").select_option(label="Maps")
    view = page.locator(".ir-viewer[data-address='attribution:tiny/0']").first
    view.wait_for(timeout=15_000)
    assert not linked.is_visible()  # a new task starts without a linked view
    picture = view.locator(".ir-pick").first
    box = picture.bounding_box()
    assert box is not None
    page.mouse.click(box["x"] + box["width"] * 0.5, box["y"] + box["height"] * 0.5)
    neurons = linked.locator("ol.ir-neurons li .ir-link")
    neurons.first.wait_for(timeout=15_000)
    assert linked.get_by_text(re.compile(r"Neurons that fire most at the point \(0\.5")).count()
    target = neurons.first.get_attribute("data-link")
    assert target and re.fullmatch(r"neuron:tiny/conv[12]/\d+", target)
    neurons.first.click()
    shown = linked.locator(f".ir-viewer[data-address='{target}']")
    shown.wait_for(timeout=15_000)
    layer, unit = target.split("/")[1:]
    assert f"Unit {unit} of layer {layer}" in shown.inner_text()
    linked.get_by_role("button", name="Close").click()
    linked.wait_for(state="hidden", timeout=10_000)
    assert page.errors == []


def test_from_a_token_to_a_neuron_and_from_a_context_to_its_text(
    page, server_for, text_project: Path
) -> None:
    server = server_for(text_project)
    log_in(page, server)
    card = page.locator(".ir-viewer[data-address='neuron:planted/block.linear1/0']")
    card.wait_for(timeout=30_000)
    context = card.locator(".contexts.top .tag[data-link]").first
    row = context.get_attribute("data-row")
    context.click()
    linked = _linked(page)
    shown = linked.locator(f".ir-viewer[data-address='attribution:planted/{row}']")
    shown.wait_for(timeout=15_000)
    assert f"Text row {row}" in shown.inner_text()

    page.get_by_label("Task").select_option(label="Tokens")
    view = page.locator(".ir-viewer[data-address='attribution:planted/0']").first
    view.wait_for(timeout=15_000)
    token = view.locator(".method").first.locator(".ir-token").nth(1)
    word = token.inner_text()
    token.click()
    neurons = linked.locator("ol.ir-neurons li .ir-link")
    neurons.first.wait_for(timeout=15_000)
    title = linked.get_by_text("Neurons that fire most at token")
    assert title.count() and word in title.first.inner_text()
    target = neurons.first.get_attribute("data-link")
    neurons.first.click()
    shown = linked.locator(f".ir-viewer[data-address='{target}']")
    shown.wait_for(timeout=15_000)
    assert "top activating contexts" in shown.inner_text().lower()
    assert page.errors == []
