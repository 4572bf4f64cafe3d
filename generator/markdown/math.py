"""Dollar math: parsed by mdit-py-plugins, typeset by KaTeX while the tokens are walked.

Typesetting happens in a core rule, not at render time, so every TeX error is
collected with its position in the Markdown file before anything is written.
"""

from __future__ import annotations

from markdown_it import MarkdownIt
from markdown_it.rules_inline import StateInline
from markdown_it.token import Token
from mdit_py_plugins.dollarmath import dollarmath_plugin

from labpress.math.katex import TexError
from labpress.math.styles import classed_formula


def math_plugin(md: MarkdownIt) -> None:
    # No space inside the dollars and no digit after the closing one: that is
    # Pandoc's rule, and it keeps prose currency such as "$5 and $10" as text.
    dollarmath_plugin(md, allow_space=False, allow_digits=False, double_inline=True, allow_labels=False)
    _guard_code_spans(md)
    md.core.ruler.push("labpress_math", _typeset)
    md.add_render_rule("math_inline", _render_math)
    md.add_render_rule("math_inline_double", _render_math)
    md.add_render_rule("math_block", _render_math_block)


def _guard_code_spans(md: MarkdownIt) -> None:
    """Code spans bind tighter than math: a ``$`` pair may not reach across a backtick."""
    original = None
    for rule in md.inline.ruler.__rules__:
        if rule.name == "math_inline":
            original = rule.fn
    if original is None:  # pragma: no cover - the plugin always registers it
        return

    def math_inline_outside_code(state: StateInline, silent: bool) -> bool:
        start = state.pos
        if not original(state, True):
            return False
        content = state.src[start:state.pos]
        state.pos = start
        if "`" in content:
            return False
        return original(state, silent)

    md.inline.ruler.at("math_inline", math_inline_outside_code)


def _typeset(state) -> None:
    env = state.env
    katex = env["katex"]
    source = env["source"]
    for token in state.tokens:
        if token.type == "math_block":
            start, _end = source.region(token.map)
            opening = source.text.find("$$", start)
            _typeset_token(token, katex, env, opening + 2 if opening >= 0 else start, True)
        elif token.type == "inline" and token.children and token.map:
            cursor, end = source.region(token.map)
            for child in token.children:
                if child.type in ("math_inline", "math_inline_double", "code_inline"):
                    fence = child.markup or "`"
                    needle = child.content if child.type == "code_inline" else fence + child.content + fence
                    found = source.text.find(needle, cursor, end + 1)
                    if found < 0:
                        found = source.text.find(child.content, cursor, end + 1)
                        found = cursor if found < 0 else found - len(fence)
                    content_at = found + (0 if child.type == "code_inline" else len(fence))
                    cursor = found + len(needle)
                    if child.type != "code_inline":
                        _typeset_token(child, katex, env, content_at, child.type == "math_inline_double")


def _typeset_token(token: Token, katex, env, content_offset: int, display: bool) -> None:
    limit = env["config"].formula_chars
    if len(token.content) > limit:
        # KaTeX's time grows faster than the length: 100 KB of TeX takes 20 s, 200 KB does not end.
        fence = 2 if display else 1
        line, col = env["source"].position(max(content_offset - fence, 0))
        env["sink"].add(line, col, f"formula is {len(token.content):,} characters long, more than {limit:,}"
                                   " (the limit is [limits] formula_chars in labpress.toml)")
        token.meta["html"] = ""
        env["math_count"] = env.get("math_count", 0) + 1
        return
    try:
        # KaTeX's style attributes become classes here, once per distinct formula (see math/styles.py).
        token.meta["html"], rules = classed_formula(katex.render(token.content, display))
        env.setdefault("style_rules", {}).update(rules)
    except TexError as exc:
        offset = content_offset + (exc.position or 0)
        line, col = env["source"].position(offset)
        env["sink"].add(line, col, f"KaTeX: {exc.message}")
        token.meta["html"] = ""
    env.setdefault("math_count", 0)
    env["math_count"] += 1


def _render_math(self, tokens, idx, options, env) -> str:
    return tokens[idx].meta.get("html", "")


def _render_math_block(self, tokens, idx, options, env) -> str:
    return '<div class="math-display">' + tokens[idx].meta.get("html", "") + "</div>\n"
