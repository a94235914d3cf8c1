"""Attribution sanity checks (issue 7): the randomization test reproduces the published
direction on the digits CNN, the figures are stored in the run and read back, and a task's
thresholds turn them into badges, flags or hidden maps."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from interpret_review.errors import ProjectError
from interpret_review.generation import METHODS, digits_cnn, digits_dataset
from interpret_review.generation.methods import InputInfo, resolve_params
from interpret_review.generation.sanity import randomization_order, sanity_checks, spearman, ssim
from interpret_review.settings import Settings
from interpret_review.store import open_run
from interpret_review.tasks.sanity import SanityRules, judge, parse_sanity

pytestmark = pytest.mark.slow  # cascading randomization of real models


@pytest.fixture(scope="module")
def digits_figures() -> dict:
    model = digits_cnn().eval().requires_grad_(False)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    x = digits_dataset("test").tensors[0][:16]
    with torch.no_grad():
        target = model(x).argmax(1)
    info = InputInfo(tuple(x.shape[1:]), 0.0, 1.0, "conv2")
    params = {m: resolve_params(m, info, Settings(), None) for m in METHODS}
    figures = sanity_checks(model, x, target, list(METHODS), params, torch.zeros(1, 1, 8, 8))
    after = model.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)  # a copy was randomised
    return figures


def test_randomization_reproduces_the_published_direction(digits_figures: dict) -> None:
    """Adebayo et al. 2018: gradient and Grad-CAM maps change strongly when the top layer is
    randomised; Guided Backprop's barely change."""
    r = {m: f["randomization"] for m, f in digits_figures.items()}
    assert r["Saliency"] < 0.4 and r["LayerGradCam"] < 0.4
    assert r["GuidedBackprop"] > r["Saliency"] + 0.2
    assert r["GuidedBackprop"] > r["LayerGradCam"] + 0.3
    for method, figures in digits_figures.items():
        steps = figures["randomization_steps"]
        assert [s["layer"] for s in steps] == ["fc2", "fc1", "conv2", "conv1"]  # top first
        assert figures["examples"] == 16 and figures["randomization"] == steps[0]["spearman"]
        assert -1 <= figures["randomization"] <= 1 and -1 <= figures["randomization_ssim"] <= 1
        assert figures["infidelity"] >= 0 and figures["sensitivity"] >= 0, method
    # randomising every layer takes Guided Backprop's map away from the model's too
    assert (
        digits_figures["GuidedBackprop"]["randomization_steps"][-1]["spearman"]
        < r["GuidedBackprop"]
    )


def test_the_similarity_measures() -> None:
    rng = np.random.default_rng(0)
    a = rng.random((8, 8))
    assert spearman(a, a) == pytest.approx(1) and ssim(a, a) == pytest.approx(1)
    assert spearman(a, -a) == pytest.approx(-1)
    assert spearman(a, np.zeros_like(a)) == 0.0  # a constant map carries no ranking
    noise = rng.random((8, 8))
    assert abs(spearman(a, noise)) < 0.4 and ssim(a, noise) < 0.5
    assert ssim(a, 3 * a + 1) == pytest.approx(1)  # scaled to 0..1 first


def test_the_cascade_order_is_top_down() -> None:
    from tests.conftest import load_generate_helpers

    model = load_generate_helpers().tiny_model()
    assert randomization_order(model) == ["fc2", "fc1", "conv2", "conv1"]


def test_figures_are_stored_in_the_run_and_read_back(tiny_run: Path, tmp_path: Path) -> None:
    from interpret_review.generation import generate
    from tests.conftest import load_generate_helpers

    with open_run(tiny_run) as run:
        for method in run.methods:
            figures = run.sanity(method)
            assert figures is not None and figures["examples"] == 12  # all of the tiny run
            assert len(figures["randomization_steps"]) == 4
        assert "randomization" in run.info()["methods"]["Saliency"]["sanity"]
        assert "sanity: randomization" in run.describe()
    helpers = load_generate_helpers()
    off = generate(helpers.tiny_model(), helpers.tiny_data(6), out=tmp_path / "off.h5",
                   methods=["Saliency"], settings=Settings(sanity_examples=0),
                   progress=False)  # fmt: skip
    with open_run(off) as run:
        assert run.sanity("Saliency") is None


