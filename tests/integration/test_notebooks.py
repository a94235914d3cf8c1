"""Every notebook in notebooks/ runs from top to bottom, is committed without outputs, and
shows what it is about; the quickstart's output opened in Chromium, as a user opens an
exported notebook, draws its viewers and its review form. (One file: under pytest-xdist
``--dist loadfile`` each notebook is executed once.)"""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parents[2] / "notebooks").glob("*.ipynb"))

#: What each notebook's outputs must hold (text anywhere in them).
EXPECTED = {
    "viewers.ipynb": [
        "Unit 3 of layer conv2",
        "IntegratedGradients",
        "Occlusion",
        "text (token sequences)",  # the text run's summary
        "Text row 3",  # a token attribution item
        "Unit 5 of layer block.linear1",  # a text neuron card
        "ir-token ir-max",
    ],
    "quickstart.ipynb": [
        "Unit 3 of layer conv2",  # a neuron card, inline
        "Example row 7",  # an attribution item
        "What does this neuron detect?",  # the review page's form
        "answered 3 units as 'me'",
        "answer.category",  # the judgments DataFrame
        "Dataset card",
        "beat their shuffled probe",  # the probe table
        "image/png",  # the probe plot
    ],
    "tcav.ipynb": ["random_sign_count", "category:describe/loop", "image/png"],
}


def test_there_are_notebooks() -> None:
    assert {p.name for p in NOTEBOOKS} == set(EXPECTED)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebooks_are_committed_without_outputs(path: Path) -> None:
    notebook = nbformat.read(path, as_version=4)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            assert not cell.get("outputs") and cell.get("execution_count") is None, (
                f"{path.name} is committed with outputs; clear them"
            )


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_runs_and_shows_its_results(path: Path, executed_notebooks: dict) -> None:
    notebook = executed_notebooks[path.name]
    if isinstance(notebook, Exception):
        raise notebook  # the cell that failed, with its traceback
    outputs = [o for cell in notebook.cells for o in cell.get("outputs", [])]
    assert not [o for o in outputs if o.get("output_type") == "error"]
    text = json.dumps(outputs)
    for expected in EXPECTED[path.name]:
        assert expected in text, f"{path.name}: {expected!r} is not in the outputs"
    streams = [o.get("text", "") for o in outputs if o.get("output_type") == "stream"]
    assert not [t for t in streams if "Traceback" in t or "Warning" in t], streams


@pytest.mark.slow
@pytest.mark.browser
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
