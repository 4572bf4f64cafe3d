"""TeX to HTML with KaTeX, run inside Python by quickjs-ng: no node at build time.

One JavaScript context per process. Results are cached on disk, keyed by the
TeX, display mode, macros and KaTeX version, so an unchanged formula is never
typeset twice, even across builds.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from .assets import find_node_package, package_version

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
    return JSON.stringify({error: String(e && e.message || e), position: null});
  }
}
"""


CACHE_NAME = "katex.sqlite"


@dataclass(frozen=True)
class TexError(Exception):
    """KaTeX refused a formula; ``position`` is the 0-based offset in the TeX, when known."""

    message: str
    position: int | None


class KatexRenderer:
    def __init__(self, katex_dir: Path, macros: dict[str, str], cache_file: Path | None = None):
        self.version = package_version(katex_dir)
        self._source = katex_dir / "dist" / "katex.min.js"
        self._context = None  # a quickjs.Context, started on the first formula not in the cache
        self._render = None
        self.macros = dict(sorted(macros.items()))
        self._macros_json = json.dumps(self.macros, sort_keys=True)
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

    def _function(self):
        if self._render is None:
            import quickjs  # here: a build that typesets nothing new never starts the JavaScript engine

            self._context = quickjs.Context()
            self._context.eval(self._source.read_text(encoding="utf-8"))
            self._context.eval(_GLUE)
            self._render = self._context.get("labpressRender")
        return self._render

    def _key(self, tex: str, display: bool) -> str:
        material = json.dumps([self.version, display, self._macros_json, tex], ensure_ascii=False)
        return hashlib.sha256(material.encode("utf-8")).hexdigest()

    def _stored(self, key: str) -> str | None:
        if self.cache_file is None:
            return None
        try:
            if self._db is None:
                if not self.cache_file.is_file():
                    return None
                self._db = sqlite3.connect(f"file:{self.cache_file}?mode=ro", uri=True, check_same_thread=False,
                                           isolation_level=None)
                # Memory-mapped reads, and one read transaction held until close(): no lock and
                # no re-read per formula (the file is only written by save(), after close()).
                self._db.execute("PRAGMA mmap_size = 1073741824")
                self._db.execute("BEGIN")
            row = self._db.execute("SELECT html FROM formulas WHERE key = ?", (key,)).fetchone()
        except sqlite3.Error:
            return None  # a damaged or foreign file is only a slower build
        return row[0] if row else None

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
        result = json.loads(self._function()(tex, json.dumps(options)))
        if "error" in result:
            raise TexError(result["error"], result["position"])
        self._cache[key] = self._fresh[key] = self._unsaved[key] = result["html"]
        return result["html"]

    def take_fresh(self) -> tuple[dict[str, str], int, int]:
        """Formulas typeset since the last call, and the hits and misses counted since: a worker's report."""
        report = (self._fresh, self.hits, self.misses)
        self._fresh, self.hits, self.misses = {}, 0, 0
        return report

    def absorb(self, fresh: dict[str, str], hits: int, misses: int) -> None:
        """Take in what a worker typeset, so the cache saved after the build holds it."""
        self._cache.update(fresh)
        self._unsaved.update(fresh)
        self.hits += hits
        self.misses += misses

    def save(self) -> None:
        """Add the formulas typeset in this build to the cache file, in one transaction."""
        if not (self.cache_file and self._unsaved):
            return
        self.close()
        self.cache_file.parent.mkdir(parents=True, exist_ok=True)
        rows = sorted(self._unsaved.items())
        for attempt in range(2):
            try:
                with closing(sqlite3.connect(self.cache_file)) as db, db:
                    db.execute("CREATE TABLE IF NOT EXISTS formulas (key TEXT PRIMARY KEY, html TEXT NOT NULL)")
                    db.executemany("INSERT OR REPLACE INTO formulas VALUES (?, ?)", rows)
                break
            except sqlite3.DatabaseError:
                if attempt:
                    return  # cannot write a cache: the next build is only slower
                self.cache_file.unlink(missing_ok=True)  # damaged: start it again
        self._unsaved = {}

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None
