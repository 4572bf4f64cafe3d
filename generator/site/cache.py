"""Incremental builds: rendered posts and pages kept between builds, keyed by content hashes.

A post is reused when its source, the site configuration, LabPress's own code
and the widgets it embeds are unchanged. Pages are not kept here: the output
folder itself holds them, and its manifest (site/output.py) says which page
came from which inputs. The output is byte-identical to a clean build; only
the work is skipped.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import shutil
from dataclasses import replace
from functools import lru_cache
from pathlib import Path

POSTS_INDEX = "posts.pickle"
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
    """Rendered post bodies on disk; ``None`` folder means no caching at all."""

    def __init__(self, folder: Path | None):
        self.folder = folder
        self.rendered_posts: list[str] = []
        self._digests: dict[Path, str | None] = {}
        self._index: dict | None = None
        self._index_changed = False
        self._used_keys: set[str] = set()
        self._folders: set[Path] = set()

    def _file(self, kind: str, key: str) -> Path:
        return self.folder / kind / key[:2] / key

    # Posts -------------------------------------------------------------------
    # A post is kept in two parts: its body without the HTML (front matter, sections, widgets:
    # what every build needs), all posts together in one index file read once per build, and
    # the HTML alone, one file per post, read only when a page or the feed shows it.
    @staticmethod
    def post_key(source: bytes, shown_path: str, config_digest: str) -> str:
        return digest("post", code_digest(), config_digest, shown_path, source)

    def _posts_index(self) -> dict:
        if self._index is None:
            self._index = {}
            if self.folder is not None:
                try:
                    stored = pickle.loads((self.folder / POSTS_INDEX).read_bytes())
                    if isinstance(stored, dict):
                        self._index = stored
                except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError, ValueError, TypeError):
                    pass  # missing or damaged: only a slower build
        return self._index

    def load_body(self, key: str):
        """(body with ``html`` None, the file holding its HTML), or None when the post must be rendered."""
        entry = self._posts_index().get(key)
        if entry is None:
            return None
        html_file = self._file("html", key)
        widget_files, body = entry
        if not html_file.is_file() or any(self._file_digest(p) != h for p, h in widget_files.items()):
            return None  # its HTML is gone, or a widget it embeds changed: render it again
        self._used_keys.add(key)
        return body, html_file

    def _file_digest(self, path: Path) -> str | None:
        if path not in self._digests:
            self._digests[path] = digest(path.read_bytes()) if path.is_file() else None
        return self._digests[path]

    def store_html(self, key: str, html: str) -> None:
        """Called where the post was rendered (a worker process, perhaps)."""
        if self.folder is None:
            return
        html_file = self._file("html", key)
        if html_file.parent not in self._folders:  # mkdir is a slow system call even when it exists
            html_file.parent.mkdir(parents=True, exist_ok=True)
            self._folders.add(html_file.parent)
        tmp = html_file.with_name(f"{key}.{os.getpid()}.tmp")
        tmp.write_text(html, encoding="utf-8")
        tmp.replace(html_file)

    def remember(self, key: str, body) -> None:
        """A post rendered without errors (its HTML stored by ``store_html``) joins the index."""
        if self.folder is None:
            return
        files = {f: self._file_digest(f) for use in body.widgets for f in use.source_files()}
        self._posts_index()[key] = (files, replace(body, html=None))
        self._used_keys.add(key)
        self._index_changed = True

    def prune(self) -> None:
        """Save the index and forget entries this build did not use, so the cache does not grow for ever."""
        if self.folder is None:
            return
        index = {key: entry for key, entry in self._posts_index().items() if key in self._used_keys}
        if self._index_changed or len(index) != len(self._posts_index()):
            self.folder.mkdir(parents=True, exist_ok=True)
            tmp = self.folder / f"{POSTS_INDEX}.{os.getpid()}.tmp"
            tmp.write_bytes(pickle.dumps(dict(sorted(index.items())), protocol=pickle.HIGHEST_PROTOCOL))
            tmp.replace(self.folder / POSTS_INDEX)
        for path in (self.folder / "html").glob("*/*"):
            if path.name not in self._used_keys:
                path.unlink(missing_ok=True)
        for old in ("posts", "pages"):  # the layout of older versions
            if (self.folder / old).is_dir():
                shutil.rmtree(self.folder / old, ignore_errors=True)
