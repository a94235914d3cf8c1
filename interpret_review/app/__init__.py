"""The Panel review app: login, the review page, the answer form, serving.

The only room (with ``viewers/``) that imports Panel and Bokeh.
"""

from __future__ import annotations

from interpret_review.app.form import AnswerForm
from interpret_review.app.page import ReviewPage
from interpret_review.app.registry import viewer_class, viewer_kinds
from interpret_review.app.server import ReviewApp, serve

__all__ = ["AnswerForm", "ReviewApp", "ReviewPage", "serve", "viewer_class", "viewer_kinds"]
