"""The two shapes of a label export, as typed columns and batch builders shared by every format.

**judgments**: one row per judgment, raw: who (a stable pseudonym unless names are asked
for, and their trust tier), what they answered, under which instruction version, when, and
on which run. **items**: one row per item: the consensus label, its confidence, the share of
answers that agree, how many reviewers answered, and the policy that decided it.

Every row carries its provenance: the item's address, the run's name and fingerprint, the
model and dataset fingerprints of the run the answers were made on, the task and its
version, and ``stale`` (with ``stale_reason``) when that run was since regenerated with
another model or dataset.

Rows travel in batches: a dict of equal-length lists, one per column. Column types:
``string``, ``int``, ``float``, ``bool``, ``timestamp`` (UTC; ISO 8601 text in a batch),
``strings`` and ``ints`` (lists), ``json`` (any JSON value; JSON text in CSV and Parquet)
and ``answers`` (the answers object, JSON text in a batch: nested in JSONL, one
``answer.<field>`` column per field elsewhere).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from interpret_review.judgments import TierChange
from interpret_review.review.provenance import RunHistory

__all__ = [
    "COLUMNS",
    "ITEM_COLUMNS",
    "SHAPES",
    "Column",
    "RowContext",
    "EXTRA_ANSWERS",
    "answer_columns",
    "batched",
    "flat_columns",
    "judgment_batch",
    "schema_fields",
]

TYPES = ("string", "int", "float", "bool", "timestamp", "strings", "ints", "json", "answers")


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    doc: str = ""


#: Columns of the judgments shape, in order.
JUDGMENT_COLUMNS: tuple[Column, ...] = (
    Column("client_id", "string", "the id the reviewer's browser gave the answer"),
    Column("project", "string"),
    Column("task", "string"),
    Column("task_version", "int", "the version of the task's instructions and answer schema"),
    Column("address", "string", "the item's canonical address"),
    Column("item", "string", "the item's key: its address, or ADDRESS@CLIENT_ID"),
    Column("kind", "string", "neuron or attribution"),
    Column("run", "string"),
    Column("run_fingerprint", "string", "the run the reviewer saw"),
    Column("model_fingerprint", "string", "its model's fingerprint (empty if unknown)"),
    Column("dataset_fingerprint", "string", "its dataset's fingerprint (empty if unknown)"),
    Column("reviewer", "string", "a stable pseudonym, reviewer-N (the name if asked for)"),
    Column("reviewer_tier", "string", "their current trust tier (empty: none yet)"),
    Column("answers", "answers"),
    Column("started_at", "timestamp"),
    Column("submitted_at", "timestamp"),
    Column("stored_at", "timestamp"),
    Column("duration_ms", "int"),
    Column("supersedes", "string", "the client id this answer replaced (an edit)"),
    Column("superseded", "bool", "a later edit replaced it"),
    Column("source", "string", "for a verify judgment, the description's client id"),
    Column("stale", "bool", "its run was since regenerated with another model or dataset"),
    Column("stale_reason", "string"),
)
COLUMNS: tuple[str, ...] = tuple(c.name for c in JUDGMENT_COLUMNS)

#: Columns of the items shape, in order.
ITEM_COLUMNS: tuple[Column, ...] = (
    Column("project", "string"),
    Column("task", "string"),
    Column("task_version", "int", "the task's latest version"),
    Column("stage", "string", "review, verify or adjudicate"),
    Column("address", "string"),
    Column("item", "string"),
    Column("kind", "string"),
    Column("run", "string"),
    Column("run_fingerprint", "string", "the run the item is on now"),
    Column("model_fingerprint", "string"),
    Column("dataset_fingerprint", "string"),
    Column("field", "string", "the answer field the consensus is about (empty: none)"),
    Column("label", "string", "the consensus value (numbers as text); empty: no consensus"),
    Column("description", "string", "the text label that goes with it"),
    Column("confidence", "float", "the consensus model's probability of the label"),
    Column("agreement", "float", "share of counted answers that give the label"),
    Column("n_reviewers", "int", "reviewers with a current answer on the item"),
    Column("n_counted", "int", "answers the consensus counted (paused reviewers' leave)"),
    Column("policy", "string", "majority, reliability or adjudicated"),
    Column("reliability_model", "string"),
    Column("gold", "bool", "a gold item (its expected answers are known)"),
    Column("stale", "bool", "an answer was made on a run since regenerated"),
    Column("stale_reason", "string"),
)

SHAPES: dict[str, tuple[Column, ...]] = {"judgments": JUDGMENT_COLUMNS, "items": ITEM_COLUMNS}

#: How an answer field's values are typed in CSV and Parquet columns.
_FIELD_TYPES = {
    "text": "string",
    "choice": "string",
    "multi_choice": "strings",
    "scale": "int",
    "boolean": "bool",
    "marks": "ints",
}


@dataclass
class RowContext:
    """What a row needs besides the judgment: provenance and reviewer names (cached)."""

    history: RunHistory
    pseudonyms: Mapping[str, str] = field(default_factory=dict)
    tiers: Mapping[str, TierChange] = field(default_factory=dict)
    names: bool = False  # True: reviewers' user names instead of pseudonyms
    stale: int = 0  # stale rows seen so far
    _places: dict[str, tuple[str, str]] = field(default_factory=dict, repr=False)
    _runs: dict[tuple[str, str], tuple[str, str, str | None]] = field(
        default_factory=dict, repr=False
    )

    def reviewer(self, username: str) -> str:
        return username if self.names else self.pseudonyms.get(username, "reviewer-?")

    def tier(self, username: str) -> str:
        change = self.tiers.get(username)
        return "" if change is None else change.tier

    def place(self, address: str) -> tuple[str, str]:
        """``(kind, run)`` of a stored (so canonical) address: ``KIND:RUN/...``."""
        found = self._places.get(address)
        if found is None:
            kind, _, rest = address.partition(":")
            found = self._places[address] = (kind, rest.partition("/")[0])
        return found

    def provenance(self, run: str, fingerprint: str) -> tuple[str, str, str | None]:
        """``(model fingerprint, dataset fingerprint, stale reason or None)`` of a label made
        on ``run`` with ``fingerprint``."""
        key = (run, fingerprint)
        found = self._runs.get(key)
        if found is None:
            record = self.history.record(run, fingerprint)
            model, data = (
                ("", "")
                if record is None
                else (record.model_fingerprint, record.dataset_fingerprint)
            )
            found = self._runs[key] = (model, data, self.history.stale_reason(run, fingerprint))
        return found

    def fingerprints(self, run: str, fingerprint: str) -> tuple[str, str]:
        model, data, _ = self.provenance(run, fingerprint)
        return model, data


def judgment_batch(
    batch: Mapping[str, list[Any]], project: str, context: RowContext
) -> dict[str, list[Any]]:
    """Columns of the judgments shape from a store batch (``JudgmentStore.judgment_batches``):
    ``answers`` stays JSON text and times ISO 8601 text; the formats convert them."""
    n = len(batch["client_id"])
    places = [context.place(a) for a in batch["address"]]  # cached per address
    kinds, runs = zip(*places, strict=True) if places else ((), ())
    pairs = {
        pair: context.provenance(*pair)
        for pair in set(zip(runs, batch["run_fingerprint"], strict=True))
    }
    provenance = [pairs[pair] for pair in zip(runs, batch["run_fingerprint"], strict=True)]
    reasons = [p[2] for p in provenance]
    context.stale += sum(r is not None for r in reasons)
    who = batch["reviewer"]
    shown = {r: (context.reviewer(r), context.tier(r)) for r in set(who)}
    return {
        "client_id": batch["client_id"],
        "project": [project] * n,
        "task": batch["task"],
        "task_version": batch["task_version"],
        "address": batch["address"],
        "item": batch["item"],
        "kind": list(kinds),
        "run": list(runs),
        "run_fingerprint": batch["run_fingerprint"],
        "model_fingerprint": [p[0] for p in provenance],
        "dataset_fingerprint": [p[1] for p in provenance],
        "reviewer": [shown[r][0] for r in who],
        "reviewer_tier": [shown[r][1] for r in who],
        "answers": batch["answers"],
        "started_at": batch["started_at"],
        "submitted_at": batch["submitted_at"],
        "stored_at": batch["stored_at"],
        "duration_ms": batch["duration_ms"],
        "supersedes": batch["supersedes"],
        "superseded": batch["superseded"],
        "source": batch["source"],
        "stale": [r is not None for r in reasons],
        "stale_reason": [r or "" for r in reasons],
    }


def batched(
    rows: Iterable[Mapping[str, Any]], columns: Iterable[Column], size: int
) -> Iterator[dict[str, list[Any]]]:
    """Rows (dicts) regrouped as batches of columns."""
    names = [c.name for c in columns]
    batch: dict[str, list[Any]] = {n: [] for n in names}
    count = 0
    for row in rows:
        for n in names:
            batch[n].append(row.get(n))
        count += 1
        if count == size:
            yield batch
            batch, count = {n: [] for n in names}, 0
    if count:
        yield batch


#: Answer keys that no answer schema of the task names (written through the Python API),
#: as one JSON object per row (null when there are none).
EXTRA_ANSWERS = Column("answers_extra", "json", "answer keys outside the answer schemas")


def answer_columns(schemas: Iterable[Mapping[str, Any]]) -> list[Column]:
    """One ``answer.<field>`` column per answer field over several answer schemas, first seen
    first, then :data:`EXTRA_ANSWERS`. A field typed differently in two schemas is JSON."""
    types: dict[str, str] = {}
    for schema in schemas:
        for name, kind in _schema_types(schema):
            typed = _FIELD_TYPES.get(kind, "json")
            types[name] = typed if types.get(name, typed) == typed else "json"
    return [*(Column(f"answer.{name}", typed) for name, typed in types.items()), EXTRA_ANSWERS]


def schema_fields(schemas: Iterable[Mapping[str, Any]]) -> list[str]:
    """Answer field names over several answer schemas, first seen first.

    Understands ``{"fields": [{"name": ...}, ...]}`` (``tasks.answers.AnswerSchema``) and
    JSON-Schema-style ``{"properties": {...}}``.
    """
    names: dict[str, None] = {}
    for schema in schemas:
        for name, _ in _schema_types(schema):
            names.setdefault(name, None)
    return list(names)


def _schema_types(schema: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    fields = schema.get("fields", ())
    for f in fields if isinstance(fields, list) else ():
        if isinstance(f, Mapping) and isinstance(f.get("name"), str):
            yield f["name"], str(f.get("type", ""))
    properties = schema.get("properties", {})
    for name in properties if isinstance(properties, Mapping) else ():
        yield str(name), ""


def flat_columns(columns: Iterable[Column], answers: Iterable[Column]) -> list[Column]:
    """``columns`` with the ``answers`` column replaced by the answer columns."""
    answers = list(answers)
    out: list[Column] = []
    for column in columns:
        out.extend(answers if column.type == "answers" else [column])
    return out
