"""AnswerForm: the answer form of the review page, as one Panel JSComponent.

The form is built in the browser from the task's answer schema (``assets/form.js``): it
keeps unsent answers in localStorage, gives every submit a client-made UUID, and resends
what the server has not confirmed when the page loads again. Python gets one message per
action (``submit`` or ``go``) through :meth:`_handle_msg` and answers with :meth:`reply`:
``stored``, ``rejected`` (the answer cannot be stored: dropped from the queue, the reviewer
told why) or ``failed`` (the server could not store it now: kept and sent again later).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import param
from panel.custom import JSComponent

__all__ = ["AnswerForm"]

ASSETS = Path(__file__).with_name("assets")


class AnswerForm(JSComponent):
    """The form; ``on_message(msg)`` receives what the browser sends."""

    schema = param.Dict(default={}, doc="The answer schema (AnswerSchema.to_dict()).")
    item = param.Dict(
        default={},
        doc="The item shown: key (the item key), position (its queue position), total, "
        "answered, answers, judgment, examples, maps; no key when the queue is done.",
    )
    task = param.String(default="", doc="The task the shown item belongs to.")
    storage_key = param.String(
        default="interpret-review",
        doc="localStorage key prefix of this project and account: the queue of unconfirmed "
        "submits (all tasks) and the drafts live under it.",
    )

    _esm = ASSETS / "form.js"
    _stylesheets = [(ASSETS / "form.css").read_text(encoding="utf-8")]

    def __init__(self, on_message: Callable[[dict[str, Any]], object], **params: Any) -> None:
        super().__init__(**params)
        self._on_message = on_message

    def _handle_msg(self, msg: Any) -> None:
        if isinstance(msg, dict):
            self._on_message(msg)

    def reply(self, msg: dict[str, Any]) -> None:
        """Send ``msg`` to the browser (``stored`` / ``rejected`` acknowledgements)."""
        self._send_msg(msg)
