"""The review app in Debian's Chromium: log in, review by keyboard, reload, edit, survive a
server crash and a lost connection, and find it all in the export."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

from interpret_review.export import export_judgments
from interpret_review.judgments import JudgmentStore
from interpret_review.review import load_project

HOSTILE = '<img src=x onerror="window.__pwned=2"><script>window.__pwned=3</script>'


def log_in(page, server, username: str = "alice", password: str = "alice-pw") -> None:
    page.goto(server.url + "/review")
    page.wait_for_url(re.compile(r".*/login\?next=.*"))
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r".*/review$"))
    page.locator("form.ir-form").wait_for(timeout=30_000)


def position(page) -> str:
    return page.locator(".ir-form .position").inner_text()


def wait_position(page, text: str) -> None:
    page.locator(".ir-form .position", has_text=text).wait_for(timeout=15_000)


def answer_neuron(page, label: str, category_key: str = "w", confidence: str = "3") -> None:
    page.keyboard.press("l")
    page.keyboard.type(label)
    page.keyboard.press("Escape")
    page.keyboard.press(category_key)
    page.keyboard.press(confidence)


def wait_for_judgments(project_file: Path, count: int, timeout: float = 30.0) -> list[dict]:
    """The export once it holds ``count`` judgments (a resent answer arrives a bit later)."""
    deadline = time.monotonic() + timeout
    while True:
        rows = judgments(project_file)
        if len(rows) >= count or time.monotonic() > deadline:
            return rows
        time.sleep(0.2)


def judgments(project_file: Path, include_superseded: bool = True) -> list[dict]:
    project = load_project(project_file)
    out = project_file.with_name("export.jsonl")
    with JudgmentStore(project.database_url) as store:
        export_judgments(
            store, project.name, format="jsonl", out=out, include_superseded=include_superseded
        )
    return [json.loads(line) for line in out.read_text().splitlines()]


def test_review_by_keyboard_reload_and_edit(page, server_for, tiny_project: Path) -> None:
    server = server_for(tiny_project)
    log_in(page, server)
    assert position(page) == "Item 1 of 3"
    assert "<script>window.__pwned = 1</script>" in page.locator(".ir-instructions").inner_text()

    answer_neuron(page, HOSTILE)
    page.keyboard.press("Shift+Digit1")  # tick top example 1
    page.keyboard.press("Enter")
    wait_position(page, "Item 2 of 3")
    page.locator(".ir-form .status", has_text="Saved ✓").wait_for(timeout=5_000)
    answer_neuron(page, "second", category_key="q", confidence="5")
    page.keyboard.press("Shift+P")  # flag: polysemantic
    page.keyboard.press("Enter")
    wait_position(page, "Item 3 of 3")

    page.reload()
    page.locator("form.ir-form").wait_for()
    wait_position(page, "Item 3 of 3")
    assert "2 answered" in page.locator(".ir-form .answered").inner_text()

    page.keyboard.press("[")
    page.keyboard.press("[")
    wait_position(page, "Item 1 of 3")
    label = page.locator("textarea[data-field=label]")
    assert label.input_value() == HOSTILE  # shown as text, never run
    assert "answered this item before" in page.locator(".ir-form .banner").inner_text()
    assert (
        page.locator("fieldset[data-field=category] input:checked").get_attribute("value")
        == "curve"
    )
    page.keyboard.press("l")
    page.keyboard.press("Control+a")
    page.keyboard.type("edited: a curve at the top")
    page.keyboard.press("Control+Enter")  # submit from inside the text box
    wait_position(page, "Item 3 of 3")  # back to the first unanswered item
    assert page.evaluate("window.__pwned") is None
    assert page.errors == []

    rows = judgments(tiny_project)
    first = [r for r in rows if r["address"] == "neuron:tiny/conv1/0"]
    assert [r["answers"]["label"] for r in first] == [HOSTILE, "edited: a curve at the top"]
    assert [r["superseded"] for r in first] == [True, False]
    assert first[1]["supersedes"] == first[0]["client_id"]
    assert len(first[0]["answers"]["fits"]) == 1 and first[0]["answers"]["confidence"] == 3
    second = [r for r in rows if r["address"] == "neuron:tiny/conv1/1"][0]
    assert (
        second["answers"]["flags"] == ["polysemantic"] and second["answers"]["category"] == "stroke"
    )
    assert all(r["duration_ms"] > 0 for r in rows)


def test_required_fields_are_named_before_anything_is_sent(page, server_for, tiny_project) -> None:
    server = server_for(tiny_project)
    log_in(page, server)
    page.keyboard.press("w")
    page.keyboard.press("Enter")
    status = page.locator(".ir-form .status")
    assert "is required" in status.inner_text() and status.get_attribute("role") == "alert"
    assert position(page) == "Item 1 of 3"
    assert judgments(tiny_project) == []


def test_a_submit_survives_a_crash_and_a_lost_connection(page, server_for, tiny_project) -> None:
    server = server_for(tiny_project)
    log_in(page, server)
    answer_neuron(page, "stored before the crash")
    page.keyboard.press("Enter")
    wait_position(page, "Item 2 of 3")

    server.kill()  # SIGKILL: no clean shutdown
    answer_neuron(page, "sent while the server is down")
    page.keyboard.press("Enter")
    page.locator(".ir-form .status", has_text="Still waiting").wait_for(timeout=15_000)
    pending = page.evaluate(
        "Object.keys(localStorage).filter(k => k.endsWith(':pending'))"
        ".map(k => JSON.parse(localStorage.getItem(k))).flat()"
    )
    assert [p["answers"]["label"] for p in pending] == ["sent while the server is down"]

    again = server_for(tiny_project, port=server.port)  # restart on the same address
    page.reload()  # the login cookie is still good; the queued submit is sent on load
    page.locator("form.ir-form").wait_for(timeout=30_000)
    wait_position(page, "Item 3 of 3")
    assert "2 answered" in page.locator(".ir-form .answered").inner_text()
    page.reload()  # and sending it twice stores it once
    page.locator("form.ir-form").wait_for(timeout=30_000)
    labels = sorted(r["answers"]["label"] for r in wait_for_judgments(tiny_project, 2))
    assert labels == ["sent while the server is down", "stored before the crash"]
    assert (
        page.evaluate(
            "Object.keys(localStorage).filter(k => k.endsWith(':pending'))"
            ".map(k => JSON.parse(localStorage.getItem(k))).flat().length"
        )
        == 0
    )
    assert again.url == server.url


def test_attribution_maps_are_rated_by_keyboard(page, server_for, tiny_project: Path) -> None:
    server = server_for(tiny_project)
    log_in(page, server)
    page.get_by_label("Task").select_option(label="Maps")
    page.locator(".ir-viewer[data-address='attribution:tiny/0']").wait_for()
    assert page.locator(".ir-viewer figure[data-method]").count() == 3
    badges = page.locator(".ir-viewer figure[data-method] .sanity")  # one per map
    assert badges.count() == 3
    assert "randomization" in (badges.first.get_attribute("title") or "")
    page.keyboard.press("y")
    page.keyboard.press("p")
    page.keyboard.press("n")
    page.keyboard.press("c")
    page.keyboard.type("Occlusion is blocky")
    page.keyboard.press("Control+Enter")
    page.locator(".ir-viewer[data-address='attribution:tiny/1']").wait_for()
    page.keyboard.press("3")  # highlight map 3 and rate only it: the form asks for the rest
    page.keyboard.press("y")
    page.keyboard.press("Enter")
    page.locator(".ir-form .status", has_text="Rate every map").wait_for(timeout=10_000)
    (row,) = judgments(tiny_project)
    assert row["task"] == "maps" and row["address"] == "attribution:tiny/0"
    assert row["answers"] == {
        "ratings": {"Saliency": "yes", "IntegratedGradients": "partly", "Occlusion": "no"},
        "comment": "Occlusion is blocky",
    }


def test_every_control_has_a_label_and_the_keys_are_listed(page, server_for, tiny_project) -> None:
    server = server_for(tiny_project)
    log_in(page, server)
    unlabelled = page.locator(".ir-form").evaluate(
        """form => [...form.querySelectorAll('input, textarea, button')]
              .filter(el => !(el.labels && el.labels.length) && !el.getAttribute('aria-label')
                            && !el.textContent.trim())
              .map(el => el.outerHTML)"""
    )
    assert unlabelled == []
    keys = page.locator(".ir-form details.keys").inner_text()
    for expected in ("Enter", "previous / next item", "Shift+1…9", "Category", "Confidence"):
        assert expected in keys
    page.keyboard.press("?")
    assert page.locator(".ir-form details.keys").get_attribute("open") is None


def test_enter_in_a_text_box_is_a_new_line_and_a_double_enter_stores_once(
    page, server_for, tiny_project: Path
) -> None:
    server = server_for(tiny_project)
    log_in(page, server)
    page.keyboard.press("l")
    page.keyboard.type("first line")
    page.keyboard.press("Enter")  # a new line, not a submit
    page.keyboard.type("second line")
    assert position(page) == "Item 1 of 3"
    assert page.locator("textarea[data-field=label]").input_value() == "first line\nsecond line"
    page.keyboard.press("Escape")
    page.keyboard.press("w")
    page.keyboard.press("2")
    page.keyboard.press("Enter")
    page.keyboard.press("Enter")  # a second Enter while the first is being saved
    wait_position(page, "Item 2 of 3")
    page.wait_for_timeout(500)
    rows = judgments(tiny_project)
    assert [r["answers"]["label"] for r in rows] == ["first line\nsecond line"]


def test_a_queued_answer_of_another_task_is_sent_on_load(
    page, server_for, tiny_project: Path
) -> None:
    server = server_for(tiny_project)
    log_in(page, server)
    page.get_by_label("Task").select_option(label="Maps")
    page.locator(".ir-viewer[data-address='attribution:tiny/0']").wait_for()
    server.kill()
    for key in "yyy":
        page.keyboard.press(key)
    page.keyboard.press("Enter")
    page.locator(".ir-form .status", has_text="Still waiting").wait_for(timeout=15_000)
    server_for(tiny_project, port=server.port)
    page.reload()  # opens the first task with open items: "neurons", not "maps"
    page.locator("form.ir-form").wait_for(timeout=30_000)
    assert page.locator(".ir-viewer").get_attribute("data-address").startswith("neuron:")
    (row,) = wait_for_judgments(tiny_project, 1)
    assert row["task"] == "maps" and set(row["answers"]["ratings"].values()) == {"yes"}


def test_an_unsigned_guest_cookie_changes_nothing(page, server_for, tiny_project: Path) -> None:
    server = server_for(tiny_project)
    log_in(page, server)
    page.context.add_cookies([{"name": "is_guest", "value": "1", "url": server.url}])
    page.reload()
    page.locator("form.ir-form").wait_for(timeout=30_000)
    assert "Signed in as alice" in page.locator(".ir-header").inner_text()
