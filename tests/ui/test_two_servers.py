"""Two server processes sharing one PostgreSQL store, twenty reviewers in Chromium working at
once, half on each server: every item gets exactly its overlap of distinct reviewers and
every acknowledged judgment is stored exactly once."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest

from interpret_review.judgments import JudgmentStore
from tests.integration.conftest_db import postgres_database_url

REVIEWERS, OVERLAP, EXAMPLES = 20, 3, 12

PROJECT = """
[project]
name = "crowd"
database = "{database}"

[[runs]]
name = "tiny"
path = "{run}"

[[tasks]]
name = "maps"
kind = "attribution"
overlap = {overlap}
"""


@pytest.fixture
def postgres_database():
    yield from postgres_database_url()


@pytest.mark.postgres
def test_two_servers_twenty_reviewers(browser, server_for, tiny_run, tmp_path: Path,
                                      postgres_database: str) -> None:  # fmt: skip
    text = PROJECT.format(database=postgres_database, run=tiny_run.as_posix(), overlap=OVERLAP)
    text += "".join(
        f'\n[[reviewers]]\nusername = "r{i:02d}"\npassword = "pw-{i}"\n' for i in range(REVIEWERS)
    )
    path = tmp_path / "crowd.toml"
    path.write_text(text)
    servers = [server_for(path), server_for(path)]  # two processes, one database

    pages = []
    for i in range(REVIEWERS):
        context = browser.new_context(viewport={"width": 1200, "height": 900})
        page = context.new_page()
        page.goto(servers[i % 2].url + "/login")
        page.fill("#username", f"r{i:02d}")
        page.fill("#password", f"pw-{i}")
        page.click("button[type=submit]")
        page.wait_for_url(re.compile(r".*/review$"))
        page.locator("form.ir-form").wait_for(timeout=60_000)
        pages.append(page)

    def current(page) -> str | None:
        return page.evaluate("(window.__irShown || {}).key || null")

    for _ in range(4):  # rounds: everyone with an item answers it at about the same time
        busy = [(p, current(p)) for p in pages]
        busy = [(p, shown) for p, shown in busy if shown]
        if not busy:
            break
        for page, _shown in busy:
            for key in "yyy":
                page.keyboard.press(key)
            page.keyboard.press("Enter")
        for page, shown in busy:
            page.wait_for_function(
                "prev => (window.__irShown || {}).key !== prev", arg=shown, timeout=60_000
            )
    for page in pages:  # every answer acknowledged: nothing left in the browsers' queues
        page.wait_for_function(
            "() => Object.keys(localStorage).filter(k => k.endsWith(':pending'))"
            ".every(k => JSON.parse(localStorage[k]).length === 0)",
            timeout=60_000,
        )
    acked = [cid for p in pages for cid in (p.evaluate("window.__irStored || []"))]
    assert all(p.locator(".banner.done").count() == 1 for p in pages)

    with JudgmentStore(postgres_database) as store:
        stored = list(store.iter_judgments("crowd"))
    assert Counter(j.client_id for j in stored) == Counter(acked)  # each exactly once
    assert Counter(j.item for j in stored) == {
        f"attribution:tiny/{row}": OVERLAP for row in range(EXAMPLES)
    }
    assert len({(j.item, j.reviewer) for j in stored}) == len(stored) == EXAMPLES * OVERLAP
    assert len({j.reviewer for j in stored}) == REVIEWERS  # the work was spread
    for server in servers:
        assert "Traceback" not in server.stop()
