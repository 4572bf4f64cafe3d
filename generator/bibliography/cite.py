"""Citations and the reference list of one post, formatted by citeproc-py in a CSL style.

``load_file`` reads a BibTeX or CSL-JSON file (kept per process while its bytes are the same);
``Bibliography`` holds the references a post may cite and ``render`` formats its citations in
order (numeric styles number the works as they are first cited) and the list of works cited.

citeproc-py has neither Pandoc's author-in-text citations (``@key``) nor suppressed authors
(``[-@key]``). Both are made from ordinary citations: the work is cited once more with its
authors replaced by a one-character stand-in, which is then taken out with the delimiter after
it ("(Curie, 1898)" and "(#, 1898)" give "Curie" and "(1898)"). A style that shows no names in
its citations (numeric, label) has nothing to suppress, and an in-text citation there is the
authors' family names before the citation: "Curie and Curie [1]".
"""

from __future__ import annotations

import html as html_lib
import re
import types
import warnings
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from labpress.cache.inputs import input_digest
from labpress.errors import shorten

MAX_BYTES = 5_000_000
_STAND_IN = "\ue000"  # a private-use character: never in a bibliography
_STAND_IN_KEY = "\x01author-suppressed"
_STAND_IN_OUT = re.compile("(?:<[a-z][^>]*>)*" + _STAND_IN + r"(?:</[a-z]+>)*(?:[,;:]?\s+|[,;:])?")
_URL = re.compile(r"(?<![\"'=>/])\b(https?://[^\s<>\"]+?)(?=[.,;:)\]]?(?:\s|<|$))")
_BARE_AMPERSAND = re.compile(r"&(?![A-Za-z][A-Za-z0-9]*;|#[0-9]+;|#[xX][0-9A-Fa-f]+;)")
_LEADING_LABEL = re.compile(r"^(\[[^\]<]{1,12}\]|\d{1,4}\.)(?=\S)")


class BibliographyError(Exception):
    """A file that cannot be used at all, or citations citeproc-py cannot format."""


@dataclass
class Source:
    """One bibliography file: its references by key (lower case) with their lines, and what is wrong in it."""

    shown: str  # the path as an author writes it, for messages
    references: dict = field(default_factory=dict)  # key -> (citeproc reference, line)
    problems: list = field(default_factory=list)  # (line, message)


_loaded: dict[tuple[str, str], Source] = {}


def load_file(path: Path, shown: str) -> Source:
    """The references of a .bib or .json file; an unreadable file is a Source with one problem."""
    digest = input_digest("file", path)
    cache_key = (str(path), digest or "")
    if digest is not None and cache_key in _loaded:
        return _loaded[cache_key]
    source = Source(shown)
    try:
        data = path.read_bytes()
    except OSError as exc:
        source.problems.append((0, f"cannot be read: {exc.strerror or exc}"))
        return source
    if len(data) > MAX_BYTES:
        source.problems.append((0, f"is {len(data):,} bytes, more than the {MAX_BYTES:,} a bibliography may hold"))
        return source
    try:
        text = data.decode("utf-8-sig").replace("\r\n", "\n").replace("\r", "\n")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        source.problems.append((line, "is not UTF-8 text"))
        return source
    if path.suffix.lower() == ".json":
        from labpress.bibliography.csljson import parse_csl_json

        found, problems = parse_csl_json(text)
    else:
        from labpress.bibliography.bibtex import parse_bibtex, to_references

        entries, problems, preamble = parse_bibtex(text)
        found, more = to_references(entries, preamble)
        problems = problems + more
    source.problems.extend(problems)
    for reference, line in found:
        if reference.key in source.references:
            first = source.references[reference.key][1]
            source.problems.append((line, f"the key '{shorten(reference.key, 40)}' is already the entry at line {first}"))
            continue
        source.references[reference.key] = (reference, line)
    source.problems.sort()
    _loaded[cache_key] = source
    return source


# --- Styles ----------------------------------------------------------------------


