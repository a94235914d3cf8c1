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

import hashlib
import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from interpret_review._compat import tomllib
from interpret_review.addresses import ITEM_KINDS, check_name, parse_address
from interpret_review.errors import ConfigError, ProjectError, UnknownNameError
from interpret_review.judgments import JudgmentStore
from interpret_review.judgments.records import ROLES, STAGES, TaskSettings
from interpret_review.review.answers import (
    FIELD_TYPES,
    AnswerField,
    AnswerSchema,
    default_schema,
)
from interpret_review.review.rules import QualitySpec, parse_consensus, parse_quality
from interpret_review.review.sanity import SanityRules, parse_sanity

__all__ = [
    "Project",
    "ReviewerSpec",
    "RunRef",
    "TaskSpec",
    "WorkedExample",
    "current_project",
    "fields_toml",
    "load_project",
    "parse_fields",
    "parse_task",
    "parse_task_toml",
    "with_tasks",
]

TASK_KEYS = (
    "name",
    "kind",
    "run",
    "title",
    "instructions",
    "instructions_file",
    "layers",
    "units",
    "examples",
    "methods",
    "categories",
    "fields",
    "stage",
    "source",
    "overlap",
    "lease_minutes",
    "shuffle",
    "role",
    "reviewers",
    "gold",
    "worked_examples",
    "held_out",
    "sanity",
    "consensus",
    "consensus_field",
    "min_agreement",
    "max_overlap",
)
FIELD_KEYS = ("name", "type", "label", "required", "choices", "keys", "key", "min", "max", "help")
HELD_OUT = {"high": 4, "medium": 4, "low": 4}


@dataclass(frozen=True)
class RunRef:
    name: str
    path: Path


