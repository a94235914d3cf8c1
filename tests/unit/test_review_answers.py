"""Answer schemas: validation of every field type, shortcut checks, hostile text kept as text."""

from __future__ import annotations

import pytest

from interpret_review.errors import InvalidAnswerError, ProjectError, UnknownNameError
from interpret_review.tasks.answers import AnswerField, AnswerSchema, default_schema

NEURON = default_schema("neuron")
ATTRIBUTION = default_schema("attribution")
GOOD = {"label": "left stroke", "category": "stroke", "confidence": 4}


def test_a_complete_neuron_answer_is_cleaned() -> None:
    cleaned = NEURON.validate(
        {**GOOD, "label": "  left stroke \n", "flags": ["unclear", "dead"], "fits": [7, 3, 7]},
        shown_examples=[3, 7, 9],
    )
    assert cleaned == {
        "label": "left stroke",
        "category": "stroke",
        "confidence": 4,
        "flags": ["dead", "unclear"],  # schema order, each once
        "fits": [3, 7],
    }


@pytest.mark.parametrize(
    "answers, message",
    [
        ({"category": "stroke", "confidence": 4}, "is required"),
        ({**GOOD, "category": "swirl"}, "must be one of"),
        ({**GOOD, "confidence": 6}, "from 1 to 5"),
        ({**GOOD, "confidence": 2.5}, "whole number"),
        ({**GOOD, "confidence": True}, "whole number"),
        ({**GOOD, "flags": "dead"}, "must be a list"),
        ({**GOOD, "fits": [99]}, "may only mark examples shown"),
        ({**GOOD, "label": "x" * 2001}, "limit is 2000"),
        ({**GOOD, "label": "bell\x07"}, "control characters"),
        ({**GOOD, "extra": 1}, "unknown answer field"),
    ],
)
def test_bad_neuron_answers_say_which_field(answers: dict, message: str) -> None:
    with pytest.raises(InvalidAnswerError, match=message):
        NEURON.validate(answers, shown_examples=[3, 7])


def test_hostile_text_is_kept_verbatim_as_text() -> None:
    hostile = '<script>alert("x")</script><img src=x onerror=alert(1)> =SUM(A1)'
    cleaned = NEURON.validate({**GOOD, "label": hostile})
    assert cleaned["label"] == hostile


def test_ratings_must_cover_every_shown_map() -> None:
    maps = ["Saliency", "Occlusion"]
    ok = ATTRIBUTION.validate({"ratings": {"Occlusion": "no", "Saliency": "yes"}}, shown_maps=maps)
    assert ok["ratings"] == {"Saliency": "yes", "Occlusion": "no"}
    with pytest.raises(InvalidAnswerError, match="missing"):
        ATTRIBUTION.validate({"ratings": {"Saliency": "yes"}}, shown_maps=maps)
    with pytest.raises(InvalidAnswerError, match="not shown"):
        ATTRIBUTION.validate({"ratings": {"DeepLift": "yes"}}, shown_maps=maps)


def test_schemas_round_trip_through_dicts() -> None:
    assert AnswerSchema.from_dict(NEURON.to_dict()) == NEURON


@pytest.mark.parametrize(
    "fields, message",
    [
        ([("a", "q"), ("b", "q")], "used twice"),
        ([("a", "[")], "kept by the review page"),
        ([("a", "ab")], "one printable character"),
    ],
)
def test_bad_shortcuts_are_refused_when_the_schema_is_made(fields, message) -> None:
    with pytest.raises(ProjectError, match=message):
        AnswerSchema(
            tuple(AnswerField(n, "choice", n, choices=("x",), shortcuts=(k,)) for n, k in fields)
        )


def test_a_focus_key_may_not_clash_with_a_choice_key() -> None:
    with pytest.raises(ProjectError, match="'q' is used twice"):
        AnswerSchema(
            (
                AnswerField("label", "text", "Label", key="q"),
                AnswerField("kind", "choice", "Kind", choices=("x",), shortcuts=("q",)),
            )
        )


def test_unknown_kind_and_field_type_suggest_names() -> None:
    with pytest.raises(UnknownNameError, match="did you mean 'neuron'"):
        default_schema("nueron")
    with pytest.raises(UnknownNameError, match="did you mean 'choice'"):
        AnswerField.from_dict({"name": "x", "type": "choise", "label": "x"})
