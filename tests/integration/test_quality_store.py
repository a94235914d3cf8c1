"""Quality in the judgment store (SQLite and PostgreSQL): trust tiers recorded with their
reasons, pauses that stop new items but never lose an answer, adaptive overlap, and the
planted-truth simulation through the same claim and submit calls the review page makes."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

import pytest

from interpret_review.errors import ConfigError, PausedError
from interpret_review.judgments import JudgmentStore
from interpret_review.quality.simulate import GOLD_RULE, SPAM_RULE, Scenario, simulate
from interpret_review.tasks import AdaptiveRule, TaskSettings
from interpret_review.tasks.answers import AnswerField, AnswerSchema

ADDRESSES = [f"neuron:r/l/{u}" for u in range(4)]
PEOPLE = ("ann", "ben", "cat", "dan", "eve")
SCHEMA = AnswerSchema(
    (AnswerField("category", "choice", "Category", True, ("a", "b", "c")),)
).to_dict()


def make_task(store: JudgmentStore, adaptive: AdaptiveRule | None = None, overlap: int = 2) -> None:
    store.ensure_project("p")
    store.ensure_task(
        "p",
        "t",
        kind="neuron",
        title="T",
        instructions="",
        answer_schema=SCHEMA,
        settings=TaskSettings(overlap=overlap, shuffle=False, adaptive=adaptive),
    )
    store.add_items("p", "t", [(a, "fp") for a in ADDRESSES])


@pytest.fixture
def store(judgment_store: JudgmentStore) -> JudgmentStore:
    for name in (*PEOPLE, "rita"):
        judgment_store.add_reviewer(name, "pw", role="researcher" if name == "rita" else "reviewer")
    return judgment_store


def answer(store: JudgmentStore, reviewer: str, value: str) -> str:
    item = store.claim("p", "t", reviewer)
    assert item is not None, f"{reviewer} got no item"
    now = datetime.now(timezone.utc)
    store.submit(
        client_id=str(uuid.uuid4()),
        project="p",
        task="t",
        key=item.key,
        reviewer=reviewer,
        answers={"category": value},
        task_version=1,
        started_at=now - timedelta(seconds=5),
        submitted_at=now,
    )
    return item.key


def extra(store: JudgmentStore, key: str) -> int:
    return store.item("p", "t", key).extra


def test_tier_changes_are_recorded_with_reason_and_pinned_overrides(store: JudgmentStore) -> None:
    make_task(store)
    with pytest.raises(ConfigError, match="needs a reason"):
        store.set_tier("p", "ann", "trusted", reason="  ")
    store.set_tier("p", "ann", "probation", reason="rule x", source="rule", evidence={"k": 1.5})
    change = store.set_tier(
        "p", "ann", "trusted", reason="knows the domain", role="adjudicator", by="rita"
    )
    assert (change.tier, change.source, change.by, change.pinned) == (
        "trusted", "researcher", "rita", True,
    )  # fmt: skip
    assert store.get_reviewer("ann").role == "adjudicator"  # type: ignore[union-attr]
    history = store.tier_history("p", "ann")
    assert [c.tier for c in history] == ["probation", "trusted"]
    assert history[0].evidence == {"k": 1.5} and history[0].reason == "rule x"
    assert store.tiers("p")["ann"].tier == "trusted"


def test_a_paused_reviewer_gets_no_new_items_but_keeps_what_they_hold(
    store: JudgmentStore,
) -> None:
    make_task(store)
    held = store.claim("p", "t", "ann")
    assert held is not None
    store.set_tier("p", "ann", "paused", paused=True, reason="gold accuracy 0.2", by="rita")
    with pytest.raises(PausedError, match="paused in this project.*gold accuracy 0.2"):
        store.claim("p", "t", "ann")
    now = datetime.now(timezone.utc)
    judgment, following = store.submit_and_claim(  # the held answer is stored all the same
        client_id=str(uuid.uuid4()),
        project="p",
        task="t",
        key=held.key,
        reviewer="ann",
        answers={"category": "a"},
        task_version=1,
        started_at=now - timedelta(seconds=3),
        submitted_at=now,
    )
    assert judgment.item == held.key and following is None
    assert store.current("p", "t", "ann").keys() == {held.key}
    store.set_tier("p", "ann", "standard", reason="talked it through", by="rita")
    assert store.claim("p", "t", "ann") is not None


def test_disagreement_adds_reviewers_up_to_the_maximum(store: JudgmentStore) -> None:
    make_task(store, AdaptiveRule("category", 0.75, 4))
    first = answer(store, "ann", "a")
    assert answer(store, "ben", "a") == first
    assert extra(store, first) == 0  # two of two agree: done
    second = answer(store, "ann", "a")
    answer(store, "ben", "b")
    assert extra(store, second) == 1  # 1 of 2: one more reviewer
    assert answer(store, "cat", "b") == second
    assert extra(store, second) == 2  # 2 of 3 < 0.75: one more
    assert answer(store, "dan", "b") == second
    assert extra(store, second) == 2  # 3 of 4 agree
    done = {p.task: p for p in store.progress_by_reviewer("p") if p.reviewer is None}["t"]
    assert done.slots == 4 * 2 + 2 and done.answers == 6


def test_disagreement_stops_at_the_maximum(store: JudgmentStore) -> None:
    make_task(store, AdaptiveRule("category", 1.0, 3))
    key = answer(store, "ann", "a")
    answer(store, "ben", "b")
    answer(store, "cat", "c")
    assert extra(store, key) == 1
    assert store.claim("p", "t", "dan").key != key  # type: ignore[union-attr]


def test_a_paused_reviewers_answer_is_replaced(store: JudgmentStore) -> None:
    make_task(store)  # no adaptive rule: replacement only
    key = answer(store, "ann", "a")
    store.set_tier("p", "ann", "paused", paused=True, reason="random answers", by="rita")
    assert answer(store, "ben", "a") == key
    assert extra(store, key) == 1  # ann's answer no longer counts
    assert answer(store, "cat", "a") == key


@pytest.mark.slow
def test_planted_truth_through_the_store(store: JudgmentStore) -> None:
    """A small instance of the benchmark: the direction of its results."""
    fixed = simulate(store, Scenario(items=60, honest=6, spammers=2, overlap=3, seed=3))
    assert fixed.answers_per_item == pytest.approx(3.0)
    assert fixed.competence_correlation is not None and fixed.competence_correlation > 0.8
    adaptive = simulate(
        store,
        Scenario(
            items=60, honest=6, spammers=2, max_overlap=6, tiers=(GOLD_RULE, SPAM_RULE), seed=3
        ),
        project="planted-adaptive",
    )
    assert adaptive.answers_per_item > 3.0
    assert adaptive.accuracy["one-coin+tiers"] > fixed.accuracy["majority"]
    assert any(n is not None for n in adaptive.flagged_at.values())
    assert not adaptive.false_flags


def test_a_shuffled_queue_puts_gold_items_early(store: JudgmentStore) -> None:
    store.ensure_project("p")
    store.ensure_task(
        "p", "g", kind="neuron", title="G", instructions="", answer_schema=SCHEMA,
        settings=TaskSettings(overlap=1, shuffle=True),
    )  # fmt: skip
    addresses = [f"neuron:r/l/{u}" for u in range(60)]
    gold = {a: {"category": "a"} for a in addresses[-6:]}  # the last six rows are gold
    store.add_items("p", "g", [(a, "fp") for a in addresses], gold=gold)
    for who in ("ann", "ben"):
        first = []
        for _ in range(15):
            item = store.claim("p", "g", who)
            assert item is not None
            first.append(item.key)
            store.skip("p", "g", item.key, who, "seen")
        assert sum(key in gold for key in first) >= 5, (who, first)
