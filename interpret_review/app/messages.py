"""What the browser sends the review page, typed and checked once where it arrives.

The answer form (``assets/form.js``) sends the reviewer's actions; the viewers' clicks on
links, pixels and tokens reach the page the same way. Each message is a small JSON object
with a ``type``; :func:`parse_message` turns it into one of the records below, or None for
what the page does not act on. The page's public :meth:`~interpret_review.app.page.ReviewPage.handle`
takes these records (or the raw object), and so do the notebook and the tests.

Names: ``key`` is the item key (its address, or ``ADDRESS@CLIENT_ID`` for an item made from
an earlier stage's judgment), ``address`` an item address a viewer links to.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

__all__ = [
    "Go",
    "Hold",
    "Message",
    "Peek",
    "PeekPlace",
    "Skip",
    "Submit",
    "parse_message",
]


@dataclass(frozen=True)
class Submit:
    """An answer: ``answers`` to item ``key`` of ``task``, made ``duration_ms`` after it
    was shown; ``supersedes`` is the client id of the answer it edits."""

    client_id: str
    key: str
    task: str = ""  # empty: the task on screen
    answers: Any = field(default_factory=dict)  # checked by the task's answer schema
    duration_ms: int = 0
    submitted_at: datetime | None = None
    supersedes: str | None = None


@dataclass(frozen=True)
class Go:
    """Show another item of the queue: ``back`` or ``next``."""

    to: str


@dataclass(frozen=True)
class Hold:
    """Renew the lease of item ``key`` (sent every few minutes while it is on screen)."""

    key: str
    task: str = ""


@dataclass(frozen=True)
class Skip:
    """Give item ``key`` back, saying why."""

    key: str
    reason: str = ""
    task: str = ""


@dataclass(frozen=True)
class Peek:
    """A viewer's link to item ``address`` was followed: show it beside the item."""

    address: str


@dataclass(frozen=True)
class PeekPlace:
    """A place of an example was picked: pixel ``(y, x)`` in 0..1, or token ``token``."""

    address: str
    y: Any = None
    x: Any = None
    token: Any = None


Message = Submit | Go | Hold | Skip | Peek | PeekPlace


def _key(raw: Mapping[str, Any]) -> str:
    # answers queued in a browser by an earlier version of the page name the key "address"
    return str(raw.get("key", raw.get("address", "")))


def _from_epoch_ms(value: Any) -> datetime | None:
    """A browser timestamp (milliseconds since the epoch) as UTC, or None if unusable."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        return datetime.fromtimestamp(value / 1000, tz=timezone.utc)
    except (OverflowError, OSError, ValueError):
        return None


def _whole(value: Any) -> int:
    try:
        return int(value or 0)
    except (TypeError, ValueError):
        return 0


def parse_message(raw: Mapping[str, Any] | Message) -> Message | None:
    """The record of a message from the browser, or None for one the page ignores."""
    if not isinstance(raw, Mapping):
        return raw
    kind = raw.get("type")
    if kind == "submit":
        return Submit(
            client_id=str(raw.get("client_id", "")),
            key=_key(raw),
            task=str(raw.get("task") or ""),
            answers=raw.get("answers") or {},
            duration_ms=_whole(raw.get("duration_ms")),
            submitted_at=_from_epoch_ms(raw.get("submitted_at")),
            supersedes=str(raw["supersedes"]) if raw.get("supersedes") else None,
        )
    if kind == "go":
        return Go(str(raw.get("to", "")))
    if kind == "hold":
        return Hold(_key(raw), str(raw.get("task") or ""))
    if kind == "skip":
        return Skip(_key(raw), str(raw.get("reason", "")), str(raw.get("task") or ""))
    if kind == "peek":
        return Peek(str(raw.get("address", "")))
    if kind == "peek-place":
        return PeekPlace(str(raw.get("address", "")), raw.get("y"), raw.get("x"), raw.get("token"))
    return None
