"""Front matter: the experiment's identity, validated field by field with positions."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from labpress.config.schema import SiteConfig
from labpress.errors import ErrorSink, did_you_mean, shorten

STATUSES = ("draft", "running", "complete")
VERDICTS = ("confirmed", "refuted", "mixed", "inconclusive")
DEFAULT_VERDICT_LABELS = {
    "confirmed": "Confirmed",
    "refuted": "Refuted",
    "mixed": "Mixed result",
    "inconclusive": "Inconclusive",
}
VERDICT_MARKS = {"confirmed": "✓", "refuted": "⚠", "mixed": "◐", "inconclusive": "?"}
VERDICT_PHRASES = {
    "confirmed": "Hypothesis confirmed",
    "refuted": "Hypothesis refuted",
    "mixed": "Hypothesis partly confirmed",
    "inconclusive": "Hypothesis neither confirmed nor refuted",
}
FIELDS = (
    "title", "date", "exp", "code", "series", "step", "status",
    "mood", "summary", "tags", "verdict", "verdict_label", "bibliography",
)
# The block at the top of a post: between two '---' lines.
FRONT_MATTER = re.compile(r"\A---[ \t]*\n(.*?\n)?---[ \t]*(\n|\Z)", re.S)
_TAG = re.compile(r"^[\w][\w .+#-]*$")

# Bounds on what a post's front matter may hold; its fields need far less. They keep a hostile or
# broken file (a "billion laughs" of nested YAML aliases, a list nested ten thousand deep) from
# taking the build's time and memory: past them the front matter is an error, never expanded.
MAX_FRONT_MATTER_CHARS = 64 * 1024
MAX_VALUES = 10_000  # values after every alias is expanded
MAX_DEPTH = 50  # lists and mappings inside one another


@dataclass
class PostMeta:
    title: str = ""
    date: dt.date = dt.date(1970, 1, 1)
    exp: int | None = None
    code: str = ""
    series: str = ""
    step: int | None = None
    status: str = "complete"
    mood: str = ""
    summary: str = ""
    tags: list[str] = field(default_factory=list)
    verdict: str = ""
    verdict_label: str = ""
    # BibTeX or CSL-JSON files as written, relative to the post's folder (markdown/citations.py reads them)
    bibliography: list[str] = field(default_factory=list)
    # field -> (line, column) of its value, for errors found later across posts
    positions: dict[str, tuple[int, int]] = field(default_factory=dict, repr=False, compare=False)
    # What an error already said is wrong, so nothing that depends on it reports it again (one mistake,
    # one message): the fields whose value was refused, and whether the front matter could not be read.
    refused: set[str] = field(default_factory=set, repr=False, compare=False)
    unreadable: bool = field(default=False, repr=False, compare=False)

    def known(self, key: str) -> bool:
        """Whether ``key``'s value is as the author wrote it, or absent: not refused, not unread."""
        return not self.unreadable and key not in self.refused

    @property
    def is_draft(self) -> bool:
        return self.status == "draft"


def tag_slug(tag: str) -> str:
    slug = re.sub(r"[^\w]+", "-", tag.lower(), flags=re.UNICODE).strip("-")
    return slug or "tag"


def _failing_value(loader, node):
    """The first value of the mapping ``node`` that cannot be constructed (else ``node``)."""
    import yaml

    for _key, value in getattr(node, "value", []) if isinstance(node, yaml.MappingNode) else []:
        try:
            yaml.SafeLoader("").construct_object(value, deep=True)
        except Exception:  # whatever a value fails with, it is this value that fails
            return value
    return node


def _too_big(node) -> tuple[object, str] | None:
    """(node to point at, message) when the document ``node`` holds more values than MAX_VALUES once
    its aliases are expanded, or nests deeper than MAX_DEPTH; None when it is within bounds.

    Walks the composed nodes without building anything: an alias is the very node it names, so a
    value repeated through aliases is counted each time it is used, and the walk stops at the bound.
    """
    import yaml

    tops = node.value if isinstance(node, yaml.MappingNode) else [(node, node)]
    count = 0
    for key_node, value_node in tops:
        stack = [(value_node, 1)]
        while stack:
            current, depth = stack.pop()
            count += 1
            if count > MAX_VALUES:
                return key_node, (f"front matter holds more than {MAX_VALUES:,} values, counting each use of"
                                  " an alias (*name) in full; a post's fields need a few")
            if depth > MAX_DEPTH:
                return current, f"front matter nests lists or mappings more than {MAX_DEPTH} deep"
            if isinstance(current, yaml.SequenceNode):
                stack.extend((child, depth + 1) for child in current.value)
            elif isinstance(current, yaml.MappingNode):
                stack.extend((child, depth + 1) for pair in current.value for child in pair)
    return None


def _position(text: str, offset: int) -> tuple[int, int]:
    """0-based line and 1-based column of a character offset in ``text``."""
    line_start = text.rfind("\n", 0, offset) + 1
    return text.count("\n", 0, offset), offset - line_start + 1


