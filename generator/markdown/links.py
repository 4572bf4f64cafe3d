"""Links an author writes from the site root (``/other-post/``) follow the base URL,
so a notebook moved under a project-page sub-path keeps working."""

from __future__ import annotations

from markdown_it import MarkdownIt


def links_plugin(md: MarkdownIt) -> None:
    md.core.ruler.push("labpress_links", _prefix_root_links)


def _prefix_root_links(state) -> None:
    base = state.env.get("base_path", "/")
    if base == "/":
        return
    for token in state.tokens:
        for child in token.children or []:
            for attr in ("href", "src"):
                value = child.attrGet(attr) if child.type in ("link_open", "image") else None
                if isinstance(value, str) and value.startswith("/") and not value.startswith("//"):
                    child.attrSet(attr, base + value[1:])
