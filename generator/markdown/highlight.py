"""Code blocks highlighted by Pygments at build time, styled for both colour schemes."""

from __future__ import annotations

from markdown_it.common.utils import escapeHtml
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import get_lexer_by_name
from pygments.util import ClassNotFound

LIGHT_STYLE = "lovelace"
DARK_STYLE = "github-dark"
_FORMATTER = HtmlFormatter(nowrap=True)


def highlight_code(code: str, lang: str, attrs: str) -> str:
    lang = (lang or "").strip().split()[0] if lang else ""
    language_class = f' class="language-{escapeHtml(lang)}"' if lang else ""
    try:
        lexer = get_lexer_by_name(lang) if lang else None
    except ClassNotFound:
        lexer = None
    body = highlight(code, lexer, _FORMATTER) if lexer else escapeHtml(code)
    return f'<pre class="highlight" tabindex="0"><code{language_class}>{body}</code></pre>\n'


def pygments_css() -> str:
    """Token colours: light by default, dark under the dark scheme (see the theme's CSS)."""
    light = HtmlFormatter(style=LIGHT_STYLE).get_style_defs(".highlight")
    dark = HtmlFormatter(style=DARK_STYLE).get_style_defs(":root[data-scheme=dark] .highlight")
    dark_auto = HtmlFormatter(style=DARK_STYLE).get_style_defs(":root:not([data-scheme=light]) .highlight")
    # Backgrounds come from the theme, so code blocks sit on its own surfaces.
    keep = lambda css: "\n".join(l for l in css.splitlines() if " { background" not in l and "hll" not in l and not l.startswith("pre"))
    return (keep(light) + "\n@media (prefers-color-scheme: dark) {\n" + keep(dark_auto) + "\n}\n" + keep(dark) + "\n")
