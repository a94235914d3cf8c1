"""The review page: a task's instructions, the item's viewer and the answer form.

One :class:`ReviewPage` per browser session. It composes parts and owns no review logic:
the queue, answer checks and storage are :class:`~interpret_review.review.ReviewSession`'s,
the pictures the viewer's, the form's behaviour ``assets/form.js``'s.
"""

from __future__ import annotations

import html
import logging
from collections.abc import Mapping, Sequence
from functools import partial
from typing import Any

import panel as pn

from interpret_review.app.form import AnswerForm
from interpret_review.app.host import Host
from interpret_review.app.linked import LinkedView
from interpret_review.app.markdown import markdown_html
from interpret_review.app.messages import (
    Hold,
    Message,
    Peek,
    PeekPlace,
    Skip,
    Submit,
    parse_message,
)
from interpret_review.app.registry import viewer_class
from interpret_review.errors import (
    AuthorizationError,
    InterpretReviewError,
    NotAssignedError,
    PausedError,
    StoreUnavailableError,
)
from interpret_review.review import ReviewItem, ReviewSession
from interpret_review.tasks import WorkedExample

__all__ = ["ReviewPage", "instructions_html", "reviewer_message"]

log = logging.getLogger("interpret_review.app")

PAGE_CSS = """
:host { font-family: system-ui, sans-serif; color: #1d2733; }
.ir-header { display: flex; flex-wrap: wrap; align-items: baseline; gap: 6px 14px;
  padding: 8px 12px; background: #1d2733; color: #fff; border-radius: 6px; }
.ir-header h1 { font-size: 17px; margin: 0; }
.ir-header .task { color: #c9d6e5; }
.ir-header .who { margin-left: auto; color: #c9d6e5; }
.ir-header a { color: #fff; }
.ir-instructions { font-size: 14px; line-height: 1.45; }
.ir-worked { border-left: 3px solid #1f5fbf; padding: 0 10px; margin: 6px 0; }
.ir-worked dl { display: grid; grid-template-columns: max-content 1fr; gap: 2px 10px; margin: 4px 0; }
.ir-worked dt { font-weight: 600; }
.ir-worked dd { margin: 0; }
.ir-locked { padding: 16px; font-size: 15px; }
.ir-notice { padding: 8px 12px; border-radius: 6px; background: #fdecea; color: #8c1d18; }
"""


