"""File formats of label exports: a registry of exporters with one verb, ``export``.

An exporter writes rows (from :func:`interpret_review.export.rows.export_row`) to a path
and returns how many it wrote. Add a format by adding an object with ``name``, ``suffix``
and ``export`` to :data:`EXPORTERS` (a Parquet one needs only pyarrow's streaming writer).

CSV cells that a spreadsheet would run as a formula (text starting with ``= + - @``, tab
or carriage return) get a leading apostrophe; so do cells that already start with one, so
:func:`restore_cell` (drop one leading apostrophe) gives back the exact text.
"""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol

from interpret_review.export.rows import COLUMNS

__all__ = ["EXPORTERS", "CsvExporter", "Exporter", "JsonlExporter", "neutralise", "restore_cell"]

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "'")


class Exporter(Protocol):
    name: str
    suffix: str
    needs_answer_fields: bool  # True: export() gets the answer field names (a first pass)

    def export(
        self, rows: Iterable[Mapping[str, Any]], path: Path, answer_fields: Sequence[str]
    ) -> int: ...


def neutralise(text: str) -> str:
    """``text`` made safe for a spreadsheet cell (see the module docstring)."""
    return "'" + text if text.startswith(_FORMULA_START) else text


def restore_cell(text: str) -> str:
    """The exact text of a CSV cell written by :class:`CsvExporter`."""
    return text[1:] if text.startswith("'") else text


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return json.dumps(value)
    if isinstance(value, str):
        return neutralise(value)
    return neutralise(json.dumps(value, ensure_ascii=False, sort_keys=True))


class JsonlExporter:
    """One JSON object per line; ``answers`` nested; UTF-8, nothing escaped that need not be."""

    name = "jsonl"
    suffix = ".jsonl"
    needs_answer_fields = False

    def export(
        self, rows: Iterable[Mapping[str, Any]], path: Path, answer_fields: Sequence[str]
    ) -> int:
        count = 0
        with open(path, "w", encoding="utf-8", newline="\n") as out:
            for row in rows:
                out.write(json.dumps(row, ensure_ascii=False) + "\n")
                count += 1
            _sync(out)
        return count


class CsvExporter:
    """One column per answer field (``answer.<field>``); lists and dicts JSON-encoded."""

    name = "csv"
    suffix = ".csv"
    needs_answer_fields = True

    def export(
        self, rows: Iterable[Mapping[str, Any]], path: Path, answer_fields: Sequence[str]
    ) -> int:
        at = COLUMNS.index("answers")
        header = [*COLUMNS[:at], *(f"answer.{f}" for f in answer_fields), *COLUMNS[at + 1 :]]
        count = 0
        with open(path, "w", encoding="utf-8", newline="") as out:
            writer = csv.writer(out)
            writer.writerow(header)
            for row in rows:
                answers = row["answers"]
                cells = [_cell(row[c]) for c in COLUMNS[:at]]
                cells += [_cell(answers.get(f)) for f in answer_fields]
                cells += [_cell(row[c]) for c in COLUMNS[at + 1 :]]
                writer.writerow(cells)
                count += 1
            _sync(out)
        return count


def _sync(out: Any) -> None:
    out.flush()
    os.fsync(out.fileno())


#: Exporters by format name.
EXPORTERS: dict[str, Exporter] = {"jsonl": JsonlExporter(), "csv": CsvExporter()}
