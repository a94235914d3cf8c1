"""The dataset card written beside every export (Markdown, in the HuggingFace card's spirit).

It says what was labelled and why (the project and each task's title and instructions), on
which runs (model and dataset fingerprints), under which instruction versions, by how many
reviewers (pseudonyms), with which agreement and consensus policy, and what is known to be
weak: low-agreement items, stale labels, flagged reviewers. The licence is left for the
researcher to fill in. Text that comes from people (titles, instructions, names) is quoted
so that it cannot break the card's structure.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

from interpret_review.export.formats import collector_paused, write_text
from interpret_review.export.rows import RowContext
from interpret_review.judgments import JudgmentStore
from interpret_review.review.project import Project
from interpret_review.review.provenance import StaleLabels

if TYPE_CHECKING:
    from interpret_review.quality.report import QualityReport

    pass

__all__ = ["LICENCE_PLACEHOLDER", "LOW_AGREEMENT", "write_card"]

#: Items whose answers agree less than this share are listed as low-agreement.
LOW_AGREEMENT = 0.6
#: What the licence section says until the researcher replaces it.
LICENCE_PLACEHOLDER = "TO FILL IN: the licence of these labels (e.g. CC-BY-4.0)"
_LISTED = 10  # low-agreement items and stale items listed by name, per task


def write_card(
    path: Path,
    store: JudgmentStore,
    project: Project | str,
    *,
    report: QualityReport | None,
    context: RowContext,
    files: Mapping[str, str],
) -> Path:
    """Write the card of an export of ``project`` to ``path`` (atomically) and return it.

    ``files`` maps the exported files' names to what each holds; ``report`` is the
    project's ``QualityReport`` (None leaves the agreement figures out)."""
    with collector_paused():
        text = card_text(store, project, report=report, context=context, files=files)
    write_text(path, text)
    return path


def card_text(
    store: JudgmentStore,
    project: Project | str,
    *,
    report: QualityReport | None,
    context: RowContext,
    files: Mapping[str, str],
) -> str:
    from interpret_review._version import __version__

    name = project.name if isinstance(project, Project) else project
    title = project.title if isinstance(project, Project) and project.title else name
    judgments = _Tally(store, name, context)
    lines = [
        f"# Dataset card: {_inline(title)}",
        "",
        f"Human labels from the interpret-review project `{_inline(name)}`, exported "
        f"{datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC by interpret-review {__version__}.",
        "",
        "## Files",
        "",
        "| file | contents |",
        "|---|---|",
        *(f"| `{_cell(f)}` | {_cell(what)} |" for f, what in files.items()),
        "",
        "Every row names its item's address, its run with the run's, model's and dataset's",
        "fingerprints, its task and instruction version, and whether it is stale.",
        "",
        "## What was labelled and why",
        "",
    ]
    lines += _tasks(store, project, name, report, judgments)
    lines += _runs(context)
    lines += _reviewers(store, name, report, context, judgments)
    lines += _limitations(report, context, judgments)
    lines += [
        "## Licence",
        "",
        f"**{LICENCE_PLACEHOLDER}.** The runs' models and data carry their own licences.",
        "",
    ]
    return "\n".join(lines)


class _Tally:
    """What the card counts over the current judgments, in one streamed pass."""

    def __init__(self, store: JudgmentStore, project: str, context: RowContext) -> None:
        self.by_task: Counter[str] = Counter()
        self.by_version: Counter[tuple[str, int]] = Counter()
        self.reviewers: dict[str, set[str]] = {}
        self.stale = StaleLabels(context.history)
        for batch in store.judgment_batches(project, include_superseded=False):
            tasks = batch["task"]
            self.by_task.update(tasks)
            self.by_version.update(zip(tasks, batch["task_version"], strict=True))
            for task, reviewer in set(zip(tasks, batch["reviewer"], strict=True)):
                self.reviewers.setdefault(task, set()).add(reviewer)
            self.stale.add(batch)
        self.everyone = set().union(*self.reviewers.values()) if self.reviewers else set()
        self.total = sum(self.by_task.values())


