"""Style attributes moved into a stylesheet, so pages work under a strict
Content-Security-Policy (``default-src 'self'``), which blocks inline styles.

KaTeX positions every glyph with ``style="height:…;vertical-align:…"``. Each
distinct declaration list becomes one class in a site-wide stylesheet; the
declarations are marked ``!important`` so they still win as inline styles do.
"""

from __future__ import annotations

import hashlib
import html
import re
from functools import lru_cache

_TAG_WITH_STYLE = re.compile(r'<[a-zA-Z][^<>]*?\sstyle="[^"]*"[^<>]*>')
_STYLE_ATTR = re.compile(r'\sstyle="([^"]*)"')
_CLASS_ATTR = re.compile(r'\sclass="([^"]*)"')
_STYLE_MARK = ' style="'


class InlineStyles:
    def __init__(self):
        self.rules: dict[str, str] = {}  # class name -> declarations
        self._tags: dict[str, str] = {}  # tag as written -> tag rewritten (KaTeX repeats the same few tags)

    def _class_for(self, style: str) -> str | None:
        declarations = [d.strip() for d in html.unescape(style).split(";") if d.strip()]
        if not declarations or any(c in style for c in "{}<\\") or any(":" not in d for d in declarations):
            return None  # empty or unusual: leave it inline
        body = ";".join(d if d.endswith("!important") else d + "!important" for d in declarations)
        name = "s-" + hashlib.sha256(body.encode("utf-8")).hexdigest()[:8]
        self.rules[name] = body
        return name

    def extract(self, page: str) -> tuple[str, dict[str, str]]:
        """The page with its style attributes replaced by classes, and the rules those classes need."""
        used: dict[str, str] = {}
        pieces: list[str] = []
        done = 0  # page[:done] is in pieces
        at = page.find(_STYLE_MARK)
        while at != -1:
            # A plain search for the attribute, then its tag's bounds: a regex for "a tag with
            # a style attribute" backtracks over every tag of the page, which is most of the time.
            start, end = page.rfind("<", done, at), page.find(">", at)
            if start == -1 or end == -1 or ">" in page[start:at]:
                at = page.find(_STYLE_MARK, at + 1)
                continue  # not inside a tag (text that happens to say style=")
            tag = page[start:end + 1]
            known = self._tags.get(tag)
            if known is None:
                known = self._tags[tag] = self._rewrite_tag(tag) if _TAG_WITH_STYLE.fullmatch(tag) else (tag, None)
            rewritten, name = known
            if name is not None:
                used[name] = self.rules[name]
                pieces += (page[done:start], rewritten)
                done = end + 1
            at = page.find(_STYLE_MARK, end + 1)
        pieces.append(page[done:])
        return "".join(pieces), dict(sorted(used.items()))

    def _rewrite_tag(self, tag: str) -> tuple[str, str | None]:
        style = _STYLE_ATTR.search(tag)
        name = self._class_for(style.group(1))
        if name is None:
            return tag, None
        tag = tag[:style.start()] + tag[style.end():]
        existing = _CLASS_ATTR.search(tag)
        if existing:
            return tag[:existing.end(1)] + " " + name + tag[existing.end(1):], name
        end = len(tag) - (2 if tag.endswith("/>") else 1)
        return tag[:end] + f' class="{name}"' + tag[end:], name

    @staticmethod
    def stylesheet(rules: dict[str, str]) -> str:
        return "".join(f".{name}{{{body}}}\n" for name, body in sorted(rules.items()))


@lru_cache(maxsize=1)
def shared() -> InlineStyles:
    """One per process: it remembers the tags (and formulas) it has already rewritten."""
    return InlineStyles()


@lru_cache(maxsize=8192)
def classed_formula(katex_html: str) -> tuple[str, dict[str, str]]:
    """A formula's HTML with its style attributes as classes, and their rules: notation repeats,
    so each distinct formula is rewritten once per process."""
    return shared().extract(katex_html)
