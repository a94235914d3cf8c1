"""Who gets which item: overlap, leases, skips, shuffled queues, gold items and access rules,
in the judgment store itself (SQLite and PostgreSQL)."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
import sqlalchemy as sa

from interpret_review.errors import AuthorizationError, InvalidAnswerError, JudgmentError
from interpret_review.judgments import JudgmentStore
from interpret_review.judgments.tables import assignments
from interpret_review.tasks import TaskSettings

ADDRESSES = [f"neuron:r/l/{u}" for u in range(6)]
PEOPLE = ("ann", "ben", "cat", "dan")


def make_task(store: JudgmentStore, name: str = "t", n: int = 6, **settings: Any) -> None:
    store.ensure_project("p")
    store.ensure_task(
        "p",
        name,
        kind="neuron",
        title="T",
        instructions="",
        answer_schema={"fields": []},
        settings=TaskSettings(**settings),
    )
    store.add_items("p", name, [(a, "fp") for a in ADDRESSES[:n]])


@pytest.fixture
def store(judgment_store: JudgmentStore) -> JudgmentStore:
    for name in PEOPLE:
        judgment_store.add_reviewer(name, "pw")
    judgment_store.add_reviewer("ada", "pw", role="adjudicator")
    return judgment_store


def submit(store: JudgmentStore, key: str, reviewer: str, task: str = "t", **more: Any):
    now = datetime.now(timezone.utc)
    return store.submit(
        client_id=more.pop("client_id", str(uuid.uuid4())),
        project="p",
        task=task,
        key=key,
        reviewer=reviewer,
        answers=more.pop("answers", {"label": "x"}),
        task_version=1,
        started_at=now - timedelta(seconds=1),
        submitted_at=now,
        **more,
    )


def expire(store: JudgmentStore, reviewer: str) -> None:
    """Let every running lease of ``reviewer`` run out (as if they left long ago)."""
    past = datetime.now(timezone.utc) - timedelta(minutes=1)
    with store._engine.begin() as conn:
        rid = conn.execute(sa.text("SELECT id FROM reviewers WHERE username = :u"), {"u": reviewer})
        conn.execute(
            assignments.update()
            .where(assignments.c.reviewer_id == rid.scalar_one(), assignments.c.status == "leased")
            .values(expires_at=past)
        )


def work_through(store: JudgmentStore, reviewer: str, task: str = "t") -> list[str]:
    """Claim and answer until the store hands ``reviewer`` nothing more."""
    done = []
    while (item := store.claim("p", task, reviewer)) is not None:
        submit(store, item.key, reviewer, task)
        done.append(item.key)
    return done


def test_each_item_gets_exactly_its_overlap_of_distinct_reviewers(store) -> None:
    make_task(store, overlap=2)
    answered = {name: work_through(store, name) for name in PEOPLE}
    assert len(answered["ann"]) == len(answered["ben"]) == 6  # the first two take every item
    assert answered["cat"] == answered["dan"] == []  # nothing left: every item has its two
    per_item: dict[str, set[str]] = {}
    for j in store.iter_judgments("p"):
        per_item.setdefault(j.item, set()).add(j.reviewer)
    assert {k: len(v) for k, v in per_item.items()} == {a: 2 for a in ADDRESSES}


def test_a_held_item_is_served_again_to_its_holder_and_to_nobody_else(store) -> None:
    make_task(store, n=2, overlap=1)
    first = store.claim("p", "t", "ann")
    assert store.claim("p", "t", "ann").key == first.key  # a reload gets the same item
    other = store.claim("p", "t", "ben")
    assert other.key != first.key
    assert store.claim("p", "t", "cat") is None  # both slots are leased
    assert store.available("p", "t", "cat") == 0
    with pytest.raises(AuthorizationError, match="not assigned"):
        submit(store, first.key, "cat")


def test_an_abandoned_item_returns_to_the_pool(store) -> None:
    make_task(store, n=1, overlap=1)
    held = store.claim("p", "t", "ann")
    assert store.claim("p", "t", "ben") is None
    expire(store, "ann")
    assert store.claim("p", "t", "ben").key == held.key  # ann's lease ran out
    submit(store, held.key, "ben")
    with pytest.raises(JudgmentError, match="handed to another reviewer"):
        submit(store, held.key, "ann")  # ann comes back too late: her slot is gone
    assert [j.reviewer for j in store.iter_judgments("p")] == ["ben"]


def test_a_late_answer_is_taken_while_the_slot_is_still_free(store) -> None:
    make_task(store, n=1, overlap=1)
    held = store.claim("p", "t", "ann")
    expire(store, "ann")
    assert submit(store, held.key, "ann").reviewer == "ann"
    assert [a.status for a in store.assignments("p")] == ["done"]


def test_a_skip_needs_a_reason_is_recorded_and_frees_the_item(store) -> None:
    make_task(store, n=2, overlap=1, shuffle=False)
    item = store.claim("p", "t", "ann")
    with pytest.raises(InvalidAnswerError, match="say why"):
        store.skip("p", "t", item.key, "ann", "   ")
    store.skip("p", "t", item.key, "ann", "Cannot tell:\n the <b>examples</b> are blank")
    [slot] = store.assignments("p")
    assert (
        slot.status == "skipped"
        and slot.skip_reason == "Cannot tell: the <b>examples</b> are blank"
    )
    assert store.claim("p", "t", "ann").key == ADDRESSES[1]  # never the skipped one again
    assert store.claim("p", "t", "ben").key == item.key  # back in the pool for others
    with pytest.raises(AuthorizationError, match="not held"):
        store.skip("p", "t", ADDRESSES[0], "cat", "no")


def test_queues_are_shuffled_per_reviewer_and_stable(store) -> None:
    store.ensure_project("p")
    addresses = [f"neuron:r/l/{u}" for u in range(40)]
    for name, shuffle in (("mixed", True), ("ordered", False)):
        store.ensure_task(
            "p",
            name,
            kind="neuron",
            title="",
            instructions="",
            answer_schema={},
            settings=TaskSettings(overlap=4, shuffle=shuffle),
        )
        store.add_items("p", name, [(a, "fp") for a in addresses])
    orders = {name: work_through(store, name, "mixed") for name in ("ann", "ben")}
    assert sorted(orders["ann"]) == sorted(orders["ben"]) == sorted(addresses)
    assert orders["ann"] != orders["ben"] and orders["ann"] != addresses
    assert work_through(store, "cat", "ordered") == addresses


def test_gold_items_go_to_everyone_unmarked(store) -> None:
    make_task(store, n=3, overlap=1, shuffle=False)
    store.add_items("p", "t", [], gold={ADDRESSES[2]: {"category": "curve"}})
    assert work_through(store, "ann") == ADDRESSES[:3]
    assert work_through(store, "ben") == [ADDRESSES[2]]  # only the gold item is left for ben
    assert store.item("p", "t", ADDRESSES[2]).gold == {"category": "curve"}


def test_roles_and_members_decide_who_may_work_on_a_task(store) -> None:
    make_task(store, "adjudicate-me", role="adjudicator")
    with pytest.raises(AuthorizationError, match="role 'adjudicator'"):
        store.claim("p", "adjudicate-me", "ann")
    assert store.claim("p", "adjudicate-me", "ada") is not None
    make_task(store, "team", members=("ben",))
    with pytest.raises(AuthorizationError, match="not one of the reviewers"):
        store.claim("p", "team", "ann")
    assert store.can_work_on("p", "team", "ben") and not store.can_work_on("p", "team", "ann")
    store.set_members("p", "team", [])
    assert store.can_work_on("p", "team", "ann")
    store.set_active("ben", False)
    with pytest.raises(AuthorizationError, match="deactivated"):
        store.claim("p", "team", "ben")


def test_progress_counts_done_in_progress_skipped_and_time(store) -> None:
    make_task(store, n=3, overlap=2, shuffle=False)
    work_through(store, "ann")
    held = store.claim("p", "t", "ben")
    store.skip("p", "t", held.key, "ben", "broken")
    store.claim("p", "t", "ben")
    rows = {(p.task, p.reviewer): p for p in store.progress_by_reviewer("p")}
    assert (rows["t", "ann"].done, rows["t", "ann"].in_progress, rows["t", "ann"].time_ms) == (
        3,
        0,
        3000,
    )
    assert (rows["t", "ben"].done, rows["t", "ben"].in_progress, rows["t", "ben"].skipped) == (
        0,
        1,
        1,
    )
    assert (rows["t", None].done, rows["t", None].items) == (0, 3)  # no item has its two yet
