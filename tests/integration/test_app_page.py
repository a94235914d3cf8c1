"""The review page's handling of submits, without a browser: which failures keep an answer
queued in the browser (``failed``) and which drop it with a reason (``rejected``)."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from interpret_review.app import ReviewApp, ReviewPage
from interpret_review.errors import StoreUnavailableError
from interpret_review.judgments import JudgmentStore
from interpret_review.review import load_project, sync_project
from interpret_review.settings import Settings


@pytest.fixture
def page(tiny_project: Path, store_url: str):
    """Alice's review page, on SQLite and on PostgreSQL."""
    project = load_project(tiny_project)
    with JudgmentStore(store_url) as store:
        sync_project(project, store)
    app = ReviewApp(project, Settings(database_url=store_url), secret="s" * 64)
    page = ReviewPage(app, "alice")
    page.replies = []
    page.form.reply = page.replies.append  # what would go to the browser
    yield page
    app.close()


def submit(page: ReviewPage, **changes) -> dict:
    msg = {
        "type": "submit",
        "client_id": str(uuid.uuid4()),
        "task": "neurons",
        "key": page.shown.key,
        "answers": {"label": "edge", "category": "edge", "confidence": 3},
        "duration_ms": 1200,
        "submitted_at": None,
        **changes,
    }
    page.handle(msg)
    return page.replies[-1]


def test_a_stored_answer_moves_the_page_on(page: ReviewPage) -> None:
    assert page.shown.position == 0
    reply = submit(page)
    assert reply["type"] == "stored" and reply["advancing"] is True and reply["answered"] == 1
    assert page.shown.position == 1 and page.form.item["answered"] == 1


def test_an_answer_for_another_task_is_stored_under_that_task(page: ReviewPage) -> None:
    maps = page.session_for("maps")
    maps.first_open()  # handed out earlier, answered in another tab
    reply = submit(
        page,
        task="maps",
        key=maps.item(0).key,
        answers={"ratings": {m: "yes" for m in maps.item(0).shown_maps}},
    )
    assert reply["type"] == "stored" and reply["advancing"] is False
    assert page.shown.position == 0 and page.session.task == "neurons"
    assert page.app.store().progress("tiny-project", "maps", "alice") == (1, 3)


def test_a_busy_store_keeps_the_answer_queued(page: ReviewPage, monkeypatch) -> None:
    def busy(**kwargs):
        raise StoreUnavailableError("judgment store sqlite:///x stayed locked by another process")

    monkeypatch.setattr(page.session, "submit", busy)
    reply = submit(page)
    assert reply["type"] == "failed" and "kept in this browser" in reply["message"]
    assert "sqlite" not in reply["message"]  # no store details for reviewers
    assert page.shown.position == 0


def test_a_bug_keeps_the_answer_queued_too(page: ReviewPage, monkeypatch) -> None:
    monkeypatch.setattr(page.session, "submit", lambda **kwargs: 1 / 0)
    assert submit(page)["type"] == "failed"


def test_a_bad_answer_is_rejected_with_the_reason(page: ReviewPage) -> None:
    reply = submit(page, answers={"label": "", "category": "edge", "confidence": 3})
    assert reply["type"] == "rejected" and "is required" in reply["message"]
    reply = submit(page, task="no-such-task")
    assert reply["type"] == "rejected" and "unknown task" in reply["message"]


def test_a_deactivated_account_locks_the_page(page: ReviewPage) -> None:
    page.app.store().set_active("alice", False)
    reply = submit(page)
    assert reply["type"] == "rejected" and "can no longer submit" in reply["message"]
    assert page.session is None


def test_a_reviewer_cannot_submit_for_an_item_not_handed_to_them(page: ReviewPage) -> None:
    store = page.app.store()
    bobs = store.claim("tiny-project", "maps", "bob")  # overlap 1: the item is bob's now
    ratings = {m: "yes" for m in ("Saliency", "IntegratedGradients", "Occlusion")}
    reply = submit(page, task="maps", key=bobs.key, answers={"ratings": ratings})
    assert reply["type"] == "rejected"
    assert "not assigned" in reply["message"] or "not one of" in reply["message"]
    assert [j.reviewer for j in store.iter_judgments("tiny-project")] == []


