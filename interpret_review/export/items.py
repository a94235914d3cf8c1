"""Rows of the items shape: one per item of each task, with its consensus and provenance."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from interpret_review.addresses import parse_address
from interpret_review.export.rows import RowContext
from interpret_review.judgments import JudgmentStore
from interpret_review.review.project import Project

if TYPE_CHECKING:
    from interpret_review.quality.report import QualityReport

    pass

__all__ = ["item_rows"]


def item_rows(
    store: JudgmentStore,
    project: Project,
    report: QualityReport | None,
    context: RowContext,
    task: str | None = None,
) -> Iterator[dict[str, Any]]:
    """One row per item of each task in the store (or of ``task``), in queue order.

    ``report`` is the project's ``QualityReport``: its consensus gives ``label``,
    ``confidence``, ``agreement`` and the policy; an item nobody answered has no label."""
    known = {tv.task: tv for tv in store.tasks(project.name)}
    names = [task] if task is not None else [n for n in project.tasks if n in known]
    for name in names:
        latest = known[name]
        spec = project.tasks.get(name)
        quality = report.tasks.get(name) if report is not None else None
        consensus = {c.item: c for c in (quality.consensus if quality is not None else [])}
        reviewers: dict[str, set[str]] = {}
        stale: dict[str, str] = {}
        for j in store.iter_judgments(project.name, task=name, include_superseded=False):
            key = j.item or j.address
            reviewers.setdefault(key, set()).add(j.reviewer)
            reason = context.history.stale_reason(parse_address(j.address).run, j.run_fingerprint)
            if reason is not None:
                stale.setdefault(key, reason)
        for item in store.items(project.name, name):
            address = parse_address(item.address)
            model_fp, dataset_fp = context.fingerprints(address.run, item.run_fingerprint)
            label = consensus.get(item.key)
            context.stale += item.key in stale
            yield {
                "project": project.name,
                "task": name,
                "task_version": latest.version,
                "stage": latest.settings.stage,
                "address": item.address,
                "item": item.key,
                "kind": address.kind,
                "run": address.run,
                "run_fingerprint": item.run_fingerprint,
                "model_fingerprint": model_fp,
                "dataset_fingerprint": dataset_fp,
                "field": quality.consensus_field or "" if quality is not None else "",
                "label": None if label is None else _text(label.value),
                "description": None if label is None else label.description,
                "confidence": None if label is None else float(label.confidence),
                "agreement": None if label is None else float(label.agreement),
                "n_reviewers": len(reviewers.get(item.key, ())),
                "n_counted": 0 if label is None else int(label.answers),
                "policy": "" if label is None else label.policy,
                "reliability_model": project.quality.model if spec is not None else "",
                "gold": item.gold is not None,
                "stale": item.key in stale,
                "stale_reason": stale.get(item.key, ""),
            }


def _text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)
