"""The quickstart notebook's rendered output, opened in Chromium as a user opens an
exported notebook: the viewers' pictures and the review form are there and drawn."""

from __future__ import annotations

from pathlib import Path

import pytest

# the quickstart's tests share the process that executed it (pytest-xdist --dist loadgroup)
pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.xdist_group("quickstart")]


def test_the_quickstart_renders_its_viewers_and_form(
    executed_notebooks: dict, page, tmp_path: Path
) -> None:
    from nbconvert import HTMLExporter

    notebook = executed_notebooks["quickstart.ipynb"]
    if isinstance(notebook, Exception):
        raise notebook
    body, _ = HTMLExporter().from_notebook_node(notebook)
    html = tmp_path / "quickstart.html"
    html.write_text(body, encoding="utf-8")
    page.goto(html.as_uri())
    # The neuron card: 9 top examples + 8 range samples + the histogram; the attribution
    # item: its input and three maps; the review page's viewer: another neuron card.
    page.locator(".ir-viewer").first.wait_for(timeout=30_000)
    for title in ("Unit 3 of layer conv2", "Example row 7", "Unit 0 of layer conv2"):
        page.get_by_text(title).first.wait_for(timeout=30_000)  # drawn by Bokeh's JS: wait
        assert page.get_by_text(title).count() == 1, title
    images = page.locator(".ir-viewer img")
    assert images.count() >= 2 * 17 + 4
    loaded = images.evaluate_all(
        "images => images.filter(i => i.complete && i.naturalWidth > 0).length"
    )
    assert loaded == images.count()  # every picture decodes (data URIs, nothing fetched)
    # The review page's form, drawn by its own JavaScript inside the notebook
    form = page.get_by_text("What does this neuron detect?", exact=True)
    form.wait_for(timeout=30_000)
    assert page.get_by_role("button", name="Submit").count() == 1
    assert page.get_by_role("radio").count() >= 8 + 5  # categories and confidence
    assert page.get_by_text("Examples that fit the label", exact=True).count() == 1
    assert page.locator("textarea").count() >= 1
    # the probe plot is an image too
    assert page.locator("img[src^='data:image/png']").count() >= 1
    assert page.errors == []
    page.screenshot(path=str(tmp_path / "quickstart.png"), full_page=True)
