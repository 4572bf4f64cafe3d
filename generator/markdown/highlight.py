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
    return _highlighted(code, lang)


@lru_cache(maxsize=1024)
def _highlighted(code: str, lang: str) -> str:
    """The block's HTML (the same code is highlighted once per process: notebooks repeat snippets)."""
    language_class = f' class="language-{escapeHtml(lang)}"' if lang else ""
    lexer = _lexer(lang) if lang else None
    body = highlight(code, lexer, _FORMATTER) if lexer else escapeHtml(code)
    return f'<pre class="highlight" tabindex="0"><code{language_class}>{body}</code></pre>\n'
