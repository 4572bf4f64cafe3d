"""GitHub tables, labelled ``DATA TABLE n=<rows>`` and scrollable on a phone."""

from __future__ import annotations

from markdown_it import MarkdownIt

from labpress.markdown.sections import interactive_tag


def tables_plugin(md: MarkdownIt) -> None:
    md.enable("table")
    md.add_render_rule("table_open", _render_table_open)
    md.add_render_rule("table_close", _render_table_close)
    md.add_render_rule("heading_close", _render_heading_close)


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
