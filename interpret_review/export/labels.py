"""``export_judgments``: stream a project's labels into a file, with a dataset card beside it."""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from tqdm.auto import tqdm

from interpret_review.errors import ExportError, UnknownNameError, missing_dependency
from interpret_review.export.formats import (
    EXPORTERS,
    ROW_GROUP,
    Exporter,
    collector_paused,
    require_pyarrow,
)
from interpret_review.export.rows import (
    SHAPES,
    Column,
    RowContext,
    answer_columns,
    batched,
    judgment_batch,
)
from interpret_review.judgments import JudgmentStore
from interpret_review.review.project import Project
from interpret_review.review.provenance import RunHistory, record_runs
from interpret_review.store.files import atomic_path

if TYPE_CHECKING:
    from interpret_review.quality.report import QualityReport

    pass

__all__ = [
    "ExportResult",
    "answer_schemas",
    "card_path",
    "export_judgments",
    "judgment_batches",
    "prefetched",
    "quality_report",
]

_T = TypeVar("_T")


@dataclass(frozen=True)
class ExportResult:
    """What an export wrote: ``rows`` rows of ``shape`` to ``path``, ``stale`` of them
    marked stale, and the dataset card (None when not asked for)."""

    path: Path
    format: str
    shape: str
    rows: int
    stale: int
    card: Path | None


def card_path(out: str | Path) -> Path:
    """Where the dataset card of an export to ``out`` goes: beside it, its suffix replaced
    by ``.card.md`` (``labels.parquet`` -> ``labels.card.md``)."""
    return Path(out).with_suffix(".card.md")


def export_judgments(
    store: JudgmentStore,
    project: Project | str,
    *,
    format: str,
    out: str | Path,
    shape: str = "judgments",
    task: str | None = None,
    include_superseded: bool = False,
    names: bool = False,
    card: bool = True,
    report: QualityReport | None = None,
    batch_size: int = ROW_GROUP,
    progress: bool = False,
) -> ExportResult:
    """Write the labels of ``project`` (or of one ``task``) to ``out`` in ``format``.

    ``shape`` ``judgments``: one row per judgment, ordered by id, superseded (edited) rows
    left out unless ``include_superseded``, streamed from the store in pages (memory stays
    flat) into ``out.partial``, which is fsynced and renamed to ``out`` only when complete
    (``store.files.atomic_path``).
    ``shape`` ``items``: one row per item with its consensus (needs a :class:`Project` and
    ``interpret-review[quality]``). Reviewers appear as stable pseudonyms unless ``names``.
    Rows on a run regenerated since with another model or dataset are marked ``stale``.

    ``card`` writes a dataset card beside the file (:func:`card_path`), from ``report`` (a
    ``QualityReport``; computed when not given and ``project`` is a :class:`Project`).
    ``batch_size`` rows are held in memory at a time (and make one Parquet row group).
    ``progress`` shows a progress bar of the rows on stderr.
    """
    if format not in EXPORTERS:
        raise UnknownNameError("export format", format, EXPORTERS)
    if shape not in SHAPES:
        raise UnknownNameError("export shape", shape, SHAPES)
    exporter = EXPORTERS[format]
    if format == "parquet":  # what is missing is said before anything is read or written
        require_pyarrow()
    if shape == "items":
        require_quality("an export of items (their consensus labels)")
    elif card:
        require_quality("the dataset card", "(or export without it: card=False, --no-card)")
    out = _checked_out(out)
    name = project.name if isinstance(project, Project) else project
    if task is not None:
        store.task_version(name, task)  # UnknownNameError with the tasks there are
    history = (
        record_runs(project, store)
        if isinstance(project, Project)
        else RunHistory(store.runs(name))
    )
    context = RowContext(
        history, pseudonyms=store.pseudonyms(name), tiers=store.tiers(name), names=names
    )
    answers: list[Column] = []
    if shape == "items":
        if not isinstance(project, Project):
            raise ExportError("an export of items needs the project (load_project), not its name")
        if report is None:
            report = quality_report(store, project, "an export of items")
        from interpret_review.export.items import item_rows

        columns = list(SHAPES["items"])
        rows = item_rows(store, project, report, context, task)
        batches: Iterator[Mapping[str, list[Any]]] = batched(rows, columns, batch_size)
    else:
        columns = list(SHAPES["judgments"])
        if format != "jsonl":
            answers = answer_columns(answer_schemas(store, name, task))
        batches = prefetched(
            judgment_batches(store, name, context, task, include_superseded, batch_size)
        )
        if progress:
            total = store.count_judgments(name, task=task, include_superseded=include_superseded)
            batches = _counted(batches, total, f"export {format}")
    count = _write(exporter, batches, out, columns, answers)
    card_file = None
    if card:
        from interpret_review.export.card import write_card

        if report is None and isinstance(project, Project):
            report = quality_report(store, project, "the dataset card")
        card_file = write_card(
            card_path(out),
            store,
            project,
            report=report,
            context=context,
            files={
                out.name: f"{count} rows, one per {shape[:-1]} ({format})"
                + (f", task {task!r} only" if task else "")
                + (", edited answers included" if include_superseded else "")
            },
        )
    return ExportResult(out, format, shape, count, context.stale, card_file)


