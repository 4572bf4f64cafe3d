"""Incremental builds: rendered posts and pages kept between builds, keyed by content hashes.

A post is reused when its source, the site configuration, LabPress's own code
and the widgets it embeds are unchanged. Pages are not kept here: the output
folder itself holds them, and its manifest (site/output.py) says which page
came from which inputs. The output is byte-identical to a clean build; only
the work is skipped.
"""

from __future__ import annotations

import hashlib
import pickle
import shutil
import sqlite3
from dataclasses import replace
from functools import lru_cache
from pathlib import Path

POSTS_DB = "posts.sqlite"
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
    """Rendered posts in an SQLite file (``posts.sqlite``); ``None`` folder means no caching at all.

    A post is kept in two parts: its body without the HTML (front matter, sections,
    widgets: what every build needs) and the HTML, read only when a page or the feed
    shows it. Everything a build adds is written at its end in one transaction, by
    the parent process (workers send their posts back), together with dropping the
    posts this build did not use, so the cache does not grow for ever.
    """

    def __init__(self, folder: Path | None):
        self.folder = folder
        self.rendered_posts: list[str] = []
        self._digests: dict[Path, str | None] = {}
        self._db: sqlite3.Connection | None = None
        self._used_keys: set[str] = set()
        self._new: dict[str, tuple[bytes, str]] = {}  # key -> (pickled body without HTML, HTML)

    @property
    def file(self) -> Path:
        return self.folder / POSTS_DB

    def _connection(self) -> sqlite3.Connection | None:
        if self._db is None and self.folder is not None and self.file.is_file():
            try:
                self._db = sqlite3.connect(self.file, isolation_level=None)
                self._db.execute("SELECT 1 FROM posts LIMIT 1")
            except sqlite3.Error:
                self._discard()  # damaged or foreign: only a slower build
        return self._db

    def _discard(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None
        self.file.unlink(missing_ok=True)

    @staticmethod
    def post_key(source: bytes, shown_path: str, config_digest: str) -> str:
        return digest("post", code_digest(), config_digest, shown_path, source)

    def load_body(self, key: str):
        """The stored body of a post, its ``html`` left None (see ``load_html``); None when it must be rendered."""
        db = self._connection()
        if db is None:
            return None
        try:
            row = db.execute("SELECT body FROM posts WHERE key = ?", (key,)).fetchone()
            widget_files, body = pickle.loads(row[0]) if row else (None, None)
        except (sqlite3.Error, pickle.UnpicklingError, EOFError, AttributeError, ImportError, ValueError, TypeError):
            return None  # damaged: render it again
        if body is None or any(self._file_digest(p) != h for p, h in widget_files.items()):
            return None  # never rendered, or a widget it embeds changed: render it again
        self._used_keys.add(key)
        return body

    def load_html(self, key: str) -> str:
        if key in self._new:
            return self._new[key][1]
        return self._connection().execute("SELECT html FROM posts WHERE key = ?", (key,)).fetchone()[0]

    def _file_digest(self, path: Path) -> str | None:
        if path not in self._digests:
            self._digests[path] = digest(path.read_bytes()) if path.is_file() else None
        return self._digests[path]

    def remember(self, key: str, body) -> None:
        """A post rendered without errors, to be stored at the end of the build."""
        if self.folder is None:
            return
        files = {f: self._file_digest(f) for use in body.widgets for f in use.source_files()}
        self._new[key] = (pickle.dumps((files, replace(body, html=None)), protocol=pickle.HIGHEST_PROTOCOL), body.html)
        self._used_keys.add(key)

    def save(self) -> None:
        """Store the posts rendered by this build and forget those it did not use."""
        if self.folder is None:
            return
        for attempt in range(2):
            try:
                self._save()
                break
            except sqlite3.DatabaseError:
                if attempt:
                    return  # cannot keep a cache: the next build is only slower
                self._discard()
        for old in ("posts", "pages", "html"):  # the layouts of older versions
            if (self.folder / old).is_dir():
                shutil.rmtree(self.folder / old, ignore_errors=True)
        for old in ("katex.json", "posts.pickle"):
            (self.folder / old).unlink(missing_ok=True)

    def _save(self) -> None:
        db = self._connection()
        if db is None:
            self.folder.mkdir(parents=True, exist_ok=True)
            db = self._db = sqlite3.connect(self.file, isolation_level=None)
        db.execute("CREATE TABLE IF NOT EXISTS posts (key TEXT PRIMARY KEY, body BLOB NOT NULL, html TEXT NOT NULL)")
        stored = {row[0] for row in db.execute("SELECT key FROM posts")}
        stale = sorted(stored - self._used_keys)
        if not self._new and not stale:
            return
        db.execute("BEGIN IMMEDIATE")
        try:
            db.executemany("INSERT OR REPLACE INTO posts VALUES (?, ?, ?)",
                           [(key, body, html) for key, (body, html) in sorted(self._new.items())])
            db.executemany("DELETE FROM posts WHERE key = ?", [(key,) for key in stale])
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        self._new = {}

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None
