"""Every notebook in notebooks/ runs from top to bottom, is committed without outputs, and
shows what it is about."""

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
@pytest.mark.parametrize(
    "path",
    # with pytest-xdist, every test of one notebook runs in the process that executed it
    [pytest.param(p, marks=pytest.mark.xdist_group(p.stem)) for p in NOTEBOOKS],
    ids=lambda p: p.name,
)
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
