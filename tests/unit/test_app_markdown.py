"""Instructions are Markdown whose HTML is shown as text."""

from __future__ import annotations

from interpret_review.app.markdown import markdown_html


def test_markdown_renders() -> None:
    out = markdown_html("Look at **top** examples.\n\n| a | b |\n|---|---|\n| 1 | 2 |")
    assert "<strong>top</strong>" in out and "<table>" in out


def test_html_in_instructions_is_escaped() -> None:
    out = markdown_html('<script>alert(1)</script> <img src=x onerror="alert(2)">')
    assert "<script>" not in out and "<img" not in out
    assert "&lt;script&gt;" in out


def test_javascript_links_are_dropped() -> None:
    out = markdown_html("[click](javascript:alert(1)) [ok](https://example.org)")
    assert "javascript:" not in out.split("[click]")[0]
    assert 'href="javascript' not in out and 'href="https://example.org"' in out
