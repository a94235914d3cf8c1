"""``export_judgments``: stream a project's judgments into a label file."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from interpret_review.errors import ExportError, UnknownNameError
from interpret_review.export.formats import EXPORTERS
from interpret_review.export.rows import export_row, extra_fields, schema_fields
from interpret_review.judgments import Judgment, JudgmentStore

__all__ = ["export_judgments"]


def export_judgments(
    store: JudgmentStore,
    project: str,
    *,
    format: str,
    out: str | Path,
    task: str | None = None,
    include_superseded: bool = False,
) -> int:
    """Write the judgments of ``project`` (or of one ``task``) to ``out``; returns the rows.

    One row per judgment, ordered by id, superseded (edited) rows left out unless
    ``include_superseded``. Rows are streamed from the store in pages (constant memory)
    into ``out.partial``, which is fsynced and renamed to ``out`` only when complete.
    CSV columns for answers are the fields of every version of the exported tasks' answer
    schemas in order, then any other answer keys found in the data, sorted.
    """
    if format not in EXPORTERS:
        raise UnknownNameError("export format", format, EXPORTERS)
    exporter = EXPORTERS[format]
    out = Path(out)
    if not out.parent.is_dir():
        raise ExportError(f"cannot write {out}: the folder {out.parent} does not exist; create it")
    if out.is_dir():
        raise ExportError(f"cannot write {out}: it is a folder; give a file name")

    def judgments() -> Iterator[Judgment]:
        return store.iter_judgments(project, task=task, include_superseded=include_superseded)

    fields: list[str] = []
    if exporter.needs_answer_fields:
        fields = schema_fields(_schemas(store, project, task))
        fields += extra_fields((j.answers for j in judgments()), fields)
    partial = out.with_name(out.name + ".partial")
    try:
        count = exporter.export((export_row(j) for j in judgments()), partial, fields)
        os.replace(partial, out)
    except OSError as error:
        partial.unlink(missing_ok=True)
        raise ExportError(f"cannot write {out}: {error}; check the path and free space") from None
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return count


def _schemas(store: JudgmentStore, project: str, task: str | None) -> list[dict[str, Any]]:
    latest = [store.task_version(project, task)] if task else store.tasks(project)
    return [
        store.task_version(project, tv.task, version).answer_schema
        for tv in latest
        for version in range(1, tv.version + 1)
    ]
