"""Incremental builds: rendered posts and pages kept between builds, keyed by content hashes.

A post is reused when its source, the site configuration, LabPress's own code
and the widgets it embeds are unchanged. A page is reused when everything its
template sees is unchanged: the theme, the configuration, every post's front
matter (pages list and link each other) and, for a post page, its body. The
output is byte-identical to a clean build; only the work is skipped.
"""

from __future__ import annotations

import hashlib
import pickle
from functools import lru_cache
from pathlib import Path

_CODE_ROOT = Path(__file__).resolve().parent.parent


def digest(*parts) -> str:
    h = hashlib.sha256()
    for part in parts:
        if isinstance(part, bytes):
            data = b"b" + part
        elif isinstance(part, str):  # the common case, and the big one (page bodies): no repr()
            data = b"s" + part.encode("utf-8")
        else:
            data = b"r" + repr(part).encode("utf-8")
        h.update(len(data).to_bytes(8, "little") + data)
    return h.hexdigest()


def tree_digest(root: Path) -> str:
    """Digest of every file below ``root`` (names and contents)."""
    if not root.is_dir():
        return digest("absent")
    files = sorted(p for p in root.rglob("*") if p.is_file() and "__pycache__" not in p.parts)
    return digest(*[(p.relative_to(root).as_posix(), p.read_bytes()) for p in files])


@lru_cache(maxsize=1)
def code_digest() -> str:
    """LabPress's own code: a new version (or a local edit) invalidates everything."""
    return tree_digest(_CODE_ROOT)


class BuildCache:
    """Rendered post bodies and pages on disk; ``None`` folder means no caching at all."""

    def __init__(self, folder: Path | None):
        self.folder = folder
        self.used: set[Path] = set()
        self.rendered_posts: list[str] = []
        self.rendered_pages: list[str] = []

    def _file(self, kind: str, key: str) -> Path:
        return self.folder / kind / key[:2] / key

    def _read(self, kind: str, key: str):
        if self.folder is None:
            return None
        path = self._file(kind, key)
        try:
            value = pickle.loads(path.read_bytes())
        except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError, ValueError):
            return None  # missing or damaged: only a slower build
        self.used.add(path)
        return value

    def _write(self, kind: str, key: str, value) -> None:
        if self.folder is None:
            return
        path = self._file(kind, key)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL))
        tmp.replace(path)
        self.used.add(path)

    # Posts -------------------------------------------------------------------
    @staticmethod
    def post_key(source: bytes, shown_path: str, config_digest: str) -> str:
        return digest("post", code_digest(), config_digest, shown_path, source)

    def load_body(self, key: str):
        entry = self._read("posts", key)
        if entry is None:
            return None
        widget_files, body = entry
        if any(digest(p.read_bytes()) != h if p.is_file() else True for p, h in widget_files.items()):
            return None  # a widget it embeds changed: render it again
        return body

    def store_body(self, key: str, body) -> None:
        files = {f: digest(f.read_bytes()) for use in body.widgets for f in use.source_files()}
        self._write("posts", key, (files, body))

    # Pages -------------------------------------------------------------------
    def page(self, key: str, path: str, render) -> str:
        html = self._read("pages", key)
        if html is None:
            html = render()
            self._write("pages", key, html)
            self.rendered_pages.append(path)
        return html

    def prune(self) -> None:
        """Forget entries this build did not use, so the cache does not grow for ever."""
        if self.folder is None:
            return
        for kind in ("posts", "pages"):
            for path in (self.folder / kind).glob("*/*"):
                if path not in self.used:
                    path.unlink(missing_ok=True)