def _formatter():
    """citeproc-py's HTML formatter with classes for its inline styles (a page has no style attributes)
    and no made-up elements (its 'light' is an <l>)."""
    def wrapper(tag: str, cls: str = ""):
        attrs = f' class="{cls}"' if cls else ""
        return type(f"Tag_{tag}_{cls}", (str,), {"__new__": lambda c, text: str.__new__(c, f"<{tag}{attrs}>{text}</{tag}>")})

    return types.SimpleNamespace(
        preformat=lambda text: html_lib.escape(str(text), quote=False),
        Italic=wrapper("i"), Oblique=wrapper("i"), Bold=wrapper("b"), Light=wrapper("span", "csl-light"),
        Underline=wrapper("u"), Superscript=wrapper("sup"), Subscript=wrapper("sub"),
        SmallCaps=wrapper("span", "csl-small-caps"))


FORMATTER = _formatter()


@lru_cache(maxsize=8)
def _style(style_file: str):
    from citeproc import CitationStylesStyle
    import xml.etree.ElementTree as ET

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        style = CitationStylesStyle(style_file, validate=False)
    csl = "{http://purl.org/net/xbiblio/csl}"
    category = ET.parse(style_file).getroot().find(f"{csl}info/{csl}category[@citation-format]")
    shows_names = category is None or category.get("citation-format") in ("author-date", "author")
    return style, shows_names


# --- Citing ----------------------------------------------------------------------


@dataclass
class Item:
    key: str
    prefix: str = ""
    suffix: str = ""
    locator: tuple[str, str] | None = None  # (CSL locator type such as "page", the locator "12-14")
    suppress_author: bool = False


@dataclass
class Cite:
    items: list[Item]
    narrative: bool = False  # @key in the text: "Curie (1898)"


