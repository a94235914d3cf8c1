"""HDF5 run files: the schema, the sharded writer and the lazy reader.

This package is the only user of h5py. A run named NAME is ``DIR/NAME.h5`` (an index of
virtual datasets, written last) plus ``DIR/NAME.shards/`` (the data, written as atomic
shards). See :mod:`interpret_review.store.schema` for the datasets.

>>> from interpret_review.store import open_run          # doctest: +SKIP
>>> with open_run("runs/digits.h5") as run:              # doctest: +SKIP
...     run.example(17).display, run.attribution("Saliency", 17).values
"""

from __future__ import annotations

from interpret_review.store.reader import Run, open_run
from interpret_review.store.records import AttributionMap, Example, NeuronEvidence
from interpret_review.store.schema import FORMAT_NAME, SCHEMA_VERSION, run_fingerprint
from interpret_review.store.writer import RunWriter

__all__ = [
    "FORMAT_NAME",
    "SCHEMA_VERSION",
    "AttributionMap",
    "Example",
    "NeuronEvidence",
    "Run",
    "RunWriter",
    "open_run",
    "run_fingerprint",
]
