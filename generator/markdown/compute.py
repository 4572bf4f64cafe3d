"""A post's code: ```` ```python {run} ```` and ```` ```python {figure} ```` fences and inline
`` `{python} expr` `` values, run together by ``compute/`` and put into the page here.

A run block shows nothing; a figure block becomes its themed SVG (``figures/svg.py``);
an inline value becomes the text of what ``expr`` evaluates to, escaped, once every
block of the post has run (``compute/session.py`` says in what order). As in Quarto,
`` `{{python}} expr` `` shows ``{python} expr`` as code. Errors are placed at the
line and column of the author's code in the post.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import TYPE_CHECKING

from labpress.cache.inputs import input_digest
from labpress.compute.cache import cached_run
from labpress.compute.session import Block
from labpress.figures.svg import figure_html, theme_svg
from labpress.markdown.figures import code_column, is_figure_fence, is_run_fence, parse_options
from labpress.markdown.xref import xref_slot
from labpress.theme.palette import load_palette

if TYPE_CHECKING:
    from markdown_it import MarkdownIt

INLINE = "{python}"
_INLINE_ESCAPED = "{{python}}"
# An inline value in the post's text: a code span whose content starts with {python} and a space.
_INLINE_SPAN = re.compile(r"(?<!`)(`+)(?!`)[ \n]?(\{python\}[ \t\n]+)")


def compute_plugin(md: MarkdownIt) -> None:
    md.core.ruler.push("labpress_compute", _run_code)
    md.add_render_rule("labpress_figure", lambda self, tokens, idx, options, env: tokens[idx].meta.get("html", ""))
    md.add_render_rule("labpress_run", lambda self, tokens, idx, options, env: "")


def _digest(code: str) -> str:
    return hashlib.sha256(code.encode("utf-8")).hexdigest()


def _is_inline_value(child) -> bool:
    return child.type == "code_inline" and child.content.startswith(INLINE) \
        and child.content[len(INLINE):len(INLINE) + 1] in (" ", "\t")


def _inline_positions(token, env) -> list[tuple[int, int]]:
    """1-based (line, column of the expression) of each inline value in ``token``'s source, in order."""
    if not token.map:
        return []
    source = env["source"]
    start, end = source.region(token.map)
    text = source.text[start:end]
    return [source.position(start + match.end()) for match in _INLINE_SPAN.finditer(text)]


def _run_code(state) -> None:
    env = state.env
    sink = env["sink"]
    config = env["config"]
    root, seconds = config.root.resolve(), config.seconds_per_block
    blocks: list[Block] = []
    fences = []  # (token, line, column of the flag), per block
    expressions: list[str] = []
    places: list[tuple[int, int]] = []  # per expression
    values = []  # the code_inline token of each expression
    for token in state.tokens:
        if token.type == "inline" and token.children:
            found = [c for c in token.children if _is_inline_value(c)]
            for child in token.children:
                if child.type == "code_inline" and child.content.startswith(_INLINE_ESCAPED):
                    child.content = child.content[1:].replace("}}", "}", 1)  # {{python}} x shows {python} x
            if found:
                positions = _inline_positions(token, env)
                first = (token.map[0] + 1, 1) if token.map else (1, 1)
                for index, child in enumerate(found):
                    expressions.append(child.content[len(INLINE):].strip())
                    places.append(positions[index] if index < len(positions) else first)
                    values.append(child)
            continue
        run = is_run_fence(token)
        if not (run or is_figure_fence(token)) or not token.map:
            continue
        line = token.map[0] + 1
        token.type = "labpress_run" if run else "labpress_figure"
        token.meta["html"] = ""
        parsed = parse_options(token, env, line, run=run)
        if parsed is None:
            fences.append(None)
            continue
        _language, options, flag_col = parsed
        caption, alt = options.get("caption", ""), options.get("alt", "")
        if "label" in options:
            token.meta["xref_label"] = (options["label"], line, options["label_col"])
        if not run and not alt and not caption:
            sink.add(line, flag_col, 'a figure needs a text alternative for readers who cannot see it: '
                                     'add alt="what the figure shows" (or a caption="...")')
            fences.append(None)
            continue
        blocks.append(Block("run" if run else "figure", token.content, caption, alt))
        fences.append((token, line, flag_col))
        env.setdefault("code_blocks", []).append((blocks[-1].kind, line, _digest(token.content)))
    if None in fences:
        return  # a block that could not be read: running the others would mislead
    if expressions and not blocks:
        for line, col in places:
            sink.add(line, col, "an inline `{python} ...` value needs the post's code: add a ```python {run} "
                                "block that computes it")
        return
    if not blocks:
        return
    results, inputs = cached_run(blocks, expressions, env.get("cache_dir"), root, seconds)
    _record_inputs(env, root, inputs)
    for error in results.errors:
        kind, index = error.part
        if kind == "inline":
            line, col = places[index]
            sink.add(line, col + (error.col or 0) if error.line else col, error.message)
            continue
        token, line, flag_col = fences[index]
        if error.line is None:
            sink.add(line, flag_col, error.message)
        else:
            sink.add(line + error.line, code_column(token, env, error.line, error.col or 0), error.message)
    for child, value in zip(values, results.values):
        if value is not None:
            child.type, child.content, child.markup = "text", value, ""
    figures = [(token, block) for (token, _, _), block in zip(fences, blocks) if block.kind == "figure"]
    if not figures:
        return
    palette = load_palette(config.theme_dir)
    # Themed with the stylesheet's colours: an edit of it renders the post again.
    stylesheet = ("file", str(palette.file), input_digest("file", palette.file))
    if stylesheet not in env["inputs"]:
        env["inputs"].append(stylesheet)
    for (token, block), drawn in zip(figures, results.figures):
        count = env.setdefault("figure_count", 0) + 1
        env["figure_count"] = count
        if drawn is not None:
            raw, caption = drawn
            label = token.meta.get("xref_label", ("",))[0]
            token.meta["html"] = figure_html(theme_svg(raw, f"pyfig{count}-", palette), caption, block.alt, label,
                                             xref_slot(label, bool(caption)) if label else "")


def _record_inputs(env, root: Path, inputs) -> None:
    """What the code read, for the rendered-post cache and the provenance record (RenderedBody.inputs)."""
    found = env.setdefault("inputs", [])
    for kind, relative, digest in inputs:
        entry = (kind, str(root / relative), digest)
        if entry not in found:
            found.append(entry)
