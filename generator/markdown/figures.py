"""```` ```python {figure} ```` blocks: code run at build time, its matplotlib figure inlined as SVG.

The fence's info string may carry ``caption="..."`` and ``alt="..."``. The code
runs in a fresh namespace (``np`` and ``plt`` already imported) under the
Agg backend with a fixed random seed; the current figure afterwards is saved
as SVG with text kept as text and no date or random ids, so two builds of the
same post are byte-identical.

Colours follow the theme in both schemes: the figure is drawn with sentinel
colours (:data:`INK`, :data:`MUTED`, …, and a sentinel colour cycle) and the
SVG is rewritten afterwards: ink becomes ``currentColor``, every other
sentinel a light-scheme colour plus a ``pyfig-*`` class that the theme's CSS
points at its ``light-dark()`` custom properties. Inline ``style`` attributes
become presentation attributes and the SVG's ``<style>`` element is dropped, so
the page works under a Content-Security-Policy without ``'unsafe-inline'``.

Results are cached by source, caption, alt and library versions in
``env["cache_dir"]/figures/`` (no cache when it is None): only the raw SVG is
stored; the cheap rewrite above runs on every build.
"""

from __future__ import annotations

import builtins
import contextlib
import hashlib
import io
import json
import os
import re
import tempfile
import traceback
import warnings
import xml.etree.ElementTree as ET
from pathlib import Path

from markdown_it import MarkdownIt
from markdown_it.common.utils import escapeHtml, unescapeAll

from ..errors import did_you_mean

# Bump when the drawing style below changes: cached SVGs are then redrawn.
FORMAT_VERSION = "1"
CACHE_SUBDIR = "figures"
LANGUAGES = ("python", "py", "python3")
OPTIONS = ("caption", "alt")
_CODE_FILENAME = "<labpress figure>"

# Sentinel colours: unlikely in an author's own choices, near-black if ever left over.
INK = "#010203"
MUTED = "#010204"
RULE = "#010205"
PAPER = "#010206"
CYCLE = tuple(f"#0102{n:02x}" for n in range(0xA1, 0xA9))  # C0..C7

# sentinel -> (theme name used in class names, light-scheme fallback colour)
_THEME_COLOURS = {
    MUTED: ("muted", "#595550"),
    RULE: ("rule", "#d8d2c6"),
    PAPER: ("paper", "#f7f4ee"),
    "#ffffff": ("paper", "#f7f4ee"),  # white on a transparent figure means "the page"
}
_CYCLE_FALLBACKS = ("#1f5fa8", "#c2410c", "#1b7a4a", "#8a3ea8", "#8a6d00", "#0f7480", "#b0306a", "#5f6670")
for _i, (_sentinel, _fallback) in enumerate(zip(CYCLE, _CYCLE_FALLBACKS), start=1):
    _THEME_COLOURS[_sentinel] = (f"c{_i}", _fallback)
_INK_VALUES = {INK, "#000000"}  # black, matplotlib's default for most things, reads as the page's ink
_PAINT_PROPERTIES = ("fill", "stroke", "stop-color")

STYLE = {
    "svg.fonttype": "none",          # text stays text (selectable, searchable, themable)
    "svg.hashsalt": "labpress",      # ids from content hashes, not random
    "svg.image_inline": True,
    "figure.figsize": (7.0, 4.0),    # 504pt = 672 CSS px: about the width of the text column
    "figure.facecolor": "none",
    "figure.edgecolor": "none",
    "axes.facecolor": "none",
    "savefig.facecolor": "none",
    "savefig.edgecolor": "none",
    "savefig.transparent": True,
    "font.family": "sans-serif",
    "font.size": 11.0,
    "text.color": INK,
    "axes.labelcolor": INK,
    "axes.titlecolor": INK,
    "axes.edgecolor": MUTED,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "xtick.color": MUTED,
    "ytick.color": MUTED,
    "xtick.labelcolor": MUTED,
    "ytick.labelcolor": MUTED,
    "grid.color": RULE,
    "grid.alpha": 1.0,
    "grid.linewidth": 0.8,
    "legend.facecolor": PAPER,
    "legend.edgecolor": RULE,
    "legend.framealpha": 0.9,
    "legend.labelcolor": INK,
    "patch.edgecolor": INK,
    "hatch.color": INK,
    "lines.linewidth": 2.0,
    "errorbar.capsize": 3.0,
    "boxplot.boxprops.color": INK,
    "boxplot.whiskerprops.color": INK,
    "boxplot.capprops.color": INK,
    "boxplot.flierprops.markeredgecolor": INK,
    "boxplot.medianprops.color": CYCLE[1],
    "boxplot.meanprops.color": CYCLE[2],
    "boxplot.meanprops.markerfacecolor": CYCLE[2],
    "boxplot.meanprops.markeredgecolor": CYCLE[2],
}


class FigureError(Exception):
    """The figure code failed; ``line``/``col`` are 1-based inside the code (None: the block itself)."""

    def __init__(self, message: str, line: int | None = None, col: int | None = None):
        super().__init__(message)
        self.message = message
        self.line = line
        self.col = col


