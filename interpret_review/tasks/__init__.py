"""The task model: what a task asks (its answer schema, from a registry of field types),
of whom (stage, role, members), how often (overlap, adaptive overlap) and how its maps are
judged (sanity rules); parsed from a task's table, stored by the judgment store, read by
every page, notebook and export. Pure: no database, run file or web here.
"""

from __future__ import annotations

from interpret_review.tasks.answers import FIELD_TYPES, AnswerField, AnswerSchema, default_schema
from interpret_review.tasks.model import (
    CONSENSUS_POLICIES,
    CONSENSUS_TYPES,
    ROLES,
    STAGES,
    AdaptiveRule,
    Task,
    TaskSettings,
    WorkedExample,
    agreement_share,
    role_allows,
    wants_another_reviewer,
)
from interpret_review.tasks.parse import TaskReader, fields_toml
from interpret_review.tasks.sanity import SanityRules

__all__ = [
    "AdaptiveRule",
    "AnswerField",
    "AnswerSchema",
    "CONSENSUS_POLICIES",
    "CONSENSUS_TYPES",
    "FIELD_TYPES",
    "ROLES",
    "STAGES",
    "SanityRules",
    "Task",
    "TaskReader",
    "TaskSettings",
    "WorkedExample",
    "agreement_share",
    "default_schema",
    "fields_toml",
    "role_allows",
    "wants_another_reviewer",
]
