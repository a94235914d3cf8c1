"""The Panel review app: login, the review page, the answer form, serving, and the same
viewers and review page inline in Jupyter (``show``, ``review_page``).

The only room (with ``viewers/``) that imports Panel and Bokeh.
"""

from __future__ import annotations

from interpret_review.app.form import AnswerForm
from interpret_review.app.notebook import NotebookReview, review_page, show
from interpret_review.app.page import ReviewPage
from interpret_review.app.registry import viewer_class, viewer_kinds
from interpret_review.app.server import ReviewApp, serve

__all__ = [
    "AnswerForm",
    "NotebookReview",
    "ReviewApp",
    "ReviewPage",
    "review_page",
    "serve",
    "show",
    "viewer_class",
    "viewer_kinds",
]
