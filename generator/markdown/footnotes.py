"""Footnotes as Pandoc writes them: ``[^1]`` or ``[^long-name]`` in the text, ``[^1]: text`` anywhere.

mdit-py-plugins' footnote plugin parses references and definitions; this plugin numbers them per
post, in the order they are first referenced (notes referenced only from other notes come after,
in the order their notes are), and renders the notes at the end of the post body in a "Notes"
section: a heading and an ordered list, each note ending with links back to its references. A
reference to a note that is never defined, a definition never referenced, a note defined twice
and an empty note are content errors at their position.

Ids: ``fn_N`` for note N, ``fnref_N`` (``fnref_N_K`` for its K-th reference) for the references;
section ids are slugs, which never hold ``_``, so they cannot clash. The heading is ``notes``
(``notes-2``… when a section took it).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from markdown_it import MarkdownIt
from markdown_it.common.utils import escapeHtml
from markdown_it.token import Token
from mdit_py_plugins.footnote import footnote_plugin

from labpress.errors import did_you_mean, shorten
from labpress.markdown.sections import unique_id

NOTES_TITLE = "Notes"


@dataclass
class _Definition:
    label: str
    line: int  # 1-based
    col: int  # 1-based, the '['
    tokens: list[Token] = field(default_factory=list)
    label_end: int = 0  # offset in the source just after its '[^label]:'


def footnotes_plugin(md: MarkdownIt) -> None:
    # Every '[^label]' is a reference, defined or not, so an undefined one is an error, not text.
    # The notes are moved to the end here, after every other rule (math, links) has seen them.
    footnote_plugin(md, inline=False, move_to_end=False, always_match_refs=True)
    md.core.ruler.push("labpress_footnotes", _number_footnotes)
    md.add_render_rule("footnote_ref", _render_ref)
    md.add_render_rule("labpress_notes_open", _render_notes_open)
    md.add_render_rule("labpress_notes_close", lambda self, tokens, idx, options, env: "</ol>\n</section>\n")
    md.add_render_rule("labpress_note_open", _render_note_open)
    md.add_render_rule("labpress_note_close", lambda self, tokens, idx, options, env: "</li>\n")
    md.add_render_rule("labpress_note_backrefs", _render_backrefs)


def _number_footnotes(state) -> None:
    env = state.env
    found = env.get("footnotes") or {}
    if not (found.get("refs") or found.get("list")):  # no definition parsed, no reference matched
        return
    sink, source = env["sink"], env["source"]
    body, definitions = _take_definitions(state.tokens, source, sink)
    numbers: dict[str, int] = {}
    uses: dict[str, int] = {}
    order: list[str] = []

    def visit(tokens: list[Token], within: _Definition | None) -> None:
        for token in tokens:
            if token.type != "inline" or not token.children:
                continue
            for child, (line, col) in _references(token, source, within):
                label = child.meta["label"]
                if label not in definitions:
                    child.meta["undefined"] = True
                    sink.add(line, col, f"footnote '[^{shorten(label)}]' is never defined"
                                        f"{did_you_mean(shorten(label), definitions)}: add a line"
                                        f" '[^{shorten(label)}]: text of the note'")
                    continue
                if label not in numbers:
                    order.append(label)
                    numbers[label] = len(order)
                uses[label] = uses.get(label, 0) + 1
                child.meta["number"], child.meta["use"] = numbers[label], uses[label]

    visit(body, None)
    done = 0
    while done < len(order):  # notes referenced from notes, in the order they are met
        definition = definitions[order[done]]
        visit(definition.tokens, definition)
        done += 1
    for label, definition in definitions.items():
        if label not in numbers:
            sink.add(definition.line, definition.col, f"footnote '[^{shorten(label)}]' is never referenced:"
                                                      f" refer to it with '[^{shorten(label)}]' in the text, or delete it")
        elif not definition.tokens:
            sink.add(definition.line, definition.col, f"footnote '[^{shorten(label)}]' is empty: write its text"
                                                      f" after the ':'")
    if order:
        body.extend(_notes_tokens(order, definitions, uses, env))
    state.tokens = body


def _take_definitions(tokens: list[Token], source, sink) -> tuple[list[Token], dict[str, _Definition]]:
    """The post's tokens without its footnote definitions, and the definitions by label (the first
    of each label; a second is an error). A definition inside a definition is a definition too."""
    body: list[Token] = []
    definitions: dict[str, _Definition] = {}
    stack: list[_Definition] = []
    for token in tokens:
        if token.type == "footnote_reference_open":
            label = token.meta["label"]
            line0 = token.map[0] if token.map else 0
            text = source.lines[line0] if line0 < len(source.lines) else ""
            marker = f"[^{label}]:"
            at = max(text.find(marker), 0)
            definition = _Definition(label, line0 + 1, at + 1, label_end=source.offset(line0, at + len(marker)))
            first = definitions.get(label)
            if first is not None:
                sink.add(definition.line, definition.col, f"footnote '[^{shorten(label)}]' is defined twice;"
                                                          f" the first definition is at line {first.line}")
            else:
                definitions[label] = definition
            stack.append(definition)
            continue
        if token.type == "footnote_reference_close":
            if stack:
                stack.pop()
            continue
        (stack[-1].tokens if stack else body).append(token)
    return body, definitions


def _references(inline: Token, source, within: _Definition | None):
    """(footnote_ref token, (line, col)) of each reference in an inline token, found in the source
    from left to right, past code spans and formulas (which may look like references)."""
    if inline.map:
        cursor, end = source.region(inline.map)
    else:
        cursor, end = 0, len(source.text)
    if within is not None and inline.map and inline.map[0] + 1 == within.line:
        cursor = max(cursor, within.label_end)  # the definition's own '[^label]:' is not a reference
    fallback = source.position(cursor)
    for child in inline.children or []:
        if child.type == "code_inline":
            needle = child.content
        elif child.type in ("math_inline", "math_inline_double"):
            needle = child.markup + child.content + child.markup
        elif child.type == "footnote_ref":
            needle = f"[^{child.meta['label']}]"
        else:
            continue
        found = source.text.find(needle, cursor, end + 1) if needle else -1
        if found >= 0:
            cursor = found + len(needle)
        if child.type == "footnote_ref":
            yield child, (source.position(found) if found >= 0 else fallback)


def _notes_tokens(order: list[str], definitions: dict[str, _Definition], uses: dict[str, int], env) -> list[Token]:
    taken = {section["id"] for section in env.get("sections", [])}
    heading = unique_id("notes", taken)
    env["footnotes_heading"] = heading
    opening = Token("labpress_notes_open", "section", 1)
    opening.block = True
    opening.meta = {"id": heading}
    out = [opening]
    for number, label in enumerate(order, start=1):
        note = Token("labpress_note_open", "li", 1)
        note.block = True
        note.meta = {"number": number}
        out.append(note)
        content = list(definitions[label].tokens)
        backrefs = Token("labpress_note_backrefs", "", 0)
        backrefs.meta = {"number": number, "uses": uses[label]}
        # The links back go at the end of the note's last paragraph, or after its last block.
        if content and content[-1].type == "paragraph_close":
            content.insert(len(content) - 1, backrefs)
        else:
            content.append(backrefs)
        out.extend(content)
        out.append(Token("labpress_note_close", "li", -1))
    out.append(Token("labpress_notes_close", "section", -1))
    return out


def ref_id(number: int, use: int) -> str:
    return f"fnref_{number}" if use == 1 else f"fnref_{number}_{use}"


def _render_ref(self, tokens, idx, options, env) -> str:
    meta = tokens[idx].meta
    if "number" not in meta:  # undefined: an error has been reported
        return escapeHtml(f"[^{meta.get('label', '')}]")
    number, use = meta["number"], meta["use"]
    described = env.get("footnotes_heading", "notes")
    return (f'<sup class="footnote-ref"><a href="#fn_{number}" id="{ref_id(number, use)}" role="doc-noteref"'
            f' aria-describedby="{escapeHtml(described)}">{number}</a></sup>')


def _render_notes_open(self, tokens, idx, options, env) -> str:
    heading = escapeHtml(tokens[idx].meta["id"])
    return (f'<section class="footnotes" role="doc-endnotes" aria-labelledby="{heading}">\n'
            f'<h2 id="{heading}" class="footnotes-title">{NOTES_TITLE}</h2>\n'
            '<ol class="footnotes-list">\n')


def _render_note_open(self, tokens, idx, options, env) -> str:
    return f'<li id="fn_{tokens[idx].meta["number"]}" class="footnote-item">\n'


def _render_backrefs(self, tokens, idx, options, env) -> str:
    number, count = tokens[idx].meta["number"], tokens[idx].meta["uses"]
    links = []
    for use in range(1, count + 1):
        label = f"Back to reference {number}" if count == 1 else f"Back to reference {number}-{use}"
        # U+FE0E: the arrow as text, not an emoji (iOS)
        mark = "\u21a9\ufe0e" if use == 1 else f"\u21a9\ufe0e<sup>{use}</sup>"
        links.append(f'<a href="#{ref_id(number, use)}" class="footnote-backref" role="doc-backlink"'
                     f' aria-label="{label}">{mark}</a>')
    return " " + " ".join(links)
