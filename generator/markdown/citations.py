"""The ``@`` syntax of Pandoc and Quarto, and citations formatted from a bibliography.

One tokenizer reads ``[@key]``, ``[see @a, p. 12; @b]``, ``[-@key]`` and ``@key`` into a
``labpress_at`` token. Its items whose keys start with ``eq-``, ``fig-``, ``tbl-``, ``sec-`` or
``post-`` are cross-references (``markdown/xref.py``); the others are citations, formatted here by
``bibliography/`` with the site's CSL style, with a "References" list at the end of the post.

A key is Pandoc's: a letter, digit or ``_``, then letters, digits, ``_`` and the punctuation
``:.#$%&-+?<>~/`` when a letter or digit follows (so ``@smith2020.`` ends before the full stop).
``@key`` in the text is a citation only where a bibliography is in force (the site's
``[bibliography] files`` or the post's ``bibliography:``), and never inside a word, so an e-mail
address stays text; a cross-reference is always one. ``\\@`` is a literal ``@``.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from markdown_it import MarkdownIt

XREF_PREFIXES = ("eq-", "fig-", "tbl-", "sec-", "post-")
KEY = re.compile(r"\w(?:\w|[:.#$%&\-+?<>~/]+(?=\w))*")
_ITEM = re.compile(r"(?P<prefix>(?:.*?\s)?)(?P<minus>-?)@(?P<key>\w(?:\w|[:.#$%&\-+?<>~/]+(?=\w))*)(?P<rest>.*)", re.S)

# Locators after a key, as Pandoc reads them: [@key, p. 12], [@key chap. 3], [@key, 12-14].
_LOCATOR_TERMS = [
    ("pp.", "page"), ("p.", "page"), ("pages", "page"), ("page", "page"),
    ("chaps.", "chapter"), ("chap.", "chapter"), ("chapters", "chapter"), ("chapter", "chapter"),
    ("secs.", "section"), ("sec.", "section"), ("sections", "section"), ("section", "section"),
    ("§§", "section"), ("§", "section"),
    ("figs.", "figure"), ("fig.", "figure"), ("figures", "figure"), ("figure", "figure"),
    ("vols.", "volume"), ("vol.", "volume"), ("volumes", "volume"), ("volume", "volume"),
    ("paras.", "paragraph"), ("para.", "paragraph"), ("¶¶", "paragraph"), ("¶", "paragraph"),
    ("paragraphs", "paragraph"), ("paragraph", "paragraph"),
    ("ll.", "line"), ("l.", "line"), ("lines", "line"), ("line", "line"),
    ("nn.", "note"), ("n.", "note"), ("notes", "note"), ("note", "note"),
    ("nos.", "number"), ("no.", "number"), ("cols.", "column"), ("col.", "column"),
    ("bk.", "book"), ("pt.", "part"), ("vv.", "verse"), ("v.", "verse"), ("op.", "opus"), ("fol.", "folio"),
]
_NUMBER = r"(?:\d+|[ivxlcdm]+|[IVXLCDM]+)(?:[a-z])?(?:\s*[-–—]+\s*(?:\d+|[ivxlcdm]+|[IVXLCDM]+))?"
_LOCATOR_VALUE = rf"{_NUMBER}(?:\s*(?:,|&|and)\s*{_NUMBER})*"
_LOCATOR = re.compile(
    r"\s*,?\s*(?:(?P<term>" + "|".join(re.escape(t) for t, _ in _LOCATOR_TERMS) + r")\s*)?(?P<value>"
    + _LOCATOR_VALUE + r")(?![\w])(?P<after>.*)", re.S | re.I)
_TERMS = {term.lower(): kind for term, kind in _LOCATOR_TERMS}


@dataclass
class AtItem:
    """One ``@key`` as written: what stands before it in the brackets, whether it has a ``-``, the rest."""

    key: str
    prefix: str = ""
    rest: str = ""
    suppress: bool = False
    offset: int = 0  # of the '@' in the inline token's content

    @property
    def is_xref(self) -> bool:
        return self.key.startswith(XREF_PREFIXES)


def citations_plugin(md: MarkdownIt) -> None:
    md.inline.ruler.before("link", "labpress_at_bracket", _bracketed)
    md.inline.ruler.before("link", "labpress_at_narrative", _narrative)
    md.core.ruler.push("labpress_citations", _cite)
    md.add_render_rule("labpress_at", _render_at)
    md.add_render_rule("labpress_references", _render_references)


# --- The tokenizer ---------------------------------------------------------------


def _closing(src: str, start: int) -> int:
    """The ``]`` closing the ``[`` at ``start`` (no brackets inside; a backslash escapes), or -1."""
    i = start + 1
    while i < len(src):
        char = src[i]
        if char == "\\":
            i += 2
            continue
        if char == "[":
            return -1
        if char == "]":
            return i
        i += 1
    return -1


def _split_items(inner: str, base: int) -> list[AtItem] | None:
    """The items of ``[...]`` separated by ``;``, or None when one has no ``@key`` (not a citation)."""
    items, start = [], 0
    for part in inner.split(";"):
        match = _ITEM.fullmatch(part)
        if not match:
            return None
        items.append(AtItem(match.group("key"), match.group("prefix").lstrip(), match.group("rest").rstrip(),
                            bool(match.group("minus")),
                            base + start + match.start("minus") + len(match.group("minus"))))
        start += len(part) + 1
    return items


def _in_force(env) -> bool:
    return bool(env["config"].bibliography_files or env["meta"].bibliography)


def _bracketed(state, silent: bool) -> bool:
    src, pos = state.src, state.pos
    if src[pos] != "[":
        return False
    end = _closing(src, pos)
    if end < 0 or src[end + 1:end + 2] in ("(", "["):
        return False  # a link
    inner = src[pos + 1:end]
    if "@" not in inner:
        return False
    from markdown_it.common.utils import normalizeReference

    if normalizeReference(inner) in state.env.get("references", {}):
        return False  # a reference link [@x] with its definition [@x]: url
    items = _split_items(inner, pos + 1)
    if items is None:
        return False
    if not silent:
        token = state.push("labpress_at", "", 0)
        token.content = src[pos:end + 1]
        token.meta = {"items": items, "bracketed": True, "offset": pos, "in_link": state.linkLevel > 0}
    state.pos = end + 1
    return True


def _narrative(state, silent: bool) -> bool:
    src, pos = state.src, state.pos
    if src[pos] != "@":
        return False
    if pos > 0 and (src[pos - 1].isalnum() or src[pos - 1] in "_.+-"):
        return False  # an e-mail address, or a word
    match = KEY.match(src, pos + 1)
    if not match:
        return False
    key = match.group()
    if not key.startswith(XREF_PREFIXES) and not _in_force(state.env):
        return False
    if not silent:
        token = state.push("labpress_at", "", 0)
        token.content = src[pos:match.end()]
        token.meta = {"items": [AtItem(key, offset=pos)], "bracketed": False, "offset": pos,
                      "in_link": state.linkLevel > 0}
    state.pos = match.end()
    return True


def inline_position(env, inline, offset: int) -> tuple[int, int]:
    """1-based (line, column) in the post of a character offset in an inline token's content."""
    if not inline.map:
        return 1, 1
    content = inline.content
    line_index = content.count("\n", 0, offset)
    line_start = content.rfind("\n", 0, offset) + 1
    line_end = content.find("\n", line_start)
    text = content[line_start:line_end if line_end >= 0 else len(content)]
    lines = env["source"].lines
    line0 = min(inline.map[0] + line_index, len(lines) - 1)
    found = lines[line0].find(text) if text else -1
    return line0 + 1, max(found, 0) + offset - line_start + 1


def at_tokens(tokens):
    """(inline token, labpress_at child) of every ``@`` token, in the order of the post."""
    for token in tokens:
        if token.type == "inline" and token.children:
            for child in token.children:
                if child.type == "labpress_at":
                    yield token, child


# --- Citations ---------------------------------------------------------------------


def _locator(rest: str):
    """(locator, suffix) of what follows a key: (("page", "12"), "") for ', p. 12'."""
    match = _LOCATOR.fullmatch(rest)
    if not match or (not match.group("term") and not match.group("value")[:1].isdigit()):
        return None, rest
    term = (match.group("term") or "p.").lower()
    return (_TERMS[term], match.group("value")), match.group("after")


def _post_folder(env) -> Path:
    """The folder of the post being rendered (its path as errors show it is relative to the site folder)."""
    return (env["config"].root / env["sink"].path).parent


def _record(env, path: Path) -> None:
    from labpress.cache.inputs import input_digest

    entry = ("file", str(path), input_digest("file", path))
    found = env.setdefault("inputs", [])
    if entry not in found:
        found.append(entry)


def _bibliography(env, first_at: tuple[int, int] | None):
    """The post's Bibliography (site files, then the post's own), its files recorded as inputs;
    None when a file named in the front matter cannot be used (reported)."""
    from labpress.bibliography.cite import Bibliography, load_file

    config, meta, sink = env["config"], env["meta"], env["sink"]
    root = config.root.resolve()
    sources, ok = [], True
    if first_at is not None:  # the site's files count only for a post that cites
        for path in config.bibliography_files:
            _record(env, path)
            sources.append((load_file(path, path.relative_to(root).as_posix()), first_at))
    at = meta.positions.get("bibliography", (1, 1))
    for name in meta.bibliography:
        path = (_post_folder(env) / name).resolve()
        shown = path.relative_to(root).as_posix() if path.is_relative_to(root) else name
        if not path.is_relative_to(root):
            sink.add(*at, f"the bibliography '{name}' is outside the site folder")
            ok = False
            continue
        if path.suffix.lower() not in (".bib", ".json"):
            sink.add(*at, f"the bibliography '{name}' is neither BibTeX (.bib) nor CSL-JSON (.json)")
            ok = False
            continue
        _record(env, path)  # also when absent: creating it renders the post again
        if not path.is_file():
            sink.add(*at, f"there is no bibliography file '{shown}' (the path is relative to the post's folder)")
            ok = False
            continue
        sources.append((load_file(path, shown), at))
    for source, where in sources:
        for line, message in source.problems:
            sink.add(*where, f"{source.shown}:{line}: {message}" if line else f"{source.shown} {message}")
    if not ok:
        return None
    return Bibliography([source for source, _ in sources], config.citation_style_file)


def _cite(state) -> None:
    env = state.env
    sink = env["sink"]
    cites = []
    for inline, child in at_tokens(state.tokens):
        items = child.meta["items"]
        kinds = {item.is_xref for item in items}
        if kinds == {True}:
            continue
        if len(kinds) == 2:
            sink.add(*inline_position(env, inline, child.meta["offset"]),
                     "one pair of brackets holds citations or cross-references, not both: write [@fig-x] and [@key] apart")
            continue
        cites.append((inline, child))
    first_at = inline_position(env, cites[0][0], cites[0][1].meta["offset"]) if cites else None
    if not cites and not env["meta"].bibliography:
        return
    if cites and not _in_force(env):
        if not env["meta"].known("bibliography"):
            return  # the front matter, or its bibliography, is already an error: one mistake, one message
        for inline, child in cites:
            sink.add(*inline_position(env, inline, child.meta["offset"]),
                     f"'{child.content}' is a citation, and this post has no bibliography: add 'bibliography: refs.bib'"
                     " to its front matter, or '[bibliography] files = [\"refs.bib\"]' to labpress.toml")
        return
    bibliography = _bibliography(env, first_at)
    if bibliography is None or not cites:
        return
    from labpress.bibliography.cite import BibliographyError, Cite, Item
    from labpress.errors import did_you_mean, shorten

    # A key in an entry the files could not give is reported with the file's mistake, not again here.
    damaged = bibliography.damaged
    requests, placed = [], []
    for inline, child in cites:
        ok = True
        items = []
        for item in child.meta["items"]:
            if item.key not in bibliography:
                ok = False
                if damaged:
                    continue
                shown = shorten(item.key, 40)
                sink.add(*inline_position(env, inline, item.offset),
                         f"unknown citation key '{shown}'{did_you_mean(item.key.lower(), bibliography.keys())}:"
                         " no entry of the bibliography has it")
                ok = False
                continue
            locator, suffix = _locator(item.rest)
            items.append(Item(item.key, item.prefix, suffix, locator, item.suppress))
        if ok:
            requests.append(Cite(items, narrative=not child.meta["bracketed"]))
            placed.append(child)
    if not requests:
        return
    try:
        texts, entries = bibliography.render(requests)
    except BibliographyError as exc:
        sink.add(*first_at, str(exc))
        return
    from labpress.markdown.sections import unique_id

    used = {section["id"] for section in env.get("sections", [])} | set(env.get("xref_labels", {}))
    heading = unique_id("references", used)
    ids = {key: unique_id("ref-" + re.sub(r"[^\w-]", "-", key, flags=re.A), used) for key, _ in entries}
    for child, text, request in zip(placed, texts, requests):
        keys = [item.key.lower() for item in request.items]
        if len(keys) == 1 and not child.meta["in_link"]:
            child.meta["html"] = f'<a class="citation" href="#{ids[keys[0]]}">{text}</a>'
        else:
            child.meta["html"] = f'<span class="citation">{text}</span>'
    from markdown_it.token import Token

    token = Token("labpress_references", "section", 0)
    token.block = True
    token.meta = {"id": heading, "entries": [(ids[key], text) for key, text in entries]}
    state.tokens.append(token)


# --- HTML --------------------------------------------------------------------------


def _render_at(self, tokens, idx, options, env) -> str:
    token = tokens[idx]
    return token.meta.get("html", html.escape(token.content, quote=False))


def _render_references(self, tokens, idx, options, env) -> str:
    meta = tokens[idx].meta
    items = "".join(f'<li id="{anchor}">{text}</li>\n' for anchor, text in meta["entries"])
    return (f'<section class="references" aria-labelledby="{meta["id"]}">\n'
            f'<h2 id="{meta["id"]}" class="references-heading">References</h2>\n'
            f'<ol class="references-list">\n{items}</ol>\n</section>\n')