def test_task_thresholds_judge_the_figures() -> None:
    rules = SanityRules()
    assert rules.thresholds == {"randomization": (0.5, 0.8)} and rules.action == "badge"
    assert judge({"randomization": 0.2}, rules).level == "pass"
    assert judge({"randomization": 0.6}, rules).level == "warn"
    assert judge({"randomization": 0.9}, rules).level == "fail"
    assert judge(None, rules).level == "unknown"
    assert judge({"randomization": None, "infidelity": 0.1}, rules).level == "unknown"
    strict = parse_sanity({"infidelity": [0.1, 0.2], "action": "hide"})
    verdict = judge({"randomization": 0.1, "infidelity": 0.15}, strict)
    assert verdict.level == "warn" and any("infidelity 0.15: warn" in r for r in verdict.reasons)
    for bad, message in (
        ({"action": "drop"}, "action must be one of badge, flag, hide"),
        ({"randomisation": [0.1, 0.2]}, "has no key 'randomisation'"),
        ({"randomization": [0.9, 0.1]}, r"must be \[warn, fail\] with warn <= fail"),
        ({"randomization": 0.5}, r"must be \[warn, fail\]"),
    ):
        with pytest.raises(ValueError, match=message):
            parse_sanity(bad)


SANITY_TASKS = """
[[tasks]]
name = "gated"
kind = "attribution"
run = "tiny"
examples = 2
sanity = {{ randomization = [{warn}, {fail}], action = "{action}" }}
"""


def _project(tiny_project: Path, warn: float, fail: float, action: str) -> Path:
    text = tiny_project.read_text().replace(
        "[[reviewers]]",
        SANITY_TASKS.format(warn=warn, fail=fail, action=action) + "\n[[reviewers]]",
        1,
    )
    tiny_project.write_text(text)
    return tiny_project


def test_a_task_hides_or_flags_failing_maps(tiny_project: Path, tiny_run: Path) -> None:
    from interpret_review_viewers import AttributionView

    from interpret_review.review import load_project
    from interpret_review.review.items import shown_maps

    with open_run(tiny_run) as run:
        values = {m: run.sanity(m)["randomization"] for m in run.methods}
        low, second = sorted(values.values())[:2]
        cut = (low + second) / 2  # fail all but the least similar method
        kept = min(values, key=values.get)
        project = load_project(_project(tiny_project, cut - 1e-4, cut, "hide"))
        task = project.task("gated")
        assert task.sanity.action == "hide"
        assert shown_maps(task, run, "attribution:tiny/0") == (kept,)
        assert shown_maps(project.task("maps"), run, "attribution:tiny/0") == tuple(run.methods)
        flag = {"thresholds": {"randomization": [cut - 1e-4, cut]}, "action": "flag"}
        page = AttributionView(run=run, address="attribution:tiny/0", sanity=flag).html()
        assert page.count('data-sanity="fail"') == len(values) - 1
        assert page.count('class="flagged"') == len(values) - 1
        assert page.count("Fails the sanity check") == len(values) - 1
        badge = AttributionView(run=run, address="attribution:tiny/0").html()
        assert badge.count('class="sanity ') == len(values) and 'class="flagged"' not in badge
        assert "cascade (top layer first): fc2" in badge


def test_bad_sanity_tables_name_the_key(tiny_project: Path) -> None:
    from interpret_review.review import load_project

    text = tiny_project.read_text()
    tiny_project.write_text(text.replace('kind = "neuron"', 'kind = "neuron"\nsanity = {}', 1))
    with pytest.raises(ProjectError, match=r"\[tasks\[0\].sanity\] only an attribution task"):
        load_project(tiny_project)
    tiny_project.write_text(
        text.replace('name = "maps"', 'name = "maps"\nsanity = { action = "drop" }', 1)
    )
    with pytest.raises(ProjectError, match=r"\[tasks\[1\].sanity\] action must be one of"):
        load_project(tiny_project)


def test_rules_from_a_partial_table_keep_the_defaults_and_hidden_items_say_so(
    tiny_run: Path,
) -> None:
    from interpret_review_viewers import AttributionView
    from interpret_review_viewers.sanity import rules_from

    assert rules_from({"action": "flag"}).thresholds == SanityRules().thresholds
    with open_run(tiny_run) as run:
        none = AttributionView(run=run, address="attribution:tiny/0", methods=[]).html()
        every = AttributionView(run=run, address="attribution:tiny/0").html()
    assert "is hidden: there is nothing to rate" in none and "data-method" not in none
    assert every.count("data-method=") == 3
