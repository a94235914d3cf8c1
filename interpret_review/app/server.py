"""Serving a project: ``serve(project)`` syncs the store and runs the Panel server.

The server has four routes: ``/review`` (the review page, for logged-in accounts),
``/admin`` (progress, reviewers and tasks: researchers only), ``/login`` and ``/logout``;
``/`` redirects to ``/review``. Sessions are signed, cookies are
signed and HTTP-only. The judgment store (SQL) is the only state shared between server
processes; each process opens its own database connections and run files on first use, after
any fork (``num_procs``).
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import panel as pn

from interpret_review.app.admin import AdminPage
from interpret_review.app.auth import COOKIE, StoreAuthProvider, load_secret, user_from_cookie
from interpret_review.app.page import ReviewPage
from interpret_review.errors import AuthorizationError, ConfigError
from interpret_review.judgments import JudgmentStore
from interpret_review.review import Project, RunSet, load_project, sync_project
from interpret_review.review.project import current_project
from interpret_review.settings import Settings

__all__ = ["ReviewApp", "serve"]

DISCONNECTED = (
    "Connection to the server lost. Answers not yet saved are kept in this browser: reload "
    "the page to send them."
)


class ReviewApp:
    """What every session of one served project shares: the project, the settings, and per
    process one judgment store and one set of open runs."""

    def __init__(self, project: Project, settings: Settings, secret: str) -> None:
        self.project = project
        self.settings = settings
        self.secret = secret  # signs the login cookie
        self.database_url = settings.database_url or project.database_url
        self._pid = -1
        self._open: tuple[JudgmentStore, RunSet] | None = None

    def _this_process(self) -> tuple[JudgmentStore, RunSet]:
        if self._open is None or self._pid != os.getpid():  # first use, or a forked worker
            self._pid = os.getpid()
            self._open = (JudgmentStore(self.database_url), RunSet(self.project))
        return self._open

    def store(self) -> JudgmentStore:
        return self._this_process()[0]

    def keep_tiers(self) -> threading.Event:
        """Apply the project's tier rules every ``tier_minutes`` in a thread of this process
        (none when 0 or when the project has no rules); set the returned event to stop."""
        stop = threading.Event()
        minutes = self.settings.tier_minutes
        if minutes > 0 and self.project.quality.tiers:
            from interpret_review.quality.report import keep_tiers

            threading.Thread(
                target=keep_tiers,
                args=(self.store(), self.current_project, 60.0 * minutes, stop),
                name="interpret-review-tiers",
                daemon=True,
            ).start()
        return stop

    def runs(self) -> RunSet:
        return self._this_process()[1]

    def current_project(self) -> Project:
        """The project file's tasks plus those created on the admin page (kept in the
        store, shared by every server process)."""
        return current_project(self.project, self.store())

    def username(self) -> str | None:
        """The account of the current session, from its signed cookie."""
        return user_from_cookie(
            self.secret, pn.state.cookies.get(COOKIE), self.settings.session_days
        )

    def authorize(self, user_info: Any, path: str) -> bool:
        """Panel's authorization hook, run on every page request before a session is made:
        the account must exist in the store and be active (with OAuth, the provider vouches
        for who the user is, not for their access), and ``/admin`` is for researchers only;
        anyone else gets 403."""
        username = self.username()
        account = None if not username else self.store().get_reviewer(username)
        if account is None or not account.active:
            return False
        return account.role == "researcher" or not path.rstrip("/").endswith("/admin")

    def page(self) -> pn.viewable.Viewer | pn.viewable.Viewable:
        """A new review page for the logged-in account of the current session."""
        pn.extension(notifications=True, disconnect_notification=DISCONNECTED)
        username = self.username()
        if not username:  # the auth provider lets no such session through; be safe anyway
            return pn.pane.HTML('<a href="/login">Log in</a>')
        return ReviewPage(self, username)

    def admin_page(self) -> pn.viewable.Viewer | pn.viewable.Viewable:
        """A new admin page, for a researcher only (checked again here and on each action)."""
        pn.extension(notifications=True, disconnect_notification=DISCONNECTED)
        username = self.username()
        try:
            return AdminPage(self, username or "")
        except AuthorizationError:
            return pn.pane.HTML(
                '<div role="alert">The admin page is for researchers. <a href="/review">Back '
                "to reviewing</a></div>"
            )

    def close(self) -> None:
        if self._open is not None and self._pid == os.getpid():
            store, runs = self._open
            store.close()
            runs.close()
        self._open = None


def _free_port(address: str) -> int:
    with socket.socket(socket.AF_INET6 if ":" in address else socket.AF_INET) as probe:
        probe.bind((address, 0))
        return int(probe.getsockname()[1])


def _origins(settings: Settings, port: int) -> list[str]:
    hosts = {settings.address, "localhost", "127.0.0.1"}
    origins = [f"{host}:{port}" for host in sorted(hosts)]
    origins += [h.strip() for h in settings.allowed_hosts.split(",") if h.strip()]
    return origins


def serve(
    project: str | Path | Project,
    *,
    settings: Settings | None = None,
    show: bool = False,
    start: bool = True,
    on_ready: Callable[[str], None] | None = None,
) -> Any:
    """Serve the review app of ``project`` (a project file or a loaded Project).

    Syncs the project into its judgment store first (tables, tasks, items, accounts), then
    listens on ``settings.address``/``settings.port`` (port 0 picks a free one). With
    ``start`` (the default) this blocks until the server stops; otherwise the Bokeh server
    is returned unstarted. ``on_ready(url)`` is called with the review page's address.
    """
    settings = settings or Settings.from_env()
    if not isinstance(project, Project):
        project = load_project(project)
    secret = load_secret(project.path, settings.cookie_secret)
    app = ReviewApp(project, settings, secret)
    with JudgmentStore(app.database_url) as store:
        synced = sync_project(project, store, passwordless=bool(settings.oauth_provider))
    for line in synced.describe().splitlines():  # regenerated runs: the researcher should know
        if line.strip().startswith("run "):
            print(line.strip(), file=sys.stderr, flush=True)
    port = settings.port or _free_port(settings.address)
    url = f"http://{settings.address}:{port}/review"
    try:
        server = _panel_server(app, project, settings, port, secret, show)
    except OSError as error:  # the address is taken or cannot be bound
        raise ConfigError(
            f"cannot listen on {settings.address}:{port} ({error.strerror or error}); another "
            "program may be using the port: pass another --port (0 picks a free one)"
        ) from None
    if on_ready is not None:
        on_ready(url)
    if not start:
        return server
    server.start()
    stop = app.keep_tiers()
    try:
        server.io_loop.start()
    finally:
        stop.set()
        app.close()
    return server


def _login_options(app: ReviewApp, settings: Settings) -> dict[str, Any]:
    """Our login page over the store's passwords, or Panel's OAuth provider when set."""
    if not settings.oauth_provider:
        return {"auth_provider": StoreAuthProvider(app)}
    try:
        extra = json.loads(settings.oauth_extra_params or "{}")
    except json.JSONDecodeError as error:
        raise ConfigError(
            f"setting oauth_extra_params must be a JSON object, got "
            f"{settings.oauth_extra_params!r} ({error})"
        ) from None
    if not isinstance(extra, dict):
        raise ConfigError("setting oauth_extra_params must be a JSON object such as {}")
    if not settings.oauth_key:
        raise ConfigError("OAuth needs the client id: set oauth_key")
    return {
        "oauth_provider": settings.oauth_provider,
        "oauth_key": settings.oauth_key,
        "oauth_secret": settings.oauth_secret or None,
        "oauth_redirect_uri": settings.oauth_redirect_uri or None,
        "oauth_extra_params": extra,
    }


def _panel_server(
    app: ReviewApp, project: Project, settings: Settings, port: int, secret: str, show: bool
) -> Any:
    pn.config.authorize_callback = app.authorize  # one project per server process
    return pn.serve(
        {"review": app.page, "admin": app.admin_page},
        **_login_options(app, settings),
        port=port,
        address=settings.address,
        websocket_origin=_origins(settings, port),
        show=show,
        start=False,
        title={"review": project.title, "admin": f"{project.title} · admin"},
        cookie_secret=secret,
        sign_sessions=True,
        secret_key=hashlib.sha256(f"bokeh-sessions:{secret}".encode()).hexdigest(),
        num_procs=settings.num_procs,
        verbose=False,
    )
