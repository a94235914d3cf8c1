"""Consensus labels: per item, the label a policy gives and how sure it is.

Policies (``consensus`` in a task of the project file):

* ``majority``: the most common answer; confidence = its share of the answers.
* ``reliability``: the reliability model's most probable answer (reviewers weighted by their
  estimated competence); confidence = its posterior probability.
* ``adjudicated``: an adjudicator's decision where there is one (confidence 1), else
  ``reliability``.

Answers of paused reviewers never count. The policy actually used is recorded per item.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from interpret_review.errors import UnknownNameError
from interpret_review.quality.data import TaskAnswers, Units
from interpret_review.quality.reliability import Reliability, compute_reliability

__all__ = ["POLICIES", "ConsensusLabel", "compute_consensus"]

POLICIES = ("majority", "reliability", "adjudicated")


@dataclass(frozen=True)
class ConsensusLabel:
    """One item's consensus on one field."""

    task: str
    item: str
    address: str
    field: str
    value: Any  # the answer value (a choice, a number, true/false)
    confidence: float
    policy: str  # the policy that decided this item: majority, reliability or adjudicated
    answers: int  # answers that counted
    agreement: float  # share of those answers that give ``value``
    description: str = ""  # the text label that goes with it (adjudicated or best-tested)


def compute_consensus(
    answers: TaskAnswers,
    units: Units,
    *,
    policy: str = "reliability",
    model: str = "one-coin",
    paused: set[str] | frozenset[str] = frozenset(),
    adjudicated: Mapping[str, Mapping[str, Any]] | None = None,
    fitted: Reliability | None = None,
    scores: Mapping[str, float] | None = None,
) -> list[ConsensusLabel]:
    """The consensus label of every item of a single-value field (choice, scale, boolean).

    ``adjudicated`` maps an item's address to the adjudicator's answers; ``fitted`` reuses
    a reliability model already fitted without the ``paused`` reviewers; ``scores`` (a
    description's client id -> its simulation score) picks the best-tested description as
    the text that goes with a label."""
    if policy not in POLICIES:
        raise UnknownNameError("consensus policy", policy, POLICIES)
    name = units.field.name
    counted = units.frame[~units.frame["reviewer"].isin(paused)]
    if policy == "majority":
        fit = compute_reliability(units, model="majority", exclude=paused)
    else:
        fit = fitted or compute_reliability(units, model=model, exclude=paused)
    texts = _descriptions(answers, units, scores or {})
    addresses = dict(zip(answers.frame["item"], answers.frame["address"], strict=True))
    out = []
    for item, rows in counted.groupby("item", sort=False):
        decided = (adjudicated or {}).get(addresses[item]) if policy == "adjudicated" else None
        values = rows["value"].tolist()
        if decided is not None and decided.get(name) is not None:
            value, confidence, used = decided[name], 1.0, "adjudicated"
            code = _code(units, value)
            description = str(decided.get("label") or "")
        else:
            code = fit.labels.get(str(item))
            if code is None:
                continue
            value = _value(units, code)
            confidence = fit.confidence.get(str(item), 0.0)
            used = "majority" if policy == "majority" else "reliability"
            description = texts.get((item, code), "")
        share = sum(1 for v in values if v == code) / len(values) if values else 0.0
        out.append(
            ConsensusLabel(
                answers.task,
                str(item),
                addresses[item],
                name,
                value,
                float(confidence),
                used,
                len(values),
                share,
                description,
            )
        )
    return out


def _value(units: Units, code: float) -> Any:
    f = units.field
    if f.type == "scale":
        return int(code)
    if f.type == "boolean":
        return bool(code)
    return f.choices[int(code)]


def _code(units: Units, value: Any) -> float | None:
    f = units.field
    if f.type == "choice":
        return float(f.choices.index(value)) if value in f.choices else None
    return float(value)


def _descriptions(
    answers: TaskAnswers, units: Units, scores: Mapping[str, float]
) -> dict[tuple[Any, float | None], str]:
    """The free-text ``label`` that goes with each (item, value code): the description with
    the best simulation score, else the first one given."""
    if "label" not in answers.schema.names or answers.schema["label"].type != "text":
        return {}
    name = units.field.name
    best: dict[tuple[Any, float | None], tuple[float, str]] = {}
    frame = answers.frame
    for item, client_id, given in zip(
        frame["item"], frame["client_id"], frame["answers"], strict=True
    ):
        value, text = given.get(name), given.get("label")
        if value is None or not text:
            continue
        key = (item, _code(units, value))
        score = scores.get(client_id, -2.0)  # unscored descriptions after any scored one
        if key not in best or score > best[key][0]:
            best[key] = (score, str(text))
    return {key: text for key, (_, text) in best.items()}
