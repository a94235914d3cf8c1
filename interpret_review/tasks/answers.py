"""Answer schemas: which fields a reviewer fills in for an item, and their validation.

An answer schema is data (it is stored with every task version), made of typed fields::

    text          free text (length-limited, control characters refused)
    choice        one of ``choices``                    (keyboard shortcut per choice)
    multi_choice  any subset of ``choices``
    scale         a whole number from ``min`` to ``max``
    boolean       true / false
    marks         a subset of the example rows shown with the item (per-example marks)
    ratings       one choice per shown map ("does this map highlight what drives the prediction?")
    predictions   one choice per shown example, in order of strength ("how strongly does the
                  unit fire here?"): a verify task's simulation of a description

Each item kind has a default schema (:func:`default_schema`); a task can narrow the
choices (its categories). ``AnswerSchema.validate`` returns the cleaned answers or raises
:class:`~interpret_review.errors.InvalidAnswerError` naming the field and what is allowed.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from interpret_review.errors import InvalidAnswerError, ProjectError, UnknownNameError

__all__ = [
    "FIELD_TYPES",
    "AnswerField",
    "AnswerSchema",
    "default_schema",
]

FIELD_TYPES = (
    "text",
    "choice",
    "multi_choice",
    "scale",
    "boolean",
    "marks",
    "ratings",
    "predictions",
)
MAX_TEXT = 2000

DEFAULT_CATEGORIES = ("stroke", "curve", "corner", "edge", "blob", "background", "other")
DEFAULT_FLAGS = ("polysemantic", "dead", "unclear")
RATING_CHOICES = ("yes", "partly", "no")
#: How strongly a unit fires on an example, weakest first (a verify task's predictions).
LEVELS = ("none", "weak", "medium", "strong")
#: Keys the review page keeps for itself: submit, leave a text box, previous, next, help.
RESERVED_KEYS = ("Enter", "Escape", "[", "]", "?")


@dataclass(frozen=True)
class AnswerField:
    name: str
    type: str
    label: str
    required: bool = False
    choices: tuple[str, ...] = ()
    shortcuts: tuple[str, ...] = ()  # one key per choice ("" for none)
    key: str = ""  # the key that focuses a text field
    min: int = 1
    max: int = 5
    help: str = ""

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["choices"] = list(self.choices)
        data["shortcuts"] = list(self.shortcuts)
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> AnswerField:
        kind = data.get("type")
        if kind not in FIELD_TYPES:
            raise UnknownNameError("answer field type", kind, FIELD_TYPES)
        values = dict(data)
        values["choices"] = tuple(values.get("choices", ()))
        values["shortcuts"] = tuple(values.get("shortcuts", ()))
        return cls(**values)


@dataclass(frozen=True)
class AnswerSchema:
    fields: tuple[AnswerField, ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        names = [f.name for f in self.fields]
        if len(set(names)) != len(names):
            raise ProjectError(f"answer schema has duplicate field names: {names}")
        seen: dict[str, str] = {}
        for f in self.fields:
            keys = [
                (key, f"{f.name}={choice!r}")
                for choice, key in zip(f.choices, f.shortcuts, strict=False)
            ]
            keys.append((f.key, f"{f.name} (focus)"))
            for key, what in keys:
                if not key:
                    continue
                if len(key) != 1 or not key.isprintable() or key.isspace():
                    raise ProjectError(
                        f"keyboard shortcut {key!r} of {what} must be one printable character "
                        "such as 'q' or '1'"
                    )
                if key in RESERVED_KEYS:
                    raise ProjectError(
                        f"keyboard shortcut {key!r} of {what} is kept by the review page "
                        f"(reserved: {' '.join(RESERVED_KEYS)}); choose another key"
                    )
                if key in seen:
                    raise ProjectError(
                        f"keyboard shortcut {key!r} is used twice: by {seen[key]} and by "
                        f"{what}; give one of them another key"
                    )
                seen[key] = what

    def __getitem__(self, name: str) -> AnswerField:
        for f in self.fields:
            if f.name == name:
                return f
        raise UnknownNameError("answer field", name, [f.name for f in self.fields])

    @property
    def names(self) -> list[str]:
        return [f.name for f in self.fields]

    def to_dict(self) -> dict[str, Any]:
        return {"fields": [f.to_dict() for f in self.fields]}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> AnswerSchema:
        return cls(tuple(AnswerField.from_dict(f) for f in data.get("fields", ())))

    def check_partial(self, answers: Mapping[str, Any]) -> dict[str, Any]:
        """Some fields' answers (a gold item's expected answers, a worked example), each
        checked as a reviewer's would be; per-example and per-map fields cannot be given."""
        if not isinstance(answers, Mapping):
            raise ProjectError(f"must be a table of field = answer, got {answers!r}")
        out = {}
        for name, value in answers.items():
            try:
                f = self[name]
            except UnknownNameError as error:
                raise ProjectError(str(error)) from None
            if f.type in ("marks", "ratings", "predictions"):
                raise ProjectError(
                    f"field {name!r} ({f.type}) depends on what each item shows; give the "
                    "answers of the other fields"
                )
            try:
                out[name] = _clean(f, value, (), ())
            except InvalidAnswerError as error:
                raise ProjectError(f"{name}: {error}") from None
        if not out:
            raise ProjectError("give the expected answer of at least one field")
        return out

    def validate(
        self,
        answers: Mapping[str, Any],
        *,
        shown_examples: Sequence[int] = (),
        shown_maps: Sequence[str] = (),
    ) -> dict[str, Any]:
        """Return cleaned answers, or raise InvalidAnswerError saying which field is wrong."""
        if not isinstance(answers, Mapping):
            raise InvalidAnswerError(
                f"answers must be a mapping of field -> value, got {type(answers).__name__}"
            )
        unknown = set(answers) - set(self.names)
        if unknown:
            raise InvalidAnswerError(
                f"unknown answer field(s) {sorted(unknown)}; this task's fields are {self.names}"
            )
        cleaned: dict[str, Any] = {}
        for f in self.fields:
            value = answers.get(f.name)
            if _is_empty(value):
                if f.required:
                    raise InvalidAnswerError(f"'{f.label}' is required ({f.name})")
                cleaned[f.name] = _empty_value(f)
                continue
            cleaned[f.name] = _clean(f, value, shown_examples, shown_maps)
        return cleaned