def _tasks(
    store: JudgmentStore,
    project: Project | str,
    name: str,
    report: QualityReport | None,
    judgments: _Tally,
) -> list[str]:
    by_task, by_version, reviewers = judgments.by_task, judgments.by_version, judgments.reviewers
    lines: list[str] = []
    for latest in store.tasks(name):
        spec = project.tasks.get(latest.task) if isinstance(project, Project) else None
        quality = report.tasks.get(latest.task) if report is not None else None
        versions = ", ".join(
            f"v{v}: {by_version[(latest.task, v)]}" for v in range(1, latest.version + 1)
        )
        lines += [
            f"### Task `{_inline(latest.task)}`: {_inline(latest.title)}",
            "",
            f"- kind `{latest.kind}`, stage `{latest.settings.stage}`"
            + (f" (of task `{latest.settings.source}`)" if latest.settings.source else ""),
            f"- items: {store.count_items(name, latest.task)}; current judgments: "
            f"{by_task[latest.task]}; reviewers: {len(reviewers.get(latest.task, ()))}; "
            f"each item asked of {latest.settings.overlap}",
            f"- judgments by instruction version: {versions}",
        ]
        if spec is not None and spec.consensus_field:
            lines.append(
                f"- consensus on `{spec.consensus_field}`: policy `{spec.consensus}`, "
                f"reliability model `{project.quality.model if isinstance(project, Project) else ''}`"
            )
        for a in quality.agreement if quality is not None else ():
            lines.append(f"- agreement on `{a.field}`: {a.measure} ({a.level}) {a.describe()}")
        if quality is not None and quality.consensus:
            confident = sum(c.confidence >= 0.9 for c in quality.consensus)
            lines.append(
                f"- consensus labels: {len(quality.consensus)}, {confident} with confidence >= 0.9"
            )
        lines += ["", "Instructions (latest version):", ""]
        lines += [
            f"> {line.replace('<', '&lt;')}" if line else ">"
            for line in latest.instructions.strip().splitlines()
        ]
        lines.append("")
    return lines


def _runs(context: RowContext) -> list[str]:
    lines = [
        "## Runs, models and data",
        "",
        "| run | run fingerprint | model fingerprint | dataset fingerprint | examples | now |",
        "|---|---|---|---|---|---|",
    ]
    for r in context.history.records:
        now = context.history.current.get(r.name) is r
        lines.append(
            f"| `{_cell(r.name)}` | `{r.run_fingerprint}` | `{r.model_fingerprint}` | "
            f"`{r.dataset_fingerprint}` | {r.n_examples} | {'yes' if now else 'no (earlier)'} |"
        )
    if not context.history.records:
        lines.append("| (no run recorded) | | | | | |")
    return [*lines, ""]


def _reviewers(
    store: JudgmentStore,
    name: str,
    report: QualityReport | None,
    context: RowContext,
    judgments: _Tally,
) -> list[str]:
    who = judgments.everyone
    tiers = Counter(context.tiers[r].tier for r in who if r in context.tiers)
    lines = [
        "## Reviewers",
        "",
        f"{len(who)} reviewers gave {judgments.total} current judgments. They appear under stable "
        "pseudonyms (`reviewer-N`, in the order of their first judgment)"
        + (" and, in this export, under their user names." if context.names else "."),
    ]
    if tiers:
        lines.append(
            "Trust tiers now: " + ", ".join(f"{t}: {n}" for t, n in sorted(tiers.items())) + "."
        )
    return [*lines, ""]


def _limitations(report: QualityReport | None, context: RowContext, judgments: _Tally) -> list[str]:
    lines = ["## Known limitations", ""]
    for quality in report.tasks.values() if report is not None else ():
        low = [i for i in quality.items if i.share < LOW_AGREEMENT]
        if low:
            listed = ", ".join(f"`{_inline(i.address)}`" for i in low[:_LISTED])
            more = f" and {len(low) - _LISTED} more" if len(low) > _LISTED else ""
            lines.append(
                f"- **Low agreement** in task `{quality.task}`: {len(low)} items where fewer "
                f"than {LOW_AGREEMENT:.0%} of answers agree: {listed}{more}."
            )
    for task, count in judgments.stale.counts.items():
        lines.append(
            f"- **Stale labels** in task `{_inline(task)}`: {count}: "
            f"{judgments.stale.reasons[task]}."
        )
    flagged = (
        {name: r.flags for name, r in report.reviewers.items() if r.flags}
        if report is not None
        else {}
    )
    for username, flags in flagged.items():
        lines.append(
            f"- **Flagged reviewer** {_inline(context.reviewer(username))}: {', '.join(flags)}."
        )
    if report is None:
        lines.append("- Agreement and reviewer figures were not computed for this export.")
    if len(lines) == 2:
        lines.append("- None measured: no low-agreement items, stale labels or flagged reviewers.")
    return [*lines, ""]


def _inline(text: str) -> str:
    """One line of text that cannot open a heading, a table or a code span."""
    return " ".join(str(text).split()).replace("`", "'").replace("|", "/").replace("<", "&lt;")


def _cell(text: str) -> str:
    return _inline(text)
