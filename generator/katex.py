"""TeX to HTML with KaTeX, run inside Python by quickjs-ng: no node at build time.

One JavaScript context per process. Results are cached on disk, keyed by the
TeX, display mode, macros and KaTeX version, so an unchanged formula is never
typeset twice, even across builds.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
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
        self.cache_file = cache_file
        self._cache: dict[str, str] = {}
        self._dirty = False
        self._fresh: dict[str, str] = {}  # typeset by this process since take_fresh()
        self.hits = 0
        self.misses = 0
        if cache_file and cache_file.is_file():
            try:
                stored = json.loads(cache_file.read_text(encoding="utf-8"))
                if stored.get("katex") == self.version:
                    self._cache = stored.get("formulas", {})
            except (OSError, ValueError):
                self._cache = {}  # a damaged cache is only a slower build

    @classmethod
    def for_site(cls, site_dir: Path, macros: dict[str, str], cache_dir: Path | None) -> "KatexRenderer":
        katex_dir = find_node_package("katex", site_dir)
        cache_file = cache_dir / "katex.json" if cache_dir else None
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

    def render(self, tex: str, display: bool) -> str:
        """HTML for ``tex``, exactly what node's ``katex.renderToString`` gives; raises TexError."""
        key = self._key(tex, display)
        cached = self._cache.get(key)
        if cached is not None:
            self.hits += 1
            return cached
        self.misses += 1
        options = {"displayMode": display, "throwOnError": True, "macros": self.macros}
        result = json.loads(self._function()(tex, json.dumps(options)))
        if "error" in result:
            raise TexError(result["error"], result["position"])
        self._cache[key] = result["html"]
        self._fresh[key] = result["html"]
        self._dirty = True
        return result["html"]

    def take_fresh(self) -> tuple[dict[str, str], int, int]:
        """Formulas typeset since the last call, and the hits and misses counted since: a worker's report."""
        report = (self._fresh, self.hits, self.misses)
        self._fresh, self.hits, self.misses = {}, 0, 0
        return report

    def absorb(self, fresh: dict[str, str], hits: int, misses: int) -> None:
        """Take in what a worker typeset, so the cache saved after the build holds it."""
        if fresh:
            self._cache.update(fresh)
            self._dirty = True
        self.hits += hits
        self.misses += misses

    def save(self) -> None:
        """Write the cache atomically; a failed write costs only speed."""
        if not (self.cache_file and self._dirty):
            return
        self.cache_file.parent.mkdir(parents=True, exist_ok=True)
        payload = json.dumps({"katex": self.version, "formulas": self._cache}, sort_keys=True, ensure_ascii=False)
        fd, tmp = tempfile.mkstemp(dir=self.cache_file.parent, prefix=".katex-", suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(payload)
        os.replace(tmp, self.cache_file)
        self._dirty = False