def _is_empty(value: Any) -> bool:
    """No answer: None, blank text, or an empty list or dict."""
    if isinstance(value, str):
        return not value.strip()
    return value is None or (isinstance(value, (list, tuple, dict)) and not value)


def _empty_value(f: AnswerField) -> Any:
    empty: dict[str, Any] = {"text": "", "choice": None, "scale": None, "boolean": None}
    return {**empty, "ratings": {}, "predictions": {}}.get(f.type, [])


def _clean(
    f: AnswerField, value: Any, shown_examples: Sequence[int], shown_maps: Sequence[str]
) -> Any:
    if f.type == "text":
        return clean_text(f, value)
    if f.type == "choice":
        return _one_of(f, value, f.choices)
    if f.type == "multi_choice":
        return sorted({_one_of(f, v, f.choices) for v in _as_list(f, value)}, key=f.choices.index)
    if f.type == "scale":
        if isinstance(value, bool) or not isinstance(value, (int, float)) or int(value) != value:
            raise InvalidAnswerError(
                f"'{f.label}' must be a whole number from {f.min} to {f.max}, got {value!r}"
            )
        if not f.min <= int(value) <= f.max:
            raise InvalidAnswerError(f"'{f.label}' must be from {f.min} to {f.max}, got {value}")
        return int(value)
    if f.type == "boolean":
        if not isinstance(value, bool):
            raise InvalidAnswerError(f"'{f.label}' must be true or false, got {value!r}")
        return value
    if f.type == "marks":
        rows = []
        for v in _as_list(f, value):
            if isinstance(v, bool) or not isinstance(v, int) or v not in shown_examples:
                raise InvalidAnswerError(
                    f"'{f.label}' may only mark examples shown with this item "
                    f"({sorted(set(shown_examples))}), got {v!r}"
                )
            rows.append(int(v))
        return sorted(set(rows))
    if f.type == "ratings":
        if not isinstance(value, Mapping):
            raise InvalidAnswerError(
                f"'{f.label}' must map each shown method to a rating, got {value!r}"
            )
        out = {}
        for method, rating in value.items():
            if method not in shown_maps:
                raise InvalidAnswerError(
                    f"'{f.label}' rates a method that is not shown ({method!r}); shown: {list(shown_maps)}"
                )
            if rating is None:
                continue
            out[method] = _one_of(f, rating, f.choices)
        if f.required and set(out) != set(shown_maps):
            missing = [m for m in shown_maps if m not in out]
            raise InvalidAnswerError(f"'{f.label}': rate every map; missing {missing}")
        return {m: out[m] for m in shown_maps if m in out}
    if f.type == "predictions":
        if not isinstance(value, Mapping):
            raise InvalidAnswerError(
                f"'{f.label}' must map each shown example to a level, got {value!r}"
            )
        shown = [str(row) for row in shown_examples]
        chosen = {}
        for row, level in value.items():
            if str(row) not in shown:
                raise InvalidAnswerError(
                    f"'{f.label}' predicts an example that is not shown ({row!r})"
                )
            if level is not None:
                chosen[str(row)] = _one_of(f, level, f.choices)
        if f.required and set(chosen) != set(shown):
            raise InvalidAnswerError(
                f"'{f.label}': predict every example; missing {len(shown) - len(chosen)}"
            )
        return {row: chosen[row] for row in shown if row in chosen}
    raise UnknownNameError("answer field type", f.type, FIELD_TYPES)  # pragma: no cover


