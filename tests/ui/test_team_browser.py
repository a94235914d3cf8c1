"""A team on the digits demo in Debian's Chromium: two reviewers describe a unit, a third
verifies each description by predicting held-out examples, an adjudicator decides the final
label, and the researcher follows it on the admin page, which nobody else may open."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from interpret_review.judgments import JudgmentStore
from interpret_review.review import load_project
from tests.integration.conftest_db import postgres_database_url

HOSTILE = '<img src=x onerror="window.__pwned=1">stroke'


@pytest.fixture
def demo_project(demo_dir: Path, tmp_path: Path) -> Iterator[Path]:
    """The demo project on a PostgreSQL store of its own (both describers get the units in
    the same order: the first unit reaches verification once both have described it)."""
    database = postgres_database_url()
    text = (demo_dir / "digits-demo.toml").read_text()
    text = text.replace(
        'title = "What does the digits CNN compute?"',
        f'title = "What does the digits CNN compute?"\ndatabase = "{next(database)}"',
    )
    text = text.replace('"runs/digits.h5"', f'"{(demo_dir / "runs/digits.h5").as_posix()}"')
    path = tmp_path / "team.toml"
    path.write_text(text)
    yield path
    database.close()  # drops the database


def log_in(browser, server, username: str):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.errors = []
    page.on("pageerror", lambda error: page.errors.append(str(error)))
    page.goto(server.url + "/login")
    page.fill("#username", username)
    page.fill("#password", f"{username}-demo")
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r".*/(review|admin)$"))
    return page


def shown(page) -> str:
    page.locator("form.ir-form[data-key]").wait_for(timeout=30_000)
    return page.locator("form.ir-form").get_attribute("data-key")


def wait_for_next(page, previous: str) -> None:
    page.wait_for_function(
        "prev => (window.__irShown || {}).key !== prev", arg=previous, timeout=15_000
    )


def describe(page, label: str) -> str:
    address = shown(page)
    page.keyboard.press("l")
    page.keyboard.type(label)
    page.keyboard.press("Escape")
    page.keyboard.press("q")  # stroke
    page.keyboard.press("4")
    page.keyboard.press("Enter")
    wait_for_next(page, address)
    return address


@pytest.mark.postgres
def test_three_stages_and_the_admin_page(browser, server_for, demo_project: Path) -> None:
    server = server_for(demo_project)
    project = load_project(demo_project)

    alice = log_in(browser, server, "alice")
    first = describe(alice, HOSTILE)
    assert first == "neuron:digits/conv1/0"
    bob = log_in(browser, server, "bob")
    assert describe(bob, "the left vertical stroke") == first

    carol = log_in(browser, server, "carol")
    carol.locator(".ir-header", has_text="Test another reviewer").wait_for()
    for _ in range(2):  # both descriptions of the unit, one after the other
        key = shown(carol)
        assert key.startswith(first + "@")
        card = carol.locator(".ir-viewer")
        assert "act " not in card.inner_text()  # activations stay hidden from verifiers
        assert card.locator("figure").count() == 12
        for i in range(12):
            carol.keyboard.press("asdf"[i % 4])
        carol.keyboard.press("Enter")
        wait_for_next(carol, key)
    carol.locator(".banner.done").wait_for()
    assert carol.evaluate("window.__pwned") is None  # the hostile label was shown as text

    ada = log_in(browser, server, "ada")
    ada.locator(".ir-header", has_text="Decide each unit").wait_for()
    assert shown(ada) == first
    table = ada.locator("table.descriptions").inner_text()
    assert "the left vertical stroke" in table and HOSTILE in table
    assert table.count("(1 verification)") == 2
    ada.keyboard.press("l")
    ada.keyboard.type("left vertical stroke")
    ada.keyboard.press("Escape")
    ada.keyboard.press("q")
    ada.keyboard.press("4")
    ada.keyboard.press("R")
    ada.keyboard.type("R1 was predicted best; R2 is the same idea.")
    ada.keyboard.press("Control+Enter")
    ada.locator(".banner.done").wait_for()

    with JudgmentStore(project.database_url) as store:
        rows = list(store.iter_judgments(project.name))
        final = [j for j in rows if j.task == "adjudicate-neurons"]
        scores = store.description_scores(project.name, "verify-descriptions")
    assert [j.answers["rationale"] for j in final] == [
        "R1 was predicted best; R2 is the same idea."
    ]
    assert {j.reviewer for j in rows if j.task == "describe-neurons"} == {"alice", "bob"}
    assert len(scores) == 2 and all(n == 1 for _, n in scores.values())

    rita = log_in(browser, server, "rita")
    assert rita.url.endswith("/admin")
    progress = rita.locator("table.progress")
    progress.wait_for()
    text = progress.inner_text()
    assert "adjudicate-neurons" in text and "1 of 1 items complete" in text
    assert "2 of 48 answers" in text  # describe-neurons: 24 units, two describers each
    assert rita.locator(".bk-Canvas, canvas").count() >= 2  # the two progress plots
    rita.locator(".bk-tab", has_text="Reviewers").click()
    rita.get_by_label("User name").fill("dave")
    rita.get_by_label("Password").fill("dave-demo")
    rita.get_by_role("button", name="Add reviewer").click()
    rita.locator(".ir-ok", has_text="Added dave").wait_for()
    dave = log_in(browser, server, "dave")
    assert dave.url.endswith("/review")

    # dave may rate attribution maps (open to every reviewer); he skips one, with a reason
    skipped = shown(dave)
    assert skipped.startswith("attribution:digits/")
    dave.locator("details.skip summary").click()
    dave.locator("select.skip-reason").select_option("Other")
    dave.locator("button.skip-send").click()  # "Other" needs details: refused in the page
    dave.locator(".ir-form .status", has_text="Say why").wait_for()
    dave.locator("input.skip-details").fill("the <b>maps</b> are blank")
    dave.locator("button.skip-send").click()
    wait_for_next(dave, skipped)
    with JudgmentStore(project.database_url) as store:
        [slot] = [a for a in store.assignments(project.name) if a.status == "skipped"]
    assert (slot.reviewer, slot.item) == ("dave", skipped)
    assert slot.skip_reason == "Other: the <b>maps</b> are blank"

    # Quality: figures for every task, and a pause that reaches dave's page at once
    rita.locator(".bk-tab", has_text="Quality").click()
    agreement = rita.locator("table.agreement")
    agreement.wait_for(timeout=60_000)
    assert "describe-neurons" in agreement.inner_text()
    assert "too few items" in agreement.inner_text()
    assert rita.locator(".slick-cell", has_text="alice").count() >= 1  # the reviewer table
    assert rita.get_by_text("No description has been verified yet").count() == 0  # plotted
    assert rita.get_by_text("No stale labels").count() == 1  # the run is as it was
    rita.get_by_label("Reviewer", exact=True).select_option("dave")
    rita.get_by_label("Tier", exact=True).fill("probation")
    rita.get_by_role("checkbox").check()  # "Pause (no new items)", the only one
    rita.get_by_label("Reason (recorded)").fill("skips <script>x</script> too much")
    rita.get_by_role("button", name="Override tier").click()
    rita.locator(".ir-ok", has_text="dave is now probation (paused)").wait_for()
    assert "skips <script>x</script> too much" in rita.locator("table.tiers").inner_text()
    held = shown(dave)
    dave.locator("details.skip summary").click()
    dave.locator("select.skip-reason").select_option("Other")
    dave.locator("input.skip-details").fill("paused now")
    dave.locator("button.skip-send").click()
    dave.locator(".ir-locked", has_text="paused in this project").wait_for()
    with JudgmentStore(project.database_url) as store:
        assert store.tiers(project.name)["dave"].by == "rita"
        assert {a.item for a in store.assignments(project.name) if a.reviewer == "dave"} >= {held}

    response = alice.goto(server.url + "/admin")
    assert response.status == 403
    for page in (alice, bob, carol, ada, rita, dave):
        assert page.errors == []