def test_review_is_blind_to_other_reviewers_answers(page: ReviewPage) -> None:
    from interpret_review.app import ReviewPage as Page

    shown = page.shown.key
    submit(page, answers={"label": "alice's words", "category": "edge", "confidence": 3})
    bob = Page(page.app, "bob")  # overlap 2: bob is handed the same items, in order
    assert bob.shown.key == shown
    assert bob.form.item["answers"] is None and bob.form.item["judgment"] is None
    assert "alice" not in repr(bob.form.item) and "alice's words" not in bob.viewer.html()


def test_the_admin_page_and_its_actions_are_for_researchers_only(page: ReviewPage) -> None:
    from interpret_review.app.admin import AdminPage
    from interpret_review.errors import AuthorizationError

    with pytest.raises(AuthorizationError):
        AdminPage(page.app, "alice")
    with pytest.raises(AuthorizationError):
        AdminPage(page.app, "bob")  # an adjudicator is no researcher either
    admin = AdminPage(page.app, "rita")
    store = page.app.store()
    store.set_role("rita", "reviewer")  # taken away while the page is open
    admin.new_username.value, admin.new_password.value = "mallory", "pw"
    admin.act("add a reviewer", admin._add_reviewer)
    assert store.get_reviewer("mallory") is None
    assert "may no longer use the admin page" in admin.layout.objects[0].object


def test_a_researcher_manages_reviewers_and_tasks(page: ReviewPage) -> None:
    from interpret_review.app.admin import AdminPage

    admin = AdminPage(page.app, "rita")
    store = page.app.store()
    admin.new_username.value, admin.new_password.value = "dave", "dave-pw"
    admin.new_role.value, admin.new_tasks.value = "reviewer", ["maps"]
    admin.act("add a reviewer", admin._add_reviewer)
    assert store.get_reviewer("dave").role == "reviewer"
    assert store.task_version("tiny-project", "maps").settings.members == ("dave",)
    assert "dave" in admin.reviewer_table.object
    admin.account.value, admin.account_role.value = "dave", "adjudicator"
    admin.act("change a role", admin._set_role)
    assert store.get_reviewer("dave").role == "adjudicator"
    admin.account.value = "rita"
    admin.act("change an account", admin._toggle_active)
    assert "cannot deactivate your own account" in admin.notice.object

    admin.task.value = "neurons"
    admin.instructions.value = "New **words**."
    admin.fields.value = admin.fields.value.replace('key = "l"', 'key = "k"')
    admin.act("save a task version", admin._save_version)
    latest = store.task_version("tiny-project", "neurons")
    assert latest.version == 2 and latest.instructions == "New **words**."
    assert "version 2" in admin.notice.object
    admin.fields.value = admin.fields.value.replace('key = "k"', 'key = "q"')  # clashes
    admin.act("save a task version", admin._save_version)
    assert "used twice" in admin.notice.object and "category" in admin.notice.object
    assert store.task_version("tiny-project", "neurons").version == 2

    admin.new_task.value = 'name = "more-neurons"\nkind = "neuron"\nlayers = ["conv2"]\noverlap = 3'
    admin.act("create a task", admin._create_task)
    assert "Created more-neurons with 4 items" in admin.notice.object
    made = store.task_version("tiny-project", "more-neurons")
    assert made.settings.overlap == 3 and made.settings.origin == "admin"
    admin.new_task.value = 'name = "bad"\nkind = "nueron"'
    admin.act("create a task", admin._create_task)
    assert (
        "[task.kind]" in admin.notice.object
        and "did you mean &#x27;neuron&#x27;" in admin.notice.object
    )
    # the new task is there for reviewers, from every server process (it lives in the store)
    fresh = ReviewPage(page.app, "alice")
    assert "more-neurons" in fresh.task_names
    fresh.open_task("more-neurons")
    assert fresh.shown.address.startswith("neuron:tiny/conv2/")


def test_a_page_left_open_reads_nothing_more_once_the_account_is_stopped(page: ReviewPage) -> None:
    submit(page)  # item 1 answered, item 2 on screen
    page.app.store().set_members("tiny-project", "neurons", ["bob"])  # alice taken off
    page.handle({"type": "go", "to": "back"})
    assert page.session is None and page.shown.position == 1  # locked, nothing new shown
    assert "can no longer submit" in page.body.objects[0].object


