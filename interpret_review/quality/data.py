"""A task's current answers as a table, and each answer field as coded *units*.

Agreement and reliability models compare values given to the same unit by different
reviewers. Most fields give one value per item; some give one per part of the item::

    choice, boolean        unit = item,            nominal codes (index of the choice)
    scale                  unit = item,            ordinal (and interval) values
    multi_choice           unit = (item, choice),  chosen or not (nominal)
    marks                  unit = (item, example), marked or not, over the examples anyone
                                                   marked on that item (nominal)
    ratings                unit = (item, map),     ordinal (index of the rating)
    predictions            unit = (item, example), ordinal (index of the level)
    text                   no units: free text is compared through simulation scores and marks
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from interpret_review.judgments import Item, Judgment, JudgmentStore
from interpret_review.tasks.answers import AnswerField, AnswerSchema

__all__ = ["LEVELS", "TaskAnswers", "Units", "field_units", "load_answers"]

#: The level of measurement of each field type (None: not comparable as values).
LEVELS: dict[str, str | None] = {
    "choice": "nominal",
    "boolean": "nominal",
    "multi_choice": "nominal",
    "marks": "nominal",
    "scale": "ordinal",
    "ratings": "ordinal",
    "predictions": "ordinal",
    "text": None,
}

COLUMNS = ["item", "address", "reviewer", "client_id", "seconds", "submitted_at", "answers"]


@dataclass(frozen=True)
class TaskAnswers:
    """The current answers of one task: one row per (item, reviewer), in submission order.

    ``frame`` columns: item (key), address, reviewer, client_id, seconds (time on the item),
    submitted_at, answers (dict). ``gold`` maps gold item keys to their expected answers.
    """

    task: str
    stage: str
    kind: str
    schema: AnswerSchema
    frame: pd.DataFrame
    gold: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    source: str | None = None

    @classmethod
    def from_judgments(
        cls,
        task: str,
        judgments: Iterable[Judgment],
        schema: AnswerSchema,
        *,
        stage: str = "review",
        kind: str = "",
        items: Iterable[Item] = (),
        source: str | None = None,
    ) -> TaskAnswers:
        rows = [
            (
                j.item or j.address,
                j.address,
                j.reviewer,
                j.client_id,
                j.duration_ms / 1000.0,
                j.submitted_at,
                j.answers,
            )
            for j in judgments
            if not j.superseded
        ]
        frame = pd.DataFrame(rows, columns=COLUMNS)
        frame = frame.sort_values("submitted_at", kind="stable").reset_index(drop=True)
        gold = {i.key: dict(i.gold) for i in items if i.gold is not None}
        return cls(task, stage, kind, schema, frame, gold, source)

    @property
    def reviewers(self) -> list[str]:
        return sorted(self.frame["reviewer"].unique())

    def values(self, name: str) -> pd.Series:
        """The raw values of answer field ``name`` (None where not answered)."""
        return self.frame["answers"].map(lambda a: a.get(name))


@dataclass(frozen=True)
class Units:
    """The coded values of one answer field: a row per (unit, reviewer)."""

    field: AnswerField
    level: str
    frame: pd.DataFrame  # columns: unit, item, reviewer, value (float code)
    domain: tuple[float, ...]  # every value the field can take, in order
    names: tuple[str, ...]  # the value each code stands for

    @property
    def empty(self) -> bool:
        return bool(self.frame.empty)

    def matrix(self) -> tuple[np.ndarray, list[str], list[Any]]:
        """``(reviewers x units array with NaN for no answer, reviewers, units)``."""
        table = self.frame.pivot_table(
            index="reviewer", columns="unit", values="value", aggfunc="first"
        )
        return table.to_numpy(dtype=float), list(table.index), list(table.columns)

    def counts(self) -> tuple[np.ndarray, list[Any]]:
        """``(units x domain counts of each value, units)``: Krippendorff's value counts."""
        codes = {v: i for i, v in enumerate(self.domain)}
        grouped = self.frame.groupby("unit", sort=True)["value"]
        units = list(grouped.groups)
        out = np.zeros((len(units), len(self.domain)), dtype=float)
        for row, (_, values) in enumerate(grouped):
            for v in values:
                out[row, codes[v]] += 1
        return out, units


def field_units(answers: TaskAnswers, name: str) -> Units | None:
    """The units of answer field ``name`` of a task, or None for a free-text field."""
    f = answers.schema[name]
    level = LEVELS.get(f.type)
    if level is None:
        return None
    rows: list[tuple[Any, str, str, float]] = []
    frame = answers.frame
    if f.type == "scale":
        domain = tuple(float(v) for v in range(f.min, f.max + 1))
        names = tuple(str(v) for v in range(f.min, f.max + 1))
    elif f.type == "boolean":
        domain, names = (0.0, 1.0), ("false", "true")
    elif f.type in ("multi_choice", "marks"):
        domain, names = (0.0, 1.0), ("no", "yes")
    else:
        domain = tuple(float(i) for i in range(len(f.choices)))
        names = tuple(f.choices)
    marked: dict[str, set[Any]] = {}
    if f.type == "marks":
        for item, value in zip(frame["item"], frame["answers"], strict=True):
            marked.setdefault(item, set()).update(value.get(name) or [])
    for item, reviewer, value in zip(
        frame["item"], frame["reviewer"], frame["answers"].map(lambda a: a.get(name)), strict=True
    ):
        if f.type == "choice":
            if value in f.choices:
                rows.append((item, item, reviewer, float(f.choices.index(value))))
        elif f.type == "scale":
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                rows.append((item, item, reviewer, float(value)))
        elif f.type == "boolean":
            if isinstance(value, bool):
                rows.append((item, item, reviewer, float(value)))
        elif f.type == "multi_choice":
            chosen = set(value or [])
            for choice in f.choices:
                rows.append((f"{item}#{choice}", item, reviewer, float(choice in chosen)))
        elif f.type == "marks":
            chosen = set(value or [])
            for row in sorted(marked.get(item, ())):
                rows.append((f"{item}#{row}", item, reviewer, float(row in chosen)))
        elif f.type in ("ratings", "predictions") and isinstance(value, Mapping):
            for part, choice in value.items():
                if choice in f.choices:
                    rows.append((f"{item}#{part}", item, reviewer, float(f.choices.index(choice))))
    units = pd.DataFrame(rows, columns=["unit", "item", "reviewer", "value"])
    return Units(f, level, units, domain, names)


def load_answers(store: JudgmentStore, project: str, task: str) -> TaskAnswers:
    """The current answers of ``task`` from the judgment store, with its gold items."""
    version = store.task_version(project, task)
    return TaskAnswers.from_judgments(
        task,
        store.iter_judgments(project, task=task, include_superseded=False),
        AnswerSchema.from_dict(version.answer_schema),
        stage=version.settings.stage,
        kind=version.kind,
        items=store.items(project, task),
        source=version.settings.source,
    )
