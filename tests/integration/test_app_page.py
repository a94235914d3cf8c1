"""The review page's handling of submits, without a browser: which failures keep an answer
queued in the browser (``failed``) and which drop it with a reason (``rejected``)."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from interpret_review.app import ReviewApp, ReviewPage
from interpret_review.errors import StoreUnavailableError
from interpret_review.judgments import JudgmentStore
from interpret_review.review import load_project, sync_project
from interpret_review.settings import Settings


@pytest.fixture
def page(tiny_project: Path):
    project = load_project(tiny_project)
    with JudgmentStore(project.database_url) as store:
        sync_project(project, store)
    app = ReviewApp(project, Settings(), secret="s" * 64)
    page = ReviewPage(app, "alice")
    page.replies = []
    page.form.reply = page.replies.append  # what would go to the browser
    yield page
    app.close()


def submit(page: ReviewPage, **changes) -> dict:
    msg = {
        "type": "submit",
        "client_id": str(uuid.uuid4()),
        "task": "neurons",
        "address": page.shown.key,
        "answers": {"label": "edge", "category": "edge", "confidence": 3},
        "duration_ms": 1200,
        "submitted_at": None,
        **changes,
    }
    page._on_message(msg)
    return page.replies[-1]


def test_a_stored_answer_moves_the_page_on(page: ReviewPage) -> None:
    assert page.shown.index == 0
    reply = submit(page)
    assert reply["type"] == "stored" and reply["advancing"] is True and reply["answered"] == 1
    assert page.shown.index == 1 and page.form.item["answered"] == 1


def test_an_answer_for_another_task_is_stored_under_that_task(page: ReviewPage) -> None:
    maps = page.session_for("maps")
    maps.first_open()  # handed out earlier, answered in another tab
    reply = submit(
        page,
        task="maps",
        address=maps.item(0).address,
        answers={"ratings": {m: "yes" for m in maps.item(0).shown_maps}},
    )
    assert reply["type"] == "stored" and reply["advancing"] is False
    assert page.shown.index == 0 and page.session.task == "neurons"
    assert page.app.store().progress("tiny-project", "maps", "alice") == (1, 3)


def test_a_busy_store_keeps_the_answer_queued(page: ReviewPage, monkeypatch) -> None:
    def busy(**kwargs):
        raise StoreUnavailableError("judgment store sqlite:///x stayed locked by another process")

    monkeypatch.setattr(page.session, "submit", busy)
    reply = submit(page)
    assert reply["type"] == "failed" and "kept in this browser" in reply["message"]
    assert "sqlite" not in reply["message"]  # no store details for reviewers
    assert page.shown.index == 0


def test_a_bug_keeps_the_answer_queued_too(page: ReviewPage, monkeypatch) -> None:
    monkeypatch.setattr(page.session, "submit", lambda **kwargs: 1 / 0)
    assert submit(page)["type"] == "failed"


def test_a_bad_answer_is_rejected_with_the_reason(page: ReviewPage) -> None:
    reply = submit(page, answers={"label": "", "category": "edge", "confidence": 3})
    assert reply["type"] == "rejected" and "is required" in reply["message"]
    reply = submit(page, task="no-such-task")
    assert reply["type"] == "rejected" and "unknown task" in reply["message"]


def test_a_deactivated_account_locks_the_page(page: ReviewPage) -> None:
    page.app.store().set_active("alice", False)
    reply = submit(page)
    assert reply["type"] == "rejected" and "can no longer submit" in reply["message"]
    assert page.session is None
