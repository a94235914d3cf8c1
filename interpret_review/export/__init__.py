"""Exports: label files (JSONL, CSV, Parquet) in two shapes, streamed from the judgment store,
each with a dataset card beside it.

>>> from interpret_review.export import EXPORTERS, SHAPES
>>> sorted(EXPORTERS), sorted(SHAPES)
(['csv', 'jsonl', 'parquet'], ['items', 'judgments'])
"""

from __future__ import annotations

from interpret_review.export.formats import EXPORTERS, Exporter, neutralise, restore_cell
from interpret_review.export.labels import ExportResult, card_path, export_judgments
from interpret_review.export.rows import COLUMNS, ITEM_COLUMNS, SHAPES, Column

__all__ = [
    "COLUMNS",
    "Column",
    "EXPORTERS",
    "ExportResult",
    "Exporter",
    "ITEM_COLUMNS",
    "SHAPES",
    "card_path",
    "export_judgments",
    "neutralise",
    "restore_cell",
]
