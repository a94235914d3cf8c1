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

Every error names the file, the key and what is expected.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import tomllib

from interpret_review.addresses import ITEM_KINDS, check_name
from interpret_review.errors import ConfigError, ProjectError, UnknownNameError
from interpret_review.judgments.records import ROLES
from interpret_review.review.answers import AnswerSchema, default_schema

__all__ = ["Project", "ReviewerSpec", "RunRef", "TaskSpec", "load_project"]


@dataclass(frozen=True)
class RunRef:
    name: str
    path: Path


@dataclass(frozen=True)
class TaskSpec:
    name: str
    kind: str
    run: str
    title: str
    instructions: str
    schema: AnswerSchema
    layers: tuple[str, ...] = ()
    units: Mapping[str, tuple[int, ...]] = field(default_factory=dict)
    examples: int | tuple[int, ...] | None = None
    methods: tuple[str, ...] = ()


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
    tasks: Mapping[str, TaskSpec]
    reviewers: tuple[ReviewerSpec, ...]

    def task(self, name: str) -> TaskSpec:
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


class _Parser:
    def __init__(self, path: Path) -> None:
        self.path = path

    def fail(self, key: str, message: str) -> ProjectError:
        return ProjectError(f"{self.path}: [{key}] {message}")

    def get(
        self,
        table: Mapping[str, Any],
        key: str,
        where: str,
        kind: type | tuple[type, ...],
        default: Any = ...,
    ) -> Any:
        if key not in table:
            if default is ...:
                raise self.fail(where, f"missing required key '{key}'")
            return default
        value = table[key]
        if not isinstance(value, kind) or isinstance(value, bool) and kind is not bool:
            names = (
                kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
            )
            raise self.fail(f"{where}.{key}", f"must be {names}, got {value!r}")
        return value

    def check_keys(self, table: Mapping[str, Any], where: str, allowed: Sequence[str]) -> None:
        for key in table:
            if key not in allowed:
                raise self.fail(where, str(UnknownNameError("key", key, allowed)))

    def project(self, data: Mapping[str, Any]) -> Project:
        self.check_keys(data, "top level", ("project", "runs", "tasks", "reviewers"))
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
        tasks = {}
        for i, raw in enumerate(self.get(data, "tasks", "top level", list)):
            task = self.task(raw, f"tasks[{i}]", runs)
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
        )

    def require_table(self, raw: Any, where: str) -> None:
        if not isinstance(raw, dict):
            raise self.fail(where, f"must be a table, got {raw!r}")

    def wrap(self, where: str, func: Any, *args: Any) -> Any:
        try:
            return func(*args)
        except ConfigError as exc:
            raise self.fail(where, str(exc)) from None

    def task(self, raw: Any, where: str, runs: Mapping[str, RunRef]) -> TaskSpec:
        self.require_table(raw, where)
        self.check_keys(
            raw,
            where,
            (
                "name",
                "kind",
                "run",
                "title",
                "instructions",
                "layers",
                "units",
                "examples",
                "methods",
                "categories",
            ),
        )
        name = self.get(raw, "name", where, str)
        self.wrap(f"{where}.name", check_name, "task name", name)
        kind = self.get(raw, "kind", where, str)
        if kind not in ITEM_KINDS:
            raise self.fail(f"{where}.kind", str(UnknownNameError("item kind", kind, ITEM_KINDS)))
        run = self.get(raw, "run", where, str, next(iter(runs), ""))
        if run not in runs:
            raise self.fail(f"{where}.run", str(UnknownNameError("run", run, runs)))
        categories = tuple(self.get(raw, "categories", where, list, []))
        if any(not isinstance(c, str) or not c.strip() for c in categories):
            raise self.fail(f"{where}.categories", "must be a list of non-empty strings")
        try:
            schema = default_schema(kind, categories=categories)
        except ProjectError as exc:
            raise self.fail(f"{where}.categories", str(exc)) from None
        layers: tuple[str, ...] = ()
        units: dict[str, tuple[int, ...]] = {}
        examples: int | tuple[int, ...] | None = None
        if kind == "neuron":
            layers = tuple(self.get(raw, "layers", where, list, []))
            raw_units = self.get(raw, "units", where, dict, {})
            for layer, rows in raw_units.items():
                if not isinstance(rows, list) or not all(
                    isinstance(r, int) and r >= 0 for r in rows
                ):
                    raise self.fail(f"{where}.units.{layer}", "must be a list of unit numbers >= 0")
                units[layer] = tuple(rows)
            if not layers and not units:
                raise self.fail(where, "a neuron task needs 'layers' (all units) or 'units' (some)")
        else:
            value = self.get(raw, "examples", where, (int, list), None)
            if isinstance(value, int) and value <= 0:
                raise self.fail(f"{where}.examples", f"must be a positive count, got {value}")
            if isinstance(value, list):
                if not all(isinstance(r, int) and r >= 0 for r in value):
                    raise self.fail(
                        f"{where}.examples", "must be a count or a list of example rows >= 0"
                    )
                value = tuple(value)
            examples = value
        methods = tuple(self.get(raw, "methods", where, list, []))
        return TaskSpec(
            name=name,
            kind=kind,
            run=run,
            title=self.get(raw, "title", where, str, name.replace("-", " ").capitalize()),
            instructions=self.get(raw, "instructions", where, str, ""),
            schema=schema,
            layers=layers,
            units=units,
            examples=examples,
            methods=methods,
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
