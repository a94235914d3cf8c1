"""A text run reviewed in Debian's Chromium: the text neuron card and the token attribution
view, answered by keyboard, with hostile tokens, class names and labels shown as text and
never run, and the answers found in the export."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import HOSTILE_TOKENS
from tests.ui.test_review_browser import answer_neuron, judgments, log_in, wait_position

HOSTILE_LABEL = '<img src=x onerror="window.__pwned=5">a token <script>window.__pwned=6</script>'


def test_a_text_run_is_reviewed_in_the_browser(page, server_for, text_project: Path) -> None:
    server = server_for(text_project)
    log_in(page, server)
    card = page.locator(".ir-viewer[data-address='neuron:planted/block.linear1/0']")
    card.wait_for(timeout=30_000)
    assert "Unit 0 of layer block.linear1" in card.locator("h2").inner_text()
    # four top contexts and three range samples, each with its peak token outlined
    assert card.locator(".contexts.top .tag").count() == 4
    assert card.locator(".contexts.range .tag").count() == 3
    assert card.locator(".ir-token.ir-max").count() == 7
    assert card.locator("svg").count() >= 3  # two colour bars and the histogram
    assert set(card.locator(".ir-token").all_inner_texts()) & set(HOSTILE_TOKENS.values())

    answer_neuron(page, HOSTILE_LABEL, category_key="q")  # q: the first category
    page.keyboard.press("Shift+Digit1")  # tick top context 1
    page.keyboard.press("Enter")
    wait_position(page, "Item 2 of 2")

    page.get_by_label("Task").select_option(label="Tokens")
    view = page.locator(".ir-viewer[data-address='attribution:planted/0']")
    view.wait_for(timeout=30_000)
    methods = view.locator(".method")
    assert methods.count() == 3
    assert methods.locator(".name").all_inner_texts() == [
        "LayerIntegratedGradients", "Saliency", "FeatureAblation",
    ]  # fmt: skip
    first = methods.first.locator(".ir-token").first
    first.hover()  # the score is in the token's tooltip
    title = first.get_attribute("title")
    assert title is not None and " · " in title and title.split(" · ")[1][0] in "-0123456789"
    assert "&lt;" not in view.inner_text()  # escaped once, shown as typed
    if _has_hostile(text_project, 0):
        shown = set(methods.first.locator(".ir-token").all_inner_texts())
        assert shown & set(HOSTILE_TOKENS.values())
    page.keyboard.press("y")
    page.keyboard.press("p")
    page.keyboard.press("n")
    page.keyboard.press("Enter")
    view.wait_for(state="detached", timeout=15_000)

    assert page.evaluate("window.__pwned") is None
    assert page.errors == []

    rows = judgments(text_project)
    by_task = {r["task"]: r for r in rows}
    assert by_task["units"]["answers"]["label"] == HOSTILE_LABEL
    assert len(by_task["units"]["answers"]["fits"]) == 1
    assert by_task["tokens"]["answers"]["ratings"] == {
        "LayerIntegratedGradients": "yes", "Saliency": "partly", "FeatureAblation": "no",
    }  # fmt: skip


def _has_hostile(project_file: Path, row: int) -> bool:
    from interpret_review.review import load_project
    from interpret_review.store import open_run

    project = load_project(project_file)
    with open_run(project.runs["planted"].path) as run:
        return bool(set(run.tokens(row)[1]) & set(HOSTILE_TOKENS.values()))


def test_hostile_tokens_in_every_text_view_stay_text(page, text_run: Path, tmp_path: Path) -> None:
    """Every token, class name and label of every item of the text run, rendered by the text
    viewers into one page: nothing runs, every hostile token reads as typed."""
    from interpret_review_viewers.text import TextNeuronCard, TokenAttributionView

    from interpret_review.store import open_run

    parts = []
    with open_run(text_run) as run:
        for row in range(run.n_examples):
            parts.append(TokenAttributionView(run=run, address=f"attribution:planted/{row}").html())
        for unit in range(run.n_units("block.linear1")):
            address = f"neuron:planted/block.linear1/{unit}"
            parts.append(TextNeuronCard(run=run, address=address).html())
    target = tmp_path / "text-views.html"
    target.write_text("<!doctype html><meta charset=utf-8>" + "".join(parts), encoding="utf-8")
    page.goto(target.as_uri())
    page.wait_for_timeout(300)
    for token in page.locator(".ir-token").all():
        token.hover(timeout=2_000) if token.inner_text() in HOSTILE_TOKENS.values() else None
    assert page.evaluate("window.__pwned") is None
    assert page.locator("script").count() == 0 and page.locator(".ir-viewer img").count() == 0
    assert page.locator(".ir-viewer b").count() > 0  # the page's own bold text, and
    assert page.locator(".ir-token b").count() == 0  # none from a token
    texts = set(page.locator(".ir-token").all_inner_texts())
    assert set(HOSTILE_TOKENS.values()) <= texts
    assert page.get_by_text("<i>negative</i>", exact=False).count() > 0
    assert page.errors == []
