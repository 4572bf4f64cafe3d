"""Experiment blocks written as ``::: name`` fences (mdit-py-plugins' container).

Every ``:::`` fence is parsed, then checked here: an unknown name, an unclosed
fence or a block in the wrong place is a content error at the fence.
"""

from __future__ import annotations

import re

from markdown_it import MarkdownIt
from markdown_it.common.utils import escapeHtml
from markdown_it.token import Token
from mdit_py_plugins.container import container_plugin

from labpress.errors import did_you_mean, shorten
from labpress.content.frontmatter import VERDICT_MARKS, VERDICT_PHRASES  # noqa: F401 (used here, and imported from here)

# Callouts (GitHub's and Quarto's set), each with the label it shows unless its fence gives a title.
CALLOUTS = {"note": "Note", "tip": "Tip", "important": "Important", "warning": "Warning", "caution": "Caution"}
# name -> where it may stand: "top" (a section of its own) or "anywhere".
BLOCKS = {
    "hypothesis": "top",
    "conclusion": "top",
    **{name: "anywhere" for name in CALLOUTS},
    "widget": "anywhere",  # its body is YAML, not Markdown: see markdown/widgets.py
    "table": "anywhere",  # '::: table PATH', its body YAML options, not Markdown: see markdown/datatables.py
}
SECTION_BLOCKS = ("hypothesis", "conclusion")
# A closing fence, inside as many blockquotes ('> ') and list items as its block.
_CLOSING = re.compile(r"^[ \t>]*(:{3,})\s*$")
_QUOTE_MARKER = re.compile(r"[ \t]{0,3}>[ \t]?")


def _fence_column(line: str, fence: str) -> int:
    """0-based column of a block's opening fence in its source line (after any '> ' or list marker)."""
    at = line.find(fence) if fence else -1
    return max(at, 0)


def _strip_quotes(line: str, depth: int) -> str:
    """``line`` without up to ``depth`` blockquote markers."""
    for _ in range(depth):
        marker = _QUOTE_MARKER.match(line)
        if not marker:
            break
        line = line[marker.end():]
    return line



def blocks_plugin(md: MarkdownIt) -> None:
    container_plugin(md, "block", marker=":", validate=lambda params, *args: True)
    md.core.ruler.after("block", "labpress_blocks", _check_blocks)
    md.add_render_rule("container_block_open", _render_open)
    md.add_render_rule("container_block_close", _render_close)


def block_name(token) -> str:
    return token.meta.get("name", "")


def _check_blocks(state) -> None:
    env = state.env
    sink = env["sink"]
    lines = env["source"].lines
    seen: dict[str, int] = {}
    stack: list = []
    all_names = {(t.info.split() or [""])[0].lower() for t in state.tokens if t.type == "container_block_open"}
    for token in state.tokens:
        if token.type == "container_block_open":
            words = token.info.split()
            name = words[0].lower() if words else ""
            token.meta["name"] = name
            line = token.map[0] + 1
            fence = token.markup or ":::"
            opening = lines[token.map[0]] if token.map[0] < len(lines) else ""
            col = _fence_column(opening, fence) + 1
            end = token.map[1]
            closing = _CLOSING.match(lines[end]) if end < len(lines) else None
            if not closing or len(closing.group(1)) < len(fence):
                sink.add(line, col, f"block '{shorten(name) or ':::'}' is never closed: end it with a line '{shorten(fence)}'")
            if not name:
                sink.add(line, col, "a ':::' block needs a name: one of " + ", ".join(BLOCKS))
            elif name not in BLOCKS:
                sink.add(line, col + len(fence) + 1, f"unknown block '{shorten(name)}'{did_you_mean(shorten(name), BLOCKS)};"
                                                     f" known blocks: {', '.join(BLOCKS)}")
            elif name == "widget":
                if len(words) != 2:
                    sink.add(line, col, "a widget block names one widget: '::: widget NAME'")
                    token.meta["name"] = ""
                else:
                    token.meta["widget"] = words[1]
            elif name in CALLOUTS:
                title = _callout_title(name, opening, col - 1 + len(fence), line, sink)
                if title:
                    token.meta["title"] = title
            elif len(words) > 1:
                sink.add(line, col, f"block '{name}' takes no arguments, found '{shorten(' '.join(words[1:]))}'")
            elif BLOCKS[name] == "top":
                if token.level != 0:
                    sink.add(line, col, f"block '{name}' must stand at the top level of the post, not inside a list, quote or other block")
                if name in seen:
                    sink.add(line, col, f"a post has one '{name}' block; the first is at line {seen[name]}")
                if name == "conclusion" and "hypothesis" not in seen and "hypothesis" in all_names:
                    sink.add(line, col, "the 'conclusion' block must come after the 'hypothesis' block")
                # Not when the front matter, or its verdict, is already an error: one mistake, one message.
                if name == "conclusion" and not env["meta"].verdict and env["meta"].known("verdict"):
                    sink.add(line, col, "the 'conclusion' block shows the verdict: add 'verdict:' to the front matter")
                seen.setdefault(name, line)
            stack.append(token)
        elif token.type == "container_block_close":
            token.meta["name"] = block_name(stack.pop())
    _collapse_widget_blocks(state)


