"""The SQLite files of the cache: opened with bounded waits, checked, set aside when damaged.

A cache may be damaged by a disk, a crash of another tool, or a person; it is
never trusted. Every row carries a digest of its content, checked when the
row is read (``checked``): a row that fails is treated as missing and
computed again. A file SQLite itself refuses (not a database, malformed) is
renamed to ``NAME.damaged`` with its journal, with one line saying so, and a
new one is started. A lock held by another process is waited for at most
``BUSY_SECONDS``, then it is an error that says so (exit 2), never a hang.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import tempfile
from pathlib import Path
from typing import Callable

from labpress.cache.digests import digest as content_digest
from labpress.errors import ConfigError

BUSY_SECONDS = 30.0
_BUSY_CODES = {5, 6}  # SQLITE_BUSY, SQLITE_LOCKED
_COMPANIONS = ("-journal", "-wal", "-shm")


def seal(kind: str, payload: bytes) -> bytes:
    """A cache file's bytes: one line naming what it holds and the digest of the rest, then ``payload``."""
    return f"labpress-{kind} sha256={hashlib.sha256(payload).hexdigest()}\n".encode("ascii") + payload


def unseal(kind: str, raw: bytes) -> bytes | None:
    """The payload of a file ``seal`` wrote, or None when it is of another kind or damaged."""
    header, _, payload = raw.partition(b"\n")
    return payload if header == seal(kind, payload).partition(b"\n")[0] else None


def checked(digest: object, *values: object) -> bool:
    """Whether a row read back holds the values its digest was made from (and of the right types)."""
    if not isinstance(digest, str) or not all(isinstance(v, (str, bytes)) for v in values):
        return False
    return content_digest(*values) == digest


def is_busy(error: sqlite3.Error) -> bool:
    return getattr(error, "sqlite_errorcode", None) in _BUSY_CODES or "locked" in str(error)


def busy_error(path: Path) -> ConfigError:
    return ConfigError(f"error: the cache file {path} stayed locked by another process for more than"
                       f" {BUSY_SECONDS:g} s; close whatever holds it (another build, an SQLite browser) and try again")


def rollback(db: sqlite3.Connection) -> None:
    try:
        if db.in_transaction:
            db.execute("ROLLBACK")
    except sqlite3.Error:
        pass


def set_aside(path: Path, notify: Callable[[str], None], why: str) -> None:
    """Move a damaged cache file (and its journal) out of the way, saying so in one line."""
    for suffix in ("", *_COMPANIONS):
        source = path.with_name(path.name + suffix)
        if source.exists() or source.is_symlink():
            try:
                os.replace(source, path.with_name(path.name + ".damaged" + suffix))
            except OSError:
                source.unlink(missing_ok=True)
    notify(f"warning: cache file {path.name} is damaged ({why}); set aside as {path.name}.damaged, rebuilt afresh")


def open_store(path: Path, version: int, schema: str, notify: Callable[[str], None]) -> sqlite3.Connection:
    """A read-write connection to the cache file at ``path`` holding ``schema`` at ``version``.

    A file of another version is emptied; a damaged one is set aside. Rolls back what a
    killed writer left in its journal (SQLite does so when the file is first read).
    """
    for attempt in range(2):
        db = None
        try:
            if path.exists() and not path.is_file():
                raise sqlite3.DatabaseError("not a file")
            db = sqlite3.connect(path, timeout=BUSY_SECONDS, isolation_level=None, check_same_thread=False)
            found = db.execute("PRAGMA user_version").fetchone()[0]
            if found != version:
                tables = [row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
                drops = "".join(f'DROP TABLE "{table}";' for table in tables)
                db.executescript(f"BEGIN IMMEDIATE;{drops}{schema}PRAGMA user_version = {int(version)};COMMIT;")
            return db
        except sqlite3.Error as error:
            if db is not None:
                db.close()
            if is_busy(error):
                raise busy_error(path) from None
            if attempt:
                raise ConfigError(f"error: cannot make the cache file {path}: {error}") from None
            set_aside(path, notify, str(error))
    raise AssertionError("unreachable")


def write_atomically(path: Path, data: bytes) -> None:
    """``data`` at ``path``, or the old file if this process dies: a temporary file renamed into place."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