def judgment_batches(
    store: JudgmentStore,
    project: str,
    context: RowContext,
    task: str | None = None,
    include_superseded: bool = False,
    batch_size: int = ROW_GROUP,
) -> Iterator[Mapping[str, list[Any]]]:
    """Batches of the judgments shape (see ``rows.py``), streamed from the store."""
    for batch in store.judgment_batches(
        project, task=task, include_superseded=include_superseded, batch_size=batch_size
    ):
        yield judgment_batch(batch, project, context)


def _counted(
    batches: Iterator[Mapping[str, list[Any]]], total: int, what: str
) -> Iterator[Mapping[str, list[Any]]]:
    """``batches``, with a progress bar of their rows on stderr."""
    with tqdm(total=total, desc=what, unit="row", unit_scale=True) as bar:
        for batch in batches:
            yield batch
            bar.update(len(next(iter(batch.values()))))


def _checked_out(out: str | Path) -> Path:
    out = Path(out)
    if not out.parent.is_dir():
        raise ExportError(f"cannot write {out}: the folder {out.parent} does not exist; create it")
    if out.is_dir():
        raise ExportError(f"cannot write {out}: it is a folder; give a file name")
    return out


def prefetched(source: Iterator[_T], depth: int = 2) -> Iterator[_T]:
    """``source``'s items, read ahead in a thread: reading the store (SQLite lets go of the
    GIL while it steps) overlaps with converting and compressing the previous batch (pyarrow
    lets go of it too). Measured: about a third off a million-judgment Parquet export."""
    ahead: queue.Queue[tuple[str, Any]] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(item: tuple[str, Any]) -> bool:
        while not stop.is_set():
            try:
                ahead.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in source:
                if not put(("item", item)):
                    return
            put(("end", None))
        except BaseException as error:  # handed to the reader, which raises it
            put(("error", error))
        finally:  # a reader that stopped early: end the source's read transaction now
            close = getattr(source, "close", None)
            if callable(close):
                close()

    thread = threading.Thread(target=produce, name="export-reader", daemon=True)
    thread.start()
    try:
        while True:
            kind, value = ahead.get()
            if kind == "end":
                return
            if kind == "error":
                raise value
            yield value
    finally:
        stop.set()
        thread.join(timeout=10)


def _write(
    exporter: Exporter,
    batches: Iterator[Mapping[str, list[Any]]],
    out: Path,
    columns: list[Column],
    answers: list[Column],
) -> int:
    try:
        with atomic_path(out) as partial, collector_paused():
            return exporter.export(batches, partial, columns, answers)
    except OSError as error:
        raise ExportError(f"cannot write {out}: {error}; check the path and free space") from None


def require_quality(feature: str, hint: str = "") -> None:
    """Raise a MissingDependencyError now (before anything is read or written) when the
    quality room, which card figures and consensus labels come from, cannot load."""
    try:
        import interpret_review.quality  # noqa: F401
    except ModuleNotFoundError as error:
        raise missing_dependency(error, feature, "quality", hint) from None


def quality_report(store: JudgmentStore, project: Project, feature: str) -> Any:
    """The project's ``QualityReport`` for consensus and the card (200 bootstrap draws);
    ``feature`` names what needs it in a missing-dependency error."""
    require_quality(feature)
    from interpret_review.quality import compute_report

    return compute_report(store, project, n_boot=200)


def answer_schemas(store: JudgmentStore, project: str, task: str | None) -> list[dict[str, Any]]:
    """Every version's answer schema of the project's tasks (or of one task), in order."""
    latest = [store.task_version(project, task)] if task else store.tasks(project)
    return [
        store.task_version(project, tv.task, version).answer_schema
        for tv in latest
        for version in range(1, tv.version + 1)
    ]
