"""Submitting judgments: idempotent retries, edit chains, current answers, history, paging."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from interpret_review.errors import AuthorizationError, InvalidAnswerError, JudgmentError
from interpret_review.judgments import Judgment, JudgmentStore
from interpret_review.tasks import TaskSettings

T0 = datetime(2025, 3, 1, 12, 0, 0, 123456, tzinfo=timezone.utc)
ADDRESSES = [f"neuron:digits/conv2/{u}" for u in range(4)]


@pytest.fixture
def store(judgment_store: JudgmentStore) -> JudgmentStore:
    judgment_store.ensure_project("p")
    judgment_store.ensure_task(
        "p",
        "t",
        kind="neuron",
        title="T",
        instructions="v1",
        answer_schema={"fields": []},
        settings=TaskSettings(overlap=2),
    )
    judgment_store.add_items("p", "t", [(a, "fp") for a in ADDRESSES])
    for name in ("alice", "bob"):
        judgment_store.add_reviewer(name, "pw")
    return judgment_store


def submit(store: JudgmentStore, address: str = ADDRESSES[0], **changes: Any) -> Judgment:
    values: dict[str, Any] = dict(
        client_id=str(uuid.uuid4()),
        project="p",
        task="t",
        key=address,
        reviewer="alice",
        answers={"label": "curve"},
        task_version=1,
        started_at=T0,
        submitted_at=T0 + timedelta(seconds=2.5),
    )
    values.update(changes)
    hand_out(store, values["task"], values["key"], values["reviewer"])
    return store.submit(**values)


def hand_out(store: JudgmentStore, task: str, key: str, reviewer: str) -> None:
    """Assign the item as the review page would; a bad name is left for submit to report."""
    try:
        store.assign("p", task, key, reviewer)
    except JudgmentError:
        pass


def test_a_submit_is_stored_with_its_provenance(store: JudgmentStore) -> None:
    local = timezone(timedelta(hours=2))
    stored = submit(store, started_at=T0.astimezone(local), answers={"label": "é ✓", "n": [1]})
    assert stored.duration_ms == 2500 and stored.run_fingerprint == "fp"
    assert stored.started_at == T0 and stored.started_at.tzinfo == timezone.utc
    assert stored.supersedes is None and not stored.superseded
    read = store.current("p", "t", "alice")[ADDRESSES[0]]
    assert read == stored
    assert read.stored_at.tzinfo == timezone.utc and read.submitted_at.utcoffset() == timedelta(0)


def test_a_retry_with_the_same_client_id_stores_one_row(store: JudgmentStore) -> None:
    client_id = str(uuid.uuid4())
    first = submit(store, client_id=client_id)
    again = submit(store, client_id=client_id.upper())  # same UUID, other spelling
    assert again == first
    assert len(list(store.iter_judgments("p"))) == 1
    with pytest.raises(JudgmentError, match="differs in answers"):
        submit(store, client_id=client_id, answers={"label": "edge"})
    with pytest.raises(JudgmentError, match="differs in key"):
        submit(store, ADDRESSES[1], client_id=client_id)
    assert len(list(store.iter_judgments("p"))) == 1


def test_an_edit_supersedes_and_history_keeps_every_row(store: JudgmentStore) -> None:
    first = submit(store)
    second = submit(store, answers={"label": "edge"}, supersedes=first.client_id)
    third = submit(store, answers={"label": "blob"}, supersedes=second.client_id)
    assert second.supersedes == first.client_id and third.supersedes == second.client_id
    assert store.current("p", "t", "alice") == {ADDRESSES[0]: third}
    history = store.history("p", "t", "alice", ADDRESSES[0])
    assert [j.client_id for j in history] == [first.client_id, second.client_id, third.client_id]
    assert [j.superseded for j in history] == [True, True, False]
    assert [j.answers["label"] for j in history] == ["curve", "edge", "blob"]
    # A retry of an edit that is no longer current still returns the stored row.
    assert (
        submit(
            store, answers={"label": "edge"}, client_id=second.client_id, supersedes=first.client_id
        ).client_id
        == second.client_id
    )


def test_a_second_new_judgment_supersedes_the_current_one(store: JudgmentStore) -> None:
    first = submit(store)
    second = submit(store, answers={"label": "edge"})  # no supersedes given
    assert second.supersedes == first.client_id
    assert store.current("p", "t", "alice")[ADDRESSES[0]].client_id == second.client_id
    assert [j.superseded for j in store.history("p", "t", "alice", ADDRESSES[0])] == [True, False]


def test_the_supersedes_chain_is_validated(store: JudgmentStore) -> None:
    first = submit(store)
    submit(store, answers={"label": "edge"}, supersedes=first.client_id)  # tab 1 edits
    with pytest.raises(JudgmentError, match="no longer 'alice''s current judgment"):
        submit(store, answers={"label": "blob"}, supersedes=first.client_id)  # stale tab 2
    with pytest.raises(JudgmentError, match="no judgment has that client id"):
        submit(store, supersedes=str(uuid.uuid4()))
    other_item = submit(store, ADDRESSES[1])
    with pytest.raises(JudgmentError, match="another item or reviewer"):
        submit(store, supersedes=other_item.client_id)
    bobs = submit(store, reviewer="bob")
    with pytest.raises(JudgmentError, match="another item or reviewer"):
        submit(store, supersedes=bobs.client_id)
    assert len(store.history("p", "t", "alice", ADDRESSES[0])) == 2


def test_current_returns_only_that_reviewers_rows(store: JudgmentStore) -> None:
    a = submit(store, ADDRESSES[0])
    b = submit(store, ADDRESSES[0], reviewer="bob", answers={"label": "bob's"})
    b2 = submit(store, ADDRESSES[2], reviewer="bob")
    assert store.current("p", "t", "alice") == {ADDRESSES[0]: a}
    assert store.current("p", "t", "bob") == {ADDRESSES[0]: b, ADDRESSES[2]: b2}
    assert store.history("p", "t", "alice", ADDRESSES[2]) == []
    assert store.progress("p", "t", "alice") == (1, 4)
    assert store.progress("p", "t", "bob") == (2, 4)
    submit(store, ADDRESSES[0], answers={"label": "again"})
    assert store.progress("p", "t", "alice") == (1, 4)  # an edit is not a new item


def test_unknown_names_and_bad_values_are_refused(store: JudgmentStore) -> None:
    with pytest.raises(JudgmentError, match="unknown item 'neuron:digits/conv2/99'"):
        submit(store, "neuron:digits/conv2/99")
    with pytest.raises(JudgmentError, match="unknown reviewer 'alicia'.*did you mean 'alice'"):
        submit(store, reviewer="alicia")
    with pytest.raises(JudgmentError, match=r"unknown task version 2 .* known versions: \[1\]"):
        submit(store, task_version=2)
    with pytest.raises(JudgmentError, match="unknown task"):
        submit(store, task="nope")
    with pytest.raises(JudgmentError, match="UUID"):
        submit(store, client_id="1")
    with pytest.raises(JudgmentError, match="timezone-aware"):
        submit(store, started_at=datetime(2025, 3, 1, 12))
    with pytest.raises(JudgmentError, match="before started_at"):
        submit(store, submitted_at=T0 - timedelta(seconds=1))
    with pytest.raises(InvalidAnswerError, match="JSON"):
        submit(store, answers={"label": {1, 2}})
    store.set_active("bob", False)
    with pytest.raises(AuthorizationError, match="deactivated"):
        submit(store, reviewer="bob")
    assert list(store.iter_judgments("p")) == []


def test_iter_judgments_pages_filters_and_orders(store: JudgmentStore) -> None:
    store.ensure_task("p", "u", kind="neuron", title="U", instructions="", answer_schema={})
    store.add_items("p", "u", [(ADDRESSES[0], "fp")])
    made = [submit(store, ADDRESSES[i % 4], reviewer=("alice", "bob")[i % 2]) for i in range(9)]
    made.append(submit(store, task="u"))
    every = list(store.iter_judgments("p", batch_size=4))
    assert [j.id for j in every] == sorted(j.id for j in made)
    assert [j.client_id for j in every] == [j.client_id for j in made]
    latest = list(store.iter_judgments("p", include_superseded=False, batch_size=3))
    assert all(not j.superseded for j in latest) and len(latest) == 4 + 1
    only_u = list(store.iter_judgments("p", task="u", batch_size=1))
    assert [j.client_id for j in only_u] == [made[-1].client_id]
    with pytest.raises(JudgmentError, match="unknown project"):
        list(store.iter_judgments("nope"))


def test_concurrent_submits_for_one_item_keep_one_linear_chain(store: JudgmentStore) -> None:
    import threading

    errors: list[BaseException] = []
    start = threading.Barrier(6)

    def worker(n: int) -> None:
        try:
            start.wait(timeout=30)
            submit(store, answers={"label": f"tab {n}"})
        except BaseException as error:  # noqa: BLE001 (reported below)
            errors.append(error)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    history = store.history("p", "t", "alice", ADDRESSES[0])
    assert len(history) == 6
    assert [j.supersedes for j in history] == [None] + [j.client_id for j in history[:-1]]
    assert [j.superseded for j in history] == [True] * 5 + [False]


def test_an_answer_submitted_before_the_current_one_is_refused(store: JudgmentStore) -> None:
    newer = submit(store, submitted_at=T0 + timedelta(minutes=5), started_at=T0)
    with pytest.raises(JudgmentError, match="current answer stands"):
        submit(store, answers={"label": "old"}, submitted_at=T0 + timedelta(minutes=1))
    later = submit(store, answers={"label": "newest"}, submitted_at=T0 + timedelta(minutes=9))
    assert later.supersedes == newer.client_id
