"""Logging in through an OAuth provider (Panel's generic one) against a provider on loopback:
the provider says who the user is, the judgment store says whether they may come in and what
they may open."""

from __future__ import annotations

import asyncio
import http.client
import json
import threading
import urllib.parse
from pathlib import Path

import pytest
import tornado.web

from interpret_review.judgments import JudgmentStore
from interpret_review.review import load_project

from ..conftest import free_port


class Provider:
    """A minimal OAuth 2 authorization server: /authorize hands out a code for whoever
    ``user`` is at the moment, /token trades it for a token, /userinfo names the user."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.user = ""
        self.codes: dict[str, str] = {}
        self.tokens: dict[str, str] = {}
        provider = self

        class Authorize(tornado.web.RequestHandler):
            def get(self) -> None:
                code = f"code-{len(provider.codes)}"
                provider.codes[code] = provider.user
                target = self.get_argument("redirect_uri")
                query = urllib.parse.urlencode({"code": code, "state": self.get_argument("state")})
                self.redirect(f"{target}?{query}")

        class Token(tornado.web.RequestHandler):
            def post(self) -> None:
                if self.get_argument("client_secret") != "s3cret":
                    raise tornado.web.HTTPError(401)
                user = provider.codes.pop(self.get_argument("code"))
                token = f"token-{user}"
                provider.tokens[token] = user
                self.write({"access_token": token, "token_type": "bearer"})

        class UserInfo(tornado.web.RequestHandler):
            def get(self) -> None:
                token = self.request.headers.get("Authorization", "").removeprefix("Bearer ")
                self.write({"email": provider.tokens[token]})

        self.app = tornado.web.Application(
            [("/authorize", Authorize), ("/token", Token), ("/userinfo", UserInfo)]
        )
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.app.listen(self.port, address="127.0.0.1")
        self.loop.run_forever()

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)


@pytest.fixture
def provider():
    running = Provider()
    yield running
    running.stop()


class Browser:
    """Just enough of a browser: follows redirects on both servers and keeps cookies."""

    def __init__(self) -> None:
        self.cookies: dict[tuple[int, str], str] = {}

    def get(self, url: str, hops: int = 10) -> tuple[int, str, str]:
        for _ in range(hops):
            parts = urllib.parse.urlsplit(url)
            connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
            jar = "; ".join(
                f"{k}={v}" for (port, k), v in self.cookies.items() if port == parts.port
            )
            path = parts.path + (f"?{parts.query}" if parts.query else "")
            connection.request("GET", path, headers={"Cookie": jar} if jar else {})
            response = connection.getresponse()
            body = response.read().decode("utf-8", "replace")
            for header in response.headers.get_all("Set-Cookie") or []:
                name, _, rest = header.partition("=")
                self.cookies[(parts.port, name)] = rest.split(";")[0]
            connection.close()
            if response.status not in (301, 302, 303, 307):
                return response.status, url, body
            url = urllib.parse.urljoin(url, response.getheader("Location"))
        raise AssertionError("too many redirects")


def test_oauth_login_with_accounts_and_roles_from_the_store(
    tiny_project: Path, server_for, provider: Provider
) -> None:
    text = tiny_project.read_text() + '\n[[reviewers]]\nusername = "olga@lab.org"\n'
    tiny_project.write_text(text)  # an account with no password: OAuth only
    port = free_port()
    env = {
        "INTERPRET_REVIEW_OAUTH_PROVIDER": "generic",
        "INTERPRET_REVIEW_OAUTH_KEY": "interpret-review",
        "INTERPRET_REVIEW_OAUTH_SECRET": "s3cret",
        "INTERPRET_REVIEW_OAUTH_REDIRECT_URI": f"http://127.0.0.1:{port}/login",
        "INTERPRET_REVIEW_OAUTH_EXTRA_PARAMS": json.dumps(
            {
                "AUTHORIZE_URL": provider.url + "/authorize",
                "TOKEN_URL": provider.url + "/token",
                "USER_URL": provider.url + "/userinfo",
            }
        ),
    }
    server = server_for(tiny_project, port=port, env=env)
    with JudgmentStore(load_project(tiny_project).database_url) as store:
        assert store.get_reviewer("olga@lab.org").role == "reviewer"

    provider.user = "olga@lab.org"
    olga = Browser()
    status, url, body = olga.get(server.url + "/review")
    assert status == 200 and url == server.url + "/review" and "<html" in body.lower()
    assert any(name == "user" for _, name in olga.cookies)  # signed by the app's secret
    status, _, body = olga.get(server.url + "/admin")
    assert status == 403  # a reviewer, whoever the provider says she is

    provider.user = "stranger@example.org"  # known to the provider, not to the project
    status, _, body = Browser().get(server.url + "/review")
    assert status == 403 and "not authorized" in body

    provider.user = "rita"  # the project's researcher
    rita = Browser()
    assert rita.get(server.url + "/admin")[0] == 200
    with JudgmentStore(load_project(tiny_project).database_url) as store:
        store.set_active("olga@lab.org", False)
    assert olga.get(server.url + "/review")[0] == 403  # locked out at the next request
