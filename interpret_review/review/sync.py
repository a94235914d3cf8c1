"""Bring a judgment store in line with a project file.

``sync_project`` creates the tables (migrations), the project, each task (a new task version
when its instructions or answer schema changed), the task's items from its run, and the
accounts listed in the file (existing accounts are left as they are). It is what ``serve``
and ``demo`` run at start, and safe to run again.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field

from interpret_review.errors import JudgmentError, ProjectError
from interpret_review.judgments import JudgmentStore, TaskVersion
from interpret_review.review.items import task_addresses
from interpret_review.review.project import Project
from interpret_review.review.provenance import record_runs
from interpret_review.review.runs import RunSet
from interpret_review.tasks import Task

__all__ = ["SyncReport", "sync_project", "sync_task"]


@dataclass
class SyncReport:
    """What :func:`sync_project` found and changed."""

    tasks: dict[str, int] = field(default_factory=dict)  # task -> its latest version
    items: dict[str, int] = field(default_factory=dict)  # task -> items in the task
    items_added: dict[str, int] = field(default_factory=dict)  # task -> items added now
    accounts_created: list[str] = field(default_factory=list)
    runs_regenerated: dict[str, int] = field(default_factory=dict)  # run -> items moved to it

    def describe(self) -> str:
        lines = [
            f"  run {name!r} was regenerated: its {n} items now show the new file; labels "
            "made before are stale if its model or data changed (interpret-review quality "
            "lists them, exports mark them)"
            for name, n in self.runs_regenerated.items()
        ]
        lines += [
            f"  task {name!r} v{version}: {self.items[name]} items"
            + (f" ({self.items_added[name]} new)" if self.items_added.get(name) else "")
            for name, version in self.tasks.items()
        ]
        if self.accounts_created:
            lines.append("  accounts created: " + ", ".join(self.accounts_created))
        return "\n".join(lines)


def sync_project(
    project: Project,
    store: JudgmentStore,
    runs: RunSet | None = None,
    *,
    passwordless: bool = False,
) -> SyncReport:
    """Create or update ``project``'s tasks, items and accounts in ``store``.

    ``passwordless`` (the app logs in through OAuth) creates accounts listed without a
    password with a random one nobody knows; otherwise such an account is an error."""
    report = SyncReport()
    store.migrate()
    store.ensure_project(project.name, project.title)
    _accounts(project, store, report, passwordless)
    own_runs = runs is None
    runs = RunSet(project) if runs is None else runs
    try:
        report.runs_regenerated = record_runs(project, store, runs).moved
        for task in project.tasks.values():
            sync_task(project, task, store, runs, report)
    finally:
        if own_runs:
            runs.close()
    return report


def sync_task(
    project: Project,
    task: Task,
    store: JudgmentStore,
    runs: RunSet,
    report: SyncReport | None = None,
) -> SyncReport:
    """Create or update one task of ``project`` (its version, settings and items)."""
    report = SyncReport() if report is None else report
    run = runs[task.run]
    addresses = task_addresses(task, run)
    if not addresses and task.stage == "review":
        raise ProjectError(f"{project.path}: task {task.name!r} selects no items")
    version = _known_version(project, task, store)
    if version is None:  # new, or changed in the project since the last sync
        try:
            version = store.ensure_task(
                project.name,
                task.name,
                kind=task.kind,
                title=task.title,
                instructions=task.instructions,
                answer_schema=task.schema.to_dict(),
                settings=task.settings,
            )
        except JudgmentError as error:
            raise ProjectError(f"{project.path}: task {task.name!r}: {error}") from None
    added = store.add_items(
        project.name,
        task.name,
        [(a, run.run_fingerprint) for a in addresses],
        gold={a: dict(answers) for a, answers in task.gold.items()},
    )
    if task.stage != "review":
        added = store.catch_up(project.name, task.name)
    report.tasks[task.name] = version.version
    report.items[task.name] = len(store.items(project.name, task.name, active_only=True))
    report.items_added[task.name] = added
    return report


def _known_version(project: Project, task: Task, store: JudgmentStore) -> TaskVersion | None:
    """The task's latest version when the store already has this very definition of it:
    then what was changed on the admin page since (instructions, answer schema, reviewers)
    stands until the project file's definition of the task changes."""
    try:
        latest = store.task_version(project.name, task.name)
    except JudgmentError:
        return None
    return latest if latest.settings.fingerprint == task.fingerprint else None


def _accounts(
    project: Project, store: JudgmentStore, report: SyncReport, passwordless: bool
) -> None:
    for account in project.reviewers:
        if store.get_reviewer(account.username) is not None:
            continue
        password = account.password or (secrets.token_urlsafe(32) if passwordless else None)
        if not password:
            raise ProjectError(
                f"{project.path}: account {account.username!r} does not exist yet and has no "
                "password; give it 'password' or 'password_env'"
            )
        store.add_reviewer(
            account.username,
            password,
            role=account.role,
            display_name=account.display_name,
        )
        report.accounts_created.append(account.username)
