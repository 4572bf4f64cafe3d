"""A theme's palette: the colours and fonts its stylesheet declares, read by the build as well.

A theme declares its look once, in ``static/style.css``, as custom properties
of ``:root``::

    :root {
      --ink: light-dark(#1c1b19, #ebe7df);   /* light scheme, dark scheme */
      --sans: system-ui, sans-serif;
    }

The browser reads them there. The build reads the same declarations through
this module for what it writes itself: the figures' colours (``figures/svg.py``)
and the code token colours (``theme/code_colours.py``). Build directives are
at-rules of the stylesheet, ``@labpress NAME { key: value; }``, which the build
replaces when it publishes the stylesheet (browsers would ignore them anyway).

Only what the build reads must be written as hex: a colour the build needs is
``light-dark(#rrggbb, #rrggbb)`` or ``#rrggbb`` (``#rgb`` too). Anything that
looks like a hex colour in a ``:root`` custom property must be one. Errors
name the stylesheet, its line and the property.

The stylesheet is the first ``static/style.css`` of the theme's layers (theme/lookup.py): a site's
own copy replaces the packaged one whole. A site's ``static/custom.css`` is published after it, in
the same file (theme/code_colours.py): the browser reads its declarations over the theme's, so it
may change any property except those the build reads too (``BUILD_PROPERTIES``), which would make
figures and code colours disagree with the page.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from labpress.errors import ConfigError, did_you_mean, display_path
from labpress.theme.lookup import theme_file

STYLESHEET = "static/style.css"
CUSTOM_STYLESHEET = "static/custom.css"
# The custom properties the build reads as well as the browser: figures (figures/svg.py ROLES) and
# code colours (theme/code_colours.py CODE_BACKGROUND).
BUILD_PROPERTIES = ("code-bg", "muted", "rule", "paper", *(f"lp-fig-{n}" for n in range(1, 9)))
DIRECTIVES = ("code-colours",)  # the @labpress rules a stylesheet may hold

_COMMENT = re.compile(r"/\*.*?\*/", re.S)
_HEX_LIKE = re.compile(r"(?<![\w-])#[0-9a-fA-F]+(?![\w-])")
_HEX = re.compile(r"#(?:[0-9a-fA-F]{3,4}|[0-9a-fA-F]{6}|[0-9a-fA-F]{8})")
_OPAQUE = re.compile(r"#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})")
_LIGHT_DARK = re.compile(r"light-dark\(\s*([^,()]+?)\s*,\s*([^,()]+?)\s*\)")
_DIRECTIVE = re.compile(r"@labpress\b\s*([\w-]*)\s*(\{[^{}]*\}|;)?")


@dataclass(frozen=True)
class Declaration:
    value: str
    line: int


@dataclass(frozen=True)
class Directive:
    """An ``@labpress NAME { key: value; }`` rule: where it stands in the stylesheet, and its settings."""

    name: str
    line: int
    start: int  # offsets in the stylesheet's text of the rule, with the end of its line
    end: int
    settings: dict[str, Declaration] = field(default_factory=dict)


@dataclass(frozen=True, eq=False)
class Palette:
    file: Path  # the stylesheet
    shown: str  # its path in messages
    text: str
    properties: dict[str, Declaration]  # custom property name without '--' -> its value in :root
    directives: dict[str, Directive]

    def error(self, line: int | None, message: str) -> ConfigError:
        where = f"{self.shown}:{line}" if line else self.shown
        return ConfigError(f"{where}: error: {message}")

    def value(self, name: str, needed_for: str) -> Declaration:
        declared = self.properties.get(name)
        if declared is None:
            raise self.error(None, f"the theme declares no --{name} in :root, and {needed_for} need it")
        return declared

    def colour(self, name: str, needed_for: str) -> tuple[str, str]:
        """The light-scheme and dark-scheme colour of ``--name``, each as ``#rrggbb``."""
        declared = self.value(name, needed_for)
        pair = _LIGHT_DARK.fullmatch(declared.value)
        light, dark = pair.groups() if pair else (declared.value, declared.value)
        if not (_OPAQUE.fullmatch(light) and _OPAQUE.fullmatch(dark)):
            raise self.error(declared.line, f"--{name} is '{declared.value}', but {needed_for} read it: write"
                                            " light-dark(#rrggbb, #rrggbb) (or one #rrggbb for both schemes)")
        return _six_digits(light), _six_digits(dark)

    def directive(self, name: str, what: str) -> Directive:
        found = self.directives.get(name)
        if found is None:
            raise self.error(None, f"the stylesheet has no @labpress {name} rule, which says {what}")
        return found


def _six_digits(colour: str) -> str:
    digits = colour[1:].lower()
    return "#" + ("".join(c * 2 for c in digits) if len(digits) == 3 else digits)


