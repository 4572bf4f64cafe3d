"""Dollar math: parsed by mdit-py-plugins, typeset by KaTeX while the tokens are walked.

Typesetting happens in a core rule, not at render time, so every TeX error is
collected with its position in the Markdown file before anything is written.

A display equation may carry a label after its closing ``$$``, as in Pandoc and Quarto:
``$$ E = mc^2 $$ {#eq-energy}``; it is then numbered, (1), (2)…, at its right, and
``@eq-energy`` refers to it (markdown/xref.py). TeX's own ``\\label``, ``\\eqref`` and
``\\ref`` are errors that say so.

A display equation scrolls in its own box when it is wider than the column (a phone): the box
is focusable and named ("Equation", "Equation (2)"), so a keyboard can scroll it. An inline
formula and the punctuation touching it (``($x$),`` ``$x$.``) are one unbreakable unit, so no line
starts with the comma that followed a formula; the formula itself may still break inside.
A table header cell that holds only maths is read as its formula's text (the MathML's, in a
visually hidden ``math-spoken`` span, the MathML itself hidden from screen readers there): a header
is what a screen reader announces at every cell, and some tools find no text inside ``<math>``.
"""

from __future__ import annotations

import re
from html import unescape

from markdown_it import MarkdownIt
from markdown_it.common.utils import escapeHtml
from markdown_it.rules_block import StateBlock
from markdown_it.rules_inline import StateInline
from markdown_it.token import Token
from mdit_py_plugins.dollarmath import dollarmath_plugin

from labpress.math.katex import TexError
from labpress.math.styles import classed_formula


def math_plugin(md: MarkdownIt) -> None:
    # No space inside the dollars and no digit after the closing one: that is
    # Pandoc's rule, and it keeps prose currency such as "$5 and $10" as text.
    dollarmath_plugin(md, allow_space=False, allow_digits=False, double_inline=True, allow_labels=False)
    md.block.ruler.before("math_block", "labpress_math_block_label", _labelled_math_block,
                          {"alt": ["paragraph", "reference", "blockquote", "list", "footnote_def"]})
    _guard_code_spans(md)
    md.core.ruler.push("labpress_math", _typeset)
    md.core.ruler.push("labpress_math_punctuation", _hold_punctuation)
    md.add_render_rule("math_inline", _render_math)
    md.add_render_rule("math_inline_double", _render_math)
    md.add_render_rule("math_block", _render_math_block)


# The closing $$ of a display equation with a label after it: $$ {#eq-name}
_LABELLED_END = re.compile(r"\$\$[ \t]*\{#([^{}\s]*)\}[ \t]*$")
_TEX_LABEL = re.compile(r"\\(label|eqref|ref)\s*\{([^{}]*)\}")


def _labelled_math_block(state: StateBlock, start_line: int, end_line: int, silent: bool) -> bool:
    """``$$ … $$ {#eq-x}`` on one line or several; a block closed without a label is dollarmath's."""
    if state.sCount[start_line] - state.blkIndent >= 4:
        return False
    start = state.bMarks[start_line] + state.tShift[start_line]
    first = state.src[start:state.eMarks[start_line]]
    if not first.startswith("$$"):
        return False
    line = start_line
    match = _LABELLED_END.search(first, 2)
    if match:
        parts = [first[2:match.start()]]
    else:
        if "$$" in first[2:]:
            return False
        parts = [first[2:], "\n"]
        while True:
            line += 1
            if line >= end_line:
                return False
            text = state.src[state.bMarks[line] + state.tShift[line]:state.eMarks[line]]
            if not text.strip() or text.rstrip().endswith("$$"):
                return False  # no closing line, or one without a label
            match = _LABELLED_END.search(text)
            if match:
                parts.append(state.src[state.bMarks[line]:state.bMarks[line] + state.tShift[line] + match.start()])
                break
            parts.extend((state.src[state.bMarks[line]:state.eMarks[line]], "\n"))
    if silent:
        return True
    source_line = state.src[state.bMarks[line]:state.eMarks[line]]
    token = state.push("math_block", "math", 0)
    token.block = True
    token.content = "".join(parts)
    token.markup = "$$"
    token.map = [start_line, line + 1]
    token.meta["xref_label"] = (match.group(1), line + 1, source_line.rfind("{#") + 1)
    state.line = line + 1
    return True


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
    tex_label = _TEX_LABEL.search(token.content)
    if tex_label:
        command, name = tex_label.groups()
        name = re.sub(r"[^A-Za-z0-9_-]+", "-", re.sub(r"^(?:eqn?|equation)[:_-]", "", name.strip())).strip("-") or "name"
        line, col = env["source"].position(content_offset + tex_label.start())
        if command == "label":
            message = (f"\\label is not how a post labels an equation: write {{#eq-{name}}} after the closing $$"
                       f" of a display equation, and refer to it with @eq-{name}")
        else:
            message = (f"\\{command} refers to a TeX label, which a post does not have: write @eq-{name} in the text,"
                       f" for an equation labelled {{#eq-{name}}} after its closing $$")
        env["sink"].add(line, col, message)
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


