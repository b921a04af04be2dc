# Copyright 2026 The SLLM-HF authors. Licensed under the Apache License, Version 2.0.
"""
Safe text for model cards: names that come from files (class labels, dataset folders, model names, results files)
reach the card's Markdown as plain text, never as Markdown or HTML.

A label such as `a|b`, `run\\n---`, `<img src=x onerror=alert(1)>` or `[click](javascript:alert(1))` would otherwise
split a table row, start a new block, or inject an element or a link. [`markdown_text`] turns every line break and
control character into a space, escapes `&`, `<`, `>` and quotes as HTML entities (so no tag or autolink can form)
and backslash-escapes the Markdown punctuation that builds emphasis, code, links, images, headings, tables and
strikethrough. The result renders as the original text, on one line.
"""

import html
import re


__all__ = ["code_span", "markdown_text", "one_line"]

# line breaks, other control characters and the Unicode line/paragraph separators
_CONTROL = re.compile(r"[\x00-\x1f\x7f\u0085\u2028\u2029]+")
# CommonMark lets any ASCII punctuation be backslash-escaped; these are the ones that build inline syntax anywhere in
# a line (`&<>"'` become HTML entities instead: a backslash before them would show).
_MARKDOWN_PUNCTUATION = re.compile(r"([\\`*_\[\]#!|~$])")
# what starts a block only at the beginning of a line: a list item (`- x`, `+ x`, `1. x`, `1) x`), a thematic break
# or setext underline (`---`, `===`)
_BLOCK_START = re.compile(r"^(\d{0,9})([-+=.)])(?=[\s=-]|$)")


def one_line(value) -> str:
    """`str(value)` with line breaks and control characters as single spaces, stripped (for YAML values too)."""
    return _CONTROL.sub(" ", str(value)).strip()


def markdown_text(value) -> str:
    """
    `value` as Markdown that renders as its literal text on one line: safe in a paragraph, a heading and a table cell
    (`|` is escaped), with no HTML tag, entity, link, image or emphasis of its own.

    >>> markdown_text("a|b <img src=x onerror=alert(1)>")
    'a\\\\|b &lt;img src=x onerror=alert(1)&gt;'
    """
    text = _MARKDOWN_PUNCTUATION.sub(r"\\\1", one_line(value))
    text = _BLOCK_START.sub(r"\1\\\2", text)
    return html.escape(text, quote=True)


def code_span(value, in_table: bool = False) -> str:
    """
    `value` as an inline code span (`` `value` ``: shown literally, HTML included) on one line; as escaped text
    ([`markdown_text`]) when it holds a backtick, which would end the span. `in_table`: `|` escaped as GFM tables need
    even inside code.
    """
    text = one_line(value)
    if "`" in text or not text:
        return markdown_text(text)
    return f"`{text.replace('|', chr(92) + '|')}`" if in_table else f"`{text}`"
