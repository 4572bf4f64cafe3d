"""Code blocks highlighted by Pygments at build time: token classes here, their colours from the theme.

The colours of the classes are the theme's (``theme/code_colours.py``, from the
``@labpress code-colours`` rule of its stylesheet), lifted to AA contrast on its
``--code-bg`` in both colour schemes.
"""

from __future__ import annotations

from functools import lru_cache

from markdown_it.common.utils import escapeHtml
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import get_lexer_by_name
from pygments.util import ClassNotFound

from labpress.theme.code_colours import contrast  # noqa: F401 (imported from here by tests/test_blocks.py)

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


# The default theme's code colours, under the names tests/test_blocks.py imports from here.

def _default_palette():
    from pathlib import Path

    from labpress.theme.lookup import find_theme
    from labpress.theme.palette import load_palette

    return load_palette(find_theme("default", Path.cwd()))


def pygments_css(palette=None) -> str:
    """The token colours of ``palette`` (None: the default theme's)."""
    from labpress.theme.code_colours import pygments_css as themed

    return themed(palette if palette is not None else _default_palette())


def __getattr__(name: str) -> str:
    if name in ("LIGHT_CODE_BG", "DARK_CODE_BG"):
        from labpress.theme.code_colours import CODE_BACKGROUND

        light, dark = _default_palette().colour(CODE_BACKGROUND, "code blocks")
        return light if name == "LIGHT_CODE_BG" else dark
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
