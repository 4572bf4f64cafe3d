"""```` ```python {figure} ```` fences: the info string parsed here.

The fence's info string may carry ``caption="..."`` and ``alt="..."``; one of
them is required (the figure's text alternative). A label, ``#fig-name`` (Quarto's
``fig-`` labels), numbers the figure and lets ``@fig-name`` refer to it (markdown/xref.py).
The code runs with the post's other blocks (``markdown/compute.py``, ``compute/``); the SVG is themed for the page
by ``figures/svg.py``.
"""

from __future__ import annotations

import re

from markdown_it.common.utils import unescapeAll

from labpress.errors import did_you_mean

LANGUAGES = ("python", "py", "python3")
OPTIONS = ("caption", "alt")


# --- Parsing the fence -------------------------------------------------------

_FIGURE_FLAG = "{figure}"
_RUN_FLAG = "{run}"  # a block that runs and shows nothing (markdown/compute.py); it takes no options
_OPTION = re.compile(r"""([A-Za-z_][\w-]*)\s*=\s*("(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|[^\s"']+)""")


def is_figure_fence(token) -> bool:
    return token.type == "fence" and _FIGURE_FLAG in token.info.split()


def is_run_fence(token) -> bool:
    return token.type == "fence" and _RUN_FLAG in token.info.split()


def _raw_info(token, env) -> tuple[str, int]:
    """The fence's info string as written (before Markdown unescaping) and its 0-based column."""
    line = env["source"].lines[token.map[0]]
    start = line.find(token.markup)
    start = start + len(token.markup) if start >= 0 else 0
    return line[start:], start


def parse_options(token, env, line: int, run: bool = False):
    """(language, options, column of '{figure}') or None after reporting an error; ``run``: the
    fence is a ``{run}`` block, which takes no options."""
    sink = env["sink"]
    info, base = _raw_info(token, env)
    flag = _RUN_FLAG if run else _FIGURE_FLAG
    what, known = ("a run block", ()) if run else ("a figure block", OPTIONS)
    flag_at = info.find(flag)
    flag_col = base + max(flag_at, 0) + 1
    language = info[:max(flag_at, 0)].strip()
    if language.lower() not in LANGUAGES:
        shown = f"'{language}'" if language else "no language"
        sink.add(line, base + 1, f"{what} runs Python, not {shown}: write ```python {flag}")
        return None
    options: dict[str, str] = {}
    pos = flag_at + len(flag)
    while True:
        while pos < len(info) and info[pos].isspace():
            pos += 1
        if pos >= len(info):
            break
        col = base + pos + 1
        if run:
            sink.add(line, col, "a run block takes no options: it runs and shows nothing (write ```python {run})")
            return None
        if info[pos] == "#" and not run:  # the figure's label
            label = re.compile(r"#(\S*)").match(info, pos)
            if "label" in options:
                sink.add(line, col, "a figure block has one label (#fig-name)")
                return None
            options["label"], options["label_col"] = label.group(1), col
            pos = label.end()
            continue
        match = _OPTION.match(info, pos)
        if not match:
            key = re.match(r"([A-Za-z_][\w-]*)\s*=\s*(['\"])", info[pos:])
            if key:
                sink.add(line, col, f"the value of figure option '{key.group(1)}' has no closing {key.group(2)}")
            else:
                sink.add(line, col, 'figure options are written key="value", as in caption="..." alt="..."')
            return None
        key, value = match.group(1), match.group(2)
        if key not in known:
            sink.add(line, col, f"unknown figure option '{key}'{did_you_mean(key, known)}; known options: {', '.join(known)}")
            return None
        if key in options:
            sink.add(line, col, f"figure option '{key}' is given twice")
            return None
        if value[:1] in "\"'":
            value = value[1:-1]
        options[key] = unescapeAll(value).strip()
        pos = match.end()
    return language, options, flag_col


def code_column(token, env, code_line: int, char_col: int) -> int:
    """1-based column in the Markdown file of a 0-based character column on a line of the code."""
    lines = token.content.split("\n")
    text = lines[code_line - 1] if 0 < code_line <= len(lines) else ""
    source_index = token.map[0] + code_line
    source_line = env["source"].lines[source_index] if source_index < len(env["source"].lines) else ""
    prefix = len(source_line) - len(text) if text and source_line.endswith(text) else 0
    return prefix + char_col + 1
