"""How far each label and each reviewer can be trusted, and acting on it.

Agreement (Krippendorff's alpha with bootstrap intervals, Cohen's and Fleiss' kappa), gold
accuracy, reliability models (Dawid-Skene, MACE), speed and attention flags, consensus
labels, trust tiers, and a planted-truth simulation that proves the machinery recovers a
known truth. Needs the ``quality`` extra (pandas, krippendorff), which the ``app`` extra
includes; the kappas and reliability models are numpy code of this room.

>>> from interpret_review.quality import compute_report      # doctest: +SKIP
>>> report = compute_report(store, project)                   # doctest: +SKIP
"""

from __future__ import annotations

from interpret_review.quality.agreement import (
    Agreement,
    ItemAgreement,
    PairAgreement,
    compute_alpha,
    compute_fleiss,
    compute_items,
    compute_pairs,
)
from interpret_review.quality.consensus import POLICIES, ConsensusLabel, compute_consensus
from interpret_review.quality.data import TaskAnswers, Units, field_units, load_answers
from interpret_review.quality.reliability import MODELS, Reliability, compute_reliability
from interpret_review.quality.report import (
    QualityReport,
    TaskQuality,
    compute_report,
    compute_task,
)
from interpret_review.quality.reviewers import FLAGS, ReviewerFigures, gold_matches
from interpret_review.quality.tiers import TierDecision, apply_tiers, decide_tiers

__all__ = [
    "FLAGS",
    "MODELS",
    "POLICIES",
    "Agreement",
    "ConsensusLabel",
    "ItemAgreement",
    "PairAgreement",
    "QualityReport",
    "Reliability",
    "ReviewerFigures",
    "TaskAnswers",
    "TaskQuality",
    "TierDecision",
    "Units",
    "apply_tiers",
    "compute_alpha",
    "compute_consensus",
    "compute_fleiss",
    "compute_items",
    "compute_pairs",
    "compute_reliability",
    "compute_report",
    "compute_task",
    "decide_tiers",
    "field_units",
    "gold_matches",
    "load_answers",
]