def clean_text(f: AnswerField, value: Any) -> str:
    if not isinstance(value, str):
        raise InvalidAnswerError(f"'{f.label}' must be text, got {type(value).__name__}")
    text = unicodedata.normalize("NFC", value).strip()
    bad = [c for c in text if unicodedata.category(c) == "Cc" and c not in "\n\t"]
    if bad:
        raise InvalidAnswerError(
            f"'{f.label}' contains control characters {[hex(ord(c)) for c in bad[:3]]}; remove them"
        )
    if len(text) > MAX_TEXT:
        raise InvalidAnswerError(
            f"'{f.label}' is {len(text)} characters long; the limit is {MAX_TEXT}"
        )
    return text


def _one_of(f: AnswerField, value: Any, choices: Iterable[str]) -> str:
    choices = tuple(choices)
    if value not in choices:
        raise InvalidAnswerError(f"'{f.label}' must be one of {list(choices)}, got {value!r}")
    return str(value)


def _as_list(f: AnswerField, value: Any) -> list[Any]:
    if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
        raise InvalidAnswerError(f"'{f.label}' must be a list, got {value!r}")
    return list(value)


def _shortcuts(choices: Sequence[str], keys: str) -> tuple[str, ...]:
    return tuple(keys[i] if i < len(keys) else "" for i in range(len(choices)))


def _category_and_confidence(categories: tuple[str, ...]) -> tuple[AnswerField, AnswerField]:
    """The category (keys q w e ...) and confidence (1-5) fields of a neuron's label."""
    return (
        AnswerField(
            "category",
            "choice",
            "Category",
            required=True,
            choices=categories,
            shortcuts=_shortcuts(categories, "qwertyuio"),
        ),
        AnswerField(
            "confidence",
            "scale",
            "Confidence",
            required=True,
            min=1,
            max=5,
            choices=tuple(str(i) for i in range(1, 6)),
            shortcuts=("1", "2", "3", "4", "5"),
        ),
    )


def default_schema(
    kind: str, *, categories: Sequence[str] = (), stage: str = "review"
) -> AnswerSchema:
    """The answer schema of an item kind in a stage; ``categories`` replaces the neuron
    categories."""
    if stage == "verify":
        return AnswerSchema(
            (
                AnswerField(
                    "predictions",
                    "predictions",
                    "How strongly does the unit fire on each example?",
                    required=True,
                    choices=LEVELS,
                    shortcuts=("a", "s", "d", "f"),
                    help="Judge from the description alone: the unit's activations are hidden.",
                ),
                AnswerField("comment", "text", "Comment on the description", key="c"),
            )
        )
    if stage == "adjudicate":
        cats = tuple(categories) or DEFAULT_CATEGORIES
        return AnswerSchema(
            (
                AnswerField(
                    "label",
                    "text",
                    "Final label",
                    required=True,
                    key="l",
                    help="The label this unit will carry: one description, or a better one.",
                ),
                *_category_and_confidence(cats),
                AnswerField(
                    "rationale",
                    "text",
                    "Rationale",
                    required=True,
                    key="R",
                    help="Why this label: which descriptions and scores you relied on.",
                ),
            )
        )
    if kind == "neuron":
        cats = tuple(categories) or DEFAULT_CATEGORIES
        return AnswerSchema(
            (
                AnswerField(
                    "label",
                    "text",
                    "What does this neuron detect?",
                    required=True,
                    key="l",
                    help="A short description, e.g. 'left vertical stroke'.",
                ),
                *_category_and_confidence(cats),
                AnswerField(
                    "flags",
                    "multi_choice",
                    "Flags",
                    choices=DEFAULT_FLAGS,
                    shortcuts=("P", "D", "U"),
                ),
                AnswerField(
                    "fits",
                    "marks",
                    "Examples that fit the label",
                    help="Tick the shown examples that your label describes.",
                ),
            )
        )
    if kind == "attribution":
        return AnswerSchema(
            (
                AnswerField(
                    "ratings",
                    "ratings",
                    "Does the map highlight what drives the prediction?",
                    required=True,
                    choices=RATING_CHOICES,
                    shortcuts=("y", "p", "n"),
                ),
                AnswerField("comment", "text", "Comment", key="c"),
            )
        )
    raise UnknownNameError("item kind", kind, ("neuron", "attribution"))