class ReviewPage(pn.viewable.Viewer):
    """What ``username`` sees at ``/review``."""

    def __init__(self, app: Host, username: str, *, links: bool = True) -> None:
        super().__init__()
        self.app = app
        self.username = username
        self.links = links  # False in a notebook: no admin or log-out links
        self.account = app.store().get_reviewer(username)
        self.project = app.current_project()
        store, project = app.store(), self.project.name
        tasks = [
            t for t in self.project.tasks.values() if store.can_work_on(project, t.name, username)
        ]
        self.task_names = [t.name for t in tasks]
        self.header = pn.pane.HTML(
            sizing_mode="stretch_width", stylesheets=[PAGE_CSS], margin=(5, 5, 0, 5)
        )
        self.task_select = pn.widgets.Select(
            label="Task",
            options={task.title: task.name for task in tasks},
            visible=len(tasks) > 1,
            width=320,
        )
        self.instructions = pn.pane.HTML(sizing_mode="stretch_width", stylesheets=[PAGE_CSS])
        self.instructions_card = pn.Card(
            self.instructions, title="Instructions", sizing_mode="stretch_width", margin=(5, 5)
        )
        self.form = AnswerForm(
            self.handle,
            storage_key=f"interpret-review:{self.project.name}:{username}",
            width=430,
            margin=(5, 5),
        )
        self.notice = pn.pane.HTML(
            sizing_mode="stretch_width", stylesheets=[PAGE_CSS], visible=False
        )
        self.viewer_area = pn.Column(sizing_mode="stretch_width", margin=(5, 5))
        self.peek = LinkedView(self)
        self.body = pn.Column(
            self.task_select,
            self.notice,
            self.instructions_card,
            pn.Row(
                pn.Column(self.viewer_area, self.peek, sizing_mode="stretch_width"),
                self.form,
                sizing_mode="stretch_width",
            ),
            sizing_mode="stretch_width",
        )
        self.layout = pn.Column(self.header, self.body, sizing_mode="stretch_width")
        self.session: ReviewSession | None = None
        self.sessions: dict[str, ReviewSession] = {}
        self.viewer: Any = None
        self.shown: ReviewItem | None = None
        self.task_select.param.watch(self._task_chosen, "value")
        if not tasks:
            self._lock(
                "There is no task for your account in this project yet. Ask the project's "
                "researcher to add you to one."
            )
            return
        try:
            self.open_task(self._first_task())
        except AuthorizationError as error:
            self._lock(str(error))

    def __panel__(self) -> pn.viewable.Viewable:
        return self.layout

    # -- tasks and items ----------------------------------------------------------------

    def _first_task(self) -> str:
        """The first task with work left for this reviewer (else the first they may open)."""
        store, project = self.app.store(), self.project.name
        for name in self.task_names:
            if store.has_work(project, name, self.username):
                return name
        return self.task_names[0]

    def _task_chosen(self, event: Any) -> None:
        if self.session is None or event.new != self.session.task:
            self.open_task(event.new)

    def session_for(self, task: str) -> ReviewSession:
        """This reviewer's session of ``task`` (one per task per page, made on first use)."""
        session = self.sessions.get(task)
        if session is None:
            session = ReviewSession(
                self.app.store(), self.project, task, self.username, self.app.runs()
            )
            self.sessions[task] = session
        return session

    def open_task(self, name: str) -> None:
        try:
            if name not in self.task_names:
                raise AuthorizationError(f"{self.username!r} may not work on task {name!r}")
            session = self.session_for(name)
            run = self.app.runs()[session.spec.run]
            cls = viewer_class(session.spec.kind, session.spec.stage, run.modality)
            options = {"sanity": session.spec.sanity.as_dict()} if "sanity" in cls.param else {}
            viewer = cls(run=run, **options)
        except AuthorizationError as error:
            self._lock(reviewer_message(error))
            return
        except InterpretReviewError as error:
            log.error("cannot open task %r for %r: %s", name, self.username, error)
            self.notice.object = (
                f'<div class="ir-notice" role="alert">Task {html.escape(name)!s} cannot be '
                f"opened: {html.escape(str(error))}</div>"
            )
            self.notice.visible = True
            if self.session is not None and self.task_select.value != self.session.task:
                self.task_select.value = self.session.task
            return
        self.notice.visible = False
        self.session = session
        if self.task_select.value != name:
            self.task_select.value = name
        self.viewer = viewer
        self.viewer_area.objects = [self.viewer]
        self.peek.close()
        self.instructions.object = instructions_html(
            session.version.instructions, session.spec.worked_examples
        )
        self.instructions_card.collapsed = bool(session.current)
        self.form.param.update(schema=session.schema.to_dict(), task=name)
        self._header()
        self.show_item(session.first_open())

    def show_item(self, position: int | None) -> None:
        """Show queue position ``position``, or the "all done" state for None."""
        session = self.session
        if session is None:
            return
        if position is None:
            self.shown = None
            answered, total = session.progress()
            self.form.item = {"total": total, "answered": answered}
            return
        item = session.item(position)  # reads the item's current answer fresh from the store
        answered, total = session.progress()
        self.shown = item
        stage = session.spec.stage
        if stage == "verify":
            self.viewer.param.update(
                address=item.address, context=item.context, examples=list(item.shown_examples)
            )
        elif stage == "adjudicate":
            self.viewer.param.update(address=item.address, context=item.context)
        elif session.spec.kind == "attribution":  # the maps the task shows (none: all hidden)
            self.viewer.param.update(address=item.address, methods=list(item.shown_maps))
        else:
            self.viewer.address = item.address
        self.peek.close()
        self.form.item = {
            "key": item.key,
            "position": item.position,
            "total": total,
            "answered": answered,
            "answers": item.answers,
            "judgment": item.judgment,
            "examples": [{"row": row, "name": name} for row, name in item.shown_examples.items()],
            "maps": list(item.shown_maps),
        }
        if stage == "review":  # a later stage's next item needs its context: not guessed
            pn.state.execute(partial(self._prefetch, session, item.address), schedule=True)

    def _prefetch(self, session: ReviewSession, shown: str) -> None:
        """Render the item the reviewer will probably get next while they look at this one
        (after the page is updated; a guess: errors only go to the log, and the item is
        rendered again when shown)."""
        try:
            upcoming = session.upcoming()
            if upcoming is not None and upcoming != shown and session is self.session:
                self.viewer.prefetch(upcoming)
        except Exception:
            log.exception("prefetching after %s failed", shown)

    # -- messages from the form and the viewers --------------------------------------------

    def handle(self, message: Message | Mapping[str, Any]) -> dict[str, Any] | None:
        """Act on a message from the browser (a record of :mod:`.messages`, or the JSON
        object the form sends): the page's one entry point for the form, the viewers'
        clicks, the notebook and the tests. Returns the reply to a submit."""
        parsed = parse_message(message)
        if isinstance(parsed, Submit):
            return self.submit(parsed)  # the store checks the account with the write
        if parsed is None or not self._still_allowed():
            return None
        if isinstance(parsed, (Peek, PeekPlace)):
            self.peek.open(parsed)
        elif isinstance(parsed, Skip):
            self._skip(parsed)
        elif isinstance(parsed, Hold):
            self._hold(parsed)
        else:
            self._go(parsed.to)
        return None

    def _hold(self, hold: Hold) -> None:
        """Renew the lease of the item on screen (the form asks every few minutes)."""
        shown, session = self.shown, self.session
        if session is None or shown is None or shown.key != hold.key:
            return
        try:
            session.hold(shown.key)
        except InterpretReviewError as error:  # the slot went to someone else meanwhile
            log.info("lease of %s for %r not renewed: %s", shown.key, self.username, error)

    def _still_allowed(self) -> bool:
        """Whether the account may still work on the task shown: checked at every read, so
        an account deactivated (or taken off the task) while its page is open sees nothing
        more than it had on screen."""
        if self.session is None:
            return False
        try:
            self.app.store().check_access(self.project.name, self.session.task, self.username)
        except AuthorizationError as error:
            self._lock(reviewer_message(error))
            return False
        return True

    def submit(self, answer: Submit) -> dict[str, Any]:
        """Store an answer; returns the reply sent back to the form (``stored``,
        ``rejected`` with a message for the reviewer, or ``failed``: kept for a retry)."""
        task = answer.task or (self.session.task if self.session else "")
        reply = {"client_id": answer.client_id, "key": answer.key, "task": task}
        try:
            session = self.session_for(task)
            on_screen = self.shown if self.session is session else None
            session.submit(
                advance=on_screen is not None and on_screen.key == answer.key,
                client_id=answer.client_id,
                key=answer.key,
                answers=answer.answers,
                duration_ms=answer.duration_ms,
                submitted_at=answer.submitted_at,
                supersedes=answer.supersedes,
            )
        except NotAssignedError as error:  # this answer only: the account is fine
            return self._reply({**reply, "type": "rejected", "message": str(error)})
        except AuthorizationError as error:
            sent = self._reply({**reply, "type": "rejected", "message": reviewer_message(error)})
            self._lock(reviewer_message(error))
            return sent
        except StoreUnavailableError as error:  # the store is busy or out of reach
            log.warning(
                "submit %s of %r kept for a retry: %s", answer.client_id, self.username, error
            )
            return self._reply({**reply, "type": "failed", "message": reviewer_message(error)})
        except InterpretReviewError as error:  # the answer itself cannot be stored
            return self._reply({**reply, "type": "rejected", "message": reviewer_message(error)})
        except Exception as error:  # a bug: keep the answer in the browser, log the details
            log.exception("submit %s of %r failed", answer.client_id, self.username)
            return self._reply({**reply, "type": "failed", "message": reviewer_message(error)})
        shown = self.shown if self.session is session else None  # None: another task's answer
        advancing = shown is not None and shown.key == answer.key
        answered = session.progress()[0] if self.session is session else None
        sent = self._reply(
            {**reply, "type": "stored", "advancing": advancing, "answered": answered}
        )
        if advancing and shown is not None:
            try:
                self.show_item(session.next_open(shown.position))
            except AuthorizationError as error:  # paused (or locked out) since the last item
                self._lock(reviewer_message(error))
        return sent

    def _reply(self, reply: dict[str, Any]) -> dict[str, Any]:
        self.form.reply(reply)
        return reply

    def _skip(self, skip: Skip) -> None:
        session, shown = self.session, self.shown
        if session is None or shown is None or shown.key != skip.key:
            return  # a skip for an item no longer on screen: nothing to do
        try:
            session.skip(skip.key, skip.reason)
        except InterpretReviewError as error:
            self.form.reply({"type": "skip-refused", "message": reviewer_message(error)})
            return
        self.form.reply({"type": "skipped", "key": skip.key})
        try:
            self.show_item(session.first_open())
        except AuthorizationError as error:
            self._lock(reviewer_message(error))

    def _go(self, where: str) -> None:
        session = self.session
        if session is None or not len(session):
            return
        last = len(session) - 1
        if self.shown is None:  # the "all done" state: back shows the last item
            self.show_item(last if where == "back" else session.first_open())
        elif where == "back":
            self.show_item(max(self.shown.position - 1, 0))
        elif where == "next":
            position = self.shown.position
            self.show_item(position + 1 if position < last else session.first_open())

    # -- chrome ---------------------------------------------------------------------------

    def _header(self) -> None:
        account = self.account
        role = account.role if account is not None else "?"
        name = account.display_name if account is not None else self.username
        task = self.session.spec.title if self.session is not None else ""
        admin = '<a href="/admin">Admin</a> · ' if role == "researcher" else ""
        links = f'{admin}<a href="/logout">Log out</a>' if self.links else "in this notebook"
        self.header.object = (
            f'<div class="ir-header"><h1>{html.escape(self.project.title)}</h1>'
            f'<span class="task">{html.escape(task)}</span>'
            f'<span class="who">Signed in as <b>{html.escape(name)}</b> ({html.escape(role)}) · '
            f"{links}</span></div>"
        )

    def _lock(self, message: str) -> None:
        self.session = None
        self._header()
        self.body.objects = [
            pn.pane.HTML(
                f'<div class="ir-locked" role="alert">{html.escape(message)}'
                + ('<br><a href="/logout">Log out</a>' if self.links else "")
                + "</div>",
                stylesheets=[PAGE_CSS],
            )
        ]


