"""Exports: label files (JSONL, CSV, Parquet) in two shapes, streamed from the judgment store,
and probe bundles (labels per concept, activations, splits) with linear probes trained from
them; each with a dataset card beside it.

>>> from interpret_review.export import EXPORTERS, SHAPES
>>> sorted(EXPORTERS), sorted(SHAPES)
(['csv', 'jsonl', 'parquet'], ['items', 'judgments'])
"""

from __future__ import annotations

from interpret_review.export.bundle import (
    BundleResult,
    ProbeBundle,
    export_probe_bundle,
    load_bundle,
)
from interpret_review.export.formats import EXPORTERS, Exporter, neutralise, restore_cell
from interpret_review.export.frames import judgments_frame
from interpret_review.export.labels import ExportResult, card_path, export_judgments
from interpret_review.export.probe import ProbeReport, ProbeResult, train_probes
from interpret_review.export.rows import COLUMNS, ITEM_COLUMNS, SHAPES, Column

__all__ = [
    "BundleResult",
    "COLUMNS",
    "Column",
    "EXPORTERS",
    "ExportResult",
    "Exporter",
    "ITEM_COLUMNS",
    "ProbeBundle",
    "ProbeReport",
    "ProbeResult",
    "SHAPES",
    "card_path",
    "export_judgments",
    "export_probe_bundle",
    "judgments_frame",
    "load_bundle",
    "neutralise",
    "restore_cell",
    "train_probes",
]
