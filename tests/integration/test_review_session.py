"""Syncing a project into a real store, and a reviewer's session over a real run (SQLite and
PostgreSQL)."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from interpret_review.errors import AuthorizationError, InvalidAnswerError, JudgmentError
from interpret_review.judgments import JudgmentStore
from interpret_review.review import (
    ReviewSession,
    RunSet,
    load_project,
    shown_examples,
    sync_project,
    task_addresses,
)
from interpret_review.store import open_run


@pytest.fixture
def project(tiny_project: Path):
    return load_project(tiny_project)


@pytest.fixture
def runs(project):
    with RunSet(project) as runs:
        yield runs


@pytest.fixture
def store(judgment_store: JudgmentStore, project, runs) -> JudgmentStore:
    sync_project(project, judgment_store, runs)
    return judgment_store


def answer(session: ReviewSession, index: int | None = None, label: str = "edge", **changes):
    """Answer the item at ``index`` (default: the one the store hands out now)."""
    item = session.item(session.first_open() if index is None else index)
    answers = {"label": label, "category": "edge", "confidence": 3, **changes}
    return session.submit(
        client_id=str(uuid.uuid4()), key=item.address, answers=answers, duration_ms=1500
    )


def test_sync_creates_tasks_items_and_accounts(store: JudgmentStore, project, runs) -> None:
    assert [t.task for t in store.tasks("tiny-project")] == ["neurons", "maps"]
    addresses = [i.address for i in store.items("tiny-project", "neurons")]
    assert addresses == [f"neuron:tiny/conv1/{u}" for u in range(3)]  # conv1 has 3 channels
    assert [i.address for i in store.items("tiny-project", "maps")] == [
        f"attribution:tiny/{r}" for r in range(3)
    ]
    assert store.get_reviewer("bob").role == "adjudicator"
    again = sync_project(project, store, runs)  # idempotent
    assert again.items_added == {"neurons": 0, "maps": 0} and again.accounts_created == []
    assert again.tasks == {"neurons": 1, "maps": 1}


def test_changed_instructions_make_a_new_task_version(store, tiny_project: Path, runs) -> None:
    text = tiny_project.read_text().replace("Describe the unit.", "Describe the unit, briefly.")
    tiny_project.write_text(text)
    report = sync_project(load_project(tiny_project), store, runs)
    assert report.tasks["neurons"] == 2 and report.tasks["maps"] == 1


def test_a_session_walks_the_queue(store: JudgmentStore, project, runs) -> None:
    session = ReviewSession(store, project, "neurons", "alice", runs)
    assert session.first_open() == 0 and session.progress() == (0, 3)
    item = session.item(0)
    assert item.answers is None and item.judgment is None and item.total == 3
    assert list(item.shown_examples.values())[:4] == ["1", "2", "3", "4"]
    assert set(item.shown_examples) == set(shown_examples(runs["tiny"], item.address))
    stored = answer(session, 0, fits=[next(iter(item.shown_examples))])
    assert stored.task_version == 1 and stored.reviewer == "alice"
    assert session.progress() == (1, 3) and session.next_open(0) == 1
    assert session.item(0).answers["label"] == "edge"
    # a new session (a reload) sees the same state
    again = ReviewSession(store, project, "neurons", "alice", runs)
    assert again.first_open() == 1 and again.item(0).judgment == stored.client_id
    # another reviewer's queue is separate (blind)
    assert ReviewSession(store, project, "neurons", "bob", runs).first_open() == 0


def test_an_edit_supersedes_and_history_keeps_both(store, project, runs) -> None:
    session = ReviewSession(store, project, "neurons", "alice", runs)
    first = answer(session, label="edge")
    edit = session.submit(
        client_id=str(uuid.uuid4()),
        key=first.address,
        answers={"label": "curve", "category": "curve", "confidence": 5},
        duration_ms=900,
        supersedes=first.client_id,
    )
    assert edit.supersedes == first.client_id
    history = store.history("tiny-project", "neurons", "alice", first.address)
    assert [j.answers["label"] for j in history] == ["edge", "curve"]
    assert session.item(0).answers["label"] == "curve" and session.progress() == (1, 3)
    with pytest.raises(JudgmentError, match="no longer"):  # a stale second tab
        session.submit(
            client_id=str(uuid.uuid4()),
            key=first.address,
            answers={"label": "x", "category": "edge", "confidence": 1},
            duration_ms=1,
            supersedes=first.client_id,
        )


def test_a_retried_submit_is_stored_once(store, project, runs) -> None:
    session = ReviewSession(store, project, "neurons", "alice", runs)
    address = session.item(session.first_open()).address
    values = dict(
        client_id=str(uuid.uuid4()),
        key=address,
        answers={"label": "blob", "category": "blob", "confidence": 2},
        duration_ms=100,
    )
    assert session.submit(**values).id == session.submit(**values).id
    assert len(store.history("tiny-project", "neurons", "alice", address)) == 1


def test_answers_are_checked_against_what_the_item_showed(store, project, runs) -> None:
    session = ReviewSession(store, project, "neurons", "alice", runs)
    session.first_open()
    not_shown = max(range(12), key=lambda r: r not in session.item(0).shown_examples)
    with pytest.raises(InvalidAnswerError, match="may only mark examples shown"):
        answer(session, 0, fits=[not_shown])
    with pytest.raises(InvalidAnswerError, match="required"):
        answer(session, 0, label="   ")
    with pytest.raises(JudgmentError, match="not an item of task"):
        session.submit(
            client_id=str(uuid.uuid4()),
            key="neuron:tiny/conv2/0",
            answers={},
            duration_ms=1,
        )
    maps = ReviewSession(store, project, "maps", "alice", runs)
    maps.first_open()
    assert maps.item(0).shown_maps == ("Saliency", "IntegratedGradients", "Occlusion")
    with pytest.raises(InvalidAnswerError, match="rate every map"):
        maps.submit(
            client_id=str(uuid.uuid4()),
            key=maps.item(0).address,
            answers={"ratings": {"Saliency": "yes"}},
            duration_ms=1,
        )


def test_times_come_from_the_client_within_reason(store, project, runs) -> None:
    session = ReviewSession(store, project, "neurons", "alice", runs)
    when = datetime.now(timezone.utc) - timedelta(minutes=5)
    stored = session.submit(
        client_id=str(uuid.uuid4()),
        key=session.item(session.first_open()).address,
        answers={"label": "a", "category": "edge", "confidence": 1},
        duration_ms=4000,
        submitted_at=when,
    )
    assert abs((stored.submitted_at - when).total_seconds()) < 0.01
    assert stored.duration_ms == 4000
    future = datetime.now(timezone.utc) + timedelta(days=2)
    later = session.submit(
        client_id=str(uuid.uuid4()),
        key=session.item(session.first_open()).address,
        answers={"label": "b", "category": "edge", "confidence": 1},
        duration_ms=-5,
        submitted_at=future,
    )
    assert later.submitted_at < future - timedelta(days=1) and later.duration_ms == 0


def test_deactivated_and_unknown_accounts_cannot_review(store, project, runs) -> None:
    session = ReviewSession(store, project, "neurons", "alice", runs)
    session.first_open()
    store.set_active("alice", False)
    with pytest.raises(AuthorizationError):
        answer(session, 0)
    with pytest.raises(AuthorizationError, match="deactivated"):
        ReviewSession(store, project, "neurons", "alice", runs)
    with pytest.raises(AuthorizationError, match="does not exist"):
        ReviewSession(store, project, "neurons", "mallory", runs)


def test_task_addresses_check_the_run(tiny_run: Path, project) -> None:
    from dataclasses import replace

    with open_run(tiny_run) as run:
        task = project.task("neurons")
        with pytest.raises(Exception, match="did you mean 'conv1'"):
            task_addresses(replace(task, layers=("conv_1",)), run)
        with pytest.raises(Exception, match="units \\[7\\]"):
            task_addresses(replace(task, layers=(), units={"conv1": (0, 7)}), run)
        maps = project.task("maps")
        with pytest.raises(Exception, match="did you mean 'Saliency'"):
            task_addresses(replace(maps, methods=("Salincy",)), run)
        assert len(task_addresses(replace(maps, examples=None), run)) == run.n_examples


def test_an_answer_older_than_the_current_one_is_refused(store, project, runs) -> None:
    """A queued answer from another tab or device arriving after a newer one."""
    session = ReviewSession(store, project, "neurons", "alice", runs)
    address = session.item(session.first_open()).address
    now = datetime.now(timezone.utc)
    session.submit(
        client_id=str(uuid.uuid4()),
        key=address,
        answers={"label": "newer", "category": "edge", "confidence": 3},
        duration_ms=10,
        submitted_at=now - timedelta(minutes=1),
    )
    stale_tab = ReviewSession(store, project, "neurons", "alice", runs)
    stale_tab.current.clear()  # a tab opened before the answer above
    with pytest.raises(JudgmentError, match="current answer stands"):
        stale_tab.submit(
            client_id=str(uuid.uuid4()),
            key=address,
            answers={"label": "older", "category": "edge", "confidence": 3},
            duration_ms=10,
            submitted_at=now - timedelta(minutes=10),
        )
    assert stale_tab.item(0).answers["label"] == "newer"  # and the tab now knows it


def test_a_retry_after_a_task_change_returns_the_stored_answer(
    store, project, runs, tiny_project: Path
) -> None:
    session = ReviewSession(store, project, "neurons", "alice", runs)
    values = dict(
        client_id=str(uuid.uuid4()),
        key=session.item(session.first_open()).key,
        answers={"label": "x", "category": "edge", "confidence": 3},
        duration_ms=10,
    )
    first = session.submit(**values)
    tiny_project.write_text(tiny_project.read_text().replace("Describe the unit.", "New words."))
    changed = load_project(tiny_project)
    sync_project(changed, store, runs)
    again = ReviewSession(store, changed, "neurons", "alice", runs)
    assert again.version.version == 2
    assert again.submit(**values).id == first.id  # stored once, under version 1
    with pytest.raises(JudgmentError, match="already used"):
        again.submit(**{**values, "key": again.item(again.first_open()).key})


def test_admin_tasks_are_parsed_once_and_a_broken_one_is_left_out(
    store, project, runs, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Every reader sees the tasks made on the admin page; each table is parsed once per
    process, not at every page load; one that no longer parses leaves the others working."""
    import dataclasses

    import interpret_review.review.project as projects
    from interpret_review.review.sync import sync_task

    made = projects.parse_task(project, {"name": "extra", "kind": "neuron", "run": "tiny",
                                         "layers": ["conv1"]})  # fmt: skip
    sync_task(project, made, store, runs)
    calls: list[str] = []
    real = projects.parse_task
    monkeypatch.setattr(projects, "parse_task", lambda *a, **k: calls.append("x") or real(*a, **k))
    for _ in range(3):
        seen = projects.current_project(project, store)
        assert seen.task("extra").origin == "admin" and seen.task("extra").layers == ("conv1",)
    assert len(calls) == 1
    # the run the admin task names leaves the project file: that task is left out, said why
    without = dataclasses.replace(project, runs={})
    with caplog.at_level("WARNING", logger="interpret_review.review"):
        seen = projects.current_project(without, store)
    assert "extra" not in seen.tasks and set(seen.tasks) == set(project.tasks)
    assert "task 'extra' made on the admin page is left out" in caplog.text
    assert "unknown run 'tiny'" in caplog.text
