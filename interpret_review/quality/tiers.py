"""Trust tiers: the project's rules decide each reviewer's tier from their figures; every
change is recorded with its reason and evidence; a researcher's override is pinned.

The rules (``[[quality.tiers]]`` in the project file) are tried in order and the first whose
``when`` holds gives the tier; a reviewer no rule matches is in ``default_tier``. A tier may
pause the reviewer (no new items, answers out of the consensus) or give a role (for example
``adjudicator``); a role a rule gave is taken back when the reviewer leaves that tier.
Researchers' accounts never change role through a rule.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from interpret_review.judgments import JudgmentStore, Reviewer, TierChange
from interpret_review.quality.reviewers import ReviewerFigures
from interpret_review.review.rules import QualitySpec

__all__ = ["TierDecision", "apply_tiers", "decide_tiers"]


@dataclass(frozen=True)
class TierDecision:
    """What the rules say about one reviewer, against their current tier."""

    reviewer: str
    current: str  # the current tier (the default tier when none was ever recorded)
    tier: str
    pause: bool
    role: str | None  # a role to give (or give back: "reviewer") with the change
    rule: str  # the rule's ``when``, or "no rule matched"
    pinned: bool  # a researcher's override holds: nothing will change
    evidence: dict[str, Any] = field(default_factory=dict)

    @property
    def changes(self) -> bool:
        return not self.pinned and self.tier != self.current

    @property
    def reason(self) -> str:
        if self.rule == "no rule matched":
            return f"no tier rule matches any more: back to {self.tier!r}"
        return f"rule {self.tier!r}: {self.rule}"


def _evidence(figures: ReviewerFigures) -> dict[str, Any]:
    data = {k: (round(v, 4) if isinstance(v, float) else v) for k, v in figures.figures().items()}
    data["flag_evidence"] = dict(figures.evidence)
    return data


def decide_tiers(
    spec: QualitySpec,
    figures: Mapping[str, ReviewerFigures],
    current: Mapping[str, TierChange],
    accounts: Mapping[str, Reviewer],
) -> list[TierDecision]:
    """The tier each reviewer with figures belongs in by the rules, against their current one."""
    out = []
    for name, figs in sorted(figures.items()):
        now = current.get(name)
        account = accounts.get(name)
        values = figs.figures()
        rule = next((r for r in spec.tiers if r.when.holds(values)), None)
        tier = rule.name if rule else spec.default_tier
        role = rule.role if rule else None
        if account is None or account.role == "researcher":
            role = None
        elif role is None and now is not None and now.role and account.role == now.role:
            role = "reviewer"  # leaving the tier that gave the role takes it back
        elif role is not None and account.role == role:
            role = None
        out.append(
            TierDecision(
                reviewer=name,
                current=now.tier if now else spec.default_tier,
                tier=tier,
                pause=bool(rule and rule.pause),
                role=role,
                rule=rule.when.text if rule else "no rule matched",
                pinned=bool(now and now.pinned),
                evidence=_evidence(figs),
            )
        )
    return out


def apply_tiers(
    store: JudgmentStore, project: str, decisions: list[TierDecision]
) -> list[TierChange]:
    """Record the decisions that change a tier (pinned overrides stay); returns the changes."""
    made = []
    for d in decisions:
        if not d.changes:
            continue
        made.append(
            store.set_tier(
                project,
                d.reviewer,
                d.tier,
                reason=d.reason,
                paused=d.pause,
                role=d.role,
                source="rule",
                pinned=False,
                evidence=d.evidence,
            )
        )
    return made