def _callout_title(name: str, opening: str, after_name_from: int, line: int, sink) -> str | None:
    """The title of a callout's fence (``::: tip "Rule of thumb"``), or None; errors at their column.

    ``after_name_from`` is the 0-based column just after the fence's colons in ``opening``. The
    title is one string in straight double quotes, where ``\\"`` is a quote and ``\\\\`` a backslash.
    """
    at = after_name_from
    while at < len(opening) and opening[at] in " \t":
        at += 1
    at += len(name)  # the name, as written (any case)
    while at < len(opening) and opening[at] in " \t":
        at += 1
    rest = opening[at:].rstrip()
    if not rest:
        return None
    example = f'::: {name} "Rule of thumb"'
    if rest[0] != '"':
        sink.add(line, at + 1, f"the title of block '{name}' goes in double quotes, as in '{example}';"
                               f" found '{shorten(rest)}'")
        return None
    chars: list[str] = []
    i = 1
    while i < len(rest) and rest[i] != '"':
        if rest[i] == "\\" and i + 1 < len(rest) and rest[i + 1] in '"\\':
            i += 1
        chars.append(rest[i])
        i += 1
    if i >= len(rest):
        sink.add(line, at + 1, f"the title of block '{name}' is never closed: end it with '\"', as in '{example}'")
        return None
    after = rest[i + 1:]
    if after.strip():
        extra = at + i + 1 + (len(after) - len(after.lstrip()))
        sink.add(line, extra + 1, f"block '{name}' takes one title in double quotes; found"
                                  f" '{shorten(after.strip())}' after it")
        return None
    title = "".join(chars).strip()
    if not title:
        sink.add(line, at + 1, f"the title of block '{name}' is empty: leave the quotes out for"
                               f" '{CALLOUTS[name]}'")
        return None
    return title


def collapse_blocks(state, wanted, make) -> list[Token]:
    """Replace each block ``wanted(token)`` picks by the one token ``make(token, body, indent)`` returns;
    the new tokens.

    ``body`` is the block's text as written (YAML, for widget and table blocks): its lines without
    the '> ' of the quotes the block stands in and without the indentation of its fence, whose
    0-based column is ``indent``. Nested options keep their own indentation.
    """
    lines = state.env["source"].lines
    out, made = [], []
    skipping = 0
    for token in state.tokens:
        if skipping:
            if token.type == "container_block_open":
                skipping += 1
            elif token.type == "container_block_close":
                skipping -= 1
            continue
        if token.type == "container_block_open" and wanted(token):
            start, end = token.map
            opening = lines[start]
            indent = _fence_column(opening, token.markup)
            quotes = opening[:indent].count(">")
            inner = indent - (len(opening) - len(_strip_quotes(opening, quotes)))
            body_lines = (_strip_quotes(line, quotes) for line in lines[start + 1:min(end, len(lines))])
            body = "\n".join(line[inner:] if not line[:inner].strip() else line.lstrip() for line in body_lines)
            replacement = make(token, body, indent)
            replacement.block = True
            replacement.map = token.map
            replacement.level = token.level
            out.append(replacement)
            made.append(replacement)
            skipping = 1
            continue
        out.append(token)
    state.tokens = out
    return made


def _collapse_widget_blocks(state) -> None:
    """Replace each widget block's Markdown tokens by one token holding its raw YAML body."""

    def make(token, body: str, indent: int) -> Token:
        widget = Token("labpress_widget", "figure", 0)
        widget.meta = {"widget": token.meta["widget"], "body": body, "body_line": token.map[0] + 2,
                       "col": indent + 1, "indent": indent}
        return widget

    collapse_blocks(state, lambda token: token.meta.get("widget"), make)


def _render_open(self, tokens, idx, options, env) -> str:
    token = tokens[idx]
    name = block_name(token)
    if name == "hypothesis":
        return ('<div class="hypothesis-card">\n'
                '<p class="hypothesis-mark" aria-hidden="true">H₀</p>\n<div class="hypothesis-body">\n')
    if name == "conclusion":
        meta = env["meta"]
        mark = VERDICT_MARKS.get(meta.verdict, "")
        return (
            f'<div class="verdict-card verdict-card--{escapeHtml(meta.verdict)}">\n'
            f'<p class="verdict-label"><span aria-hidden="true">{mark}</span> {escapeHtml(meta.verdict_label)}</p>\n'
            f'<p class="verdict-phrase">{VERDICT_PHRASES.get(meta.verdict, "")}</p>\n'
            '<div class="verdict-body">\n'
        )
    if name in CALLOUTS:
        kind = CALLOUTS[name]
        title = token.meta.get("title")
        if not title:
            return (f'<aside class="callout callout--{name}" aria-label="{kind}">\n'
                    f'<p class="callout-label">{kind}</p>\n')
        return (f'<aside class="callout callout--{name}" aria-label="{kind}: {escapeHtml(title)}">\n'
                f'<p class="callout-label"><span class="callout-kind">{kind}</span>'
                f' <span class="callout-title">{escapeHtml(title)}</span></p>\n')
    return "<div>\n"


def _render_close(self, tokens, idx, options, env) -> str:
    name = block_name(tokens[idx])
    if name in ("hypothesis", "conclusion"):
        return "</div>\n</div>\n"
    if name in CALLOUTS:
        return "</aside>\n"
    return "</div>\n"
