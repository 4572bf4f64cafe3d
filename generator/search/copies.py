"""The copy of a post that Pagefind indexes: its title, summary and body as text in their elements,
nothing else of the page.

The page itself holds much a search should not find: the masthead and footer, the contents list,
the provenance record, each formula three times (MathML, KaTeX's HTML and, in the MathML's
annotation, the TeX the author wrote), figures' SVG (tick labels), widgets' controls and readouts.
The copy keeps the TeX of each formula as text, the headings with their ids (Pagefind's sub-results:
the section a match is in, linked to its anchor), prose, tables, code, captions, image alt text;
and the elements' names only, so words in neighbouring cells or paragraphs stay apart.
"""

from __future__ import annotations

import re
from html import escape
from html.parser import HTMLParser

# Dropped with everything inside them: not text a reader reads (or, for math, read another way).
DROP_TAGS = frozenset({"script", "style", "template", "svg", "math", "button", "select", "textarea",
                       "noscript", "input", "output", "iframe", "object", "canvas", "audio", "video"})
# Classes of what the page shows besides the author's text: section numbers and tags, a widget's
# controls, readouts and status, footnote back-links.
DROP_CLASSES = frozenset({"section-num", "section-tag", "widget-controls", "widget-readouts", "widget-status",
                          "footnote-backref", "katex-html"})
HEADINGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})
VOID = frozenset({"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param",
                  "source", "track", "wbr"})
TEX = "application/x-tex"


class _Copier(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.open: list[str] = []  # the elements open in the body, innermost last
        self.skip_at: int | None = None  # depth of the dropped element being passed over
        self.formula_at: int | None = None  # depth of the KaTeX formula whose TeX is being read
        self.tex: list[str] | None = None  # inside its annotation: the TeX read so far

    def handle_starttag(self, tag, attrs):
        self._start(tag, dict(attrs), void=tag in VOID)

    def handle_startendtag(self, tag, attrs):
        self._start(tag, dict(attrs), void=True)

    def _start(self, tag, attrs, void):
        inside = self.skip_at is not None or self.formula_at is not None
        if not void:
            self.open.append(tag)
        if inside:
            if (self.formula_at is not None and self.skip_at is None and tag == "annotation"
                    and attrs.get("encoding") == TEX and not void):
                self.tex = []
            return
        classes = set((attrs.get("class") or "").split())
        if tag in DROP_TAGS or classes & DROP_CLASSES or attrs.get("aria-hidden") == "true" \
                or "hidden" in attrs or "data-pagefind-ignore" in attrs:
            if not void:
                self.skip_at = len(self.open)
            return
        if "katex" in classes and not void:  # a formula: its TeX replaces it (KaTeX's MathML holds it)
            self.formula_at = len(self.open)
            return
        if tag == "img":
            if attrs.get("alt"):
                self.out.append(f"<span>{escape(attrs['alt'], quote=False)}</span>")
            return
        if tag in HEADINGS and attrs.get("id"):
            self.out.append(f'<{tag} id="{escape(attrs["id"])}">')
        else:
            self.out.append(f"<{tag}>")

    def handle_endtag(self, tag):
        if tag not in self.open:
            return  # a stray end tag
        while self.open:
            depth = len(self.open)
            name = self.open.pop()
            self._end(name, depth)
            if name == tag:
                break

    def _end(self, name, depth):
        if self.skip_at is not None:
            if depth == self.skip_at:
                self.skip_at = None
            return
        if self.formula_at is not None:
            if name == "annotation" and self.tex is not None:
                self.out.append(f"<span>{escape(''.join(self.tex).strip(), quote=False)}</span>")
                self.tex = None
            if depth == self.formula_at:
                self.formula_at = None
            return
        self.out.append(f"</{name}>")

    def handle_data(self, data):
        if self.skip_at is not None:
            return
        if self.formula_at is not None:
            if self.tex is not None:
                self.tex.append(data)
            return
        self.out.append(escape(data, quote=False))

    def result(self) -> str:
        self.close()
        while self.open:  # elements left open by raw HTML in a post
            depth = len(self.open)
            self._end(self.open.pop(), depth)
        return "".join(self.out)


# Most of a post's HTML is KaTeX's (each formula's MathML and its HTML, thousands of spans) and SVG:
# they are cut out first, by their tags alone, so the parser below reads a small page.
_FORMULA = re.compile(r'<span class="katex">')
_TEX = re.compile(r'<annotation encoding="application/x-tex">(.*?)</annotation>', re.S)
_TAGS = {name: re.compile(rf"<(/?){name}\b[^>]*?(/?)>", re.I) for name in ("span", "svg")}
_SVG = re.compile(r"<svg\b", re.I)


def _end_of(html: str, start: int, name: str) -> int:
    """Where the ``name`` element opening at ``start`` ends (after its end tag); the end of ``html``
    if it never does."""
    depth = 0
    for tag in _TAGS[name].finditer(html, start):
        if tag.group(2):  # <svg/>: opens nothing
            if depth == 0:
                return tag.end()
            continue
        depth += -1 if tag.group(1) else 1
        if depth == 0:
            return tag.end()
    return len(html)


def _cut(html: str, opening: re.Pattern, name: str, replace) -> str:
    parts, at = [], 0
    for found in opening.finditer(html):
        if found.start() < at:
            continue  # inside the element just cut
        end = _end_of(html, found.start(), name)
        parts += [html[at:found.start()], replace(found.start(), end)]
        at = end
    return "".join(parts) + html[at:] if parts else html


def _tex_of(html: str):
    def replace(start: int, end: int) -> str:
        tex = _TEX.search(html, start, end)
        return f"<span>{tex.group(1).strip()}</span>" if tex else ""  # the TeX, still escaped as in the page
    return replace


def body_text_html(html: str) -> str:
    """A post body's HTML reduced to what the search indexes (see the module's docstring)."""
    html = _cut(html, _FORMULA, "span", _tex_of(html))
    html = _cut(html, _SVG, "svg", lambda start, end: "")
    copier = _Copier()
    copier.feed(html)
    return copier.result()


def search_copy(title: str, summary: str, date: str, body_html: str) -> str:
    """The page Pagefind indexes for one post: its title (the result's title), date, summary and body."""
    summary_html = f"<p>{escape(summary, quote=False)}</p>" if summary else ""
    return ("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>" + escape(title, quote=False)
            + "</title></head>\n<body><main data-pagefind-body>\n"
            + f'<h1 data-pagefind-meta="title">{escape(title, quote=False)}</h1>\n'
            + f'<p data-pagefind-meta="date:{escape(date)}"></p>\n'
            + summary_html + "\n" + body_text_html(body_html) + "\n</main></body></html>\n")
