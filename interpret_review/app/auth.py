"""Logging in: our own login and logout pages over the judgment store's accounts.

Passwords are checked with argon2 by the judgment store; a good login sets a signed,
HTTP-only ``user`` cookie (Tornado's secure cookies, signed with the server's secret) that
expires after ``session_days``. :class:`StoreAuthProvider` plugs this into the Bokeh server
under Panel: every page request and every websocket connection is checked, and the account
must still exist and be active, so a deactivated reviewer is locked out at the next request.
Roles come from the store, never from the cookie.
"""

from __future__ import annotations

import html
import os
import secrets
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import tornado.web
from bokeh.server.auth_provider import AuthProvider
from tornado.web import decode_signed_value

from interpret_review.app.host import Host

__all__ = ["COOKIE", "StoreAuthProvider", "load_secret", "user_from_cookie"]

COOKIE = "user"  # the cookie name Panel's pn.state.user reads

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} · log in</title>
<style>
body {{ font-family: system-ui, sans-serif; background: #f3f5f8; color: #1d2733; margin: 0; }}
main {{ max-width: 360px; margin: 10vh auto; background: #fff; padding: 24px 28px;
  border-radius: 10px; box-shadow: 0 2px 12px rgba(0,0,0,.08); }}
h1 {{ font-size: 20px; margin: 0 0 4px; }} p {{ color: #4c5d70; margin: 0 0 16px; }}
label {{ display: block; font-weight: 600; margin: 12px 0 4px; }}
input {{ width: 100%; box-sizing: border-box; font: inherit; padding: 8px; border: 1px solid #9aa8b7;
  border-radius: 5px; }}
input:focus, button:focus {{ outline: 3px solid #2f6fde; outline-offset: 1px; }}
button {{ margin-top: 18px; width: 100%; font: inherit; font-weight: 600; padding: 9px;
  border: 0; border-radius: 5px; background: #1f5fbf; color: #fff; cursor: pointer; }}
.error {{ color: #b3261e; font-weight: 600; }} .ok {{ color: #1e6b34; }}
</style></head>
<body><main>
<h1>{title}</h1>
<p>Log in to review.</p>
{message}
<form method="post" action="{action}">
<label for="username">User name</label>
<input id="username" name="username" autocomplete="username" required autofocus value="{username}">
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password" required>
<input type="hidden" name="next" value="{next}">
<button type="submit">Log in</button>
</form>
</main></body></html>
"""


def load_secret(project_file: Path, given: str = "") -> str:
    """The secret that signs cookies: ``given`` (the cookie_secret setting) when set, else
    the contents of ``PROJECT.secret`` beside the project file, created (mode 0600) on first
    use so logins survive a server restart."""
    if given:
        return given
    path = project_file.with_suffix(".secret")
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        secret = path.read_text(encoding="ascii").strip()
        if len(secret) >= 32:
            return secret
        path.unlink()
        return load_secret(project_file)
    with os.fdopen(fd, "w", encoding="ascii") as out:
        out.write(secrets.token_hex(32) + "\n")
        out.flush()
        os.fsync(out.fileno())
    return path.read_text(encoding="ascii").strip()


def _safe_next(value: str) -> str:
    """A path on this server to go to after logging in; anything else becomes /review.

    Refuses absolute URLs, scheme-relative ones (``//host``), backslashes and control
    characters (browsers drop tabs and newlines, so ``/\t/host`` would become ``//host``).
    """
    if not value or any(ord(c) < 0x20 or ord(c) == 0x7F for c in value) or "\\" in value:
        return "/review"
    parts = urlsplit(value)
    if parts.scheme or parts.netloc or not value.startswith("/") or value.startswith("//"):
        return "/review"
    return value


def user_from_cookie(secret: str, cookie: str | None, max_age_days: int) -> str | None:
    """The user name in a signed ``user`` cookie, or None when it is missing, forged or too
    old. (Panel's ``pn.state.user`` also honours an unsigned ``is_guest`` cookie.)"""
    if not cookie:
        return None
    value = decode_signed_value(secret, COOKIE, cookie, max_age_days=max_age_days)
    return None if value is None else value.decode("utf-8")


class _Handler(tornado.web.RequestHandler):
    app: Host  # set on the subclass made by StoreAuthProvider

    def page(
        self, *, message: str = "", kind: str = "error", username: str = "", status: int = 200
    ) -> None:
        note = f'<p class="{kind}" role="alert">{html.escape(message)}</p>' if message else ""
        self.set_status(status)
        self.set_header("Content-Type", "text/html; charset=utf-8")
        self.set_header("Cache-Control", "no-store")
        self.finish(
            _PAGE.format(
                title=html.escape(self.app.project.title),
                message=note,
                action="/login",
                username=html.escape(username),
                next=html.escape(_safe_next(self.get_argument("next", "/review"))),
            )
        )


class _Login(_Handler):
    def get(self) -> None:
        if self.get_argument("logged_out", ""):
            self.page(message="You are logged out.", kind="ok")
        else:
            self.page()

    def post(self) -> None:
        origin = self.request.headers.get("Origin")
        if origin and urlsplit(origin).netloc != self.request.host:  # a cross-site form post
            self.page(message="Log in from this site's own login page.", status=403)
            return
        username = self.get_argument("username", "").strip()
        password = self.get_argument("password", "")
        account = self.app.store().verify_password(username, password) if username else None
        if account is None:
            self.page(message="Wrong user name or password.", username=username, status=401)
            return
        self.set_secure_cookie(
            COOKIE,
            account.username,
            expires_days=self.app.settings.session_days,
            httponly=True,
            samesite="Lax",
        )
        target = _safe_next(self.get_argument("next", "/review"))
        if target == "/review" and account.role == "researcher":
            target = "/admin"  # a researcher's home; the review page is one click away
        self.redirect(target)


class _Logout(_Handler):
    def get(self) -> None:
        self.clear_cookie(COOKIE)
        self.redirect("/login?logged_out=1")


class StoreAuthProvider(AuthProvider):
    """Bokeh auth hooks: our login/logout handlers and a cookie check on every request."""

    def __init__(self, app: Host) -> None:
        self.app = app
        self._login = type("LoginHandler", (_Login,), {"app": app})
        self._logout = type("LogoutHandler", (_Logout,), {"app": app})
        super().__init__()

    @property
    def get_user(self) -> Any:
        def get_user(handler: tornado.web.RequestHandler) -> str | None:
            raw = handler.get_secure_cookie(COOKIE, max_age_days=self.app.settings.session_days)
            if not raw:
                return None
            username = raw.decode("utf-8")
            account = self.app.store().get_reviewer(username)
            return username if account is not None and account.active else None

        return get_user

    @property
    def login_url(self) -> str:
        return "/login"  # Tornado adds ?next=<the page asked for>

    @property
    def login_handler(self) -> type[tornado.web.RequestHandler]:
        return self._login

    @property
    def logout_url(self) -> str:
        return "/logout"

    @property
    def logout_handler(self) -> type[tornado.web.RequestHandler]:
        return self._logout
