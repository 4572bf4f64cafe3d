"""Front matter: the experiment's identity, validated field by field with positions."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from .config import SiteConfig
from .errors import ErrorSink, did_you_mean

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
    "mood", "summary", "tags", "verdict", "verdict_label",
)
# The block at the top of a post: between two '---' lines.
FRONT_MATTER = re.compile(r"\A---[ \t]*\n(.*?\n)?---[ \t]*(\n|\Z)", re.S)
_TAG = re.compile(r"^[\w][\w .+#-]*$")


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
    # field -> (line, column) of its value, for errors found later across posts
    positions: dict[str, tuple[int, int]] = field(default_factory=dict, repr=False, compare=False)

    @property
    def is_draft(self) -> bool:
        return self.status == "draft"


def tag_slug(tag: str) -> str:
    slug = re.sub(r"[^\w]+", "-", tag.lower(), flags=re.UNICODE).strip("-")
    return slug or "tag"


def _failing_value(loader, node):
    """The start mark of the first value of the mapping ``node`` that cannot be constructed."""
    import yaml

    for _key, value in getattr(node, "value", []) if isinstance(node, yaml.MappingNode) else []:
        try:
            yaml.SafeLoader("").construct_object(value, deep=True)
        except ValueError:
            return value.start_mark
    return node.start_mark


def parse_front_matter(text: str, first_line: int, sink: ErrorSink, config: SiteConfig) -> PostMeta:
    """Validate YAML ``text`` that starts on 1-based line ``first_line`` of the post."""
    import yaml  # here: builds that parse no front matter (all cached) never load it

    meta = PostMeta()
    # libyaml when PyYAML has it (it nearly always does): several times faster, same results and marks.
    _Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        # One parse: the node tree gives positions, and the values are built from it.
        loader = _Loader(text)
        try:
            node = loader.get_single_node()
            try:
                values = loader.construct_document(node) if node is not None else None
            except ValueError as exc:  # a value YAML reads but cannot build, such as the date 2026-13-01
                where = _failing_value(loader, node)
                sink.add(first_line + where.line, where.column + 1, f"front matter value is not valid: {exc}")
                return meta
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = first_line + (mark.line if mark else 0)
        col = (mark.column + 1) if mark else 1
        sink.add(line, col, f"front matter is not valid YAML: {exc.problem or exc.context}")
        return meta
    if node is None:
        sink.add(first_line - 1, 1, "front matter is empty: 'title' and 'date' are required")
        return meta
    if not isinstance(node, yaml.MappingNode) or not isinstance(values, dict):
        sink.add(first_line + node.start_mark.line, node.start_mark.column + 1,
                 "front matter must be a mapping of fields such as 'title: ...'")
        return meta

    positions: dict[str, tuple[int, int, int]] = {}
    for key_node, value_node in node.value:
        key = key_node.value
        line = first_line + key_node.start_mark.line
        if key in positions:
            sink.add(line, key_node.start_mark.column + 1, f"field '{key}' is given twice")
        positions[key] = (line, key_node.start_mark.column + 1, value_node.start_mark.column + 1)

    meta.positions = {key: (line, value_col) for key, (line, _c, value_col) in positions.items()}

    def at(key: str) -> tuple[int, int]:
        line, _key_col, value_col = positions[key]
        return line, value_col

    for key in values:
        if str(key) not in FIELDS:
            line, col, _ = positions.get(str(key), (first_line, 1, 1))
            sink.add(line, col, f"unknown front matter field '{key}'{did_you_mean(key, FIELDS)}")

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
        if isinstance(value, (dict, list)) or isinstance(value, bool):
            sink.add(*at(key), f"'{key}' must be text")
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
                meta.date = dt.date.fromisoformat(str(raw).strip())
            except ValueError:
                sink.add(*at("date"), f"'date' must be a date written YYYY-MM-DD, not '{raw}'")

    for key in ("exp", "step"):
        if key in values and values[key] is not None:
            raw = values[key]
            if isinstance(raw, bool) or not isinstance(raw, int) or raw < (0 if key == "exp" else 1):
                least = "0" if key == "exp" else "1"
                sink.add(*at(key), f"'{key}' must be a whole number of at least {least}, not '{raw}'")
            else:
                setattr(meta, key, raw)

    def choice(key: str, allowed: tuple[str, ...]) -> str:
        raw = values.get(key)
        if raw is None:
            return ""
        value = str(raw).strip().lower()
        if value not in allowed:
            sink.add(*at(key), f"'{key}' must be one of {', '.join(allowed)}, not '{raw}'{did_you_mean(value, allowed)}")
            return ""
        return value

    meta.status = choice("status", STATUSES) or "complete"
    meta.verdict = choice("verdict", VERDICTS)
    if meta.verdict_label and not meta.verdict and "verdict" not in values:
        sink.add(*at("verdict_label"), "'verdict_label' needs a 'verdict' (one of " + ", ".join(VERDICTS) + ")")
    if meta.verdict and not meta.verdict_label:
        meta.verdict_label = DEFAULT_VERDICT_LABELS[meta.verdict]

    if values.get("series") is not None:
        key = str(values["series"]).strip()
        if key not in config.series:
            known = ", ".join(config.series) or "none are defined in labpress.toml"
            sink.add(*at("series"), f"unknown series '{key}'{did_you_mean(key, config.series)}; known series: {known}")
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
        else:
            seen: set[str] = set()
            for tag in raw_tags:
                if not isinstance(tag, (str, int)) or isinstance(tag, bool) or not _TAG.match(str(tag).strip()):
                    sink.add(*at("tags"), f"tag '{tag}' must be a short word or phrase")
                    continue
                tag = str(tag).strip()
                if tag_slug(tag) not in seen:
                    seen.add(tag_slug(tag))
                    meta.tags.append(tag)
    return meta