def figures_plugin(md: MarkdownIt) -> None:
    md.core.ruler.push("labpress_figures", _run_figures)
    md.add_render_rule("labpress_figure", lambda self, tokens, idx, options, env: tokens[idx].meta.get("html", ""))


# --- Parsing the fence -------------------------------------------------------

_FIGURE_FLAG = "{figure}"
_OPTION = re.compile(r"""([A-Za-z_][\w-]*)\s*=\s*("(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|[^\s"']+)""")


def is_figure_fence(token) -> bool:
    return token.type == "fence" and _FIGURE_FLAG in token.info.split()


def _raw_info(token, env) -> tuple[str, int]:
    """The fence's info string as written (before Markdown unescaping) and its 0-based column."""
    line = env["source"].lines[token.map[0]]
    start = line.find(token.markup)
    start = start + len(token.markup) if start >= 0 else 0
    return line[start:], start


def _parse_options(token, env, line: int):
    """(language, options, column of '{figure}') or None after reporting an error."""
    sink = env["sink"]
    info, base = _raw_info(token, env)
    flag_at = info.find(_FIGURE_FLAG)
    flag_col = base + max(flag_at, 0) + 1
    language = info[:max(flag_at, 0)].strip()
    if language.lower() not in LANGUAGES:
        shown = f"'{language}'" if language else "no language"
        sink.add(line, base + 1, f"a figure block runs Python, not {shown}: write ```python {{figure}}")
        return None
    options: dict[str, str] = {}
    pos = flag_at + len(_FIGURE_FLAG)
    while True:
        while pos < len(info) and info[pos].isspace():
            pos += 1
        if pos >= len(info):
            break
        col = base + pos + 1
        match = _OPTION.match(info, pos)
        if not match:
            key = re.match(r"([A-Za-z_][\w-]*)\s*=\s*(['\"])", info[pos:])
            if key:
                sink.add(line, col, f"the value of figure option '{key.group(1)}' has no closing {key.group(2)}")
            else:
                sink.add(line, col, 'figure options are written key="value", as in caption="..." alt="..."')
            return None
        key, value = match.group(1), match.group(2)
        if key not in OPTIONS:
            sink.add(line, col, f"unknown figure option '{key}'{did_you_mean(key, OPTIONS)}; known options: {', '.join(OPTIONS)}")
            return None
        if key in options:
            sink.add(line, col, f"figure option '{key}' is given twice")
            return None
        if value[:1] in "\"'":
            value = value[1:-1]
        options[key] = unescapeAll(value).strip()
        pos = match.end()
    return language, options, flag_col


def _code_column(token, env, code_line: int, char_col: int) -> int:
    """1-based column in the Markdown file of a 0-based character column on a line of the code."""
    lines = token.content.split("\n")
    text = lines[code_line - 1] if 0 < code_line <= len(lines) else ""
    source_index = token.map[0] + code_line
    source_line = env["source"].lines[source_index] if source_index < len(env["source"].lines) else ""
    prefix = len(source_line) - len(text) if text and source_line.endswith(text) else 0
    return prefix + char_col + 1


# --- Running the code --------------------------------------------------------

def _version(package: str) -> str:
    from importlib import metadata  # here: slow to import, and only figure blocks need it

    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:  # pragma: no cover - both are dependencies
        return "?"


def cache_key(code: str, caption: str, alt: str) -> str:
    payload = {"format": FORMAT_VERSION, "matplotlib": _version("matplotlib"), "numpy": _version("numpy"),
               "source": code, "caption": caption, "alt": alt}
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode("utf-8")).hexdigest()


def _char_col(text: str, byte_col: int | None) -> int:
    if not byte_col:
        return 0
    return len(text.encode("utf-8")[:byte_col].decode("utf-8", "replace"))


def _describe(exc: BaseException) -> str:
    detail = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {detail}" if detail else type(exc).__name__


