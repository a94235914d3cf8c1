"""The admin page (``/admin``): progress, reviewers and roles, tasks and their versions, and
quality (``app/quality.py``).

For researchers only. The server refuses the page to any other account before a session is
made (``ReviewApp.authorize``), the page checks again when it is built, and every action
checks once more that the signed-in account is still an active researcher, so a role taken
away takes effect at the next click.
"""

from __future__ import annotations

import html
import logging
from collections.abc import Callable
from typing import Any

import panel as pn
from bokeh.models import ColumnDataSource, HoverTool
from bokeh.plotting import figure

from interpret_review.app.host import Host
from interpret_review.app.markdown import markdown_html
from interpret_review.app.page import PAGE_CSS
from interpret_review.app.quality import QualitySection
from interpret_review.errors import AuthorizationError, InterpretReviewError
from interpret_review.judgments import Progress
from interpret_review.review import AnswerSchema, RunSet
from interpret_review.review.project import Project, parse_fields, parse_task_toml
from interpret_review.review.sync import sync_task
from interpret_review.tasks import ROLES, fields_toml

__all__ = ["AdminPage", "progress_figure"]

log = logging.getLogger("interpret_review.app")

ADMIN_CSS = """
.ir-table { border-collapse: collapse; font-size: 13px; width: 100%; }
.ir-table th, .ir-table td { text-align: left; padding: 4px 8px; border-bottom: 1px solid #d8dee6; }
.ir-table th { background: #f3f5f8; font-weight: 600; }
.ir-table td.num, .ir-table th.num { text-align: right; font-variant-numeric: tabular-nums; }
.ir-table tr.total td { font-weight: 600; background: #fafbfc; }
.ir-ok { padding: 8px 12px; border-radius: 6px; background: #e6f4ea; color: #1e6b34; }
.ir-version { border-left: 3px solid #c8d0da; padding: 2px 10px; margin: 6px 0; font-size: 13px; }
"""

COLOURS = {"done": "#1e6b34", "in progress": "#e0a100", "skipped": "#b3261e", "open": "#c8d0da"}


def _minutes(ms: int) -> str:
    return f"{ms / 60000:.1f}"


def progress_figure(rows: list[Progress], *, per_reviewer: bool) -> Any:
    """One Bokeh figure of stacked bars: per task, its answers (given, in progress, still
    to give: items times overlap), or per task and reviewer (done, in progress, skipped)."""
    rows = [r for r in rows if (r.reviewer is not None) == per_reviewer][::-1]
    labels = [f"{r.task} · {r.reviewer}" if per_reviewer else r.task for r in rows]
    parts = ["done", "in progress", "skipped"] if per_reviewer else ["done", "in progress", "open"]
    data: dict[str, list[Any]] = {"label": labels}
    data["done"] = [r.answers for r in rows]
    data["in progress"] = [r.in_progress for r in rows]
    if per_reviewer:
        data["skipped"] = [r.skipped for r in rows]
    else:
        data["open"] = [max(r.slots - r.answers - r.in_progress, 0) for r in rows]
    data["minutes"] = [_minutes(r.time_ms) for r in rows]
    plot = figure(
        y_range=labels or [""],  # type: ignore[arg-type]  # factors make a FactorRange
        height=max(120, 34 * len(labels) + 60),
        sizing_mode="stretch_width",
        toolbar_location=None,
        title="Items per reviewer" if per_reviewer else "Answers per task (items × overlap)",
    )
    plot.hbar_stack(
        parts,
        y="label",
        height=0.7,
        color=[COLOURS[p] for p in parts],
        source=ColumnDataSource(data),
        legend_label=parts,
    )
    tips = [("", "@label"), *[(p, "@{" + p + "}") for p in parts], ("minutes", "@minutes")]
    plot.add_tools(HoverTool(tooltips=tips))
    plot.x_range.start = 0  # type: ignore[attr-defined]
    plot.legend.location = "bottom_right"
    plot.legend.orientation = "horizontal"
    plot.ygrid.grid_line_color = None
    return plot


