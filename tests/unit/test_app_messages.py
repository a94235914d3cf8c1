"""The messages between the browser and the review page: parsed once, named once."""

from __future__ import annotations

import re
from datetime import datetime, timezone
from pathlib import Path

from interpret_review.app.messages import Go, Hold, Peek, PeekPlace, Skip, Submit, parse_message

FORM_JS = Path(__file__).parents[2] / "interpret_review" / "app" / "assets" / "form.js"


def test_each_message_becomes_its_record() -> None:
    submit = parse_message({"type": "submit", "client_id": "c", "task": "t", "key": "neuron:r/l/1@x",
                            "answers": {"a": 1}, "duration_ms": "1200", "submitted_at": 0,
                            "supersedes": ""})  # fmt: skip
    assert submit == Submit("c", "neuron:r/l/1@x", "t", {"a": 1}, 1200,
                            datetime(1970, 1, 1, tzinfo=timezone.utc), None)  # fmt: skip
    assert parse_message({"type": "go", "to": "back"}) == Go("back")
    assert parse_message({"type": "hold", "key": "k", "task": "t"}) == Hold("k", "t")
    assert parse_message({"type": "skip", "key": "k", "reason": "r"}) == Skip("k", "r")
    assert parse_message({"type": "peek", "address": "neuron:r/l/1"}) == Peek("neuron:r/l/1")
    assert parse_message({"type": "peek-place", "address": "a", "token": 3}) == PeekPlace(
        "a", token=3
    )
    assert parse_message({"type": "unknown"}) is None
    assert parse_message(Go("next")) == Go("next")  # records pass through


def test_an_answer_queued_by_an_earlier_page_keeps_its_item_key() -> None:
    """Browsers may hold answers queued before the form called the item key ``key``."""
    old = parse_message({"type": "submit", "client_id": "c", "address": "attribution:r/3"})
    assert isinstance(old, Submit) and old.key == "attribution:r/3"
    assert parse_message({"type": "skip", "address": "k"}) == Skip("k")


def test_bad_values_are_left_for_the_checks_not_crashes() -> None:
    odd = parse_message({"type": "submit", "client_id": 5, "key": None, "duration_ms": "x",
                         "submitted_at": 1e30, "answers": "not a table"})  # fmt: skip
    assert isinstance(odd, Submit)
    assert (odd.duration_ms, odd.submitted_at, odd.answers) == (0, None, "not a table")


def test_the_form_names_the_item_key_key_and_its_place_position() -> None:
    """One name per concept: the form sends the item key as ``key`` (``address`` only for
    what a viewer links to, and read back from answers queued by an earlier page) and
    shows the queue position as ``position``."""
    source = FORM_JS.read_text(encoding="utf-8")
    sent = re.findall(r"send_msg\(\{ type: \"(\w[\w-]*)\"[^}]*\}", source)
    assert set(sent) >= {"go", "skip", "hold", "peek", "peek-place"}
    for message in re.findall(r"send_msg\(\{[^}]*\}\)", source):
        if "address:" in message:
            assert '"peek' in message, message
    assert "it.position" in source and "it.index" not in source
    assert source.count("entry.address") == 1  # keyOf(): the old name, read once
