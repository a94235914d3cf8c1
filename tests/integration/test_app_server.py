"""The served app over HTTP: every page needs a login, passwords are checked against the store,
cookies are signed, a deactivated account is locked out at its next request."""

from __future__ import annotations

import http.client
import urllib.parse
from pathlib import Path

import pytest

from interpret_review.judgments import JudgmentStore
from interpret_review.review import load_project

pytestmark = pytest.mark.slow  # every test starts a real server: not in test-fast


def request(server, method: str, path: str, body: dict | None = None, cookie: str = ""):
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    headers = {"Cookie": cookie} if cookie else {}
    data = None
    if body is not None:
        data = urllib.parse.urlencode(body)
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    connection.request(method, path, body=data, headers=headers)
    response = connection.getresponse()
    text = response.read().decode("utf-8", "replace")
    connection.close()
    return response, text


def login(server, username: str, password: str):
    return request(server, "POST", "/login", {"username": username, "password": password})


def cookie_of(response) -> str:
    return response.getheader("Set-Cookie").split(";")[0]


def test_pages_need_a_login_and_passwords_are_checked(tiny_project: Path, server_for) -> None:
    server = server_for(tiny_project)
    response, _ = request(server, "GET", "/review")
    assert response.status == 302 and "login?next=%2Freview" in response.getheader("Location")
    response, _ = request(server, "GET", "/")
    assert response.status in (301, 302)
    response, text = login(server, "alice", "wrong")
    assert response.status == 401 and "Wrong user name or password" in text
    assert response.getheader("Set-Cookie") is None
    response, text = login(server, "nobody", "alice-pw")
    assert response.status == 401
    response, _ = login(server, "alice", "alice-pw")
    assert response.status == 302 and response.getheader("Location") == "/review"
    set_cookie = response.getheader("Set-Cookie")
    assert "HttpOnly" in set_cookie and "SameSite=Lax" in set_cookie
    response, text = request(server, "GET", "/review", cookie=cookie_of(response))
    assert response.status == 200 and "<html" in text.lower()


def test_a_forged_or_tampered_cookie_is_refused(tiny_project: Path, server_for) -> None:
    server = server_for(tiny_project)
    response, _ = login(server, "alice", "alice-pw")
    name, value = cookie_of(response).split("=", 1)
    forged = f'{name}="2|1:0|10:1700000000|4:user|8:Ym9i|{"0" * 64}"'  # "bob", bad signature
    assert request(server, "GET", "/review", cookie=forged)[0].status == 302
    tampered = f"{name}={value.replace('YWxpY2U', 'Ym9iYm9i')}"
    assert request(server, "GET", "/review", cookie=tampered)[0].status == 302


def test_a_deactivated_account_is_locked_out(tiny_project: Path, server_for) -> None:
    server = server_for(tiny_project)
    response, _ = login(server, "alice", "alice-pw")
    cookie = cookie_of(response)
    assert request(server, "GET", "/review", cookie=cookie)[0].status == 200
    with JudgmentStore(load_project(tiny_project).database_url) as store:
        store.set_active("alice", False)
    assert request(server, "GET", "/review", cookie=cookie)[0].status == 302
    assert login(server, "alice", "alice-pw")[0].status == 401


def test_logout_clears_the_cookie_and_next_stays_local(tiny_project: Path, server_for) -> None:
    server = server_for(tiny_project)
    response, _ = request(server, "GET", "/logout")
    assert response.status == 302 and "logged_out" in response.getheader("Location")
    assert 'user=""' in response.getheader("Set-Cookie")
    response, _ = request(
        server,
        "POST",
        "/login",
        {"username": "alice", "password": "alice-pw", "next": "https://evil.example/"},
    )
    assert response.getheader("Location") == "/review"
    response, text = request(server, "GET", "/login?next=//evil.example")
    assert "evil.example" not in text


def test_the_secret_survives_a_restart(tiny_project: Path, server_for) -> None:
    server = server_for(tiny_project)
    cookie = cookie_of(login(server, "alice", "alice-pw")[0])
    server.stop()
    again = server_for(tiny_project)
    assert request(again, "GET", "/review", cookie=cookie)[0].status == 200
    secret = tiny_project.with_suffix(".secret")
    assert secret.stat().st_mode & 0o077 == 0  # readable by its owner only


def test_next_with_control_characters_and_cross_site_posts_are_refused(
    tiny_project: Path, server_for
) -> None:
    server = server_for(tiny_project)
    body = {"username": "alice", "password": "alice-pw", "next": "/\t/evil.example"}
    response, _ = request(server, "POST", "/login", body)
    assert response.status == 302 and response.getheader("Location") == "/review"
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    connection.request(
        "POST",
        "/login",
        body=urllib.parse.urlencode(body),
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Origin": "https://evil.example",
        },
    )
    response = connection.getresponse()
    assert response.status == 403 and response.getheader("Set-Cookie") is None
    connection.close()


def test_a_port_in_use_is_a_one_line_error(tiny_project: Path, server_for) -> None:
    import subprocess
    import sys

    server = server_for(tiny_project)
    result = subprocess.run(
        [sys.executable, "-m", "interpret_review.cli", "serve", str(tiny_project), "--port",
         str(server.port)],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert f"cannot listen on 127.0.0.1:{server.port}" in result.stderr


def test_the_admin_page_is_for_researchers_only(tiny_project: Path, server_for) -> None:
    server = server_for(tiny_project)
    response, _ = request(server, "GET", "/admin")
    assert response.status == 302 and "login?next=%2Fadmin" in response.getheader("Location")
    for username in ("alice", "bob"):  # a reviewer and an adjudicator
        cookie = cookie_of(login(server, username, f"{username}-pw")[0])
        response, text = request(server, "GET", "/admin", cookie=cookie)
        assert response.status == 403 and "not authorized" in text
        assert "rita" not in text and "neurons" not in text  # nothing of the project leaks
    response, _ = login(server, "rita", "rita-pw")
    assert response.getheader("Location") == "/admin"  # a researcher's home
    cookie = cookie_of(response)
    response, text = request(server, "GET", "/admin", cookie=cookie)
    assert response.status == 200 and "<html" in text.lower()
    with JudgmentStore(load_project(tiny_project).database_url) as store:
        store.set_role("rita", "reviewer")  # taken away: refused at the next request
    assert request(server, "GET", "/admin", cookie=cookie)[0].status == 403