class AdminPage(pn.viewable.Viewer):
    """What a researcher sees at ``/admin``."""

    def __init__(self, app: Host, username: str) -> None:
        super().__init__()
        self.app = app
        self.username = username
        self._require()
        self.project: Project = app.current_project()
        self.notice = pn.pane.HTML(sizing_mode="stretch_width", stylesheets=[PAGE_CSS, ADMIN_CSS])
        # progress
        self.progress_table = pn.pane.HTML(sizing_mode="stretch_width", stylesheets=[ADMIN_CSS])
        self.task_plot = pn.pane.Bokeh(sizing_mode="stretch_width")
        self.reviewer_plot = pn.pane.Bokeh(sizing_mode="stretch_width")
        refresh = pn.widgets.Button(label="Refresh", width=100)
        refresh.on_click(lambda _: self.act("refresh", self.refresh))
        # reviewers
        self.reviewer_table = pn.pane.HTML(sizing_mode="stretch_width", stylesheets=[ADMIN_CSS])
        self.new_username = pn.widgets.TextInput(label="User name", width=180)
        self.new_password = pn.widgets.PasswordInput(label="Password", width=180)
        self.new_role = pn.widgets.Select(label="Role", options=list(ROLES), width=140)
        self.new_tasks = pn.widgets.MultiChoice(
            label="Tasks (empty: any task of the role)", width=420
        )
        add = pn.widgets.Button(label="Add reviewer", color="primary", width=140)
        add.on_click(lambda _: self.act("add a reviewer", self._add_reviewer))
        self.account = pn.widgets.Select(label="Account", width=180)
        self.account_role = pn.widgets.Select(label="Role", options=list(ROLES), width=140)
        set_role = pn.widgets.Button(label="Set role", width=100)
        set_role.on_click(lambda _: self.act("change a role", self._set_role))
        toggle = pn.widgets.Button(label="Deactivate / reactivate", width=180)
        toggle.on_click(lambda _: self.act("change an account", self._toggle_active))
        # tasks
        self.task_table = pn.pane.HTML(sizing_mode="stretch_width", stylesheets=[ADMIN_CSS])
        self.task = pn.widgets.Select(label="Task", width=260)
        self.instructions = pn.widgets.TextAreaInput(
            label="Instructions (Markdown)", height=180, sizing_mode="stretch_width"
        )
        self.fields = pn.widgets.TextAreaInput(
            label="Answer schema ([[fields]] tables, as in the project file)",
            height=220,
            sizing_mode="stretch_width",
        )
        self.members = pn.widgets.MultiChoice(label="Reviewers (empty: everyone with the role)")
        self.versions = pn.pane.HTML(sizing_mode="stretch_width", stylesheets=[ADMIN_CSS])
        save = pn.widgets.Button(label="Save as a new version", color="primary", width=200)
        save.on_click(lambda _: self.act("save a task version", self._save_version))
        save_members = pn.widgets.Button(label="Save reviewers", width=140)
        save_members.on_click(lambda _: self.act("set a task's reviewers", self._save_members))
        self.new_task = pn.widgets.TextAreaInput(
            label="New task (the keys of a [[tasks]] table)",
            placeholder='name = "describe-conv2"\nkind = "neuron"\nlayers = ["conv2"]\noverlap = 2',
            height=160,
            sizing_mode="stretch_width",
        )
        create = pn.widgets.Button(label="Create task", color="primary", width=140)
        create.on_click(lambda _: self.act("create a task", self._create_task))
        self.task.param.watch(lambda _: self._show_task(), "value")
        self.quality = QualitySection(app, self.project, username, self.act)

        header = pn.pane.HTML(
            f'<div class="ir-header"><h1>{html.escape(self.project.title)}</h1>'
            '<span class="task">Admin</span><span class="who">'
            f"Signed in as <b>{html.escape(username)}</b> (researcher) · "
            '<a href="/review">Review</a> · <a href="/logout">Log out</a></span></div>',
            sizing_mode="stretch_width",
            stylesheets=[PAGE_CSS],
        )
        self.tabs = pn.Tabs(
            (
                "Progress",
                pn.Column(refresh, self.task_plot, self.reviewer_plot, self.progress_table),
            ),
            (
                "Reviewers",
                pn.Column(
                    self.reviewer_table,
                    pn.pane.HTML("<h3>Add a reviewer</h3>"),
                    pn.Row(self.new_username, self.new_password, self.new_role),
                    self.new_tasks,
                    add,
                    pn.pane.HTML("<h3>Change an account</h3>"),
                    pn.Row(self.account, self.account_role, set_role, toggle),
                ),
            ),
            (
                "Tasks",
                pn.Column(
                    self.task_table,
                    pn.pane.HTML("<h3>Edit a task</h3>"),
                    self.task,
                    self.instructions,
                    self.fields,
                    save,
                    self.members,
                    save_members,
                    self.versions,
                    pn.pane.HTML("<h3>Create a task</h3>"),
                    self.new_task,
                    create,
                ),
            ),
            ("Quality", self.quality),
            sizing_mode="stretch_width",
            dynamic=False,
        )
        self.tabs.param.watch(self._tab_opened, "active")
        self.layout = pn.Column(header, self.notice, self.tabs, sizing_mode="stretch_width")
        self.refresh()

    def __panel__(self) -> pn.viewable.Viewable:
        return self.layout

    # -- access ---------------------------------------------------------------------------

    def _require(self) -> None:
        account = self.app.store().get_reviewer(self.username)
        if account is None or not account.active or account.role != "researcher":
            raise AuthorizationError(f"{self.username!r} may not use the admin page")

    def act(self, what: str, action: Callable[[], str | None]) -> None:
        """Run an action after checking the account again; say how it went."""
        try:
            self._require()
            done = action()
        except AuthorizationError as error:
            log.warning("admin action %r refused: %s", what, error)
            self.layout.objects = [
                pn.pane.HTML(
                    '<div class="ir-locked" role="alert">Your account may no longer use the '
                    'admin page. <a href="/logout">Log out</a></div>',
                    stylesheets=[PAGE_CSS],
                )
            ]
            return
        except InterpretReviewError as error:
            self.notice.object = (
                f'<div class="ir-notice" role="alert">Could not {html.escape(what)}: '
                f"{html.escape(str(error))}</div>"
            )
            return
        self.notice.object = (
            f'<div class="ir-ok" role="status">{html.escape(done)}</div>' if done else ""
        )

    def _tab_opened(self, event: Any) -> None:
        """The quality report is computed when its tab is first opened (it takes a while)."""
        if self.tabs._names[event.new] == "Quality" and self.quality.report is None:
            self.act("compute the quality report", self.quality.compute)

    # -- showing ----------------------------------------------------------------------------

    def refresh(self) -> None:
        store, name = self.app.store(), self.project.name
        rows = store.progress_by_reviewer(name)
        self.task_plot.object = progress_figure(rows, per_reviewer=False)
        self.reviewer_plot.object = progress_figure(rows, per_reviewer=True)
        self.progress_table.object = self._progress_html(rows)
        accounts = store.reviewers()
        names = [a.username for a in accounts]
        self.reviewer_table.object = self._reviewers_html(accounts)
        self.account.options = names
        if self.account.value not in names and names:
            self.account.value = names[0]
        self.members.options = names
        versions = store.tasks(name)
        self.task_table.object = self._tasks_html(versions)
        names = [v.task for v in versions]
        chosen = self.task.value if self.task.value in names else (names[0] if names else None)
        self.task.options = names
        self.task.value = chosen
        self.new_tasks.options = [v.task for v in versions]
        self._show_task()

    def _progress_html(self, rows: list[Progress]) -> str:
        stages = {t.name: t.stage for t in self.project.tasks.values()}
        body = []
        for r in rows:
            total = r.reviewer is None
            who = "all reviewers" if total else html.escape(r.reviewer or "")
            done = (
                f"{r.done} of {r.items} items complete · {r.answers} of {r.slots} answers"
                if total
                else str(r.done)
            )
            per_item = f"{r.time_ms / 1000 / r.done:.1f} s" if r.done and not total else ""
            body.append(
                f'<tr class="{"total" if total else ""}"><td>{html.escape(r.task)}</td>'
                f"<td>{html.escape(stages.get(r.task, ''))}</td><td>{who}</td>"
                f'<td class="num">{done}</td><td class="num">{r.in_progress}</td>'
                f'<td class="num">{r.skipped}</td><td class="num">{_minutes(r.time_ms)}</td>'
                f'<td class="num">{per_item}</td></tr>'
            )
        return (
            '<table class="ir-table progress"><thead><tr><th>Task</th><th>Stage</th>'
            '<th>Reviewer</th><th class="num">Done</th><th class="num">In progress</th>'
            '<th class="num">Skipped</th><th class="num">Minutes</th>'
            '<th class="num">Per item</th></tr></thead><tbody>' + "".join(body) + "</tbody></table>"
        )

    def _reviewers_html(self, accounts: list[Any]) -> str:
        tasks = self.app.store().tasks(self.project.name)
        body = []
        for a in accounts:
            member_of = [t.task for t in tasks if a.username in t.settings.members]
            body.append(
                f"<tr><td>{html.escape(a.username)}</td><td>{html.escape(a.display_name)}</td>"
                f"<td>{html.escape(a.role)}</td><td>{'yes' if a.active else 'no'}</td>"
                f"<td>{html.escape(', '.join(member_of)) or 'any task of the role'}</td></tr>"
            )
        return (
            '<table class="ir-table reviewers"><thead><tr><th>User</th><th>Name</th>'
            "<th>Role</th><th>Active</th><th>Tasks</th></tr></thead><tbody>"
            + "".join(body)
            + "</tbody></table>"
        )

    def _tasks_html(self, versions: list[Any]) -> str:
        body = []
        for v in versions:
            s = v.settings
            body.append(
                f"<tr><td>{html.escape(v.task)}</td><td>{html.escape(v.kind)}</td>"
                f"<td>{html.escape(s.stage)}</td><td>{html.escape(s.source or '')}</td>"
                f'<td class="num">{s.overlap}</td><td>{html.escape(s.role)}</td>'
                f'<td class="num">v{v.version}</td><td>{html.escape(s.origin)}</td></tr>'
            )
        return (
            '<table class="ir-table tasks"><thead><tr><th>Task</th><th>Kind</th><th>Stage</th>'
            '<th>Source</th><th class="num">Overlap</th><th>Role</th>'
            '<th class="num">Version</th><th>Defined in</th></tr></thead><tbody>'
            + "".join(body)
            + "</tbody></table>"
        )

    def _show_task(self) -> None:
        if not self.task.value:
            return
        store = self.app.store()
        versions = store.task_versions(self.project.name, self.task.value)
        latest = versions[-1]
        self.instructions.value = latest.instructions
        self.fields.value = fields_toml(AnswerSchema.from_dict(latest.answer_schema))
        self.members.value = list(latest.settings.members)
        self.versions.object = "<h3>Versions</h3>" + "".join(
            f'<div class="ir-version"><b>v{v.version}</b> · '
            f"{len(v.answer_schema.get('fields', []))} answer fields"
            f"{markdown_html(v.instructions[:400] + ('…' if len(v.instructions) > 400 else ''))}"
            "</div>"
            for v in reversed(versions)
        )

    # -- actions ----------------------------------------------------------------------------

    def _add_reviewer(self) -> str:
        username = (self.new_username.value or "").strip()
        store = self.app.store()
        store.add_reviewer(username, self.new_password.value or "", role=self.new_role.value)
        for task in self.new_tasks.value:
            members = store.task_version(self.project.name, task).settings.members
            store.set_members(self.project.name, task, [*members, username])
        self.new_username.value = self.new_password.value = ""
        self.new_tasks.value = []
        self.refresh()
        return f"Added {username} ({self.new_role.value})."

    def _set_role(self) -> str:
        account = self.app.store().set_role(self.account.value, self.account_role.value)
        self.refresh()
        return f"{account.username} is now a {account.role}."

    def _toggle_active(self) -> str:
        store = self.app.store()
        current = store.get_reviewer(self.account.value)
        if current is None:
            raise AuthorizationError("no such account")
        if current.username == self.username:
            raise InterpretReviewError("you cannot deactivate your own account")
        account = store.set_active(current.username, not current.active)
        self.refresh()
        return f"{account.username} is now {'active' if account.active else 'deactivated'}."

    def _save_version(self) -> str:
        store, task = self.app.store(), self.task.value
        latest = store.task_version(self.project.name, task)
        schema = parse_fields(self.project, self.fields.value or "")
        version = store.ensure_task(
            self.project.name,
            task,
            kind=latest.kind,
            title=latest.title,
            instructions=self.instructions.value or "",
            answer_schema=schema.to_dict(),
        )
        self.refresh()
        if version.version == latest.version:
            return f"Nothing changed: {task} stays at version {version.version}."
        return f"Saved {task} as version {version.version}; new answers record it."

    def _save_members(self) -> str:
        self.app.store().set_members(self.project.name, self.task.value, self.members.value)
        self.refresh()
        names = ", ".join(self.members.value) or "everyone with the task's role"
        return f"{self.task.value} is now for: {names}."

    def _create_task(self) -> str:
        task = parse_task_toml(self.project, self.new_task.value or "")
        with RunSet(self.project) as runs:
            report = sync_task(self.project, task, self.app.store(), runs)
        self.project = self.app.current_project()
        self.new_task.value = ""
        self.refresh()
        return f"Created {task.name} with {report.items[task.name]} items."
