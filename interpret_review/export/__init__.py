"""Exports: label files (JSONL, CSV) streamed from the judgment store.

>>> from interpret_review.export import EXPORTERS
>>> sorted(EXPORTERS)
['csv', 'jsonl']
"""

from __future__ import annotations

from interpret_review.export.formats import EXPORTERS, Exporter, neutralise, restore_cell
from interpret_review.export.labels import export_judgments
from interpret_review.export.rows import COLUMNS

__all__ = ["COLUMNS", "EXPORTERS", "Exporter", "export_judgments", "neutralise", "restore_cell"]