@dataclass(frozen=True)
class WorkedExample:
    """An item with the answer the researcher would give, and why (Markdown)."""

    address: str
    answers: Mapping[str, Any]
    why: str = ""


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
    stage: str = "review"
    source: str | None = None
    overlap: int = 1
    lease_seconds: int = 1800
    shuffle: bool = True
    role: str = "reviewer"
    reviewers: tuple[str, ...] = ()
    gold: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    worked_examples: tuple[WorkedExample, ...] = ()
    held_out: Mapping[str, int] = field(default_factory=lambda: dict(HELD_OUT))
    sanity: SanityRules = field(default_factory=SanityRules)  # attribution maps' trust gate
    table: Mapping[str, Any] = field(default_factory=dict)  # as written in the project
    origin: str = "file"
    consensus: str = "reliability"
    consensus_field: str | None = None  # None: no field a consensus applies to
    min_agreement: float | None = None
    max_overlap: int | None = None

    @property
    def adaptive(self) -> dict[str, Any] | None:
        """The adaptive-overlap rule the judgment store applies, or None."""
        if self.max_overlap is None or self.consensus_field is None:
            return None
        return {
            "field": self.consensus_field,
            "min_agreement": self.min_agreement,
            "max_overlap": self.max_overlap,
        }

    @property
    def fingerprint(self) -> str:
        """A hash of the task as defined (its table, instructions and answer schema)."""
        text = json.dumps(
            [dict(self.table), self.instructions, self.schema.to_dict()],
            sort_keys=True,
            default=str,
        )
        return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]

    @property
    def settings(self) -> TaskSettings:
        """What the judgment store keeps of the task besides its versioned text and schema:
        ``spec`` holds its table and :attr:`fingerprint`."""
        return TaskSettings(
            stage=self.stage,
            source=self.source,
            overlap=self.overlap,
            lease_seconds=self.lease_seconds,
            shuffle=self.shuffle,
            role=self.role,
            members=self.reviewers,
            spec={
                "table": dict(self.table),
                "fingerprint": self.fingerprint,
                "adaptive": self.adaptive,
            },
            origin=self.origin,
        )


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
    quality: QualitySpec = field(default_factory=QualitySpec)

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
        tasks: dict[str, TaskSpec] = {}
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

    def require_table(self, raw: Any, where: str) -> None:
        if not isinstance(raw, dict):
            raise self.fail(where, f"must be a table, got {raw!r}")

    def wrap(self, where: str, func: Any, *args: Any) -> Any:
        try:
            return func(*args)
        except (ConfigError, ProjectError) as exc:
            raise self.fail(where, str(exc)) from None

    def task(
        self,
        raw: Any,
        where: str,
        runs: Mapping[str, RunRef],
        earlier: Mapping[str, TaskSpec] | None = None,
    ) -> TaskSpec:
        self.require_table(raw, where)
        self.check_keys(raw, where, TASK_KEYS)
        earlier = earlier or {}
        name = self.get(raw, "name", where, str)
        self.wrap(f"{where}.name", check_name, "task name", name)
        kind = self.get(raw, "kind", where, str)
        if kind not in ITEM_KINDS:
            raise self.fail(f"{where}.kind", str(UnknownNameError("item kind", kind, ITEM_KINDS)))
        run = self.get(raw, "run", where, str, next(iter(runs), ""))
        if run not in runs:
            raise self.fail(f"{where}.run", str(UnknownNameError("run", run, runs)))
        stage = self.get(raw, "stage", where, str, "review")
        if stage not in STAGES:
            raise self.fail(f"{where}.stage", str(UnknownNameError("stage", stage, STAGES)))
        source = self.source(raw, where, stage, kind, earlier)
        if stage != "review" and source is not None and earlier[source].run != run:
            raise self.fail(
                f"{where}.run",
                f"must be the run of its source task {source!r} ({earlier[source].run!r})",
            )
        categories = tuple(self.get(raw, "categories", where, list, []))
        if any(not isinstance(c, str) or not c.strip() for c in categories):
            raise self.fail(f"{where}.categories", "must be a list of non-empty strings")
        if "fields" in raw:
            if categories:
                raise self.fail(
                    f"{where}.categories", "give either 'categories' or 'fields', not both"
                )
            schema = self.fields(self.get(raw, "fields", where, list), f"{where}.fields")
        else:
            try:
                schema = default_schema(kind, categories=categories, stage=stage)
            except ProjectError as exc:
                raise self.fail(f"{where}.categories", str(exc)) from None
        layers: tuple[str, ...] = ()
        units: dict[str, tuple[int, ...]] = {}
        examples: int | tuple[int, ...] | None = None
        if stage != "review":
            for key in ("layers", "units", "examples"):
                if key in raw:
                    raise self.fail(
                        f"{where}.{key}",
                        f"a {stage} task takes its items from its source task; remove '{key}'",
                    )
        elif kind == "neuron":
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
        role = self.get(
            raw, "role", where, str, "adjudicator" if stage == "adjudicate" else "reviewer"
        )
        if role not in ROLES:
            raise self.fail(f"{where}.role", str(UnknownNameError("role", role, ROLES)))
        reviewers = self.get(raw, "reviewers", where, list, [])
        if not all(isinstance(r, str) and r.strip() for r in reviewers):
            raise self.fail(f"{where}.reviewers", "must be a list of user names")
        gold = self.gold(raw, where, kind, run, stage, schema)
        return TaskSpec(
            name=name,
            kind=kind,
            run=run,
            title=self.get(raw, "title", where, str, name.replace("-", " ").capitalize()),
            instructions=self.instructions(raw, where),
            schema=schema,
            layers=layers,
            units=units,
            examples=examples,
            methods=methods,
            stage=stage,
            source=source,
            overlap=self.whole(raw, "overlap", where, 1, 1),
            lease_seconds=60 * self.whole(raw, "lease_minutes", where, 30, 1),
            shuffle=self.get(raw, "shuffle", where, bool, True),
            role=role,
            reviewers=tuple(reviewers),
            gold=gold,
            worked_examples=self.worked_examples(raw, where, kind, run, schema),
            held_out=self.held_out(raw, where, stage),
            sanity=self.sanity(raw, where, kind),
            table=dict(raw),
            **parse_consensus(self, raw, where, schema, stage),
        )

    def whole(self, raw: Mapping[str, Any], key: str, where: str, default: int, low: int) -> int:
        value = self.get(raw, key, where, int, default)
        if value < low:
            raise self.fail(f"{where}.{key}", f"must be a whole number >= {low}, got {value}")
        return int(value)

    def source(
        self,
        raw: Mapping[str, Any],
        where: str,
        stage: str,
        kind: str,
        earlier: Mapping[str, TaskSpec],
    ) -> str | None:
        source = self.get(raw, "source", where, str, None)
        if stage == "review":
            if source is not None:
                raise self.fail(
                    f"{where}.source",
                    "only a 'verify' or 'adjudicate' task takes a source; set 'stage'",
                )
            return None
        if source is None:
            raise self.fail(where, f"a {stage} task needs 'source': the task it takes items from")
        if source not in earlier:
            raise self.fail(
                f"{where}.source",
                str(UnknownNameError("task", source, earlier, hint="(define it above this task)")),
            )
        upstream = earlier[source]
        if upstream.kind != kind:
            raise self.fail(f"{where}.kind", f"must be {upstream.kind!r}, the kind of {source!r}")
        if stage == "verify" and (upstream.stage != "review" or kind != "neuron"):
            raise self.fail(
                f"{where}.source",
                f"a verify task checks the descriptions of a neuron review task; {source!r} is a "
                f"{upstream.stage} task of {upstream.kind} items",
            )
        if stage == "adjudicate" and upstream.stage == "adjudicate":
            raise self.fail(f"{where}.source", f"{source!r} is itself an adjudicate task")
        return source

    def fields(self, raw: list[Any], where: str) -> AnswerSchema:
        made = []
        for i, table in enumerate(raw):
            at = f"{where}[{i}]"
            self.require_table(table, at)
            self.check_keys(table, at, FIELD_KEYS)
            name = self.get(table, "name", at, str)
            self.wrap(f"{at}.name", check_name, "field name", name)
            kind = self.get(table, "type", at, str)
            if kind not in FIELD_TYPES:
                raise self.fail(
                    f"{at}.type", str(UnknownNameError("field type", kind, FIELD_TYPES))
                )
            choices = self.get(table, "choices", at, list, [])
            if not all(isinstance(c, str) and c.strip() for c in choices):
                raise self.fail(f"{at}.choices", "must be a list of non-empty strings")
            if kind in ("choice", "multi_choice", "ratings", "predictions") and not choices:
                raise self.fail(at, f"a {kind} field needs 'choices'")
            if len(set(choices)) != len(choices):
                raise self.fail(f"{at}.choices", f"has a choice twice: {choices}")
            keys = self.get(table, "keys", at, (list, str), [])
            keys = list(keys) if isinstance(keys, str) else keys
            if not all(isinstance(k, str) for k in keys) or len(keys) > len(choices):
                raise self.fail(
                    f"{at}.keys", f"must give at most one key per choice ({len(choices)} choices)"
                )
            low = self.get(table, "min", at, int, 1)
            high = self.get(table, "max", at, int, 5)
            if kind == "scale" and not low < high:
                raise self.fail(f"{at}.max", f"must be above min ({low}), got {high}")
            made.append(
                AnswerField(
                    name=name,
                    type=kind,
                    label=self.get(table, "label", at, str, name.replace("_", " ").capitalize()),
                    required=self.get(table, "required", at, bool, False),
                    choices=tuple(choices),
                    shortcuts=tuple(keys) + ("",) * (len(choices) - len(keys)),
                    key=self.get(table, "key", at, str, ""),
                    min=low,
                    max=high,
                    help=self.get(table, "help", at, str, ""),
                )
            )
        if not made:
            raise self.fail(where, "an answer schema needs at least one field")
        return self.wrap(where, AnswerSchema, tuple(made))

    def instructions(self, raw: Mapping[str, Any], where: str) -> str:
        text = self.get(raw, "instructions", where, str, "")
        name = self.get(raw, "instructions_file", where, str, None)
        if name is None:
            return text
        if text:
            raise self.fail(
                f"{where}.instructions_file", "give either 'instructions' or 'instructions_file'"
            )
        path = Path(name) if Path(name).is_absolute() else self.path.parent / name
        try:
            return path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise self.fail(
                f"{where}.instructions_file", f"cannot read {path} as UTF-8 Markdown ({exc})"
            ) from None

    def address(self, value: Any, at: str, kind: str, run: str) -> str:
        if not isinstance(value, str):
            raise self.fail(
                at, f"must be an item address such as '{kind}:{run}/...', got {value!r}"
            )
        parsed = self.wrap(at, parse_address, value)
        if parsed.kind != kind or parsed.run != run:
            raise self.fail(at, f"{value!r} is not a {kind} item of run {run!r}")
        return str(parsed)

    def gold(
        self,
        raw: Mapping[str, Any],
        where: str,
        kind: str,
        run: str,
        stage: str,
        schema: AnswerSchema,
    ) -> dict[str, dict[str, Any]]:
        out: dict[str, dict[str, Any]] = {}
        for i, table in enumerate(self.get(raw, "gold", where, list, [])):
            at = f"{where}.gold[{i}]"
            if stage != "review":
                raise self.fail(at, f"gold items belong to review tasks, not to a {stage} task")
            self.require_table(table, at)
            self.check_keys(table, at, ("address", "answers"))
            address = self.address(self.get(table, "address", at, str), f"{at}.address", kind, run)
            if address in out:
                raise self.fail(f"{at}.address", f"{address!r} is a gold item twice")
            answers = self.get(table, "answers", at, dict)
            out[address] = self.wrap(f"{at}.answers", schema.check_partial, answers)
        return out

    def worked_examples(
        self, raw: Mapping[str, Any], where: str, kind: str, run: str, schema: AnswerSchema
    ) -> tuple[WorkedExample, ...]:
        out = []
        for i, table in enumerate(self.get(raw, "worked_examples", where, list, [])):
            at = f"{where}.worked_examples[{i}]"
            self.require_table(table, at)
            self.check_keys(table, at, ("address", "answers", "why"))
            address = self.address(self.get(table, "address", at, str), f"{at}.address", kind, run)
            answers = self.wrap(
                f"{at}.answers", schema.check_partial, self.get(table, "answers", at, dict, {})
            )
            out.append(WorkedExample(address, answers, self.get(table, "why", at, str, "")))
        return tuple(out)

    def sanity(self, raw: Mapping[str, Any], where: str, kind: str) -> SanityRules:
        if "sanity" not in raw:
            return SanityRules()
        if kind != "attribution":
            raise self.fail(f"{where}.sanity", "only an attribution task judges its maps")
        try:
            return parse_sanity(raw["sanity"])
        except ValueError as error:
            raise self.fail(f"{where}.sanity", str(error)) from None

    def held_out(self, raw: Mapping[str, Any], where: str, stage: str) -> dict[str, int]:
        if "held_out" in raw and stage != "verify":
            raise self.fail(f"{where}.held_out", "only a verify task shows held-out examples")
        table = self.get(raw, "held_out", where, dict, HELD_OUT)
        self.check_keys(table, f"{where}.held_out", tuple(HELD_OUT))
        counts = {
            band: self.whole(table, band, f"{where}.held_out", n, 0) for band, n in HELD_OUT.items()
        }
        if sum(counts.values()) < 3:
            raise self.fail(f"{where}.held_out", "show at least 3 examples in all")
        return counts

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
        v.task: v.settings.spec["table"]
        for v in store.tasks(project.name)
        if v.settings.origin == "admin" and v.settings.spec and "table" in v.settings.spec
    }
    return with_tasks(project, made) if made else project


