"""The project file's quality rules: the ``[quality]`` table (trust tiers and their
conditions) and a task's consensus and adaptive-overlap keys.

A tier rule's condition is a small, safe expression over a reviewer's figures.

A rule's ``when`` is written like Python but only comparisons, ``and``, ``or``, ``not``,
parentheses, numbers, ``true``/``false`` and the figure names below are allowed::

    when = "gold_items >= 5 and gold_accuracy < 0.5"
    when = "near_chance or (items >= 20 and too_fast)"

A figure that is not known for a reviewer (``gold_accuracy`` without gold answers,
``competence`` before the reliability model has enough answers) makes every comparison with
it false, so a rule never fires on missing evidence.

>>> rule = Condition.parse("gold_items >= 5 and gold_accuracy < 0.5")
>>> rule.holds({"gold_items": 6, "gold_accuracy": 0.4})
True
>>> rule.holds({"gold_items": 6, "gold_accuracy": None})
False
"""

from __future__ import annotations

import ast
import operator
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from interpret_review.errors import ProjectError, UnknownNameError
from interpret_review.tasks.model import ROLES

if TYPE_CHECKING:
    from interpret_review.tasks.reader import TableReader

__all__ = [
    "FIGURES",
    "RELIABILITY_MODELS",
    "Condition",
    "QualitySpec",
    "TierRule",
    "parse_quality",
]

#: The figures a rule may name, and what they mean (documented in docs/quality.md).
FIGURES: dict[str, str] = {
    "items": "answers the reviewer gave (current judgments, gold included)",
    "gold_items": "gold items the reviewer answered",
    "gold_accuracy": "share of gold items answered as expected (None without gold)",
    "competence": "estimated accuracy from the reliability model (None when too few answers)",
    "agreement": "share of the reviewer's answers that match the item's consensus",
    "peer_agreement": "share of answers that match the other reviewers' most common answer",
    "random_odds": "how many times likelier random answering is than the task's typical "
    "reviewer's (19 or more raises near_chance)",
    "median_seconds": "median time per answer",
    "fast_share": "share of answers faster than the project's fast_seconds",
    "flags": "number of flags raised (too_fast, faster_than_peers, straight_lining, "
    "near_chance, below_chance)",
    "too_fast": "true when too many answers came faster than the content can be read",
    "faster_than_peers": "true when the median time is far below the task's",
    "straight_lining": "true when the same answer repeats far more than the task's data explains",
    "near_chance": "true when the answers are far likelier random than like a typical reviewer's",
    "below_chance": "true when near_chance and matching peers less than random answers would",
}

RELIABILITY_MODELS = ("one-coin", "dawid-skene", "mace")

_COMPARE = {
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
}


@dataclass(frozen=True)
class Condition:
    """A parsed ``when`` expression; :meth:`holds` evaluates it on a reviewer's figures."""

    text: str
    tree: ast.expr

    @classmethod
    def parse(cls, text: str) -> Condition:
        """Parse and check ``text``; ProjectError naming what is not allowed."""
        source = " ".join(str(text).split())
        if not source:
            raise ProjectError("a rule's 'when' is empty; e.g. 'gold_accuracy < 0.5'")
        python = source.replace("true", "True").replace("false", "False")
        try:
            tree = ast.parse(python, mode="eval").body
        except SyntaxError as error:
            raise ProjectError(f"cannot read the rule {source!r}: {error.msg}") from None
        _check(tree, source)
        return cls(source, tree)

    def holds(self, figures: Mapping[str, Any]) -> bool:
        """Whether the condition is true for these figures (missing ones make comparisons
        false)."""
        return bool(_eval(self.tree, figures))

    def names(self) -> set[str]:
        return {n.id for n in ast.walk(self.tree) if isinstance(n, ast.Name)}


