"""Atom feed and sitemap, with absolute URLs, built as XML trees (never by string pasting).

A feed entry carries each formula once, as MathML: KaTeX's HTML rendering (``span.katex-html``)
needs the page's stylesheet and fonts, which feed readers drop, and would show the formula a
second time, garbled; so would the text a table header of only maths is read as on the page
(``span.math-spoken``, markdown/math.py), whose MathML is then read again."""

from __future__ import annotations

import datetime as dt
import re
import xml.etree.ElementTree as ET

ATOM = "http://www.w3.org/2005/Atom"
SITEMAP = "http://www.sitemaps.org/schemas/sitemap/0.9"
FEED_SIZE = 20


def _timestamp(day: dt.date) -> str:
    return f"{day.isoformat()}T00:00:00Z"


def _xml(root: ET.Element) -> str:
    ET.indent(root)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


_KATEX_HTML = re.compile(r'<span class="(?:katex-html|math-spoken)[ "]')
_SPAN = re.compile(r"<span\b|</span>")


def mathml_only(html: str) -> str:
    """``html`` without KaTeX's HTML rendering of its formulas (nor the spoken text of a header): their
    MathML (``<math>``) stays, read by screen readers everywhere."""
    pieces, done = [], 0
    found = _KATEX_HTML.search(html)
    while found:
        start = found.start()
        depth, end = 0, None
        for tag in _SPAN.finditer(html, start):
            depth += 1 if tag.group() == "<span" else -1
            if depth == 0:
                end = tag.end()
                break
        if end is None:  # not closed: leave the rest as it is
            break
        pieces.append(html[done:start])
        done = end
        found = _KATEX_HTML.search(html, end)
    pieces.append(html[done:])
    return "".join(pieces).replace('<span class="katex-mathml" aria-hidden="true">', '<span class="katex-mathml">')


def atom_feed(site, post_html: dict[str, str], contents: dict[str, str] | None = None) -> str:
    """The Atom feed of the newest posts, each with ``post_html[slug]`` as its content (its MathML only);
    ``contents``: that content by post HTML, kept between builds (filled in here)."""
    config = site.config
    contents = contents if contents is not None else {}
    ET.register_namespace("", ATOM)
    q = lambda tag: f"{{{ATOM}}}{tag}"
    feed = ET.Element(q("feed"), {"xml:lang": config.language})
    ET.SubElement(feed, q("title")).text = config.title
    if config.description:
        ET.SubElement(feed, q("subtitle")).text = config.description
    ET.SubElement(feed, q("id")).text = config.absolute_url("")
    ET.SubElement(feed, q("link"), {"rel": "self", "type": "application/atom+xml", "href": config.absolute_url("atom.xml")})
    ET.SubElement(feed, q("link"), {"rel": "alternate", "type": "text/html", "href": config.absolute_url("")})
    newest = max((p.meta.date for p in site.posts), default=dt.date(1970, 1, 1))
    ET.SubElement(feed, q("updated")).text = _timestamp(newest)
    author = ET.SubElement(feed, q("author"))
    ET.SubElement(author, q("name")).text = config.author or config.title
    ET.SubElement(feed, q("generator"), {"uri": "https://pypi.org/project/labpress/"}).text = "LabPress"
    for post in site.posts[:FEED_SIZE]:
        entry = ET.SubElement(feed, q("entry"))
        title = post.meta.title
        if post.meta.exp is not None:
            title = f"EXP #{post.meta.exp:03d} · {title}"
        ET.SubElement(entry, q("title")).text = title
        url = config.absolute_url(post.path)
        ET.SubElement(entry, q("id")).text = url
        ET.SubElement(entry, q("link"), {"rel": "alternate", "type": "text/html", "href": url})
        ET.SubElement(entry, q("published")).text = _timestamp(post.meta.date)
        ET.SubElement(entry, q("updated")).text = _timestamp(post.meta.date)
        if post.meta.summary:
            ET.SubElement(entry, q("summary")).text = post.meta.summary
        for tag in post.meta.tags:
            ET.SubElement(entry, q("category"), {"term": tag})
        html = post_html[post.slug]
        if html not in contents:
            contents[html] = mathml_only(html)
        ET.SubElement(entry, q("content"), {"type": "html", "xml:base": url}).text = contents[html]
    return _xml(feed)


def sitemap(site, pages: list[tuple[str, dt.date | None]]) -> str:
    ET.register_namespace("", SITEMAP)
    q = lambda tag: f"{{{SITEMAP}}}{tag}"
    urlset = ET.Element(q("urlset"))
    for path, lastmod in sorted(pages):
        url = ET.SubElement(urlset, q("url"))
        ET.SubElement(url, q("loc")).text = site.config.absolute_url(path)
        if lastmod:
            ET.SubElement(url, q("lastmod")).text = lastmod.isoformat()
    return _xml(urlset)