def with_tasks(project: Project, tables: Mapping[str, Mapping[str, Any]]) -> Project:
    """``project`` with more tasks, given as tables (tasks made on the admin page, kept in
    the judgment store); a table that no longer parses is left out and reported."""
    tasks = dict(project.tasks)
    for name, table in tables.items():
        if name not in tasks:
            tasks[name] = parse_task(replace(project, tasks=tasks), table)
    return replace(project, tasks=tasks)


def parse_task(project: Project, table: Mapping[str, Any], origin: str = "admin") -> TaskSpec:
    """A task given as a table (the admin page's form), checked like a task of the project
    file, with errors that name the key."""
    parser = _Parser(project.path)
    task = parser.task(dict(table), "task", project.runs, project.tasks)
    return replace(task, origin=origin)


def parse_fields(project: Project, text: str) -> AnswerSchema:
    """An answer schema written as ``[[fields]]`` tables in TOML (the admin page's editor),
    checked like a task's ``fields`` in the project file."""
    parser = _Parser(project.path)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ProjectError(f"the answer schema is not valid TOML ({exc})") from None
    parser.check_keys(data, "top level", ("fields",))
    return parser.fields(parser.get(data, "fields", "top level", list), "fields")


def parse_task_toml(project: Project, text: str) -> TaskSpec:
    """A new task written as the keys of one ``[[tasks]]`` table in TOML (the admin page)."""
    try:
        table = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ProjectError(f"the task is not valid TOML ({exc})") from None
    if table.get("name") in project.tasks:
        raise ProjectError(f"[task.name] a task named {table['name']!r} exists already")
    return parse_task(project, table)


def fields_toml(schema: AnswerSchema) -> str:
    """An answer schema as ``[[fields]]`` tables: what :func:`parse_fields` reads back."""
    out = []
    for f in schema.fields:
        lines = ["[[fields]]", f"name = {json.dumps(f.name)}", f"type = {json.dumps(f.type)}"]
        lines.append(f"label = {json.dumps(f.label, ensure_ascii=False)}")
        if f.required:
            lines.append("required = true")
        if f.choices:
            lines.append(f"choices = {json.dumps(list(f.choices), ensure_ascii=False)}")
        if any(f.shortcuts):
            lines.append(f"keys = {json.dumps(list(f.shortcuts))}")
        if f.key:
            lines.append(f"key = {json.dumps(f.key)}")
        if f.type == "scale":
            lines.append(f"min = {f.min}\nmax = {f.max}")
        if f.help:
            lines.append(f"help = {json.dumps(f.help, ensure_ascii=False)}")
        out.append("\n".join(lines))
    return "\n\n".join(out) + "\n"
