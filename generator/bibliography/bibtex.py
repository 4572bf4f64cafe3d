"""BibTeX files read with the line of every entry and field, so a malformed entry is reported at
its line in the .bib file (citeproc-py's own reader keeps no positions, and stops at the first
mistake or loops at a truncated file).

The grammar is BibTeX's: text outside ``@type{...}`` entries is a comment; ``@comment``,
``@preamble`` and ``@string{name = "value"}`` are understood; a value is ``{...}`` (braces
balanced), ``"..."``, a number or a ``@string`` name (or a month, ``jan``…), joined with ``#``.
Keys are matched without regard to case, as BibTeX does. What a field means is left to
citeproc-py's BibTeX converter (LaTeX accents, ``{Protected}`` case, names), given the parsed
entries; ``url`` and ``doi`` are taken as written.
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass, field

from labpress.errors import did_you_mean, shorten

_NAME = re.compile(r"[A-Za-z][\w:.+/-]*")
_KEY = re.compile(r"[^\s,{}()=\"#%'~\\]+")
_MONTHS = {m: i + 1 for i, m in enumerate(("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct",
                                           "nov", "dec"))}
_YEAR = re.compile(r"\s*\d{1,4}(\s*(--?|–)\s*\d{1,4})?\s*")

# BibTeX and biblatex entry types -> CSL types.
TYPES = {
    "article": "article-journal", "book": "book", "booklet": "pamphlet", "conference": "paper-conference",
    "inbook": "chapter", "incollection": "chapter", "inproceedings": "paper-conference", "manual": "book",
    "mastersthesis": "thesis", "misc": "article", "phdthesis": "thesis", "proceedings": "book",
    "techreport": "report", "unpublished": "manuscript", "thesis": "thesis", "report": "report",
    "online": "webpage", "electronic": "webpage", "www": "webpage", "software": "software", "dataset": "dataset",
}


@dataclass
class Entry:
    type: str
    key: str  # as written
    line: int
    fields: dict = field(default_factory=dict)  # name (lower case) -> value
    lines: dict = field(default_factory=dict)  # name -> line of the field


class _Malformed(Exception):
    def __init__(self, offset: int, message: str, at_end: bool = False):
        self.offset, self.message, self.at_end = offset, message, at_end


class _Reader:
    def __init__(self, text: str):
        self.text = text
        self.pos = 0
        self.strings: dict[str, str] = {}
        self.preamble = ""

    def line(self, offset: int) -> int:
        return self.text.count("\n", 0, offset) + 1

    def skip_space(self) -> None:
        text = self.text
        while self.pos < len(text) and text[self.pos].isspace():
            self.pos += 1

    def peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def expect(self, chars: str, what: str) -> str:
        self.skip_space()
        char = self.peek()
        if not char or char not in chars:
            found = f"'{char}'" if char else "the end of the file"
            raise _Malformed(self.pos, f"expected {what}, found {found}", not char)
        self.pos += 1
        return char

    def name(self, what: str) -> str:
        self.skip_space()
        match = _NAME.match(self.text, self.pos)
        if not match:
            raise _Malformed(self.pos, f"expected {what}")
        self.pos = match.end()
        return match.group().lower()

    def braced(self, start: int) -> str:
        """The text of ``{...}`` whose opening brace is at ``start - 1``."""
        depth, i, text = 1, start, self.text
        while i < len(text):
            char = text[i]
            if char == "{":
                depth += 1
            elif char == "}":
                depth -= 1
                if depth == 0:
                    self.pos = i + 1
                    return text[start:i]
            elif char == "@" and depth == 1 and text[max(text.rfind("\n", 0, i), 0):i].strip() == "" and i > start:
                break  # an entry starting at the beginning of a line: this value was never closed
            i += 1
        raise _Malformed(start - 1, "a '{' that is never closed (its braces do not balance)", True)

    def quoted(self, start: int) -> str:
        depth, i, text = 0, start, self.text
        while i < len(text):
            char = text[i]
            if char == "{":
                depth += 1
            elif char == "}":
                depth -= 1
            elif char == '"' and depth == 0:
                self.pos = i + 1
                return text[start:i]
            elif char == "\n" and text[i + 1:i + 2] == "@":
                break
            i += 1
        raise _Malformed(start - 1, "a '\"' that is never closed")

    def value(self) -> str:
        parts = []
        while True:
            self.skip_space()
            char, at = self.peek(), self.pos
            if char == "{":
                parts.append(self.braced(at + 1))
            elif char == '"':
                parts.append(self.quoted(at + 1))
            elif char.isdigit():
                match = re.compile(r"\d+").match(self.text, at)
                parts.append(match.group())
                self.pos = match.end()
            elif char.isalpha():
                name = self.name("a value")
                if name in self.strings:
                    parts.append(self.strings[name])
                elif name in _MONTHS:
                    parts.append(str(_MONTHS[name]))
                else:
                    raise _Malformed(at, f"'{shorten(name, 40)}' is not a @string defined above it; write text"
                                         " values in braces: {...}")
            else:
                found = f"'{char}'" if char else "the end of the file"
                raise _Malformed(at, f"expected a value ({{...}}, \"...\" or a number), found {found}")
            self.skip_space()
            if self.peek() != "#":
                return "".join(parts)
            self.pos += 1

    def entry(self, at: int) -> Entry | None:
        """The entry whose '@' is at ``at``; None for @comment, @string and @preamble."""
        self.pos = at + 1
        kind = self.name("an entry type after '@', as in @article{key, ...}")
        if kind == "comment":
            self.skip_space()
            if self.peek() == "{":
                self.pos += 1
                self.braced(self.pos)
            return None
        opening = self.expect("{(", f"'{{' after '@{kind}'")
        closing = "}" if opening == "{" else ")"
        if kind == "string":
            name = self.name("a @string name")
            self.expect("=", f"'=' after '{name}'")
            self.strings[name] = self.value()
            self.expect(closing, f"'{closing}' closing the @string")
            return None
        if kind == "preamble":
            self.preamble += self.value()
            self.expect(closing, f"'{closing}' closing the @preamble")
            return None
        self.skip_space()
        match = _KEY.match(self.text, self.pos)
        if not match:
            raise _Malformed(self.pos, f"the @{kind} entry has no key: write @{kind}{{key, field = {{...}}, ...}}")
        entry = Entry(kind, match.group(), self.line(at))
        self.pos = match.end()
        try:
            return self._fields(entry, closing)
        except _Malformed as exc:
            if exc.at_end:  # the file ended inside the entry: where it starts is where to look
                raise _Malformed(at, f"the entry '{entry.key}' is never closed (its braces do not balance)") from None
            raise

    def _fields(self, entry: Entry, closing: str) -> Entry:
        while True:
            separator = self.expect("," + closing, f"',' or '{closing}' after the key or a field of '{entry.key}'")
            if separator == closing:
                return entry
            self.skip_space()
            if self.peek() == closing:
                self.pos += 1
                return entry
            field_at = self.pos
            name = self.name(f"a field name (such as 'title = {{...}}') in '{entry.key}'")
            self.expect("=", f"'=' after the field '{name}'")
            value = self.value()
            if name in entry.fields:
                raise _Malformed(field_at, f"the field '{name}' is given twice in '{entry.key}'")
            entry.fields[name] = value
            entry.lines[name] = self.line(field_at)


def parse_bibtex(text: str) -> tuple[list[Entry], list[tuple[int, str]], str]:
    """(entries, problems as (line, message), the @preamble) of a BibTeX file's text."""
    reader = _Reader(text)
    entries: list[Entry] = []
    problems: list[tuple[int, str]] = []
    pos = 0
    while True:
        at = text.find("@", pos)
        if at < 0:
            break
        line_start = text.rfind("\n", 0, at) + 1
        if (at > 0 and (text[at - 1].isalnum() or text[at - 1] in "._-+")) or text[line_start:at].lstrip().startswith("%"):
            pos = at + 1  # an address in a comment (outside entries everything is a comment), or a % comment line
            continue
        try:
            entry = reader.entry(at)
            pos = reader.pos
            if entry is not None:
                entries.append(entry)
        except _Malformed as exc:
            problems.append((reader.line(exc.offset), exc.message))
            # On with the next entry that starts a line.
            following = re.compile(r"\n[ \t]*@").search(text, at + 1)
            if not following:
                break
            pos = following.end() - 1
    return entries, problems, reader.preamble