def test_an_item_kept_on_screen_keeps_its_lease(page: ReviewPage) -> None:
    store = page.app.store()

    def expiry():
        [slot] = [a for a in store.assignments("tiny-project") if a.item == page.shown.key]
        return slot.expires_at

    before = expiry()
    page.handle({"type": "hold", "task": "neurons", "key": page.shown.key})
    assert expiry() > before  # renewed
    page.handle({"type": "hold", "task": "neurons", "key": "neuron:tiny/conv1/2"})
    assert [a.item for a in store.assignments("tiny-project")] == [page.shown.key]  # not taken


def test_the_quality_tab_shows_figures_and_records_tier_overrides(page: ReviewPage) -> None:
    from interpret_review.app import ReviewPage as Page
    from interpret_review.app.admin import AdminPage

    submit(page, answers={"label": "edge", "category": "edge", "confidence": 3})
    bob = Page(page.app, "bob")
    bob.replies = []
    bob.form.reply = bob.replies.append
    bob.handle(
        {
            "type": "submit",
            "client_id": str(uuid.uuid4()),
            "task": "neurons",
            "key": bob.shown.key,
            "answers": {"label": "a blob", "category": "blob", "confidence": 2},
            "duration_ms": 900,
            "submitted_at": None,
        }
    )
    admin = AdminPage(page.app, "rita")
    assert admin.quality.report is None  # computed when the tab is opened
    admin.tabs.active = admin.tabs._names.index("Quality")
    report = admin.quality.report
    assert report is not None and report.tasks["neurons"].answers == 2
    notes = admin.quality.agreement_notes.object
    assert "too few items: 1 with two or more answers (need 10)" in notes
    assert admin.quality.reviewers.object.source.data["reviewer"] == ["alice", "bob"]
    # the item the two disagree on is one click from its answers
    [(label, chosen)] = admin.quality.items.options.items()
    assert "50% agree of 2" in label
    admin.quality.items.value = chosen
    answers = admin.quality.item_answers.object
    assert "a blob" in answers and "alice" in answers and "bob" in answers
    # an override is recorded with its reason and pinned
    admin.quality.who.value, admin.quality.tier.value = "alice", "probation"
    admin.quality.pause.value = True
    admin.quality.act("override a tier", admin.quality.override)
    assert "needs a reason" in admin.notice.object  # no reason given: refused
    admin.quality.reason.value = "answers <b>edge</b> for everything"
    admin.quality.act("override a tier", admin.quality.override)
    assert "alice is now probation (paused)" in admin.notice.object
    change = page.app.store().tiers("tiny-project")["alice"]
    assert (change.by, change.pinned, change.paused) == ("rita", True, True)
    assert "&lt;b&gt;edge&lt;/b&gt;" in admin.quality.history.object  # escaped
    admin.quality.act("apply the tier rules", admin.quality.apply_rules)
    assert "change nobody" in admin.notice.object  # no rules; the override stays
    admin.quality.act("hand a tier back", admin.quality.unpin)
    assert not page.app.store().tiers("tiny-project")["alice"].pinned


def test_a_paused_reviewer_keeps_the_answer_and_is_told_why(page: ReviewPage) -> None:
    store = page.app.store()
    store.set_tier(
        "tiny-project", "alice", "paused", paused=True, reason="checking gold", by="rita"
    )
    shown = page.shown.key
    reply = submit(page)  # the item on screen was handed out before the pause
    assert reply["type"] == "stored"
    assert [j.item for j in store.iter_judgments("tiny-project")] == [shown]
    assert page.session is None  # no next item: the page says why instead
    message = page.body.objects[0].object
    assert "paused in this project" in message and "checking gold" in message
    assert "Every answer you submitted is saved" in message


def test_the_server_applies_the_tier_rules_on_its_own(page: ReviewPage) -> None:
    import dataclasses
    import threading

    from interpret_review.quality.report import keep_tiers
    from interpret_review.review.rules import Condition, QualitySpec, TierRule

    submit(page)
    project = dataclasses.replace(
        page.app.project,
        quality=QualitySpec(tiers=(TierRule("watched", Condition.parse("items >= 1")),)),
    )
    store, stop = page.app.store(), threading.Event()
    worker = threading.Thread(target=keep_tiers, args=(store, lambda: project, 0.05, stop))
    worker.start()
    try:
        for _ in range(200):  # bounded: 10 s at most
            if "alice" in store.tiers("tiny-project"):
                break
            stop.wait(0.05)
    finally:
        stop.set()
        worker.join(timeout=30)
    change = store.tiers("tiny-project")["alice"]
    assert (change.tier, change.source, change.by) == ("watched", "rule", None)
    assert change.reason == "rule 'watched': items >= 1" and change.evidence["items"] == 1
    assert len(store.tier_history("tiny-project", "alice")) == 1  # not again every round
    from interpret_review.app.admin import AdminPage

    admin = AdminPage(page.app, "rita")
    admin.quality.show_history()
    assert "rule &#x27;watched&#x27;: items &gt;= 1" in admin.quality.history.object
    assert "items 1, gold items 0" in admin.quality.history.object  # the evidence, shown


