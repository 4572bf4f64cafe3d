"""Rewriting matplotlib's SVG for the page: the theme's colours in both schemes, no inline style.

Ink becomes ``currentColor``; every other sentinel of ``figures/style.py`` a
light-scheme colour plus a ``pyfig-*`` class that the theme's CSS points at its
``light-dark()`` custom properties. Inline ``style`` attributes become
presentation attributes and the SVG's ``<style>`` element is dropped, so the
page works under a Content-Security-Policy without ``'unsafe-inline'``.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from typing import TYPE_CHECKING

from labpress.figures.style import CYCLE, INK, MUTED, PAPER, RULE

if TYPE_CHECKING:
    from labpress.theme.palette import Palette

# sentinel -> (name in the pyfig-* classes, the theme's custom property the class points at). The
# light-scheme colour of that property (theme/palette.py) is the fallback written into the SVG.
ROLES = {
    MUTED: ("muted", "muted"),
    RULE: ("rule", "rule"),
    PAPER: ("paper", "paper"),
    "#ffffff": ("paper", "paper"),  # white on a transparent figure means "the page"
    **{sentinel: (f"c{n}", f"lp-fig-{n}") for n, sentinel in enumerate(CYCLE, start=1)},
}
_INK_VALUES = {INK, "#000000"}  # black, matplotlib's default for most things, reads as the page's ink
_PAINT_PROPERTIES = ("fill", "stroke", "stop-color")


_SVG_NS = "http://www.w3.org/2000/svg"
_XLINK_HREF = "{http://www.w3.org/1999/xlink}href"
_URL_REF = re.compile(r"url\(#([^)]+)\)")
_TEXT_TAGS = {"text", "tspan"}


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _declarations(style: str) -> list[tuple[str, str]]:
    pairs = []
    for declaration in style.split(";"):
        name, colon, value = declaration.partition(":")
        if colon and name.strip() and value.strip():
            pairs.append((name.strip(), value.strip()))
    return pairs


def theme_colours(palette: Palette) -> dict[str, tuple[str, str]]:
    """sentinel -> (class name, light-scheme fallback colour), from the theme's palette."""
    return {sentinel: (name, palette.colour(prop, "figures")[0]) for sentinel, (name, prop) in ROLES.items()}


def _paint(name: str, value: str, classes: list[str], colours: dict[str, tuple[str, str]]) -> str:
    colour = value.strip().lower()
    if colour in _INK_VALUES:
        return "currentColor"
    theme = colours.get(colour)
    if theme is None:
        return value
    classes.append(f"pyfig-{name}-{theme[0]}")
    return theme[1]


_NO_ROTATION = re.compile(r"rotate\(-?0(?:\.0*)?(?: [-\d.e]+ [-\d.e]+)?\)")
_GENERIC_FAMILIES = {"sans-serif": "sans", "serif": "serif", "monospace": "mono", "cursive": None, "fantasy": None}


def _font_family(value: str, classes: list[str]) -> str:
    """matplotlib's expanded family list: generic ones follow the theme's fonts; single faces get a fallback."""
    names = [n.strip().strip("'\"") for n in value.split(",") if n.strip()]
    if names and names[-1] in _GENERIC_FAMILIES:
        theme = _GENERIC_FAMILIES[names[-1]]
        if theme:
            classes.append(f"pyfig-font-{theme}")
        return names[-1]
    if len(names) == 1:  # a mathtext glyph: keep its face, fall back to a generic family
        name = names[0]
        generic = "monospace" if "mono" in name.lower() else "sans-serif" if "sans" in name.lower() else "serif"
        return f"'{name}', {generic}"
    return value


def _prune(parent) -> None:
    """Unwrap attribute-less groups and drop empty <defs>, outside text."""
    children = []
    for child in list(parent):
        name = _local(child.tag)
        if name in _TEXT_TAGS:
            children.append(child)
            continue
        _prune(child)
        if name == "defs" and len(child) == 0:
            continue
        if name == "g" and not child.attrib:
            children.extend(child)
            continue
        children.append(child)
    for child in list(parent):
        parent.remove(child)
    for child in children:
        if child.tail is not None and not child.tail.strip():
            child.tail = None
        parent.append(child)


def _pt_to_px(length: str | None) -> str | None:
    if not length:
        return None
    match = re.fullmatch(r"([\d.]+)(pt)?", length.strip())
    if not match:
        return length
    number = float(match.group(1)) * (4 / 3 if match.group(2) else 1)
    return f"{number:.2f}".rstrip("0").rstrip(".")