def _check(node: ast.AST, source: str) -> None:
    if isinstance(node, ast.BoolOp):
        for value in node.values:
            _check(value, source)
    elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        _check(node.operand, source)
    elif isinstance(node, ast.Compare):
        if not all(type(op) in _COMPARE for op in node.ops):
            raise ProjectError(f"rule {source!r}: only <, <=, >, >=, == and != compare figures")
        for part in (node.left, *node.comparators):
            _check(part, source)
    elif isinstance(node, ast.Name):
        if node.id not in FIGURES and node.id not in ("True", "False"):
            raise ProjectError(
                f"rule {source!r}: " + str(UnknownNameError("figure", node.id, FIGURES))
            )
    elif isinstance(node, ast.Constant):
        if not isinstance(node.value, (int, float, bool)):
            raise ProjectError(f"rule {source!r}: only numbers, true and false are allowed")
    elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        _check(node.operand, source)
    else:
        raise ProjectError(
            f"rule {source!r}: {ast.unparse(node)!r} is not allowed; write comparisons of "
            "figures joined by and / or / not, e.g. 'gold_items >= 5 and gold_accuracy < 0.5'"
        )


def _eval(node: ast.AST, figures: Mapping[str, Any]) -> Any:
    if isinstance(node, ast.BoolOp):
        values = (_eval(v, figures) for v in node.values)
        return all(values) if isinstance(node.op, ast.And) else any(values)
    if isinstance(node, ast.UnaryOp):
        value = _eval(node.operand, figures)
        if isinstance(node.op, ast.Not):
            return None if value is None else not value
        return None if value is None else -value
    if isinstance(node, ast.Compare):
        left = _eval(node.left, figures)
        for op, right_node in zip(node.ops, node.comparators, strict=True):
            right = _eval(right_node, figures)
            if left is None or right is None or not _COMPARE[type(op)](left, right):
                return False
            left = right
        return True
    if isinstance(node, ast.Name):
        if node.id in ("True", "False"):
            return node.id == "True"
        return figures.get(node.id)
    if isinstance(node, ast.Constant):
        return node.value
    raise ProjectError(f"cannot evaluate {ast.unparse(node)!r}")  # pragma: no cover


@dataclass(frozen=True)
class TierRule:
    """A trust tier and the condition that puts a reviewer in it."""

    name: str
    when: Condition
    pause: bool = False
    role: str | None = None


@dataclass(frozen=True)
class QualitySpec:
    """The project's ``[quality]`` table: thresholds of the figures and the tier rules."""

    min_items: int = 10
    fast_seconds: float = 2.0
    model: str = "one-coin"
    default_tier: str = "standard"
    tiers: tuple[TierRule, ...] = ()


def parse_quality(parser: TableReader, raw: Mapping[str, Any]) -> QualitySpec:
    """The ``[quality]`` table, checked by the project file's ``parser`` (errors name the
    file and the key)."""
    where = "quality"
    parser.check_keys(raw, where, ("min_items", "fast_seconds", "model", "default_tier", "tiers"))
    model = parser.get(raw, "model", where, str, "one-coin")
    if model not in RELIABILITY_MODELS:
        raise parser.fail(
            f"{where}.model",
            str(UnknownNameError("reliability model", model, RELIABILITY_MODELS)),
        )
    fast = parser.get(raw, "fast_seconds", where, (int, float), 2.0)
    if not 0 <= fast <= 3600:
        raise parser.fail(f"{where}.fast_seconds", f"must be from 0 to 3600 seconds, got {fast}")
    rules: list[TierRule] = []
    for i, table in enumerate(parser.get(raw, "tiers", where, list, [])):
        at = f"{where}.tiers[{i}]"
        parser.require_table(table, at)
        parser.check_keys(table, at, ("name", "when", "pause", "role"))
        name = parser.get(table, "name", at, str).strip()
        if not name or len(name) > 50:
            raise parser.fail(f"{at}.name", "must be 1 to 50 characters")
        if name in {r.name for r in rules}:
            raise parser.fail(f"{at}.name", f"tier {name!r} is defined twice")
        role = parser.get(table, "role", at, str, None)
        if role is not None and role not in ROLES:
            raise parser.fail(f"{at}.role", str(UnknownNameError("role", role, ROLES)))
        when = parser.wrap(f"{at}.when", Condition.parse, parser.get(table, "when", at, str))
        rules.append(TierRule(name, when, parser.get(table, "pause", at, bool, False), role))
    default = parser.get(raw, "default_tier", where, str, "standard").strip()
    if not default or default in {r.name for r in rules}:
        raise parser.fail(f"{where}.default_tier", "must be a name no rule uses")
    return QualitySpec(
        min_items=parser.whole(raw, "min_items", where, 10, 2),
        fast_seconds=float(fast),
        model=model,
        default_tier=default,
        tiers=tuple(rules),
    )
