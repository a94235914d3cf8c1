"""What to ask, who answers which item, and checking the answers; no UI here.

Project files (:func:`load_project`), answer schemas, the items of a task, syncing a
project into the judgment store (:func:`sync_project`) and :class:`ReviewSession`, the
UI-free object that the app and notebooks drive.
"""

from __future__ import annotations

from interpret_review.review.items import shown_examples, shown_maps, task_addresses
from interpret_review.review.project import Project, ReviewerSpec, RunRef, load_project
from interpret_review.review.runs import RunSet
from interpret_review.review.session import ReviewItem, ReviewSession
from interpret_review.review.sync import SyncReport, sync_project
from interpret_review.tasks import Task
from interpret_review.tasks.answers import AnswerField, AnswerSchema, default_schema

__all__ = [
    "AnswerField",
    "AnswerSchema",
    "Project",
    "ReviewItem",
    "ReviewSession",
    "ReviewerSpec",
    "RunRef",
    "RunSet",
    "SyncReport",
    "Task",
    "default_schema",
    "load_project",
    "shown_examples",
    "shown_maps",
    "sync_project",
    "task_addresses",
]
