"""Incremental builds: rendered posts and pages kept between builds, keyed by content hashes.

A post is reused when its source, the site configuration, LabPress's own code
and the widgets it embeds are unchanged. Pages are not kept here: the output
folder itself holds them, and its manifest (site/output.py) says which page
came from which inputs. The output is byte-identical to a clean build; only
the work is skipped.
"""

from __future__ import annotations

import pickle
import shutil
import sqlite3
from dataclasses import replace
from pathlib import Path
from typing import Callable

from labpress.cache.digests import code_digest, digest
from labpress.cache.inputs import input_digest
from labpress.errors import warn
from labpress.cache.store import busy_error, checked, is_busy, open_store, rollback, set_aside

POSTS_DB = "posts.sqlite"
_POSTS_VERSION = 4  # 4: RenderedBody.inputs and code_blocks
_POSTS_SCHEMA = ("CREATE TABLE IF NOT EXISTS posts (key TEXT PRIMARY KEY, body BLOB NOT NULL, html TEXT NOT NULL,"
                 " body_digest TEXT NOT NULL, html_digest TEXT NOT NULL);")
class BuildCache:
    """Rendered posts in an SQLite file (``posts.sqlite``); ``None`` folder means no caching at all.

    A post is kept in two parts: its body without the HTML (front matter, sections,
    widgets: what every build needs) and the HTML, read only when a page or the feed
    shows it. Everything a build adds is written at its end in one transaction, by
    the parent process (workers send their posts back), together with dropping the
    posts this build did not use, so the cache does not grow for ever. Each part
    carries a digest checked when it is read: a damaged post is rendered again.
    """

    def __init__(self, folder: Path | None, notify: Callable[[str], None] | None = None):
        self.folder = folder
        self.notify = notify or warn
        self.damaged = 0
        self.rendered_posts: list[str] = []
        self._digests: dict[Path, str | None] = {}
        self._db: sqlite3.Connection | None = None
        self._used_keys: set[str] = set()
        self._new: dict[str, tuple[bytes, str]] = {}  # key -> (pickled body without HTML, HTML)

    @property
    def file(self) -> Path:
        return self.folder / POSTS_DB

    def _connection(self) -> sqlite3.Connection | None:
        if self._db is None and self.folder is not None and (self.file.exists() or self.file.is_symlink()):
            self._db = open_store(self.file, _POSTS_VERSION, _POSTS_SCHEMA, self.notify)
        return self._db

    @staticmethod
    def post_key(source: bytes, shown_path: str, config_digest: str) -> str:
        return digest("post", code_digest(), config_digest, shown_path, source)

    def load_body(self, key: str):
        """The stored body of a post, its ``html`` left None (see ``load_html``); None when it must be rendered."""
        db = self._connection()
        if db is None:
            return None
        try:
            row = db.execute("SELECT body, body_digest FROM posts WHERE key = ?", (key,)).fetchone()
        except sqlite3.Error as error:
            if is_busy(error):
                raise busy_error(self.file) from None
            return None  # unreadable: render it again
        if row is None:
            return None
        if not checked(row[1], key, row[0]):
            self.damaged += 1
            return None
        try:
            widget_files, body = pickle.loads(row[0])
        except Exception:  # an older layout of the body: render it again
            return None
        if body is None or any(self.file_digest(p) != h for p, h in widget_files.items()):
            return None  # never rendered, or a widget it embeds changed: render it again
        if getattr(body, "inputs", ()):  # what its code and blocks read (compute/, data tables)
            from labpress.cache.inputs import inputs_unchanged

            if not inputs_unchanged(body.inputs):
                return None  # one changed, appeared or vanished: render it again
        self._used_keys.add(key)
        return body

    def use(self, key: str) -> None:
        """A post this build took from elsewhere (a long-running process's memory): kept in the cache."""
        self._used_keys.add(key)

    def load_html(self, key: str) -> str | None:
        """The stored HTML of a post whose body was loaded; None when it is damaged (render the post again)."""
        if key in self._new:
            return self._new[key][1]
        try:
            row = self._connection().execute("SELECT html, html_digest FROM posts WHERE key = ?", (key,)).fetchone()
        except sqlite3.Error as error:
            if is_busy(error):
                raise busy_error(self.file) from None
            row = None
        if row is None or not checked(row[1], key, row[0]):
            self.damaged += 1
            return None
        return row[0]

    def file_digest(self, path: Path) -> str | None:
        if path not in self._digests:
            self._digests[path] = input_digest("file", path)  # the one rule for a file read at build time
        return self._digests[path]

    def remember(self, key: str, body) -> None:
        """A post rendered without errors, to be stored at the end of the build."""
        if self.folder is None:
            return
        files = {f: self.file_digest(f) for use in body.widgets for f in use.source_files()}
        self._new[key] = (pickle.dumps((files, replace(body, html=None)), protocol=pickle.HIGHEST_PROTOCOL), body.html)
        self._used_keys.add(key)

    def save(self) -> None:
        """Store the posts rendered by this build and forget those it did not use."""
        if self.folder is None:
            return
        if self.damaged:
            self.notify(f"warning: {self.damaged} damaged post{'s' if self.damaged != 1 else ''} in the cache"
                        f" ({POSTS_DB}) rendered again")
            self.damaged = 0
        for attempt in range(2):
            try:
                self._save()
                break
            except sqlite3.Error as error:
                if self._db is not None:
                    rollback(self._db)
                if is_busy(error):
                    raise busy_error(self.file) from None
                if attempt:
                    raise
                self.close()
                set_aside(self.file, self.notify, str(error))
        for old in ("posts", "pages", "html", "figures"):  # the layouts of older versions
            if (self.folder / old).is_dir():
                shutil.rmtree(self.folder / old, ignore_errors=True)
        for old in ("katex.json", "posts.pickle"):
            (self.folder / old).unlink(missing_ok=True)

    def _save(self) -> None:
        db = self._connection()
        if db is None:
            self.folder.mkdir(parents=True, exist_ok=True)
            db = self._db = open_store(self.file, _POSTS_VERSION, _POSTS_SCHEMA, self.notify)
        stored = {row[0] for row in db.execute("SELECT key FROM posts")}
        stale = sorted(stored - self._used_keys)
        if not self._new and not stale:
            return
        db.execute("BEGIN IMMEDIATE")
        db.executemany("INSERT OR REPLACE INTO posts VALUES (?, ?, ?, ?, ?)",
                       [(key, body, html, digest(key, body), digest(key, html))
                        for key, (body, html) in sorted(self._new.items())])
        db.executemany("DELETE FROM posts WHERE key = ?", [(key,) for key in stale])
        db.execute("COMMIT")
        self._new = {}

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None
