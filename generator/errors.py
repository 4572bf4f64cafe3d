"""Errors an author or a site owner can act on.

Content errors carry a source position and print as ``path:line:col: error:
message``; they make the build exit 1. Configuration and usage errors exit 2.
Neither ever shows a Python traceback.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True, order=True)
class ContentError:
    """One mistake in a content file, at a 1-based line and column."""

    path: str
    line: int
    col: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.col}: error: {self.message}"


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

    def add(self, line: int, col: int, message: str) -> None:
        self.errors.append(ContentError(self.path, max(line, 1), max(col, 1), message))

    def __bool__(self) -> bool:
        return bool(self.errors)


def did_you_mean(word: str, choices) -> str:
    """A `` (did you mean 'x'?)`` suffix when one of ``choices`` is close to ``word``."""
    close = difflib.get_close_matches(str(word), [str(c) for c in choices], n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


def display_path(path: Path, root: Path) -> str:
    """The path an author would type: relative to the site directory when inside it."""
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return path.as_posix()