# Punctuation that may not start a line after a formula, and that may not end one before it.
_CLOSING = re.compile(r"[,.;:!?)\]}…’”»'\"]+")
_OPENING = re.compile(r"[(\[{‘“«'\"]+$")
_MATH = ("math_inline", "math_inline_double")


def _hold_punctuation(state) -> None:
    """Give each inline formula the punctuation that touches it (rendered in one no-wrap span), and
    name a table header cell that holds only maths."""
    tokens = state.tokens
    for index, token in enumerate(tokens):
        if token.type != "inline" or not token.children:
            continue
        children = token.children
        for k, child in enumerate(children):
            if child.type not in _MATH:
                continue
            before = children[k - 1] if k > 0 and children[k - 1].type == "text" else None
            after = children[k + 1] if k + 1 < len(children) and children[k + 1].type == "text" else None
            if before is not None and (match := _OPENING.search(before.content)):
                child.meta["before"] = match.group()
                before.content = before.content[:match.start()]
            if after is not None and (match := _CLOSING.match(after.content)):
                child.meta["after"] = match.group()
                after.content = after.content[match.end():]
        header = tokens[index - 1] if index else None
        if header is not None and header.type == "th_open":
            if all(c.type in _MATH or (c.type == "text" and not c.content.strip()) for c in children):
                formulas = [c for c in children if c.type in _MATH and c.meta.get("html")]
                name = "".join(c.meta.get("before", "") + formula_text(c.meta.get("html", "")) + c.meta.get("after", "")
                               if c.type in _MATH else c.content for c in children).strip()
                if formulas and name:
                    formulas[0].meta["spoken"] = name
                    for c in formulas:
                        c.meta["html"] = c.meta["html"].replace(_MATHML_SPAN, _MATHML_SPAN_HIDDEN, 1)


_MATHML_SPAN = '<span class="katex-mathml">'
_MATHML_SPAN_HIDDEN = '<span class="katex-mathml" aria-hidden="true">'
_MATHML = re.compile(r"<math\b.*?</math>", re.S)
_ANNOTATION = re.compile(r"<annotation\b.*?</annotation>", re.S)
_LEAF = re.compile(r">([^<>]+)<")


def formula_text(html: str) -> str:
    """A formula as plain text, from its MathML: the text of each token element, space-separated."""
    found = _MATHML.search(html)
    if not found:
        return ""
    mathml = _ANNOTATION.sub("", found.group())
    return " ".join(unescape(text).strip() for text in _LEAF.findall(mathml) if text.strip())


def _render_math(self, tokens, idx, options, env) -> str:
    token = tokens[idx]
    html = token.meta.get("html", "")
    if "spoken" in token.meta:  # the text a header of only maths is read as (above)
        html = f'<span class="math-spoken">{escapeHtml(token.meta["spoken"])}</span>{html}'
    before, after = token.meta.get("before", ""), token.meta.get("after", "")
    if not (before or after):
        return html
    if not html:  # a formula that failed: its punctuation stays plain text
        return escapeHtml(before) + escapeHtml(after)
    return f'<span class="math-nowrap">{escapeHtml(before)}{_held_ends(html, before, after)}{escapeHtml(after)}</span>'


_SPAN_TAG = re.compile(r"<span\b[^>]*>|</span>")


def _held_ends(html: str, before: str, after: str) -> str:
    """The formula with its first and last boxes in ``math-end`` spans (no-wrap), next to the punctuation
    that touches them. A line may break between KaTeX's boxes (after a relation, say): whether it may break
    after a box is its parent's white-space, so the formula keeps its breaks and only the boxes at its
    ends are held to their punctuation."""
    start = html.find('<span class="katex-html"')
    if start < 0:
        return html
    boxes, depth, opened = [], 0, None
    for tag in _SPAN_TAG.finditer(html, start):
        if tag.group().startswith("</"):
            depth -= 1
            if depth == 1 and opened is not None:
                boxes.append((opened, tag.end()))
                opened = None
            if depth == 0:
                break
        else:
            depth += 1
            if depth == 2 and tag.group().startswith(('<span class="katex-base', '<span class="base')):
                opened = tag.start()
    held = ([boxes[0]] if before and boxes else []) + ([boxes[-1]] if after and boxes and (not before or len(boxes) > 1) else [])
    for begin, end in sorted(held, reverse=True):
        html = f'{html[:begin]}<span class="math-end">{html[begin:end]}</span>{html[end:]}'
    return html


# The box a display formula scrolls in, focusable so that a keyboard can scroll it.
_SCROLLER = 'tabindex="0" role="group" aria-label="Equation'


def _render_math_block(self, tokens, idx, options, env) -> str:
    token = tokens[idx]
    html = token.meta.get("html", "")
    xref = token.meta.get("xref")
    if xref:  # labelled: its number at the right (markdown/xref.py numbered it), outside the scrolling box
        number = f'({xref["number"]})'
        return (f'<div class="math-display math-display--numbered" id="{xref["name"]}">'
                f'<div class="math-scroll" {_SCROLLER} {number}">{html}</div><span class="eq-number">{number}</span></div>\n')
    return f'<div class="math-display math-scroll" {_SCROLLER}">{html}</div>\n'