def instructions_html(text: str, examples: Sequence[WorkedExample] = ()) -> str:
    """A task's instructions (Markdown, raw HTML shown as text) and its worked examples."""
    body = markdown_html(text) if text.strip() else "<p>No instructions for this task.</p>"
    if examples:
        body += "<h3>Worked examples</h3>"
        for example in examples:
            answers = "".join(
                f"<dt>{html.escape(str(name))}</dt><dd>{html.escape(str(value))}</dd>"
                for name, value in example.answers.items()
            )
            body += (
                f'<div class="ir-worked"><p><code>{html.escape(example.address)}</code></p>'
                f"<dl>{answers}</dl>{markdown_html(example.why)}</div>"
            )
    return f'<div class="ir-instructions">{body}</div>'


def reviewer_message(error: BaseException) -> str:
    """What a reviewer is told when a submit fails (details go to the server log)."""
    if isinstance(error, PausedError):
        return (
            f"{error} Every answer you submitted is saved. Ask the project's researcher if "
            "you think this is a mistake."
        )
    if isinstance(error, AuthorizationError):
        return (
            "Your account can no longer submit answers. Ask the project's researcher to "
            "reactivate it; answers not yet saved stay in this browser."
        )
    if isinstance(error, StoreUnavailableError) or not isinstance(error, InterpretReviewError):
        return (
            "The server could not save this answer just now. It is kept in this browser and "
            "sent again automatically; if this message stays, tell the project's researcher."
        )
    return str(error)  # answer checks and edit conflicts: written for the reviewer
