"""Instructions in Markdown, rendered to HTML with raw HTML switched off.

A task's instructions are written by a researcher but shown to every reviewer, so they are
treated as untrusted: ``<script>`` or any other tag in the text is shown as text, and
``javascript:`` links are dropped (markdown-it refuses them).
"""

from __future__ import annotations

from markdown_it import MarkdownIt

__all__ = ["markdown_html"]


def markdown_html(text: str) -> str:
    """``text`` (CommonMark plus tables) as HTML, with any HTML in it escaped."""
    renderer = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
    return renderer.enable("table").render(text or "")
