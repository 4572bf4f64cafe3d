"""Code token colours from the theme, and the theme's stylesheet as published with them.

The stylesheet names a Pygments style for each scheme and marks where their
colours go::

    @labpress code-colours { light: lovelace; dark: github-dark; }

The rule is replaced by the token colours (``.highlight .k { color: … }``):
light by default, dark under the dark scheme, each colour nudged until it
reaches WCAG AA contrast (4.5:1) on the theme's ``--code-bg`` for that scheme,
whatever the Pygments style chose. Backgrounds stay the theme's.
"""

from __future__ import annotations

import re
from pathlib import Path

from labpress.errors import did_you_mean
from labpress.theme.palette import Palette, load_custom_stylesheet, load_palette

AA_CONTRAST = 4.5
DIRECTIVE = "code-colours"
CODE_BACKGROUND = "code-bg"
_USE = "code blocks' token colours"
_HEADING = "/* Code colours (Pygments) */\n"


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
    from pygments.formatters import HtmlFormatter

    css = HtmlFormatter(style=style).get_style_defs(selector)
    lines = []
    for line in css.splitlines():
        # Backgrounds come from the theme, so code blocks sit on its own surfaces.
        if not line.startswith(selector) or " { background" in line or ".hll" in line:
            continue
        lines.append(re.sub(r"(?<![-\w])color: #([0-9a-fA-F]{6}|[0-9a-fA-F]{3})\b",
                            lambda m: "color: " + readable_on(_six_digits(m.group(1)), background), line))
    return "\n".join(lines)


def code_styles(palette: Palette) -> tuple[str, str]:
    """The Pygments styles the theme names for the light and the dark scheme."""
    from pygments.styles import get_all_styles, get_style_by_name
    from pygments.util import ClassNotFound

    rule = palette.directive(DIRECTIVE, "where the code token colours go and from which Pygments styles:"
                                        " add @labpress code-colours { light: STYLE; dark: STYLE; }")
    for key, setting in rule.settings.items():
        if key not in ("light", "dark"):
            raise palette.error(setting.line, f"@labpress {DIRECTIVE}: unknown setting '{key}'"
                                              f"{did_you_mean(key, ('light', 'dark'))}; known: light, dark")
    styles = []
    for scheme in ("light", "dark"):
        setting = rule.settings.get(scheme)
        if setting is None:
            raise palette.error(rule.line, f"@labpress {DIRECTIVE} names no {scheme} style: add {scheme}: STYLE;")
        try:
            get_style_by_name(setting.value)
        except ClassNotFound:
            raise palette.error(setting.line, f"@labpress {DIRECTIVE}: Pygments has no style '{setting.value}'"
                                              f"{did_you_mean(setting.value, sorted(get_all_styles()))}") from None
        styles.append(setting.value)
    return styles[0], styles[1]


def pygments_css(palette: Palette) -> str:
    """Token colours: light by default, dark under the dark scheme (see the theme's CSS)."""
    light_style, dark_style = code_styles(palette)
    light_bg, dark_bg = palette.colour(CODE_BACKGROUND, _USE)
    light = _style_css(light_style, ".highlight", light_bg)
    dark_auto = _style_css(dark_style, ":root:not([data-scheme=light]) .highlight", dark_bg)
    dark = _style_css(dark_style, ":root[data-scheme=dark] .highlight", dark_bg)
    return light + "\n@media (prefers-color-scheme: dark) {\n" + dark_auto + "\n}\n" + dark + "\n"


_CUSTOM_HEADING = "\n/* The site's custom.css */\n"


def published_stylesheet(theme_dir: Path) -> bytes:
    """The theme's ``static/style.css`` with its ``@labpress code-colours`` rule replaced by the colours,
    and the site's ``static/custom.css`` after it, when there is one (it wins in the cascade)."""
    palette = load_palette(theme_dir)
    rule = palette.directive(DIRECTIVE, "where the code token colours go")
    text = palette.text[:rule.start] + _HEADING + pygments_css(palette) + palette.text[rule.end:]
    custom = load_custom_stylesheet(theme_dir)
    if custom is not None:
        text += ("" if text.endswith("\n") else "\n") + _CUSTOM_HEADING + custom
    return text.encode("utf-8")