def _read(file: Path, what: str) -> tuple[str, str]:
    """(path as shown, text) of a stylesheet: relative to the folder holding ``themes/``."""
    shown = display_path(file, file.parent.parent.parent.parent)
    try:
        return shown, file.read_bytes().decode("utf-8")  # as written: line endings kept
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{shown}: error: {what} cannot be read ({exc.__class__.__name__})") from None


def load_palette(theme_dir: Path) -> Palette:
    """The palette of the theme in ``theme_dir``, from its stylesheet (parsed once per content)."""
    file = theme_file(theme_dir, STYLESHEET)
    shown, text = _read(file, "the theme's stylesheet")
    return _parse(file, shown, text)


def load_custom_stylesheet(theme_dir: Path) -> str | None:
    """The text of the theme's ``static/custom.css`` (a site's additions to the stylesheet), checked:
    no ``@labpress`` rules, no property the build reads. None when there is none."""
    file = theme_file(theme_dir, CUSTOM_STYLESHEET)
    if not file.is_file():
        return None
    shown, text = _read(file, "custom.css")
    custom = _parse(file, shown, text)
    for directive in custom.directives.values():
        raise custom.error(directive.line, f"@labpress {directive.name} belongs in style.css, not custom.css")
    for name in BUILD_PROPERTIES:
        declared = custom.properties.get(name)
        if declared is not None:
            raise custom.error(declared.line, f"--{name} is read by the build too (figures and code colours), from"
                                              " style.css: set it in a copy of style.css, not in custom.css")
    return text


@lru_cache(maxsize=8)
def _parse(file: Path, shown: str, text: str) -> Palette:
    # Comments blanked out, offsets and lines kept.
    code = _COMMENT.sub(lambda m: re.sub(r"[^\n]", " ", m.group(0)), text)
    palette = Palette(file, shown, text, {}, {})
    line_of = lambda offset: code.count("\n", 0, offset) + 1  # noqa: E731
    depth, selector_start, position = 0, 0, 0
    while position < len(code):
        char = code[position]
        if depth == 0 and code.startswith("@labpress", position):
            directive = _directive(palette, code, position, line_of)
            palette.directives[directive.name] = directive
            position = selector_start = directive.end
            continue
        if char == "{":
            if depth == 0 and code[selector_start:position].strip() == ":root":
                end = code.find("}", position)
                end = len(code) if end < 0 else end
                _declarations(palette, code, position + 1, end, line_of)
                position = selector_start = end + 1
                continue
            depth += 1
        elif char == "}":
            depth = max(depth - 1, 0)
            if depth == 0:
                selector_start = position + 1
        elif char == ";" and depth == 0:
            selector_start = position + 1  # @charset, @import
        position += 1
    return palette


def _declarations(palette: Palette, code: str, start: int, end: int, line_of) -> None:
    offset = start
    for part in code[start:end].split(";"):
        name, colon, value = part.partition(":")
        if colon and name.strip().startswith("--"):
            key = name.strip()[2:]
            line = line_of(offset + len(part) - len(part.lstrip()))
            value = " ".join(value.split())
            for token in _HEX_LIKE.findall(value):
                if not _HEX.fullmatch(token):
                    raise palette.error(line, f"--{key}: '{token}' is not a colour: write #rrggbb (or #rgb)")
            palette.properties[key] = Declaration(value, line)
        offset += len(part) + 1


def _directive(palette: Palette, code: str, start: int, line_of) -> Directive:
    line = line_of(start)
    match = _DIRECTIVE.match(code, start)
    name = match.group(1)
    if name not in DIRECTIVES:
        shown = f"'@labpress {name}'" if name else "@labpress without a name"
        raise palette.error(line, f"{shown} is not a LabPress rule{did_you_mean(name, DIRECTIVES) if name else ''};"
                                  f" known: {', '.join('@labpress ' + d for d in DIRECTIVES)}")
    if name in palette.directives:
        raise palette.error(line, f"@labpress {name} is given twice (line {palette.directives[name].line} and here)")
    block = match.group(2)
    if not block or block == ";":
        raise palette.error(line, f"@labpress {name} needs its settings in braces: @labpress {name} {{ key: value; }}")
    end = match.end()
    newline = code.find("\n", end)
    if newline >= 0 and not code[end:newline].strip():
        end = newline + 1  # the rule's line goes whole
    directive = Directive(name, line, start, end)
    offset = match.start(2) + 1
    for part in block[1:-1].split(";"):
        key, colon, value = part.partition(":")
        part_line = line_of(offset + len(part) - len(part.lstrip()))
        if key.strip() or value.strip():
            if not colon or not key.strip() or not value.strip():
                raise palette.error(part_line, f"@labpress {name}: write each setting as key: value;")
            directive.settings[key.strip()] = Declaration(" ".join(value.split()), part_line)
        offset += len(part) + 1
    return directive
