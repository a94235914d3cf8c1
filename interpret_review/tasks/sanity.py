"""A task's trust gate on attribution maps: judge each method's sanity figures.

An attribution task may set, in its ``[tasks.sanity]`` table::

    randomization = [0.5, 0.8]   # warn / fail at or above this rank correlation between the
                                 # maps of the trained model and of its top layer randomised
    infidelity = [0.2, 0.5]      # optional: warn / fail at or above
    sensitivity = [0.5, 1.0]     # optional: warn / fail at or above
    action = "badge"             # "badge": show the verdict beside each map; "flag": also
                                 # mark failing maps and say why; "hide": do not show them

Without the table, maps get a badge judged by the default ``randomization`` thresholds.
The figures come from the run (:meth:`interpret_review.store.Run.sanity`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["ACTIONS", "FIGURES", "SanityRules", "Verdict", "judge", "parse_sanity"]

#: The figures a task may judge, what they mean, and their default thresholds.
FIGURES: dict[str, tuple[str, tuple[float, float] | None]] = {
    "randomization": ("rank correlation with the maps of the model, top layer randomised",
                      (0.5, 0.8)),
    "infidelity": ("infidelity (normalised; lower is better)", None),
    "sensitivity": ("max-sensitivity to a 0.02 input change (lower is better)", None),
}  # fmt: skip
ACTIONS = ("badge", "flag", "hide")
LEVELS = ("pass", "warn", "fail")


@dataclass(frozen=True)
class SanityRules:
    """Thresholds (warn, fail) per figure and what to do with a failing map."""

    thresholds: Mapping[str, tuple[float, float]] = field(
        default_factory=lambda: {k: t for k, (_, t) in FIGURES.items() if t is not None}
    )
    action: str = "badge"

    def as_dict(self) -> dict[str, Any]:
        return {"thresholds": {k: list(v) for k, v in self.thresholds.items()},
                "action": self.action}  # fmt: skip


@dataclass(frozen=True)
class Verdict:
    """``level`` (pass, warn, fail or unknown) and one line per judged figure."""

    level: str
    reasons: tuple[str, ...]


def judge(figures: Mapping[str, Any] | None, rules: SanityRules) -> Verdict:
    """The verdict of one method's figures: the worst level of its judged figures."""
    if not figures:
        return Verdict("unknown", ("no sanity figures in this run",))
    worst, reasons, measured = 0, [], False
    for name, (warn, fail) in rules.thresholds.items():
        value = figures.get(name)
        if value is None:
            reasons.append(f"{name}: not measured")
            continue
        measured = True
        level = 2 if value >= fail else 1 if value >= warn else 0
        worst = max(worst, level)
        reasons.append(f"{name} {value:.2f}: {LEVELS[level]} (warn at {warn:g}, fail at {fail:g})")
    if not measured:  # nothing the task judges was measured: no verdict, not a pass
        return Verdict("unknown", tuple(reasons))
    return Verdict(LEVELS[worst], tuple(reasons))


def parse_sanity(table: Any) -> SanityRules:
    """Check a task's ``sanity`` table; raises ValueError saying what is wrong and the fix."""
    if not isinstance(table, Mapping):
        raise ValueError('must be a table, e.g. sanity = { action = "flag" }')
    thresholds = dict(SanityRules().thresholds)
    for key, value in table.items():
        if key == "action":
            if value not in ACTIONS:
                raise ValueError(f"action must be one of {', '.join(ACTIONS)}, got {value!r}")
            continue
        if key not in FIGURES:
            known = ", ".join([*FIGURES, "action"])
            raise ValueError(f"has no key {key!r}; known keys: {known}")
        ok = (
            isinstance(value, list)
            and len(value) == 2
            and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value)
            and value[0] <= value[1]
        )
        if not ok:
            raise ValueError(
                f"{key} must be [warn, fail] with warn <= fail, e.g. [0.5, 0.8]; got {value!r}"
            )
        thresholds[key] = (float(value[0]), float(value[1]))
    return SanityRules(thresholds, str(table.get("action", "badge")))