def draw_figure(code: str) -> bytes:
    """Run ``code`` and return the SVG of the figure it drew; raise FigureError if it cannot."""
    try:
        compiled = compile(code, _CODE_FILENAME, "exec")
    except SyntaxError as exc:
        line = exc.lineno or 1
        col = max((exc.offset or 1) - 1, 0)
        raise FigureError(f"figure code is not valid Python: {exc.msg}", line, col) from None

    import random

    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np
    from matplotlib.figure import Figure

    lines = code.split("\n")
    plt.close("all")
    try:
        style = {**STYLE, "axes.prop_cycle": matplotlib.cycler(color=list(CYCLE))}
        with matplotlib.rc_context(style), warnings.catch_warnings(), \
                contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            warnings.simplefilter("ignore")
            np.random.seed(0)
            random.seed(0)
            namespace = {"__name__": "__figure__", "__builtins__": builtins, "np": np, "plt": plt}
            try:
                exec(compiled, namespace)
            except KeyboardInterrupt:
                raise
            except BaseException as exc:  # SystemExit too: a figure must not end the build
                frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename == _CODE_FILENAME]
                if not frames:
                    raise FigureError(f"figure code raised {_describe(exc)}") from None
                frame = frames[-1]
                text = lines[frame.lineno - 1] if 0 < (frame.lineno or 0) <= len(lines) else ""
                col = _char_col(text, getattr(frame, "colno", None))
                if not col:
                    col = len(text) - len(text.lstrip())
                raise FigureError(f"figure code raised {_describe(exc)}", frame.lineno, col) from None
            figure = plt.gcf() if plt.get_fignums() else None
            if figure is None:
                drawn = [v for v in namespace.values() if isinstance(v, Figure)]
                figure = drawn[-1] if drawn else None
            if figure is None:
                raise FigureError("figure code drew no figure: draw with matplotlib (plt.plot, plt.subplots, ...) "
                                  "and leave the figure open")
            buffer = io.BytesIO()
            try:
                figure.savefig(buffer, format="svg", bbox_inches="tight", pad_inches=0.06,
                               metadata={"Date": None, "Creator": None, "Format": None, "Type": None})
            except KeyboardInterrupt:
                raise
            except Exception as exc:
                raise FigureError(f"figure could not be drawn: {_describe(exc)}") from None
            return buffer.getvalue()
    finally:
        plt.close("all")


def _cache_file(cache_dir, key: str) -> Path | None:
    return Path(cache_dir) / CACHE_SUBDIR / f"{key}.svg" if cache_dir else None


def cached_figure(code: str, caption: str, alt: str, cache_dir) -> bytes:
    """The figure's raw SVG: from the cache when the same block was drawn before, else drawn now."""
    path = _cache_file(cache_dir, cache_key(code, caption, alt))
    if path is not None and path.is_file():
        cached = path.read_bytes()
        if cached.rstrip().endswith(b"</svg>"):  # else a damaged entry: draw it again
            return cached
    svg = draw_figure(code)
    if path is not None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, temporary = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
            with os.fdopen(fd, "wb") as handle:
                handle.write(svg)
            os.replace(temporary, path)
        except OSError:  # a read-only cache only costs time
            pass
    return svg


# --- Rewriting the SVG for the page -----------------------------------------

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


def _paint(name: str, value: str, classes: list[str]) -> str:
    colour = value.strip().lower()
    if colour in _INK_VALUES:
        return "currentColor"
    theme = _THEME_COLOURS.get(colour)
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


def theme_svg(raw: bytes, prefix: str) -> str:
    """matplotlib's SVG made fit for the page: themed colours, no inline style, ids under ``prefix``."""
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
                element.set(name, _paint(name, element.attrib[name], classes))
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


def _attributes(attributes: dict) -> str:
    return "".join(f' {_local(k)}="{escapeHtml(str(v))}"' for k, v in attributes.items() if v is not None)


def _serialise(element, attributes: dict, out: list[str]) -> None:
    """Compact markup: whitespace between elements goes (matplotlib spells spaces in maths as U+00A0)."""
    name = _local(element.tag)
    text = element.text or ""
    if len(element) and not text.strip():
        text = ""
    if len(element) == 0 and not text:
        out.append(f"<{name}{_attributes(attributes)}/>")
        return
    out.append(f"<{name}{_attributes(attributes)}>{escapeHtml(text)}")
    for child in element:
        _serialise(child, dict(child.attrib), out)
        if child.tail and child.tail.strip():
            out.append(escapeHtml(child.tail))
    out.append(f"</{name}>")


def figure_html(svg: str, caption: str, alt: str) -> str:
    label = escapeHtml(alt or caption)
    caption_html = f"<figcaption>{escapeHtml(caption)}</figcaption>" if caption else ""
    return (f'<figure class="py-figure"><div class="py-figure-svg" role="img" aria-label="{label}">'
            f"{svg}</div>{caption_html}</figure>\n")


# --- The core rule -------------------------------------------------------------

def _run_figures(state) -> None:
    env = state.env
    sink = env["sink"]
    for token in state.tokens:
        if not is_figure_fence(token) or not token.map:
            continue
        line = token.map[0] + 1
        token.type = "labpress_figure"
        token.meta["html"] = ""
        parsed = _parse_options(token, env, line)
        if parsed is None:
            continue
        _language, options, flag_col = parsed
        caption, alt = options.get("caption", ""), options.get("alt", "")
        if not alt and not caption:
            sink.add(line, flag_col, 'a figure needs a text alternative for readers who cannot see it: '
                                     'add alt="what the figure shows" (or a caption="...")')
            continue
        count = env.setdefault("figure_count", 0) + 1
        env["figure_count"] = count
        try:
            raw = cached_figure(token.content, caption, alt, env.get("cache_dir"))
        except FigureError as exc:
            if exc.line is None:
                sink.add(line, flag_col, exc.message)
            else:
                sink.add(line + exc.line, _code_column(token, env, exc.line, exc.col or 0), exc.message)
            continue
        token.meta["html"] = figure_html(theme_svg(raw, f"pyfig{count}-"), caption, alt)