def _at(text: str, first_line: int, mark) -> tuple[int, int]:
    """1-based line and column in the post of a YAML mark in front matter ``text`` that starts on
    ``first_line``. From the mark's character offset, not its line: YAML also ends a line at U+0085,
    U+2028 and U+2029, which the post's lines (and an author's editor) do not."""
    line0, col = _position(text, mark.index)
    return first_line + line0, col


def normalise(text: str) -> str:
    """A post's text with lines as markdown-it counts them (a lone CR is a line break too) and no BOM,
    so every reader of a post agrees on its lines and columns."""
    return text.replace("\r\n", "\n").replace("\r", "\n").lstrip("\ufeff")


def read_front_matter(text: str, first_line: int, sink: ErrorSink):
    """(mapping node, values) of the front matter YAML ``text`` starting on 1-based line ``first_line``,
    read within the bounds above; None after an error in ``sink`` when it is too big, holds a control
    character, is not YAML, builds a value Python cannot hold, or is not a mapping.

    The one safe way to read front matter: the build validates what it returns (parse_front_matter),
    ``labpress new`` reads the numbers of the posts already there from it.
    """
    import yaml  # here: builds that parse no front matter (all cached) never load it
    from yaml.reader import Reader

    if len(text) > MAX_FRONT_MATTER_CHARS:
        sink.add(first_line - 1, 1, f"front matter is longer than {MAX_FRONT_MATTER_CHARS // 1024} KiB:"
                                    " keep long text in the post's body")
        return None
    bad = Reader.NON_PRINTABLE.search(text)  # what YAML refuses to read, such as a NUL byte
    if bad:
        line0, col = _position(text, bad.start())
        sink.add(first_line + line0, col, f"front matter cannot hold the control character U+{ord(bad.group()[0]):04X}")
        return None
    # libyaml when PyYAML has it (it nearly always does): several times faster, same results and marks.
    _Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    at_mark = lambda mark: _at(text, first_line, mark)  # noqa: E731
    try:
        # One parse: the node tree gives positions, and the values are built from it.
        loader = _Loader(text)
        try:
            node = loader.get_single_node()
            problem = _too_big(node) if node is not None else None
            if problem:
                where, message = problem
                sink.add(*at_mark(where.start_mark), message)
                return None
            try:
                values = loader.construct_document(node) if node is not None else None
            except yaml.MarkedYAMLError:
                raise
            except Exception as exc:  # a value YAML reads but cannot build, such as the date 2026-13-01
                failing = _failing_value(loader, node)
                where = failing.start_mark
                reason = str(exc) if isinstance(exc, ValueError) else f"it cannot be read as {failing.tag.rsplit(':', 1)[-1]}"
                sink.add(*at_mark(where), f"front matter value is not valid: {shorten(reason)}")
                return None
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        sink.add(*(at_mark(mark) if mark else (first_line, 1)), f"front matter is not valid YAML: {shorten(exc.problem or exc.context or '')}")
        return None
    except (yaml.YAMLError, RecursionError) as exc:  # the pure-Python parser nests a frame per level
        message = "nests too deeply" if isinstance(exc, RecursionError) else shorten(str(exc))
        sink.add(first_line - 1, 1, f"front matter is not valid YAML: {message}")
        return None
    if node is None:
        sink.add(first_line - 1, 1, "front matter is empty: 'title' and 'date' are required")
        return None
    if not isinstance(node, yaml.MappingNode) or not isinstance(values, dict):
        sink.add(*at_mark(node.start_mark), "front matter must be a mapping of fields such as 'title: ...'")
        return None
    return node, values


def front_matter_values(text: str) -> dict | None:
    """The fields of a whole post's front matter as YAML gives them, unvalidated, or None when
    the post has none that can be read safely (the build reports why)."""
    match = FRONT_MATTER.match(normalise(text))
    read = read_front_matter(match.group(1) or "", 2, ErrorSink("")) if match else None
    return read[1] if read else None


