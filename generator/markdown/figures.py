"""```` ```python {figure} ```` blocks: the fence parsed here, the figure drawn and themed by ``figures/``.

The fence's info string may carry ``caption="..."`` and ``alt="..."``; one of
them is required (the figure's text alternative). The code runs in the site
folder under the time limit (``figures/run.py``), its SVG comes from the cache
when nothing it read changed (``figures/cache.py``) and is themed for the page
(``figures/svg.py``). What the figures read goes to the rendered-post cache.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import TYPE_CHECKING

from markdown_it.common.utils import unescapeAll

from labpress.cache.inputs import input_digest
from labpress.errors import did_you_mean
from labpress.figures.cache import cached_figure
from labpress.figures.run import FigureError
from labpress.figures.svg import figure_html, theme_svg
from labpress.theme.palette import load_palette

if TYPE_CHECKING:
    from markdown_it import MarkdownIt

LANGUAGES = ("python", "py", "python3")
OPTIONS = ("caption", "alt")


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


def digest(code: str) -> str:
    return hashlib.sha256(code.encode("utf-8")).hexdigest()


# --- The core rule -------------------------------------------------------------

def _run_figures(state) -> None:
    env = state.env
    sink = env["sink"]
    config = env["config"]
    root, seconds = config.root.resolve(), config.seconds_per_block
    palette = None
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
        env.setdefault("code_blocks", []).append(("figure", line, digest(token.content)))
        count = env.setdefault("figure_count", 0) + 1
        env["figure_count"] = count
        try:
            raw, inputs = cached_figure(token.content, caption, alt, env.get("cache_dir"), root, seconds)
        except FigureError as exc:
            if exc.line is None:
                sink.add(line, flag_col, exc.message)
            else:
                sink.add(line + exc.line, _code_column(token, env, exc.line, exc.col or 0), exc.message)
            continue
        # What the figures read, for the rendered-post cache (RenderedBody.inputs).
        base = root if root is not None else Path.cwd()
        found = env.setdefault("inputs", [])
        found.extend((kind, str(base / relative), digest) for kind, relative, digest in inputs
                     if (kind, str(base / relative), digest) not in found)
        if palette is None:
            palette = load_palette(config.theme_dir)
            # Themed with the stylesheet's colours: an edit of it renders the post again.
            stylesheet = ("file", str(palette.file), input_digest("file", palette.file))
            if stylesheet not in found:
                found.append(stylesheet)
        token.meta["html"] = figure_html(theme_svg(raw, f"pyfig{count}-", palette), caption, alt)
