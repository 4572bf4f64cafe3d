"""Numbered sections: every ``##`` heading and every hypothesis or conclusion block.

A core rule wraps each run of top-level tokens in a section token carrying its
number (01, 02, …) and a stable anchor id derived from its title. A ``##`` heading may
end with a label, ``## Method {#sec-method}``, as in Pandoc: the label is then its id,
and ``@sec-method`` refers to it (markdown/xref.py).
"""

from __future__ import annotations

import re

from markdown_it import MarkdownIt
from markdown_it.common.utils import escapeHtml
from markdown_it.token import Token

from labpress.content.slugs import slugify
from labpress.markdown.blocks import SECTION_BLOCKS, block_name
from labpress.markdown.xref import declared_names

# ids the page template itself uses; a heading never takes one of them.
RESERVED_IDS = frozenset({"main", "top", "content", "site-header", "site-footer", "theme-toggle"})


def unique_id(base: str, used: set[str], next_suffix: dict[str, int] | None = None) -> str:
    """``base``, or ``base-2``, ``base-3``…: the first not in ``used`` (which it joins).

    With ``next_suffix``, the search for a base goes on from where the last one for it stopped
    (every suffix before is taken, as ids are never given back), so a post of ten thousand
    headings called "Results" takes linear time, not quadratic.
    """
    n = next_suffix.get(base, 2) if next_suffix is not None else 2
    candidate = base if n == 2 else f"{base}-{n}"
    while candidate in used or candidate in RESERVED_IDS:
        candidate, n = f"{base}-{n}", n + 1
    if next_suffix is not None:
        next_suffix[base] = n
    used.add(candidate)
    return candidate


def plain_text(inline: Token) -> str:
    parts = []
    for child in inline.children or []:
        if child.type in ("text", "code_inline", "math_inline"):
            parts.append(child.content)
    return "".join(parts).strip()


_HEADING_LABEL = re.compile(r"[ \t]*\{#([^{}\s]*)\}[ \t]*$")


def sections_plugin(md: MarkdownIt) -> None:
    md.core.ruler.before("inline", "labpress_section_labels", _heading_labels)
    md.core.ruler.push("labpress_sections", _number_sections)
    md.add_render_rule("section_open", _render_section_open)
    md.add_render_rule("section_close", lambda self, tokens, idx, options, env: "</section>\n")
    md.add_render_rule("heading_open", _render_heading_open)


def _heading_labels(state) -> None:
    """A heading's ``{#sec-name}``, taken out of its text before the text is parsed."""
    env = state.env
    tokens = state.tokens
    for i, token in enumerate(tokens):
        if token.type != "heading_open" or i + 1 >= len(tokens) or not token.map:
            continue
        inline = tokens[i + 1]
        match = _HEADING_LABEL.search(inline.content)
        if not match:
            continue
        inline.content = inline.content[:match.start()]
        line0 = token.map[0]
        source_line = env["source"].lines[line0] if line0 < len(env["source"].lines) else ""
        col = source_line.rfind("{#") + 1
        if token.tag != "h2" or token.level != 0:
            env["sink"].add(line0 + 1, max(col, 1), "a label such as {#sec-method} goes on a '##' heading at the top"
                                                    " level of the post: the numbered sections are what it names")
            continue
        token.meta["xref_label"] = (match.group(1), line0 + 1, max(col, 1))


def _number_sections(state) -> None:
    env = state.env
    # Labels are ids too: a heading's slug never takes one (a labelled heading takes its own).
    used: set[str] = declared_names(state.tokens)
    claimed: set[str] = set()
    next_suffix: dict[str, int] = {}
    out: list[Token] = []
    number = 0
    open_section = False
    current: dict | None = None
    tokens = state.tokens
    for i, token in enumerate(tokens):
        starts = None
        if token.type == "labpress_widget" and current is not None:
            current["interactive"] = True
        if token.level == 0 and token.type == "heading_open":
            if token.tag == "h1":
                line = token.map[0] + 1
                env["sink"].add(line, 1, "use '##' for sections: the post's title is its only top-level heading")
            elif token.tag == "h2":
                title = plain_text(tokens[i + 1])
                starts = ("heading", title)
        elif token.level == 0 and token.type == "container_block_open" and block_name(token) in SECTION_BLOCKS:
            starts = (block_name(token), block_name(token).capitalize())
        if starts:
            if open_section:
                out.append(Token("section_close", "section", -1))
            kind, title = starts
            number += 1
            label = token.meta.get("xref_label", ("",))[0] if kind == "heading" else ""
            if label.startswith("sec-") and label not in claimed:
                anchor = label
                claimed.add(label)
            else:
                anchor = unique_id(slugify(title), used, next_suffix)
            section = Token("section_open", "section", 1)
            section.meta = {"number": f"{number:02d}", "id": anchor, "title": title, "kind": kind}
            section.map = token.map
            out.append(section)
            open_section = True
            current = section.meta
            if kind == "heading":
                token.meta["section"] = section.meta
            env.setdefault("sections", []).append(section.meta)
        out.append(token)
    if open_section:
        out.append(Token("section_close", "section", -1))
    state.tokens = out


def _render_section_open(self, tokens, idx, options, env) -> str:
    meta = tokens[idx].meta
    anchor = escapeHtml(meta["id"])
    html = f'<section class="section section--{meta["kind"]}" aria-labelledby="{anchor}">\n'
    if meta["kind"] != "heading":
        html += (f'<h2 id="{anchor}" class="section-heading"><span class="section-num">{meta["number"]}</span> '
                 f'<span class="section-title">{escapeHtml(meta["title"])}{interactive_tag(meta)}</span></h2>\n')
    return html


def interactive_tag(section: dict) -> str:
    return ' <span class="section-tag">interactive</span>' if section.get("interactive") else ""


def _render_heading_open(self, tokens, idx, options, env) -> str:
    token = tokens[idx]
    section = token.meta.get("section")
    if section:
        return (f'<h2 id="{escapeHtml(section["id"])}" class="section-heading">'
                f'<span class="section-num">{section["number"]}</span> <span class="section-title">')
    return self.renderToken(tokens, idx, options, env)
