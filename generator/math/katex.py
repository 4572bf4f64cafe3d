"""TeX to HTML with KaTeX, run inside Python by quickjs-ng: no node at build time.

One JavaScript context per process, bounded in time per formula, memory and
stack, with KaTeX's extensions loaded (mhchem: ``\\ce{…}`` and ``\\pu{…}``, from the
same npm package). Results are cached on disk, keyed by the TeX, display mode,
macros, KaTeX version and the extensions loaded, so an unchanged formula is
never typeset twice, even across builds. Each cached row carries a digest of
its HTML, checked when read: a damaged row is typeset again, never shown.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from labpress.theme.lookup import find_node_package, package_version
from labpress.cache.digests import digest
from labpress.errors import ConfigError, warn
from labpress.limits import DEFAULT_SECONDS
from labpress.cache.store import BUSY_SECONDS, busy_error, checked, is_busy, open_store, rollback, set_aside

# Strings cross the quickjs-ng boundary as JSON: returning long strings directly
# trips a string bug in the binding, and JSON also carries the error details.
_GLUE = r"""
function labpressRender(tex, optionsJson) {
  try {
    return JSON.stringify({html: katex.renderToString(tex, JSON.parse(optionsJson))});
  } catch (e) {
    if (e instanceof katex.ParseError) {
      return JSON.stringify({error: e.rawMessage || e.message, position: e.position === undefined ? null : e.position});
    }
    if (Array.isArray(e) && e.length === 2) {  // mhchem throws [code, message]
      return JSON.stringify({error: String(e[1]), position: null});
    }
    return JSON.stringify({error: String(e && e.message || e), position: null});
  }
}
"""


# KaTeX's contrib extensions loaded after KaTeX itself, from its npm package (the files node's
# ``require('katex/contrib/NAME')`` loads, so the HTML is node's). Part of every formula's cache key.
EXTENSIONS = ("mhchem",)

CACHE_NAME = "katex.sqlite"
_CACHE_VERSION = 2
_SCHEMA = "CREATE TABLE IF NOT EXISTS formulas (key TEXT PRIMARY KEY, html TEXT NOT NULL, digest TEXT NOT NULL);"
# The engine's own bounds: a formula that needs more is refused with an error, never a hang or a crash.
_MEMORY_BYTES = 512 * 1024 * 1024
_STACK_BYTES = 4 * 1024 * 1024




@dataclass(frozen=True)
class TexError(Exception):
    """KaTeX refused a formula; ``position`` is the 0-based offset in the TeX, when known."""

    message: str
    position: int | None


def extension_file(katex_dir: Path, name: str) -> Path:
    """The script of KaTeX's contrib extension ``name`` (``dist/contrib/NAME.js``), in a checkout's
    node_modules or in the wheel."""
    return katex_dir / "dist" / "contrib" / f"{name}.js"


class KatexRenderer:
    def __init__(self, katex_dir: Path, macros: dict[str, str], cache_file: Path | None = None,
                 seconds: float = DEFAULT_SECONDS, notify: Callable[[str], None] = warn,
                 extensions: tuple[str, ...] = EXTENSIONS):
        self.seconds = seconds
        self.notify = notify
        self.damaged = 0  # cached rows that failed their digest (typeset again)
        self.version = package_version(katex_dir)
        self._source = katex_dir / "dist" / "katex.min.js"
        self.extensions = tuple(extensions)
        self._extension_sources = [extension_file(katex_dir, name) for name in self.extensions]
        for path in self._extension_sources:
            if not path.is_file():
                raise ConfigError(f"error: KaTeX's {path.stem} extension is missing ({path}): run `npm ci` in the"
                                  " LabPress checkout, or reinstall LabPress")
        self._context = None  # a quickjs.Context, started on the first formula not in the cache
        self._render = None
        self.macros = dict(sorted(macros.items()))
        self._macros_json = json.dumps(self.macros, sort_keys=True)
        self._key_prefix: dict[bool, str] = {}
        # The cache on disk is an SQLite file: a formula is looked up when met, so a build that
        # meets a few formulas does not read all the notebook has ever typeset.
        self.cache_file = cache_file
        self._db: sqlite3.Connection | None = None
        self._cache: dict[str, str] = {}  # formulas met in this process
        self._unsaved: dict[str, str] = {}  # typeset here or by workers, not yet in the file
        self._fresh: dict[str, str] = {}  # typeset by this process since take_fresh()
        self.hits = 0
        self.misses = 0

    @classmethod
    def for_site(cls, site_dir: Path, macros: dict[str, str], cache_dir: Path | None) -> "KatexRenderer":
        katex_dir = find_node_package("katex", site_dir)
        cache_file = cache_dir / CACHE_NAME if cache_dir else None
        return cls(katex_dir, macros, cache_file)

    def start(self) -> None:
        """Start the JavaScript engine now, not at the first formula that is not in the cache."""
        self._function()

    def _function(self):
        if self._render is None:
            import quickjs  # here: a build that typesets nothing new never starts the JavaScript engine

            self._context = quickjs.Context()
            self._context.eval(self._source.read_text(encoding="utf-8"))
            for extension in self._extension_sources:
                self._context.eval(extension.read_text(encoding="utf-8"))
            self._context.eval(_GLUE)
            self._context.set_memory_limit(_MEMORY_BYTES)
            self._context.set_max_stack_size(_STACK_BYTES)
            self._context.set_time_limit(self.seconds)  # for each call
            self._render = self._context.get("labpressRender")
        return self._render

    def _key(self, tex: str, display: bool) -> str:
        # json.dumps([version, extensions, display, macros, tex]), its start made once per display mode
        prefix = self._key_prefix.get(display)
        if prefix is None:
            whole = json.dumps([self.version, list(self.extensions), display, self._macros_json, ""], ensure_ascii=False)
            prefix = self._key_prefix[display] = whole[:-len('""]')]
        material = prefix + json.dumps(tex, ensure_ascii=False) + "]"
        return hashlib.sha256(material.encode("utf-8")).hexdigest()

    def open_cache(self) -> None:
        """Check the cache file before a build reads it (the parent process, before any worker starts):
        a file of an older layout is emptied, a damaged one set aside, a killed writer's journal rolled back."""
        if self.cache_file is not None and self.cache_file.exists():
            open_store(self.cache_file, _CACHE_VERSION, _SCHEMA, self.notify).close()

    def _stored(self, key: str) -> str | None:
        if self.cache_file is None:
            return None
        try:
            if self._db is None:
                if not self.cache_file.is_file():
                    return None
                # immutable: no lock at all, so a reader can never hold up the writer. Safe because
                # the file is read only under the site's build lock, after open_cache() has rolled
                # back any journal a killed writer left, and written only once every reader closed.
                self._db = sqlite3.connect(f"{self.cache_file.as_uri()}?mode=ro&immutable=1", uri=True,
                                           check_same_thread=False, isolation_level=None, timeout=BUSY_SECONDS)
                if self._db.execute("PRAGMA user_version").fetchone()[0] != _CACHE_VERSION:
                    self.close()
                    self.cache_file = None  # another layout: typeset everything, save() is left to the parent
                    return None
                # Memory-mapped reads, and one read transaction held until close(): no re-read per formula.
                self._db.execute("PRAGMA mmap_size = 1073741824")
                self._db.execute("BEGIN")
            row = self._db.execute("SELECT html, digest FROM formulas WHERE key = ?", (key,)).fetchone()
        except sqlite3.Error:
            return None  # a damaged file is only a slower build here; the parent sets it aside
        if row is None:
            return None
        if not checked(row[1], key, row[0]):
            self.damaged += 1
            return None
        return row[0]

    def render(self, tex: str, display: bool) -> str:
        """HTML for ``tex``, exactly what node's ``katex.renderToString`` gives; raises TexError."""
        key = self._key(tex, display)
        cached = self._cache.get(key)
        if cached is None:
            cached = self._stored(key)
            if cached is not None:
                self._cache[key] = cached
        if cached is not None:
            self.hits += 1
            return cached
        self.misses += 1
        options = {"displayMode": display, "throwOnError": True, "macros": self.macros}
        try:
            result = json.loads(self._function()(tex, json.dumps(options)))
        except Exception as exc:  # quickjs.JSException: the engine's time, memory or stack bound
            self._render = self._context = None  # start a fresh engine for the next formula
            message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            if "interrupted" in message:
                raise TexError(f"typesetting ran for more than {self.seconds:g} s (the limit is [limits]"
                               " seconds_per_block in labpress.toml)", None) from None
            raise TexError(f"KaTeX could not typeset this formula: {message[:120]}", None) from None
        if "error" in result:
            position = result["position"]
            if position is not None and not 0 <= position <= len(tex):
                position = None  # an offset in what a macro such as \ce expanded to, not in the TeX
            raise TexError(result["error"], position)
        self._cache[key] = self._fresh[key] = self._unsaved[key] = result["html"]
        return result["html"]

    def take_fresh(self) -> tuple[dict[str, str], int, int, int]:
        """Formulas typeset since the last call, and the hits, misses and damaged rows counted since:
        a worker's report."""
        report = (self._fresh, self.hits, self.misses, self.damaged)
        self._fresh, self.hits, self.misses, self.damaged = {}, 0, 0, 0
        return report

    def absorb(self, fresh: dict[str, str], hits: int, misses: int, damaged: int = 0) -> None:
        """Take in what a worker typeset, so the cache saved after the build holds it."""
        self._cache.update(fresh)
        self._unsaved.update(fresh)
        self.hits += hits
        self.misses += misses
        self.damaged += damaged

    def save(self) -> None:
        """Add the formulas typeset in this build to the cache file, in one transaction.

        Rows already there are never removed; a damaged row met in this build is replaced.
        """
        if self.damaged:
            self.notify(f"warning: {self.damaged} damaged formula{'s' if self.damaged != 1 else ''} in the"
                        f" cache ({CACHE_NAME}) typeset again")
            self.damaged = 0
        if not (self.cache_file and self._unsaved):
            self.close()
            return
        self.close()
        self.cache_file.parent.mkdir(parents=True, exist_ok=True)
        rows = [(key, html, digest(key, html)) for key, html in sorted(self._unsaved.items())]
        for attempt in range(2):
            db = open_store(self.cache_file, _CACHE_VERSION, _SCHEMA, self.notify)
            try:
                db.execute("BEGIN IMMEDIATE")
                db.executemany("INSERT OR REPLACE INTO formulas VALUES (?, ?, ?)", rows)
                db.execute("COMMIT")
                break
            except sqlite3.Error as error:
                rollback(db)
                if is_busy(error):
                    raise busy_error(self.cache_file) from None
                if attempt:
                    raise
                set_aside(self.cache_file, self.notify, str(error))
            finally:
                db.close()
        self._unsaved = {}

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None
