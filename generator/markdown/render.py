"""One post's Markdown to HTML: front matter, blocks, sections, math, tables, code."""

from __future__ import annotations

import math
import re
from functools import lru_cache

from markdown_it import MarkdownIt
from mdit_py_plugins.front_matter import front_matter_plugin

from labpress.config.schema import SiteConfig
from labpress.errors import ErrorSink
from labpress.content.frontmatter import FRONT_MATTER, PostMeta, normalise, parse_front_matter  # noqa: F401 (FRONT_MATTER: imported from here too)
from labpress.content.body import RenderedBody
from labpress.markdown.blocks import blocks_plugin
from labpress.markdown.citations import citations_plugin
from labpress.markdown.compute import compute_plugin
from labpress.markdown.datatables import datatables_plugin
from labpress.markdown.footnotes import footnotes_plugin
from labpress.markdown.highlight import highlight_code
from labpress.markdown.links import links_plugin
from labpress.markdown.math import math_plugin
from labpress.markdown.sections import sections_plugin
from labpress.markdown.source import SourceMap
from labpress.markdown.tables import tables_plugin
from labpress.markdown.widgets import widgets_plugin
from labpress.markdown.xref import xref_plugin

WORDS_PER_MINUTE = 220
_WORD = re.compile(r"\w+(?:['’-]\w+)*")
_OPENING = re.compile(r"---[ \t]*(\n|\Z)")


@lru_cache(maxsize=1)
def markdown_parser() -> MarkdownIt:
    # Typographer: curly quotes and dashes in prose (never in code or maths).
    md = MarkdownIt("commonmark", {"highlight": highlight_code, "typographer": True})
    md.enable(["strikethrough", "replacements", "smartquotes"])
    front_matter_plugin(md)
    blocks_plugin(md)
    math_plugin(md)
    widgets_plugin(md)
    compute_plugin(md)
    tables_plugin(md)
    datatables_plugin(md)  # ::: table PATH (after blocks_plugin, whose fence check it wraps)
    sections_plugin(md)
    links_plugin(md)
    xref_plugin(md)  # labels and @ references: after every plugin that labels items
    citations_plugin(md)  # [@key]: after xref_plugin; appends the post's references
    footnotes_plugin(md)  # last: its notes go after every section, once every other rule has seen them
    return md


def reading_minutes(tokens) -> int:
    """Minutes to read the prose: words outside code and math, at a steady pace."""
    words = 0
    for token in tokens:
        if token.type == "inline":
            for child in token.children or []:
                if child.type == "text":
                    words += len(_WORD.findall(child.content))
    return max(1, math.ceil(words / WORDS_PER_MINUTE))


def render_body(text: str, sink: ErrorSink, config: SiteConfig, katex, widget_library=None,
                cache_dir=None) -> RenderedBody:
    # Lines as markdown-it counts them (it reads a lone CR as a line break too), so positions agree.
    text = normalise(text)
    match = FRONT_MATTER.match(text)
    if not match:
        if not text.strip():
            sink.add(1, 1, "the post is empty: it starts with front matter between '---' lines, with at least"
                           " 'title' and 'date'")
        elif _OPENING.match(text):
            sink.add(1, 1, "front matter is never closed: end it with a line '---'")
        else:
            sink.add(1, 1, "a post starts with front matter between '---' lines, with at least 'title' and 'date'")
        return RenderedBody(PostMeta())
    meta = parse_front_matter(match.group(1) or "", 2, sink, config)
    env = {"sink": sink, "katex": katex, "meta": meta, "source": SourceMap(text),
           "base_path": config.base_path, "url": config.url, "widget_library": widget_library,
           "cache_dir": cache_dir,  # None: no cache (figures are redrawn)
           "config": config}
    md = markdown_parser()
    tokens = md.parse(text, env)
    html = md.renderer.render(tokens, md.options, env)
    return RenderedBody(
        meta=meta,
        html=html,
        sections=env.get("sections", []),
        reading_minutes=reading_minutes(tokens),
        math_count=env.get("math_count", 0),
        widgets=env.get("widgets", []),
        style_rules=env.get("style_rules", {}),
        inputs=tuple(env.get("inputs", ())),
        code_blocks=tuple(env.get("code_blocks", ())),
        xref=env.get("xref", {}),
    )
