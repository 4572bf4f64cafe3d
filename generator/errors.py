"""Errors an author or a site owner can act on.

Content errors carry a source position and print as ``path:line:col: error:
message``; they make the build exit 1. Configuration and usage errors exit 2.
Neither ever shows a Python traceback.
"""

from __future__ import annotations

import difflib
import re
import sys
from dataclasses import dataclass, field, replace
from pathlib import Path

from labpress.kernel.controls import shown


@dataclass(frozen=True, order=True)
class ContentError:
    """One mistake in a content file, at a 1-based line and column."""

    path: str
    line: int
    col: int
    message: str

    def __str__(self) -> str:
        return f"{visible(self.path)}:{self.line}:{self.col}: error: {visible(self.message)}"


# What must not reach a terminal as it is: control characters (a newline would split the error line,
# an ESC would start a terminal command), line and paragraph separators, and the bidi controls that
# make text read in another order than it is written.
_INVISIBLE = re.compile("[\x00-\x08\x0a-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def visible(text: str) -> str:
    """``text`` with characters that would break or disguise an error line written as escapes (\\n, \\x1b)."""
    return _INVISIBLE.sub(_escape, text)


def _escape(match: re.Match) -> str:
    char = match.group()
    named = {"\n": "\\n", "\r": "\\r"}.get(char)
    return named or (f"\\x{ord(char):02x}" if ord(char) < 0x100 else f"\\u{ord(char):04x}")


# An error message quotes what the author wrote, but never pages of it.
QUOTE_CHARS = 80
MESSAGE_CHARS = 400
# Errors kept for one file; past this the rest are counted in one last error.
ERRORS_PER_FILE = 50


def shorten(value, limit: int = QUOTE_CHARS) -> str:
    """``value`` as text for an error message: one line, at most ``limit`` characters."""
    text = value if isinstance(value, str) else shown(value, limit)  # in bounded time, whatever its size
    text = text.replace("\r", "\\r").replace("\n", "\\n")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def printable_path(text: str) -> str:
    """A path as text that can always be printed: bytes that are not UTF-8 are shown as \\xNN."""
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


class ContentErrors(Exception):
    """Raised when a build found one or more content errors."""

    def __init__(self, errors: list[ContentError]):
        self.errors = sorted(errors)
        super().__init__("\n".join(str(e) for e in self.errors))


class ConfigError(Exception):
    """The site configuration, the command line or the set-up is wrong (exit 2)."""


@dataclass
class ErrorSink:
    """Collects content errors for one file so an author sees them all at once."""

    path: str
    errors: list[ContentError] = field(default_factory=list)

    dropped: int = 0  # errors past ERRORS_PER_FILE, counted in the last one

    def add(self, line: int, col: int, message: str) -> None:
        if len(message) > MESSAGE_CHARS:  # a safety net: messages quote values through shorten()
            message = message[: MESSAGE_CHARS - 1] + "…"
        error = ContentError(self.path, max(line, 1), max(col, 1), message)
        if len(self.errors) < ERRORS_PER_FILE:
            self.errors.append(error)
            return
        self.dropped += 1
        if self.dropped > 1:
            error = self.errors.pop()  # the summary, at the first error not shown
        self.errors.append(replace(error, message=f"{self.dropped} more errors in this file are not shown"))

    def __bool__(self) -> bool:
        return bool(self.errors)


def did_you_mean(word: str, choices) -> str:
    """A `` (did you mean 'x'?)`` suffix when one of ``choices`` is close to ``word``."""
    close = difflib.get_close_matches(str(word), [str(c) for c in choices], n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


def display_path(path: Path, root: Path) -> str:
    """The path an author would type: relative to the site directory when inside it."""
    try:
        shown = path.resolve().relative_to(root.resolve()).as_posix()
    except (ValueError, OSError):
        shown = path.as_posix()
    return printable_path(shown)


def warn(message: str) -> None:
    """One line for the author on stderr: what a build says when its caller gives it no other way."""
    print(message, file=sys.stderr)
