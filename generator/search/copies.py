"""The copy of a post that Pagefind indexes: its title, summary and body as text in their elements,
nothing else of the page.

The page itself holds much a search should not find: the masthead and footer, the contents list,
the provenance record, each formula three times (MathML, KaTeX's HTML and, in the MathML's
annotation, the TeX the author wrote), figures' SVG (tick labels), widgets' controls and readouts.
The copy keeps the TeX of each formula as text, the headings with their ids (Pagefind's sub-results:
the section a match is in, linked to its anchor), prose, tables, code, captions, image alt text;
and the elements' names only, so words in neighbouring cells or paragraphs stay apart. Text is
left as the page has it (its character references are Pagefind's to read).

Speed matters (a clean build copies every post, and most of a post's HTML is KaTeX's: often a
hundred spans a formula), so nothing here reads the page tag by tag in Python: each formula is
replaced by its TeX and each element to leave out is cut by counting its own tags (found by
splitting or by regular expressions), and the remaining tags lose their attributes in one pass.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from html import escape, unescape
from itertools import accumulate
from operator import add, itemgetter

# Left out with everything inside them: not text a reader reads (or, for math, read another way).
DROP_TAGS = frozenset({"script", "style", "template", "svg", "math", "button", "select", "textarea",
                       "noscript", "input", "output", "iframe", "object", "canvas", "audio", "video"})
# Classes of what the page shows besides the author's text: section numbers and tags, a widget's
# controls, readouts and status, footnote back-links, KaTeX's HTML, and the text a table header of
# only maths is read as (its MathML's: the formula is indexed by its TeX).
DROP_CLASSES = frozenset({"section-num", "section-tag", "widget-controls", "widget-readouts", "widget-status",
                          "footnote-backref", "katex-html", "math-spoken"})
VOID = frozenset({"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param",
                  "source", "track", "wbr"})

_ATTRS = r"""(?:[^>"']|"[^"]*"|'[^']*')*"""  # a tag's attributes, quoted values may hold ">"
_FORMULA = '<span class="katex">'
_TEX = re.compile(r'<annotation encoding="application/x-tex">(.*?)</annotation>', re.S)
_NOT_MARKUP = re.compile(r"<!--.*?(?:-->|$)|<[!?][^>]*>", re.S)  # comments, doctypes
# Start tags left out by their name; and what in a tag may say it is left out (checked after).
_DROP_TAG = re.compile(rf"""<({"|".join(sorted(DROP_TAGS))})\b""", re.I)
_DROP_HINT = re.compile(rf"""hidden|data-pagefind-ignore|{"|".join(sorted(DROP_CLASSES))}""")
_START_TAG = re.compile(rf"<([a-zA-Z][a-zA-Z0-9-]*)({_ATTRS})>")
_ATTRIBUTE = re.compile(r"""([^\s"'>/=]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+)))?""")
_TAG_PATTERNS: dict[str, re.Pattern] = {}


def _attributes(text: str) -> dict[str, str | None]:
    found = {}
    for attribute in _ATTRIBUTE.finditer(text):
        name, *values = attribute.groups()
        value = next((v for v in values if v is not None), None)
        found.setdefault(name.lower(), None if value is None else unescape(value))
    return found


def _dropped(attrs: dict) -> bool:
    return (attrs.get("aria-hidden") == "true" or "hidden" in attrs or "data-pagefind-ignore" in attrs
            or bool(set((attrs.get("class") or "").split()) & DROP_CLASSES))


def _positions(html: str, needle: str) -> list[int]:
    """Where ``needle`` occurs in ``html``, in order: the i-th is after the first i + 1 pieces between
    them and i needles (all in C: no match objects, no Python loop)."""
    pieces = html.split(needle)[:-1]
    return list(map(add, accumulate(map(len, pieces)), range(0, len(needle) * len(pieces), len(needle))))


def _formulas_as_tex(html: str) -> str:
    """Each KaTeX formula (``<span class="katex">`` and everything in it) replaced by its TeX."""
    start = html.find(_FORMULA)
    if start < 0:
        return html
    opens, closes = _positions(html, "<span"), _positions(html, "</span>")
    parts, at = [], 0
    while start >= 0:
        # The formula ends at the first </span> by which as many spans have closed as opened since it.
        first_open, first_close = bisect_left(opens, start), bisect_left(closes, start)
        index, end = first_close, len(html)
        while index < len(closes):
            opened = bisect_left(opens, closes[index]) - first_open
            closed = index - first_close + 1
            if opened == closed:
                end = closes[index] + len("</span>")
                break
            index += opened - closed  # it cannot end before that many more have closed
        tex = _TEX.search(html, start, end)
        parts += [html[at:start], f"<span>{tex.group(1).strip()}</span>" if tex else ""]  # still escaped
        at = end
        start = html.find(_FORMULA, end)
    return "".join(parts) + html[at:]


def _end_of(html: str, start: int, name: str) -> int:
    """Where the ``name`` element whose start tag is at ``start`` ends, after its end tag (counting
    only ``name``'s own tags); just after the start tag when it is never closed."""
    pattern = _TAG_PATTERNS.get(name)
    if pattern is None:
        pattern = _TAG_PATTERNS[name] = re.compile(rf"<(/?){re.escape(name)}\b{_ATTRS}?(/?)>", re.I)
    depth, first = 0, None
    for tag in pattern.finditer(html, start):
        if first is None:
            first = tag.end()
            if tag.group(2) or name in VOID:
                return first  # <svg/>, <input>: nothing inside
        if tag.group(2):
            continue
        depth += -1 if tag.group(1) else 1
        if depth == 0:
            return tag.end()
    return first if first is not None else len(html)


def _without_dropped(html: str) -> str:
    # Where the tags to leave out start: by name, and the tags around a hint (a word in a text is no tag).
    starts = {found.start() for found in _DROP_TAG.finditer(html)}
    for hint in _DROP_HINT.finditer(html):
        start = html.rfind("<", 0, hint.start())
        if start >= 0 and html.find(">", start, hint.start()) < 0:
            starts.add(start)
    parts, at = [], 0
    for start in sorted(starts):
        if start < at:
            continue  # inside what was just cut
        tag = _START_TAG.match(html, start)
        if tag is None:
            continue
        name = tag.group(1).lower()
        if name not in DROP_TAGS and not _dropped(_attributes(tag.group(2))):
            continue
        parts.append(html[at:start])
        at = _end_of(html, start, name)
    return "".join(parts) + html[at:] if parts else html


# A tag up to its ">", its name in group 1: what replaces the match (itemgetter: no Python per tag).
_PLAIN_TAG = re.compile(rf"(</?(?!(?:h[1-6]|img)\b)[a-zA-Z][a-zA-Z0-9:-]*){_ATTRS}(?=>)", re.I)
_KEPT_TAG = re.compile(rf"<(/?)((?:h[1-6]|img)\b)({_ATTRS})>", re.I)


def _kept_tag(tag: re.Match) -> str:
    slash, name = tag.group(1), tag.group(2).lower()
    if slash:
        return f"</{name}>"
    if name == "img":
        alt = _attributes(tag.group(3)).get("alt")
        return f"<span>{escape(alt, quote=False)}</span>" if alt else ""
    ident = _attributes(tag.group(3)).get("id")
    return f'<{name} id="{escape(ident)}">' if ident else f"<{name}>"  # an id: a section Pagefind names


def body_text_html(html: str) -> str:
    """A post body's HTML reduced to what the search indexes (see the module's docstring)."""
    html = _without_dropped(_NOT_MARKUP.sub("", _formulas_as_tex(html)))
    # Every tag without its attributes (in one pass, in C), but a heading's id and an image's alt text.
    return _KEPT_TAG.sub(_kept_tag, _PLAIN_TAG.sub(itemgetter(1), html))


def search_copy(title: str, summary: str, date: str, body_html: str, body_text: str | None = None) -> str:
    """The page Pagefind indexes for one post: its title (the result's title), date, summary and body
    (``body_text``: ``body_text_html(body_html)``, when the caller has it already)."""
    summary_html = f"<p>{escape(summary, quote=False)}</p>" if summary else ""
    return ("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>" + escape(title, quote=False)
            + "</title></head>\n<body><main data-pagefind-body>\n"
            + f'<h1 data-pagefind-meta="title">{escape(title, quote=False)}</h1>\n'
            + f'<p data-pagefind-meta="date:{escape(date)}"></p>\n'
            + summary_html + "\n" + (body_text if body_text is not None else body_text_html(body_html))
            + "\n</main></body></html>\n")
