"""The judgment store: accounts, projects, versioned tasks, items and append-only judgments
in SQL (SQLite by default, PostgreSQL for teams). The only SQL in interpret-review.

>>> from interpret_review.judgments import JudgmentStore
>>> store = JudgmentStore("sqlite://")
>>> store.migrate()
>>> store.ensure_project("demo", "A demo project")
1
>>> store.close()
"""

from __future__ import annotations

from interpret_review.judgments.records import (
    Assignment,
    Item,
    Judgment,
    Progress,
    Reviewer,
    RunRecord,
    TaskVersion,
    TierChange,
)
from interpret_review.judgments.store import JudgmentStore

__all__ = [
    "Assignment",
    "Item",
    "Judgment",
    "JudgmentStore",
    "Progress",
    "Reviewer",
    "RunRecord",
    "TaskVersion",
    "TierChange",
]
