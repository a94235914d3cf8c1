"""Projects, versioned tasks and items."""

from __future__ import annotations

import pytest

from interpret_review.errors import ConfigError, JudgmentError
from interpret_review.judgments import JudgmentStore

SCHEMA = {"fields": [{"name": "label", "type": "text"}, {"name": "flags", "type": "multi_choice"}]}


def _task(store: JudgmentStore, instructions: str = "Describe the unit.", schema=SCHEMA):  # noqa: ANN001, ANN202
    return store.ensure_task(
        "p",
        "label-neurons",
        kind="neuron",
        title="Label neurons",
        instructions=instructions,
        answer_schema=schema,
    )


def test_ensure_project_is_idempotent(judgment_store: JudgmentStore) -> None:
    assert judgment_store.ensure_project("p", "Project") == judgment_store.ensure_project("p")
    assert judgment_store.ensure_project("q") != judgment_store.ensure_project("p")
    with pytest.raises(ConfigError, match="project name"):
        judgment_store.ensure_project("")


def test_a_new_task_version_only_when_content_changes(judgment_store: JudgmentStore) -> None:
    judgment_store.ensure_project("p")
    first = _task(judgment_store)
    assert first.version == 1 and first.kind == "neuron" and first.answer_schema == SCHEMA
    # Same content (keys in another order): the same version.
    reordered = {"fields": [dict(reversed(list(f.items()))) for f in SCHEMA["fields"]]}
    assert _task(judgment_store, schema=reordered) == first
    second = _task(judgment_store, instructions="Describe the unit in one line.")
    assert second.version == 2 and second.instructions == "Describe the unit in one line."
    third = _task(judgment_store, "Describe the unit in one line.", {"fields": []})
    assert third.version == 3
    assert _task(judgment_store, "Describe the unit in one line.", {"fields": []}) == third
    assert judgment_store.task_version("p", "label-neurons", 1) == first
    assert judgment_store.task_version("p", "label-neurons") == third
    assert judgment_store.tasks("p") == [third]
    with pytest.raises(
        JudgmentError, match=r"unknown task version 9 .* known versions: \[1, 2, 3\]"
    ):
        judgment_store.task_version("p", "label-neurons", 9)


def test_task_kind_cannot_change_and_names_are_checked(judgment_store: JudgmentStore) -> None:
    with pytest.raises(JudgmentError, match="unknown project 'p'"):
        _task(judgment_store)
    judgment_store.ensure_project("p")
    _task(judgment_store)
    with pytest.raises(JudgmentError, match="cannot change"):
        judgment_store.ensure_task(
            "p", "label-neurons", kind="attribution", title="", instructions="", answer_schema={}
        )
    with pytest.raises(JudgmentError, match="did you mean 'label-neurons'"):
        judgment_store.task_version("p", "label-neuron")


def test_items_are_added_once_in_order(judgment_store: JudgmentStore) -> None:
    judgment_store.ensure_project("p")
    _task(judgment_store)
    first = [(f"neuron:digits/conv2/{u}", "fp1") for u in (5, 3, 9)]
    assert judgment_store.add_items("p", "label-neurons", first) == 3
    assert judgment_store.add_items("p", "label-neurons", first) == 0
    more = [("neuron:digits/conv2/3", "fp1"), ("attribution:digits/17", "fp1")]
    assert judgment_store.add_items("p", "label-neurons", more) == 1
    listed = judgment_store.items("p", "label-neurons")
    assert [i.address for i in listed] == [a for a, _ in first] + ["attribution:digits/17"]
    assert [i.position for i in listed] == [0, 1, 2, 3]
    assert {i.run_fingerprint for i in listed} == {"fp1"}


def test_items_must_be_canonical_and_match_their_run(judgment_store: JudgmentStore) -> None:
    judgment_store.ensure_project("p")
    _task(judgment_store)
    with pytest.raises(ConfigError, match="not an item address"):
        judgment_store.add_items("p", "label-neurons", [("conv2-5", "fp")])
    judgment_store.add_items("p", "label-neurons", [("neuron:digits/conv2/5", "fp1")])
    with pytest.raises(JudgmentError, match="regenerated"):
        judgment_store.add_items("p", "label-neurons", [("neuron:digits/conv2/5", "fp2")])
    assert len(judgment_store.items("p", "label-neurons")) == 1