def parse_front_matter(text: str, first_line: int, sink: ErrorSink, config: SiteConfig) -> PostMeta:
    """Validate YAML ``text`` that starts on 1-based line ``first_line`` of the post."""
    meta = PostMeta()
    read = read_front_matter(text, first_line, sink)
    if read is None:
        meta.unreadable = True
        return meta
    node, values = read

    positions: dict[str, tuple[tuple[int, int], tuple[int, int]]] = {}  # key -> (its position, its value's)
    for key_node, value_node in node.value:
        key = str(key_node.value)
        where = _at(text, first_line, key_node.start_mark)
        if key in positions:
            sink.add(*where, f"field '{shorten(key)}' is given twice")
        positions[key] = (where, _at(text, first_line, value_node.start_mark))

    meta.positions = {key: value_at for key, (_key_at, value_at) in positions.items()}

    def at(key: str) -> tuple[int, int]:
        return positions[key][1]

    for key in values:
        if str(key) not in FIELDS:
            line, col = positions.get(str(key), ((first_line, 1), None))[0]
            shown = shorten(key)
            sink.add(line, col, f"unknown front matter field '{shown}'{did_you_mean(shown, FIELDS)}")

    for required in ("title", "date"):
        if required not in values or values[required] in (None, ""):
            if required in values:
                sink.add(*at(required), f"'{required}' must not be empty")
            else:
                sink.add(first_line - 1, 1, f"front matter is missing the required field '{required}'")

    def text_field(key: str) -> str:
        value = values.get(key)
        if value is None:
            return ""
        if isinstance(value, (dict, list, bool, bytes)):
            sink.add(*at(key), f"'{key}' must be text")
            meta.refused.add(key)
            return ""
        return str(value).strip()

    meta.title = text_field("title")
    meta.code = text_field("code")
    meta.mood = text_field("mood")
    meta.summary = text_field("summary")
    meta.verdict_label = text_field("verdict_label")

    if values.get("date") not in (None, ""):
        raw = values["date"]
        if isinstance(raw, dt.datetime):
            meta.date = raw.date()
        elif isinstance(raw, dt.date):
            meta.date = raw
        else:
            try:
                if not isinstance(raw, (str, int)) or isinstance(raw, bool):
                    raise ValueError(raw)
                meta.date = dt.date.fromisoformat(str(raw).strip())
            except ValueError:
                sink.add(*at("date"), f"'date' must be a date written YYYY-MM-DD, not '{shorten(raw)}'")
                meta.refused.add("date")

    for key in ("exp", "step"):
        if key in values and values[key] is not None:
            raw = values[key]
            if isinstance(raw, bool) or not isinstance(raw, int) or raw < (0 if key == "exp" else 1):
                least = "0" if key == "exp" else "1"
                sink.add(*at(key), f"'{key}' must be a whole number of at least {least}, not '{shorten(raw)}'")
                meta.refused.add(key)
            else:
                setattr(meta, key, raw)

    def choice(key: str, allowed: tuple[str, ...]) -> str:
        raw = values.get(key)
        if raw is None:
            return ""
        value = shorten(raw).strip().lower() if isinstance(raw, (str, int, float)) else ""
        if value not in allowed:
            sink.add(*at(key), f"'{key}' must be one of {', '.join(allowed)}, not '{shorten(raw)}'{did_you_mean(value, allowed)}")
            meta.refused.add(key)
            return ""
        return value

    meta.status = choice("status", STATUSES) or "complete"
    meta.verdict = choice("verdict", VERDICTS)
    if meta.verdict_label and not meta.verdict and "verdict" not in values:
        sink.add(*at("verdict_label"), "'verdict_label' needs a 'verdict' (one of " + ", ".join(VERDICTS) + ")")
    if meta.verdict and not meta.verdict_label:
        meta.verdict_label = DEFAULT_VERDICT_LABELS[meta.verdict]

    if values.get("series") is not None:
        key = shorten(values["series"]).strip()
        if key not in config.series or not isinstance(values["series"], (str, int)):
            known = shorten(", ".join(config.series) or "none are defined in labpress.toml")
            sink.add(*at("series"), f"unknown series '{key}'{did_you_mean(key, config.series)}; known series: {known}")
            meta.refused.add("series")
        else:
            meta.series = key
    if meta.step is not None and "series" not in values:
        sink.add(*at("step"), "'step' needs a 'series'")

    raw_tags = values.get("tags")
    if raw_tags is not None:
        if isinstance(raw_tags, str):
            raw_tags = [raw_tags]
        if not isinstance(raw_tags, list):
            sink.add(*at("tags"), "'tags' must be a list such as [optimisation, regularisation]")
            meta.refused.add("tags")
        else:
            seen: set[str] = set()
            for tag in raw_tags:
                if not isinstance(tag, (str, int)) or isinstance(tag, bool) or not _TAG.match(str(tag).strip()):
                    sink.add(*at("tags"), f"tag '{shorten(tag)}' must be a short word or phrase")
                    continue
                tag = str(tag).strip()
                if tag_slug(tag) not in seen:
                    seen.add(tag_slug(tag))
                    meta.tags.append(tag)

    raw_files = values.get("bibliography")
    if raw_files is not None:
        files = [raw_files] if isinstance(raw_files, str) else raw_files
        if not isinstance(files, list) or not files or not all(isinstance(f, str) and f.strip() for f in files):
            sink.add(*at("bibliography"), "'bibliography' names a BibTeX (.bib) or CSL-JSON (.json) file, or a list"
                                          " of them, relative to the post's folder: 'bibliography: refs.bib'")
            meta.refused.add("bibliography")
        else:
            meta.bibliography = list(dict.fromkeys(f.strip() for f in files))
    return meta