def test_the_app_starts_its_tier_loop_only_when_there_are_rules(page: ReviewPage) -> None:
    import dataclasses
    import threading

    from interpret_review.review.rules import Condition, QualitySpec, TierRule

    def loops() -> list[threading.Thread]:
        return [t for t in threading.enumerate() if t.name == "interpret-review-tiers"]

    assert page.app.project.quality.tiers == ()  # the tiny project has no rules
    page.app.keep_tiers().set()
    assert loops() == []
    rules = QualitySpec(tiers=(TierRule("watched", Condition.parse("items >= 1")),))
    page.app.project = dataclasses.replace(page.app.project, quality=rules)
    stop = page.app.keep_tiers()
    [loop] = loops()
    stop.set()
    loop.join(timeout=10)
    assert not loop.is_alive()
    page.app.settings = Settings(database_url=page.app.database_url, tier_minutes=0)
    page.app.keep_tiers().set()
    assert loops() == []


def test_linked_views_show_items_of_the_task_run_only(page: ReviewPage) -> None:
    """The page's linked view: a neuron card or an example's item from a click, neurons at a
    pixel, a clear refusal for an item of another run; nothing for a tampered message."""
    page.handle({"type": "peek", "address": "attribution:tiny/4"})
    assert page.peek.layout.visible and 'data-address="attribution:tiny/4"' in page.peek.body.object
    page.handle({"type": "peek-place", "address": "attribution:tiny/4", "y": 0.5, "x": 0.5})
    assert page.peek.body.object.count('class="ir-link"') == 6  # the top six units
    assert "Neurons that fire most at the point (0.50, 0.50)" in page.peek.title.object
    page.handle({"type": "peek", "address": "neuron:other/conv1/0"})
    assert "is not an item of run &#x27;tiny&#x27;" in page.peek.body.object
    page.handle({"type": "peek-place", "address": "attribution:tiny/4", "y": 3, "x": 0})
    assert "fractions y, x in 0..1" in page.peek.body.object
    page.handle({"type": "peek", "address": "<script>alert(1)</script>"})
    assert "<script>" not in page.peek.body.object
    page.peek.close()
    assert not page.peek.layout.visible


def test_a_verifier_gets_no_linked_views_of_the_run(tiny_project: Path, store_url: str) -> None:
    """Linked views show where units fire: an account that may verify descriptions of the
    run's units (and predicts from the words alone) gets none, on any of its tasks."""
    text = tiny_project.read_text().replace(
        "[[reviewers]]",
        '[[tasks]]\nname = "verify"\nkind = "neuron"\nstage = "verify"\nsource = "neurons"\n'
        'run = "tiny"\n\n[[reviewers]]',
        1,
    )
    tiny_project.write_text(text)
    project = load_project(tiny_project)
    with JudgmentStore(store_url) as store:
        sync_project(project, store)
    app = ReviewApp(project, Settings(database_url=store_url), secret="s" * 64)
    try:
        page = ReviewPage(app, "alice")
        page.handle({"type": "peek-place", "address": "attribution:tiny/1", "y": 0.5,
                          "x": 0.5})  # fmt: skip
        assert "linked views, which show where units fire, are off" in page.peek.body.object
        assert "ir-link" not in page.peek.body.object
    finally:
        app.close()


def test_tampered_place_messages_are_refused_with_a_reason(page: ReviewPage) -> None:
    for msg, message in (
        ({"token": "x"}, "holds images: pick a pixel"),
        ({"y": None, "x": 0.5}, "given as numbers y, x in 0..1"),
        ({"y": "0.5", "x": 0.5}, "given as numbers y, x in 0..1"),
    ):
        page.handle({"type": "peek-place", "address": "attribution:tiny/1", **msg})
        assert message in page.peek.body.object.replace("&#x27;", "'"), msg
    page.handle({"type": "peek", "address": "attribution:tiny/\u00b2"})
    assert "not a valid attribution address" in page.peek.body.object
