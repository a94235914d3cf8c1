"""Judgments as a pandas DataFrame: the judgments shape of the exports, in memory.

>>> import interpret_review as ir                                  # doctest: +SKIP
>>> frame = ir.judgments_frame(store, project)                    # doctest: +SKIP
>>> frame.groupby("reviewer")["duration_ms"].median()             # doctest: +SKIP
"""

from __future__ import annotations

from typing import Any

from interpret_review.export.formats import arrow_schema, arrow_tables, require_pyarrow
from interpret_review.export.labels import answer_schemas, judgment_batches
from interpret_review.export.rows import SHAPES, RowContext, answer_columns
from interpret_review.judgments import JudgmentStore
from interpret_review.review.project import Project
from interpret_review.review.provenance import RunHistory, record_runs

__all__ = ["judgments_frame"]


def judgments_frame(
    store: JudgmentStore,
    project: Project | str,
    *,
    task: str | None = None,
    include_superseded: bool = False,
    names: bool = False,
) -> Any:
    """Every current judgment of ``project`` (or one ``task``) as a ``pandas.DataFrame``
    with the columns of the judgments export (``answer.<field>`` per answer field, times as
    UTC timestamps, ``stale`` marked); reviewers as pseudonyms unless ``names``."""
    pa, _ = require_pyarrow("judgments_frame")

    name = project.name if isinstance(project, Project) else project
    history = (
        record_runs(project, store)
        if isinstance(project, Project)
        else RunHistory(store.runs(name))
    )
    context = RowContext(
        history, pseudonyms=store.pseudonyms(name), tiers=store.tiers(name), names=names
    )
    columns = list(SHAPES["judgments"])
    answers = answer_columns(answer_schemas(store, name, task))
    batches = judgment_batches(store, name, context, task, include_superseded)
    tables = list(arrow_tables(batches, columns, answers))
    table = pa.concat_tables(tables) if tables else arrow_schema(columns, answers).empty_table()
    return table.to_pandas()
