"""What an author's code raised, and where it was: the one rule, used at build time and in the browser.

A kernel, a widget module being imported, or a figure block stops with an exception whose
traceback runs through LabPress's own frames and the author's. The position an author wants is
the innermost frame in their own file: ``innermost(exc, accept)`` finds it (a SyntaxError is
placed at its own line, which no frame holds). Standard library only: it ships with the widget
API to the browser, where the worker reports kernel errors the same way.
"""

from __future__ import annotations

import traceback
from typing import Callable, NamedTuple


class Place(NamedTuple):
    filename: str
    line: int
    col: int | None = None  # 1-based, where Python knows it


def innermost(exc: BaseException | None, accept: Callable[[str], bool]) -> Place | None:
    """The innermost place of ``exc`` in a file ``accept(filename)`` takes, or None."""
    if exc is None:
        return None
    if isinstance(exc, SyntaxError) and exc.filename and accept(exc.filename):
        return Place(exc.filename, exc.lineno or 1, exc.offset or None)
    try:
        frames = traceback.extract_tb(exc.__traceback__)
    except Exception:  # pragma: no cover - a traceback that cannot be read gives no place
        return None
    for frame in reversed(frames):
        if accept(frame.filename):
            col = getattr(frame, "colno", None)
            return Place(frame.filename, frame.lineno or 1, col + 1 if col is not None else None)
    return None


def location(exc: BaseException | None, accept: Callable[[str], bool]) -> str:
    """``innermost`` as ``'file:line'``, or '' when no frame is the author's."""
    place = innermost(exc, accept)
    return f"{place.filename}:{place.line}" if place else ""


def describe(exc: BaseException, limit: int | None = None) -> str:
    """``'TypeError: message'`` for any exception, even one whose ``__str__`` fails; cut to ``limit``."""
    name = type(exc).__name__
    try:
        text = str(exc)
    except Exception:  # an author's exception whose __str__ fails
        text = ""
    shown = f"{name}: {text}" if text.strip() else name
    return shown if limit is None or len(shown) <= limit else shown[:limit - 1] + "…"
