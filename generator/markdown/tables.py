"""GitHub tables, labelled ``DATA TABLE n=<rows>`` and scrollable on a phone.

A paragraph right after a table (or right before it) that starts with ``:`` or ``Table:`` is its
caption, as in Pandoc, and may end with a label: ``: Titration of acetic acid {#tbl-titration}``.
A labelled table is numbered (Table 1, 2…, shared with data tables) and ``@tbl-titration``
refers to it (markdown/xref.py).
"""

from __future__ import annotations

import re

from markdown_it import MarkdownIt

from labpress.markdown.sections import interactive_tag

_CAPTION = re.compile(r"(?:Table)?:[ \t]+(?P<text>.*?)(?:[ \t]*\{#(?P<label>[^{}\s]*)\})?[ \t]*", re.S)


def tables_plugin(md: MarkdownIt) -> None:
    md.enable("table")
    md.core.ruler.before("inline", "labpress_table_captions", _captions)
    md.add_render_rule("table_caption_open", lambda self, tokens, idx, options, env: "")
    md.add_render_rule("table_caption_close", _render_caption_close)
    md.add_render_rule("table_open", _render_table_open)
    md.add_render_rule("table_close", _render_table_close)
    md.add_render_rule("heading_close", _render_heading_close)


def _caption_at(tokens, start: int):
    """The caption paragraph's three tokens starting at ``start``, or None."""
    if start < 0 or start + 2 >= len(tokens):
        return None
    opening, inline, closing = tokens[start:start + 3]
    if opening.type != "paragraph_open" or inline.type != "inline" or closing.type != "paragraph_close":
        return None
    match = _CAPTION.fullmatch(inline.content)
    return (opening, inline, closing, match) if match else None


def _captions(state) -> None:
    """Move each table's caption paragraph to just after its ``table_open``, where it is rendered."""
    tokens = state.tokens
    env = state.env
    i = 0
    while i < len(tokens):
        if tokens[i].type != "table_open":
            i += 1
            continue
        opening = i
        level = tokens[i].level
        close = next(j for j in range(i, len(tokens)) if tokens[j].type == "table_close" and tokens[j].level == level)
        after = _caption_at(tokens, close + 1)
        before = None if after else _caption_at(tokens, opening - 3)
        found = after or before
        if not found or found[0].level != level:
            i = close + 1
            continue
        paragraph_open, inline, paragraph_close, match = found
        start = close + 1 if after else opening - 3
        del tokens[start:start + 3]
        if before:
            opening -= 3
        paragraph_open.type, paragraph_close.type = "table_caption_open", "table_caption_close"
        inline.content = match.group("text")
        tokens[opening + 1:opening + 1] = [paragraph_open, inline, paragraph_close]
        table = tokens[opening]
        table.meta["caption"] = True
        if match.group("label") is not None and inline.map:
            line0 = inline.map[0] + match.group(0).count("\n", 0, match.start("label"))
            source_line = env["source"].lines[line0] if line0 < len(env["source"].lines) else ""
            table.meta["xref_label"] = (match.group("label"), line0 + 1, max(source_line.rfind("{#") + 1, 1))
        i = opening + 4


def _caption_html(meta: dict) -> str:
    """The opening of a caption's text: "Table 1:" when the table is labelled."""
    xref = meta.get("xref")
    return f'<span class="xref-label">Table {xref["number"]}:</span> ' if xref else ""


def _render_caption_close(self, tokens, idx, options, env) -> str:
    label = tokens[idx].meta["label_id"]
    return (f'</span></figcaption>\n<section class="table-scroll" tabindex="0" aria-labelledby="{label}">\n'
            "<table>\n")


def _render_table_open(self, tokens, idx, options, env) -> str:
    rows = 0
    in_body = False
    for token in tokens[idx + 1:]:
        if token.type == "table_close":
            break
        if token.type == "tbody_open":
            in_body = True
        elif token.type == "tr_open" and in_body:
            rows += 1
    env["table_count"] = env.get("table_count", 0) + 1
    label = f"table-{env['table_count']}"
    table = tokens[idx]
    if table.meta.get("caption"):  # its caption's tokens follow, then table_caption_close opens the table
        tokens[idx + 3].meta["label_id"] = label
        xref = table.meta.get("xref")
        figure_id = f' id="{xref["name"]}"' if xref else ""
        return (
            f'<figure class="data-table"{figure_id} aria-labelledby="{label}">\n'
            f'<figcaption id="{label}"><span class="data-table-label">Data table</span> n={rows}'
            f' <span class="data-table-caption">{_caption_html(table.meta)}'
        )
    return (
        f'<figure class="data-table" aria-labelledby="{label}">\n'
        f'<figcaption id="{label}"><span class="data-table-label">Data table</span> n={rows}</figcaption>\n'
        f'<section class="table-scroll" tabindex="0" aria-labelledby="{label}">\n<table>\n'
    )


def _render_table_close(self, tokens, idx, options, env) -> str:
    return "</table>\n</section>\n</figure>\n"


def _render_heading_close(self, tokens, idx, options, env) -> str:
    # Numbered section headings wrap their title in a span (see sections.py).
    for j in range(idx - 1, max(idx - 3, -1), -1):
        if tokens[j].type == "heading_open":
            section = tokens[j].meta.get("section")
            if section:
                return interactive_tag(section) + "</span></h2>\n"
            break
    return self.renderToken(tokens, idx, options, env)