class Bibliography:
    """The references a post may cite: the site's files, then the post's own (which win on a shared key)."""

    def __init__(self, sources: list[Source], style_file: str):
        self.style_file = style_file
        self.damaged = any(source.problems for source in sources)  # some entry could not be read
        self.references: dict = {}  # key -> (reference, shown path, line)
        for source in sources:
            for key, (reference, line) in source.references.items():
                self.references[key] = (reference, source.shown, line)

    def __contains__(self, key: str) -> bool:
        return key.lower() in self.references

    def keys(self) -> list[str]:
        return sorted(self.references)

    def render(self, cites: list[Cite]) -> tuple[list[str], list[tuple[str, str]]]:
        """(HTML of each citation, in order; (key, HTML) of each work cited, in the style's order)."""
        from citeproc import Citation, CitationItem, CitationStylesBibliography, Locator
        from citeproc.source import BibliographySource, Name, Reference

        style, shows_names = _style(self.style_file)
        cited: list[str] = []
        for cite in cites:
            for item in cite.items:
                if item.key.lower() not in cited:
                    cited.append(item.key.lower())
        source = BibliographySource()
        for key in cited:
            source.add(self.references[key][0])

        def stand_in(key: str) -> str:
            other = key + _STAND_IN_KEY
            if other not in source:
                original = source[key]
                fields = {k: v for k, v in original.items() if k not in ("key", "type")}
                fields["author"] = [Name(family=_STAND_IN)]
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    source.add(Reference(other, original.type, **fields))
            return other

        def citation(items: list[Item], stand_ins: bool):
            made = []
            for item in items:
                key = item.key.lower()
                if stand_ins and shows_names and (item.suppress_author or stand_ins == "all"):
                    key = stand_in(key)
                extra = {}
                if item.prefix:
                    extra["prefix"] = html_lib.escape(item.prefix, quote=False)
                if item.suffix:
                    extra["suffix"] = html_lib.escape(item.suffix, quote=False)
                if item.locator:
                    extra["locator"] = Locator(*item.locator)
                made.append(CitationItem(key, **extra))
            return Citation(made)

        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                bibliography = CitationStylesBibliography(style, source, FORMATTER)
                plans = []
                for cite in cites:
                    if cite.narrative:
                        full = citation(cite.items, False)
                        short = citation(cite.items, "all")
                        plans.append((cite, full, short))
                        bibliography.register(full)
                        bibliography.register(short)
                    else:
                        plain = citation(cite.items, True)
                        plans.append((cite, plain, None))
                        bibliography.register(plain)
                bibliography.sort()
                out = []
                for cite, first, short in plans:
                    text = _text(bibliography.cite(first, lambda item: None))
                    if short is None:
                        out.append(_STAND_IN_OUT.sub("", text))
                    else:
                        out.append(self._narrative(cite, text, _text(bibliography.cite(short, lambda item: None)),
                                                   shows_names))
                listed = CitationStylesBibliography(style, source, FORMATTER)
                for key in cited:
                    listed.register(Citation([CitationItem(key)]))
                listed.sort()
                entries = [(item.key, self._entry(_text(entry), item.key))
                           for item, entry in zip(listed.items, listed.bibliography())]
        except Exception as exc:  # citeproc-py on data it does not follow
            raise BibliographyError(f"citeproc-py could not format the citations: {shorten(str(exc) or type(exc).__name__, 100)}") from None
        return out, entries

    def _narrative(self, cite: Cite, full: str, short: str, shows_names: bool) -> str:
        """"Curie (1898)" from "(Curie, 1898)" and "(#, 1898)"; "Curie and Curie [1]" for a numeric style."""
        names = None
        if shows_names and _STAND_IN in short:
            before, _, after = short.partition(_STAND_IN)
            before = re.sub(r"(?:<[a-z][^>]*>)*$", "", before)
            after = re.sub(r"^(?:</[a-z]+>)*", "", after)
            if full.startswith(before) and full.endswith(after) and len(full) > len(before) + len(after):
                names = full[len(before):len(full) - len(after)]
                return names + " " + _STAND_IN_OUT.sub("", short)
        names = " and ".join(self._family_names(item.key) for item in cite.items)
        return f"{names} {_STAND_IN_OUT.sub('', full)}"

    def _family_names(self, key: str) -> str:
        reference = self.references[key.lower()][0]
        people = reference.get("author") or reference.get("editor") or []
        family = [html_lib.escape(str(p.get("family") or p.get("literal") or ""), quote=False) for p in people]
        family = [f for f in family if f]
        if not family:
            return html_lib.escape(_plain(reference.get("title")) or key, quote=False)
        if len(family) == 1:
            return family[0]
        if len(family) == 2:
            return f"{family[0]} and {family[1]}"
        return f"{family[0]} et al."

    def _entry(self, text: str, key: str) -> str:
        """An entry of the list: its URLs and DOI as links, a numeric label set apart."""
        reference = self.references[key][0]
        text = _BARE_AMPERSAND.sub("&amp;", text)  # citeproc-py leaves a URL's '&' as it is
        text = _LEADING_LABEL.sub(r'<span class="csl-label">\1</span> ', text.strip())
        text = _URL.sub(lambda m: f'<a href="{m.group(1)}">{m.group(1)}</a>', text)  # escaped already
        doi = _plain(reference.get("DOI"))
        if doi:
            target = "https://doi.org/" + doi
            shown = html_lib.escape(doi, quote=False)
            if f'href="{html_lib.escape(target)}' not in text:
                at = text.find(shown)
                if at >= 0 and text.rfind("<", 0, at) <= text.rfind(">", 0, at):
                    text = f'{text[:at]}<a href="{html_lib.escape(target)}">{shown}</a>{text[at + len(shown):]}'
                else:
                    text += f' <a href="{html_lib.escape(target)}">{html_lib.escape(target, quote=False)}</a>'
        url = _plain(reference.get("URL"))
        if url.startswith(("https://", "http://")) and f'href="{html_lib.escape(url, quote=False)}"' not in text and not doi:
            text += f' <a href="{html_lib.escape(url)}">{html_lib.escape(url, quote=False)}</a>'
        return text


def _text(rendered) -> str:
    return "".join(str(part) for part in rendered) if isinstance(rendered, (list, tuple)) else str(rendered)


def _plain(value) -> str:
    if value is None:
        return ""
    return (_text(value) if isinstance(value, list) else str(value)).strip()
