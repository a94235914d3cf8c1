"""Project files: which runs, which tasks, which reviewers (TOML).

A project file names its runs (paths relative to the file), its tasks and, for small teams
and demos, its reviewer accounts::

    [project]
    name = "digits-demo"
    title = "What do the digit CNN's units detect?"
    # database = "postgresql+psycopg://user@host/db"   (default: SQLite beside this file)

    [[runs]]
    name = "digits"
    path = "runs/digits.h5"

    [[tasks]]
    name = "describe-neurons"
    kind = "neuron"
    run = "digits"
    layers = ["conv1", "conv2"]          # every unit of these layers
    categories = ["stroke", "curve", "blob", "background", "other"]
    instructions = "Markdown shown above the queue"

    [[tasks]]
    name = "rate-attributions"
    kind = "attribution"
    run = "digits"
    examples = 40                        # the first 40 rows; or a list of rows
    methods = ["IntegratedGradients", "Saliency"]   # maps to show (default: all)

    [[reviewers]]
    username = "alice"
    password_env = "ALICE_PASSWORD"      # or password = "..." for demos
    role = "reviewer"

Who answers, how often and in which order are task keys too::

    overlap = 3                 # distinct reviewers per item (default 1)
    lease_minutes = 30          # an item held longer than this returns to the pool
    shuffle = true              # each reviewer's queue in its own order (default)
    role = "reviewer"           # the least role that may work on it
    reviewers = ["alice", "bob"]   # only these accounts (default: everyone with the role)
    instructions_file = "describe.md"   # Markdown beside the project file, instead of text

    [[tasks.gold]]              # gold items: expected answers, mixed in unmarked
    address = "neuron:digits/conv1/3"
    answers = { category = "curve" }

    [[tasks.worked_examples]]   # shown under the instructions
    address = "neuron:digits/conv1/0"
    answers = { label = "vertical stroke on the left", category = "stroke" }
    why = "All nine top examples have ink in the left column."

    [[tasks.fields]]            # an answer schema of one's own instead of the kind's default
    name = "label"
    type = "choice"             # text, choice, multi_choice, scale, boolean, marks
    choices = ["yes", "no"]
    keys = ["y", "n"]           # one keyboard shortcut per choice
    required = true

Quality: how a task's items get their consensus label, and when disagreement calls for
more reviewers (adaptive overlap)::

    consensus = "reliability"   # majority | reliability | adjudicated (default reliability)
    consensus_field = "category"   # the answer field it applies to (default: the first
                                   # required choice, scale or boolean field)
    max_overlap = 5             # up to this many reviewers per item ...
    min_agreement = 0.75        # ... while fewer than this share give the same answer

Trust tiers are rules over each reviewer's figures (see ``review/rules.py``), tried in order;
the first that holds sets the tier::

    [quality]
    min_items = 10              # a figure computed on fewer items says so instead
    fast_seconds = 2.0          # an answer faster than this cannot have been read
    model = "one-coin"          # reliability model: one-coin, dawid-skene or mace

    [[quality.tiers]]
    name = "paused"
    when = "near_chance or below_chance or (gold_items >= 5 and gold_accuracy < 0.5)"
    pause = true                # no new items; answers leave the consensus

    [[quality.tiers]]
    name = "trusted"
    when = "gold_items >= 5 and gold_accuracy >= 0.9 and items >= 30"
    role = "adjudicator"        # promoted

A pipeline of stages: a ``verify`` task (``source`` = a neuron task) asks other reviewers to
predict, from one description, how strongly the unit fires on held-out examples; an
``adjudicate`` task (``source`` = the verify task, or a review task) asks adjudicators for
the final label::

    [[tasks]]
    name = "verify-descriptions"
    kind = "neuron"
    stage = "verify"
    source = "describe-neurons"
    held_out = { high = 4, medium = 4, low = 4 }

Every error names the file, the key and what is expected.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from interpret_review._compat import tomllib
from interpret_review.addresses import check_name
from interpret_review.errors import ProjectError, UnknownNameError
from interpret_review.judgments import JudgmentStore
from interpret_review.review.rules import QualitySpec, parse_quality
from interpret_review.tasks.answers import AnswerSchema
from interpret_review.tasks.model import ROLES, Task
from interpret_review.tasks.parse import TaskReader

log = logging.getLogger("interpret_review.review")

__all__ = [
    "Project",
    "ReviewerSpec",
    "RunRef",
    "current_project",
    "load_project",
    "parse_fields",
    "parse_task",
    "parse_task_toml",
    "with_tasks",
]


@dataclass(frozen=True)
class RunRef:
    name: str
    path: Path


@dataclass(frozen=True)
class ReviewerSpec:
    username: str
    password: str | None
    role: str
    display_name: str | None = None


@dataclass(frozen=True)
class Project:
    path: Path
    name: str
    title: str
    database: str
    runs: Mapping[str, RunRef]
    tasks: Mapping[str, Task]
    reviewers: tuple[ReviewerSpec, ...]
    quality: QualitySpec = field(default_factory=QualitySpec)

    def task(self, name: str) -> Task:
        if name not in self.tasks:
            raise UnknownNameError("task", name, self.tasks)
        return self.tasks[name]

    def run_path(self, name: str) -> Path:
        if name not in self.runs:
            raise UnknownNameError("run", name, self.runs)
        return self.runs[name].path

    @property
    def database_url(self) -> str:
        if self.database:
            return self.database
        return "sqlite:///" + str(self.path.with_suffix(".judgments.sqlite"))


def load_project(path: str | Path) -> Project:
    path = Path(path)
    if not path.exists():
        raise ProjectError(f"{path}: no such project file")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ProjectError(f"{path}: not valid TOML ({exc})") from None
    except UnicodeDecodeError:
        raise ProjectError(f"{path}: not a UTF-8 text file; a project file is TOML") from None
    return _Parser(path).project(data)


class _Parser(TaskReader):
    """A project file: its runs, tasks, reviewers and quality rules."""

    def project(self, data: Mapping[str, Any]) -> Project:
        self.check_keys(data, "top level", ("project", "runs", "tasks", "reviewers", "quality"))
        meta = self.get(data, "project", "top level", dict)
        self.check_keys(meta, "project", ("name", "title", "database"))
        name = self.get(meta, "name", "project", str)
        self.wrap("project.name", check_name, "project name", name)
        runs = {}
        for i, raw in enumerate(self.get(data, "runs", "top level", list)):
            where = f"runs[{i}]"
            self.require_table(raw, where)
            self.check_keys(raw, where, ("name", "path"))
            run_path = Path(self.get(raw, "path", where, str))
            if not run_path.is_absolute():
                run_path = self.path.parent / run_path
            run_name = self.get(raw, "name", where, str, run_path.stem)
            self.wrap(f"{where}.name", check_name, "run name", run_name)
            if run_name in runs:
                raise self.fail(where, f"run name {run_name!r} is used twice")
            runs[run_name] = RunRef(run_name, run_path)
        tasks: dict[str, Task] = {}
        for i, raw in enumerate(self.get(data, "tasks", "top level", list)):
            task = self.task(raw, f"tasks[{i}]", runs, tasks)
            if task.name in tasks:
                raise self.fail(f"tasks[{i}]", f"task name {task.name!r} is used twice")
            tasks[task.name] = task
        if not tasks:
            raise self.fail("tasks", "a project needs at least one task")
        reviewers = tuple(
            self.reviewer(raw, f"reviewers[{i}]")
            for i, raw in enumerate(self.get(data, "reviewers", "top level", list, []))
        )
        return Project(
            path=self.path.resolve(),
            name=name,
            title=self.get(meta, "title", "project", str, name),
            database=self.get(meta, "database", "project", str, ""),
            runs=runs,
            tasks=tasks,
            reviewers=reviewers,
            quality=parse_quality(self, self.get(data, "quality", "top level", dict, {})),
        )

    def reviewer(self, raw: Any, where: str) -> ReviewerSpec:
        self.require_table(raw, where)
        self.check_keys(
            raw, where, ("username", "password", "password_env", "role", "display_name")
        )
        username = self.get(raw, "username", where, str)
        role = self.get(raw, "role", where, str, "reviewer")
        if role not in ROLES:
            raise self.fail(f"{where}.role", str(UnknownNameError("role", role, ROLES)))
        password = self.get(raw, "password", where, str, None)
        env = self.get(raw, "password_env", where, str, None)
        if env is not None:
            password = os.environ.get(env)
            if password is None:
                raise self.fail(f"{where}.password_env", f"environment variable {env} is not set")
        return ReviewerSpec(
            username, password, role, self.get(raw, "display_name", where, str, None)
        )


def current_project(project: Project, store: JudgmentStore) -> Project:
    """``project`` with the tasks made on the admin page since (kept in ``store``, shared
    by every server process and notebook): what every reader of the project works on."""
    made = {
        v.task: v.settings.definition
        for v in store.tasks(project.name)
        if v.settings.origin == "admin" and v.settings.definition
    }
    return with_tasks(project, made) if made else project


#: Tasks parsed from admin-made tables, by (project file, task name, table as JSON): a page
#: load reads the tables from the store but parses each one once per process.
_PARSED: dict[tuple[str, str, str], tuple[Project, Task]] = {}
_PARSED_MAX = 256


def with_tasks(project: Project, tables: Mapping[str, Mapping[str, Any]]) -> Project:
    """``project`` with more tasks, given as tables (tasks made on the admin page, kept in
    the judgment store); a table that no longer parses (its run left the project file,
    say) is left out, with a warning in the log, instead of breaking every page."""
    tasks = dict(project.tasks)
    for name, table in tables.items():
        if name in tasks:
            continue
        key = (str(project.path), name, json.dumps(table, sort_keys=True, default=str))
        cached = _PARSED.get(key)
        if cached is not None and cached[0] is project:
            tasks[name] = cached[1]
            continue
        try:
            task = parse_task(replace(project, tasks=tasks), table)
        except ProjectError as error:
            log.warning("task %r made on the admin page is left out: %s", name, error)
            continue
        if len(_PARSED) >= _PARSED_MAX:
            _PARSED.clear()
        _PARSED[key] = (project, task)
        tasks[name] = task
    return replace(project, tasks=tasks)


def parse_task(project: Project, table: Mapping[str, Any], origin: str = "admin") -> Task:
    """A task given as a table (the admin page's form), checked like a task of the project
    file, with errors that name the key."""
    task = TaskReader(project.path).task(dict(table), "task", project.runs, project.tasks)
    return replace(task, origin=origin)


def parse_fields(project: Project, text: str) -> AnswerSchema:
    """An answer schema written as ``[[fields]]`` tables in TOML (the admin page's editor),
    checked like a task's ``fields`` in the project file."""
    reader = TaskReader(project.path)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ProjectError(f"the answer schema is not valid TOML ({exc})") from None
    reader.check_keys(data, "top level", ("fields",))
    return reader.fields(reader.get(data, "fields", "top level", list), "fields")


def parse_task_toml(project: Project, text: str) -> Task:
    """A new task written as the keys of one ``[[tasks]]`` table in TOML (the admin page)."""
    try:
        table = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ProjectError(f"the task is not valid TOML ({exc})") from None
    if table.get("name") in project.tasks:
        raise ProjectError(f"[task.name] a task named {table['name']!r} exists already")
    return parse_task(project, table)
