"""Parsing a task's table (a ``[[tasks]]`` table of the project file, or the admin page's
form) into a :class:`~interpret_review.tasks.model.Task`: the keys are documented in
:mod:`interpret_review.review.project`. Every error names the file, the key and what is
expected.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping
from pathlib import Path
from typing import Any

from interpret_review.addresses import ITEM_KINDS, check_name, parse_address
from interpret_review.errors import ProjectError, UnknownNameError
from interpret_review.tasks.answers import FIELD_TYPES, AnswerField, AnswerSchema, default_schema
from interpret_review.tasks.model import (
    CONSENSUS_POLICIES,
    CONSENSUS_TYPES,
    HELD_OUT,
    ROLES,
    STAGES,
    AdaptiveRule,
    Task,
    WorkedExample,
)
from interpret_review.tasks.reader import TableReader
from interpret_review.tasks.sanity import SanityRules, parse_sanity

__all__ = ["FIELD_KEYS", "TASK_KEYS", "TaskReader", "fields_toml"]

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


class TaskReader(TableReader):
    """Reads tasks and answer schemas; :meth:`task` is the entry point."""

    def task(
        self,
        raw: Any,
        where: str,
        runs: Collection[str],
        earlier: Mapping[str, Task] | None = None,
    ) -> Task:
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
        return Task(
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
            definition=dict(raw),
            **self.consensus(raw, where, schema, stage),
        )

    def source(
        self,
        raw: Mapping[str, Any],
        where: str,
        stage: str,
        kind: str,
        earlier: Mapping[str, Task],
    ) -> str | None:
        source: str | None = self.get(raw, "source", where, str, None)
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
        text: str = self.get(raw, "instructions", where, str, "")
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

    def consensus(
        self, raw: Mapping[str, Any], where: str, schema: AnswerSchema, stage: str
    ) -> dict[str, Any]:
        """A task's consensus and adaptive-overlap keys, as :class:`Task` fields."""
        policy = self.get(raw, "consensus", where, str, "reliability")
        if policy not in CONSENSUS_POLICIES:
            raise self.fail(
                f"{where}.consensus",
                str(UnknownNameError("consensus policy", policy, CONSENSUS_POLICIES)),
            )
        eligible = [f.name for f in schema.fields if f.type in CONSENSUS_TYPES]
        name = self.get(raw, "consensus_field", where, str, None)
        if name is None:
            required = [f.name for f in schema.fields if f.type in CONSENSUS_TYPES and f.required]
            name = (required or eligible or [None])[0]  # type: ignore[list-item]
        elif name not in eligible:
            raise self.fail(
                f"{where}.consensus_field",
                f"{name!r} is not a choice, scale or boolean field of the task's answer schema "
                f"(those are: {', '.join(eligible) or 'none'})",
            )
        overlap = self.get(raw, "overlap", where, int, 1)
        max_overlap = self.get(raw, "max_overlap", where, int, None)
        agreement = self.get(raw, "min_agreement", where, (int, float), None)
        if (max_overlap is None) != (agreement is None):
            raise self.fail(
                where,
                "adaptive overlap needs both 'max_overlap' (the most reviewers an item may get) "
                "and 'min_agreement' (the share of answers that must agree, e.g. 0.75)",
            )
        if max_overlap is not None:
            if stage != "review":
                raise self.fail(
                    f"{where}.max_overlap", f"adaptive overlap is for review tasks, not {stage}"
                )
            if name is None:
                raise self.fail(
                    f"{where}.max_overlap",
                    "adaptive overlap compares answers of a choice, scale or boolean field; the "
                    "task's answer schema has none",
                )
            if max_overlap <= overlap:
                raise self.fail(
                    f"{where}.max_overlap", f"must be above overlap ({overlap}), got {max_overlap}"
                )
            if not 0 < agreement <= 1:
                raise self.fail(
                    f"{where}.min_agreement",
                    f"must be a share above 0 and at most 1, got {agreement}",
                )
        adaptive = None
        if max_overlap is not None and name is not None:
            adaptive = AdaptiveRule(name, float(agreement), int(max_overlap))
        return {"consensus": policy, "consensus_field": name, "adaptive": adaptive}


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