# --- To CSL references (citeproc-py) ---------------------------------------------


def _converter():
    from citeproc.source.bibtex.bibtex import BibTeX

    class Converter(BibTeX):
        types = {**BibTeX.types, **TYPES}
        fields = {name: csl for name, csl in BibTeX.fields.items() if name not in ("doi",)}

        def __init__(self, preamble: str):  # the entries come from parse_bibtex, not from a file
            from citeproc.source.bibtex.latex import parse_latex
            from citeproc.source.bibtex.latex.macro import Macro, NewCommand

            self.preamble_macros = {}
            parse_latex(preamble, {"newcommand": NewCommand(self.preamble_macros), "mbox": Macro(1, "{0}"),
                                   "cite": Macro(1, "CITE({0})")})

    return Converter


def to_references(entries: list[Entry], preamble: str) -> tuple[list, list[tuple[int, str]]]:
    """(citeproc-py reference, line) of each entry, and problems at the line of the entry or field."""
    from citeproc.source.bibtex.bibparse import BibTeXEntry
    from citeproc.string import MixedString, String

    problems: list[tuple[int, str]] = []
    try:
        converter = _converter()(preamble)
    except Exception as exc:  # citeproc's LaTeX reader, on a @preamble it does not follow
        return [], [(1, f"the @preamble cannot be read: {shorten(str(exc), 80)}")]
    references = []
    for entry in entries:
        if entry.type not in converter.types:
            problems.append((entry.line, f"unknown entry type '@{shorten(entry.type, 30)}'"
                                         f"{did_you_mean(entry.type, converter.types)}"))
            continue
        year = entry.fields.get("year")
        if year is not None and not _YEAR.fullmatch(year):
            problems.append((entry.lines["year"], f"the year of '{entry.key}' is not a year: "
                                                  f"'{shorten(year, 30)}' (write year = {{2020}})"))
            continue
        fields = {name: value for name, value in entry.fields.items() if name not in ("url", "doi")}
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # fields citeproc-py has no use for
                reference = converter.create_reference(entry.key.lower(), BibTeXEntry(entry.type, fields))
        except Exception as exc:  # a value citeproc's reader cannot take (unbalanced braces in a name…)
            problems.append((entry.line, f"the entry '{entry.key}' cannot be read: {shorten(str(exc) or type(exc).__name__, 100)}"))
            continue
        for name, csl in (("url", "URL"), ("doi", "DOI")):
            raw = entry.fields.get(name, "").strip().strip("{}").strip()
            if raw:
                reference[csl] = MixedString() + String(raw)
        references.append((reference, entry.line))
    return references, problems