def theme_svg(raw: bytes, prefix: str, palette: Palette) -> str:
    """matplotlib's SVG made fit for the page: ``palette``'s colours, no inline style, ids under ``prefix``."""
    colours = theme_colours(palette)
    root = ET.fromstring(raw)
    root_attributes = {}
    # Drop metadata and the <style> element; its one rule (*{...}) becomes inherited attributes.
    for parent in list(root.iter()):
        for child in list(parent):
            name = _local(child.tag)
            if name == "metadata":
                parent.remove(child)
            elif name == "style":
                rule = re.fullmatch(r"\s*\*\s*\{([^}]*)\}\s*", child.text or "")
                if rule:
                    root_attributes.update(_declarations(rule.group(1)))
                parent.remove(child)

    references: set[str] = set()
    for element in root.iter():
        style = element.attrib.pop("style", None)
        if style is not None:
            for name, value in _declarations(style):
                element.set(name, value)
        for name in ("d", "points"):
            if name in element.attrib:
                element.set(name, " ".join(element.attrib[name].split()))
        if _NO_ROTATION.fullmatch(element.get("transform", "")):
            del element.attrib["transform"]
        classes: list[str] = []
        for name in _PAINT_PROPERTIES:
            if name in element.attrib:
                element.set(name, _paint(name, element.attrib[name], classes, colours))
        if "font-family" in element.attrib:
            element.set("font-family", _font_family(element.attrib["font-family"], classes))
        if classes:
            existing = element.get("class", "")
            element.set("class", " ".join(dict.fromkeys((existing.split() if existing else []) + classes)))
        for name, value in element.attrib.items():
            references.update(_URL_REF.findall(value))
            if _local(name) == "href" and value.startswith("#"):
                references.add(value[1:])

    def rename(match: re.Match) -> str:
        return f"url(#{prefix}{match.group(1)})"

    for element in root.iter():
        identifier = element.attrib.pop("id", None)
        if identifier is not None and identifier in references:
            element.set("id", prefix + identifier)
        for name, value in list(element.attrib.items()):
            if "url(#" in value:
                element.set(name, _URL_REF.sub(rename, value))
        href = element.attrib.pop(_XLINK_HREF, None)
        if href is not None:
            element.set("href", href)
        if element.get("href", "").startswith("#"):
            element.set("href", "#" + prefix + element.get("href")[1:])

    _prune(root)

    attributes = {
        "xmlns": _SVG_NS,
        "viewBox": root.get("viewBox", ""),
        "width": _pt_to_px(root.get("width")),
        "height": _pt_to_px(root.get("height")),
        "fill": "currentColor",  # black fills and text (left implicit by matplotlib) take the ink colour
        **root_attributes,
        "aria-hidden": "true",
        "focusable": "false",
    }
    root.attrib.clear()
    out: list[str] = []
    _serialise(root, attributes, out)
    return "".join(out)


def _escape(raw: str) -> str:
    """&, <, > and " as entities (markdown-it's escapeHtml, without importing markdown-it)."""
    return raw.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


def _attributes(attributes: dict) -> str:
    return "".join(f' {_local(k)}="{_escape(str(v))}"' for k, v in attributes.items() if v is not None)


def _serialise(element, attributes: dict, out: list[str]) -> None:
    """Compact markup: whitespace between elements goes (matplotlib spells spaces in maths as U+00A0)."""
    name = _local(element.tag)
    text = element.text or ""
    if len(element) and not text.strip():
        text = ""
    if len(element) == 0 and not text:
        out.append(f"<{name}{_attributes(attributes)}/>")
        return
    out.append(f"<{name}{_attributes(attributes)}>{_escape(text)}")
    for child in element:
        _serialise(child, dict(child.attrib), out)
        if child.tail and child.tail.strip():
            out.append(_escape(child.tail))
    out.append(f"</{name}>")


def figure_html(svg: str, caption: str, alt: str, element_id: str = "", prefix: str = "") -> str:
    """``element_id``: the figure's label (its id); ``prefix``: HTML before the caption ("Figure 1:")."""
    label = _escape(alt or caption)
    caption_html = f"<figcaption>{prefix}{_escape(caption)}</figcaption>" if caption or prefix else ""
    figure_id = f' id="{_escape(element_id)}"' if element_id else ""
    return (f'<figure class="py-figure"{figure_id}><div class="py-figure-svg" role="img" aria-label="{label}">'
            f"{svg}</div>{caption_html}</figure>\n")
