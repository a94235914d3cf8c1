"""One export row per judgment, shared by every file format."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from interpret_review.addresses import parse_address
from interpret_review.judgments import Judgment

__all__ = ["COLUMNS", "export_row", "schema_fields"]

#: Columns of every export, in order; CSV replaces ``answers`` by ``answer.<field>`` columns.
COLUMNS: tuple[str, ...] = (
    "client_id",
    "project",
    "task",
    "task_version",
    "address",
    "kind",
    "run",
    "run_fingerprint",
    "reviewer",
    "answers",
    "started_at",
    "submitted_at",
    "stored_at",
    "duration_ms",
    "supersedes",
    "superseded",
    "source",
)


def export_row(judgment: Judgment) -> dict[str, Any]:
    """The row of one judgment: ``kind`` and ``run`` parsed from its address, times ISO 8601,
    and ``source``: for a judgment of a later stage's item (a description being verified),
    the client id of the judgment the item was made from."""
    address = parse_address(judgment.address)
    return {
        "client_id": judgment.client_id,
        "project": judgment.project,
        "task": judgment.task,
        "task_version": judgment.task_version,
        "address": judgment.address,
        "kind": address.kind,
        "run": address.run,
        "run_fingerprint": judgment.run_fingerprint,
        "reviewer": judgment.reviewer,
        "answers": judgment.answers,
        "started_at": judgment.started_at.isoformat(),
        "submitted_at": judgment.submitted_at.isoformat(),
        "stored_at": judgment.stored_at.isoformat(),
        "duration_ms": judgment.duration_ms,
        "supersedes": judgment.supersedes,
        "superseded": judgment.superseded,
        "source": judgment.source,  # a verify judgment: the description it verifies
    }


def schema_fields(schemas: Iterable[Mapping[str, Any]]) -> list[str]:
    """Answer field names over several answer schemas, first seen first.

    Understands ``{"fields": [{"name": ...}, ...]}`` (``review.answers.AnswerSchema``) and
    JSON-Schema-style ``{"properties": {...}}``.
    """
    names: dict[str, None] = {}
    for schema in schemas:
        fields = schema.get("fields", ())
        for field in fields if isinstance(fields, list) else ():
            if isinstance(field, Mapping) and isinstance(field.get("name"), str):
                names.setdefault(field["name"], None)
        properties = schema.get("properties", {})
        for name in properties if isinstance(properties, Mapping) else ():
            names.setdefault(str(name), None)
    return list(names)


def extra_fields(rows: Iterator[Mapping[str, Any]], known: Iterable[str]) -> list[str]:
    """Answer keys found in ``rows`` that are not in ``known``, sorted (streams ``rows``)."""
    known = set(known)
    extra: set[str] = set()
    for answers in rows:
        extra.update(key for key in answers if key not in known)
    return sorted(extra)
