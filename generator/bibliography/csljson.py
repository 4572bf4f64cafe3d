"""CSL-JSON files (what Zotero and Pandoc export): a list of items, each checked with the line of
its ``"id"`` so a malformed one is reported there."""

from __future__ import annotations

import json
import re
import warnings

from labpress.errors import shorten

_NAME_FIELDS = ("author", "editor", "translator", "container-author", "collection-editor", "composer",
                "director", "interviewer", "illustrator", "original-author", "recipient", "reviewed-author")
_DATE_FIELDS = ("issued", "accessed", "original-date", "event-date", "submitted")


def _line_of_id(text: str, key) -> int:
    match = re.search(r'"id"\s*:\s*"?' + re.escape(str(key)) + r'"?\s*[,}\n]', text)
    return text.count("\n", 0, match.start()) + 1 if match else 1


def _problem(item: dict) -> str | None:
    """What is wrong with one item, or None."""
    if not isinstance(item.get("type"), str) or not item["type"]:
        return "has no \"type\" (such as \"article-journal\" or \"book\")"
    for name in _NAME_FIELDS:
        if name in item:
            names = item[name]
            if not isinstance(names, list) or not all(
                    isinstance(n, dict) and n and all(isinstance(v, (str, int)) for v in n.values()) for n in names):
                return f"\"{name}\" must be a list of names such as {{\"family\": \"Curie\", \"given\": \"Marie\"}}"
    for name in _DATE_FIELDS:
        if name in item:
            date = item[name]
            parts = date.get("date-parts") if isinstance(date, dict) else None
            literal = date.get("literal") if isinstance(date, dict) else None
            if parts is None and not isinstance(literal, str):
                return f"\"{name}\" must be a date such as {{\"date-parts\": [[2020, 5]]}}"
            if parts is not None and (not isinstance(parts, list) or not parts or not all(
                    isinstance(p, list) and p and all(isinstance(x, int) or (isinstance(x, str) and x.isdigit())
                                                      for x in p) for p in parts)):
                return f"\"{name}\" has date-parts that are not lists of numbers, as in [[2020, 5, 1]]"
    return None


def parse_csl_json(text: str) -> tuple[list, list[tuple[int, str]]]:
    """((citeproc-py reference, line of its id) of each item, problems as (line, message)) of a CSL-JSON file's text."""
    from citeproc.source.json import CiteProcJSON

    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        return [], [(exc.lineno, f"not valid JSON: {exc.msg}")]
    if not isinstance(data, list):
        return [], [(1, "a CSL-JSON bibliography is a list of items: [{\"id\": \"curie1898\", \"type\": ...}, ...]")]
    references, problems = [], []
    for index, item in enumerate(data):
        if not isinstance(item, dict) or not isinstance(item.get("id"), (str, int)) or isinstance(item.get("id"), bool) \
                or not str(item.get("id")).strip():
            problems.append((1, f"item {index + 1} has no \"id\": each item is an object with an \"id\" and a \"type\""))
            continue
        line = _line_of_id(text, item["id"])
        problem = _problem(item)
        if problem:
            problems.append((line, f"the item '{shorten(str(item['id']), 40)}' {problem}"))
            continue
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # fields citeproc-py has no use for
                source = CiteProcJSON([item])
        except Exception as exc:
            problems.append((line, f"the item '{shorten(str(item['id']), 40)}' cannot be read:"
                                   f" {shorten(str(exc) or type(exc).__name__, 100)}"))
            continue
        references.extend((reference, line) for reference in source.values())
    return references, problems
