"""Code blocks highlighted by Pygments at build time, styled for both colour schemes."""

from __future__ import annotations

import re

from markdown_it.common.utils import escapeHtml
from pygments import highlight
from pygments.formatters import HtmlFormatter
from functools import lru_cache

from pygments.lexers import get_lexer_by_name
from pygments.util import ClassNotFound

LIGHT_STYLE = "lovelace"
DARK_STYLE = "github-dark"
# The theme's code backgrounds (--code-bg): token colours are nudged until they
# reach WCAG AA contrast (4.5:1) on them, whatever the Pygments style chose.
LIGHT_CODE_BG = "#f0ece4"
DARK_CODE_BG = "#1f2227"
AA_CONTRAST = 4.5
_FORMATTER = HtmlFormatter(nowrap=True)


@lru_cache(maxsize=64)
def _lexer(lang: str):
    """Pygments' lexer for ``lang`` (looked up once per language: the lookup is slow), or None."""
    try:
        return get_lexer_by_name(lang)
    except ClassNotFound:
        return None


def highlight_code(code: str, lang: str, attrs: str) -> str:
    lang = (lang or "").strip().split()[0] if lang else ""
    language_class = f' class="language-{escapeHtml(lang)}"' if lang else ""
    lexer = _lexer(lang) if lang else None
    body = highlight(code, lexer, _FORMATTER) if lexer else escapeHtml(code)
    return f'<pre class="highlight" tabindex="0"><code{language_class}>{body}</code></pre>\n'


def _luminance(hex_colour: str) -> float:
    channels = [int(hex_colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a: str, b: str) -> float:
    la, lb = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def readable_on(colour: str, background: str) -> str:
    """``colour`` moved toward black or white (away from ``background``) until AA contrast."""
    target = 0 if _luminance(background) > 0.5 else 255
    rgb = [int(colour[i:i + 2], 16) for i in (1, 3, 5)]
    for step in range(0, 101):
        mixed = "#" + "".join(f"{round(c + (target - c) * step / 100):02x}" for c in rgb)
        if contrast(mixed, background) >= AA_CONTRAST:
            return mixed
    return "#000000" if target == 0 else "#ffffff"


def _six_digits(hex_digits: str) -> str:
    if len(hex_digits) == 3:
        hex_digits = "".join(c * 2 for c in hex_digits)
    return "#" + hex_digits.lower()


def _style_css(style: str, selector: str, background: str) -> str:
    css = HtmlFormatter(style=style).get_style_defs(selector)
    lines = []
    for line in css.splitlines():
        # Backgrounds come from the theme, so code blocks sit on its own surfaces.
        if not line.startswith(selector) or " { background" in line or ".hll" in line:
            continue
        lines.append(re.sub(r"(?<![-\w])color: #([0-9a-fA-F]{6}|[0-9a-fA-F]{3})\b",
                            lambda m: "color: " + readable_on(_six_digits(m.group(1)), background), line))
    return "\n".join(lines)


def pygments_css() -> str:
    """Token colours: light by default, dark under the dark scheme (see the theme's CSS)."""
    light = _style_css(LIGHT_STYLE, ".highlight", LIGHT_CODE_BG)
    dark_auto = _style_css(DARK_STYLE, ":root:not([data-scheme=light]) .highlight", DARK_CODE_BG)
    dark = _style_css(DARK_STYLE, ":root[data-scheme=dark] .highlight", DARK_CODE_BG)
    return light + "\n@media (prefers-color-scheme: dark) {\n" + dark_auto + "\n}\n" + dark + "\n"
