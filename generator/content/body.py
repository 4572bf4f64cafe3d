"""A post's rendered body: what the cache keeps between builds (a light module, so loading the
cache does not load markdown-it)."""

from __future__ import annotations

from dataclasses import dataclass, field

from labpress.content.frontmatter import PostMeta


@dataclass
class RenderedBody:
    meta: PostMeta
    html: str = ""
    sections: list[dict] = field(default_factory=list)
    reading_minutes: int = 1
    math_count: int = 0
    widgets: list = field(default_factory=list)  # WidgetUse, in page order
    # Style attributes (KaTeX's) in ``html`` are classes; these are their rules (see math/styles.py).
    style_rules: dict[str, str] = field(default_factory=dict)
    # (kind "file" or "folder", absolute path, digest) of what build-time code and blocks read (figure and
    # run blocks, data tables, the theme's stylesheet for figures): the rendered-post cache renders the post
    # again when one of them changes, and the post's provenance record names them.
    inputs: tuple = ()
    # (kind "run" or "figure", 1-based line of the fence, sha256 of the code) of each code block run at build.
    code_blocks: tuple = ()
    # Cross-references (markdown/xref.py): {"labels": {label: [kind, number]}, "uses": [[slug, label, line, col]]},
    # the post's own labels, and the references to other posts' labels the site fills in when it writes pages.
    xref: dict = field(default_factory=dict)
