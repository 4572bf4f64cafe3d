"""Writing a build into its output folder in one step, only once the build has succeeded.

The pages and assets of a build are gathered in memory first; nothing touches
the output folder until every page has been rendered, so a failed build
leaves the previous output exactly as it was.

Publishing builds the whole new tree in a staging folder beside the output
folder (``.build.staging-*``): files unchanged since the previous build are
hard-linked from it (no copy, and their manifest entries stay true), the rest
are written. The two folders are then exchanged in one system call (Linux
``renameat2(RENAME_EXCHANGE)``), so at every instant ``build/`` is the old tree
or the new one, whole, even under ``kill -9``; the old tree, now in the
staging folder, is removed. Where the exchange is not available, two renames
do it (``build/`` → ``.build.old-*``, staging → ``build/``) and a build that
finds ``build/`` missing beside an ``.old`` folder puts the old one back.
Whatever a killed build left beside the output folder is removed by the next
one. A build that changes nothing (every file intact, none stray) leaves the
folder alone.

A manifest in the cache records each file's digest and what it was made from,
so unchanged pages are neither rendered nor rewritten; it carries a digest of
itself and is ignored when damaged. A file edited or deleted in the output
folder by hand no longer matches its entry and is written again.
"""
from __future__ import annotations

import errno
import hashlib
import json
import os
import re
import shutil
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from labpress.cache.store import seal, unseal, write_atomically

MANIFEST_VERSION = 3


def _content_digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass
class Entry:
    digest: str
    size: int
    mtime_ns: int
    source: str = ""  # pages: the digest of the inputs the page was rendered from
    extra: dict = field(default_factory=dict)  # pages: the style rules they use, and the stylesheet linked


class OutputTree:
    """The files of one build, by path relative to the site root."""

    def __init__(self, previous: "Manifest | None" = None):
        self.previous = previous
        self.files: dict[str, bytes] = {}
        self.kept: dict[str, Entry] = {}  # unchanged since the previous build: not even read
        self.sources: dict[str, tuple[str, dict]] = {}
        self._digests: dict[str, str] = {}

    def digest(self, relative: str) -> str:
        if relative not in self._digests:
            self._digests[relative] = _content_digest(self.files[relative])
        return self._digests[relative]

    @property
    def written(self) -> list[str]:
        return sorted({*self.files, *self.kept})

    def write(self, relative: str, data: str | bytes, source: str = "", extra: dict | None = None) -> None:
        self.files[relative] = data.encode("utf-8") if isinstance(data, str) else data
        self.kept.pop(relative, None)
        self._digests.pop(relative, None)
        if source:
            self.sources[relative] = (source, extra or {})

    def reusable(self, relative: str, source: str) -> Entry | None:
        """The previous build's file at ``relative`` if it was made from ``source`` and is intact."""
        if self.previous is None:
            return None
        entry = self.previous.intact(relative)
        return entry if entry is not None and entry.source == source else None

    def keep(self, relative: str) -> None:
        self.kept[relative] = self.previous.intact(relative)

    def read_previous(self, relative: str) -> bytes:
        return (self.previous.out_dir / relative).read_bytes()


class Manifest:
    """What the last build wrote into ``out_dir``, and which of those files are still as written."""

    def __init__(self, out_dir: Path, entries: dict[str, Entry]):
        self.out_dir = out_dir
        self.entries = entries
        self._intact: dict[str, Entry | None] = {}

    @staticmethod
    def file_for(cache_dir: Path, out_dir: Path) -> Path:
        return cache_dir / f"output-{hashlib.sha256(str(out_dir).encode()).hexdigest()[:16]}.json"

    @classmethod
    def load(cls, cache_dir: Path | None, out_dir: Path) -> "Manifest | None":
        if cache_dir is None or not out_dir.is_dir():
            return None
        try:
            payload = unseal("manifest", cls.file_for(cache_dir, out_dir).read_bytes())
            if payload is None:
                return None  # damaged (or older): the next build checks every file itself
            stored = json.loads(payload.decode("utf-8"))
            if stored.get("version") != MANIFEST_VERSION or stored.get("out_dir") != str(out_dir):
                return None
            rules = stored["rules"]  # a page's rules are kept by name: the same ones recur on every page
            entries = {}
            for path, (file_digest, size, mtime_ns, source, extra) in stored["files"].items():
                if "rules" in extra:
                    extra = {**extra, "rules": {name: rules[name] for name in extra["rules"]}}
                entries[path] = Entry(file_digest, size, mtime_ns, source, extra)
        except (OSError, ValueError, TypeError, KeyError):
            return None  # missing or damaged: the next build writes everything
        return cls(out_dir, entries)

    def intact(self, relative: str) -> Entry | None:
        if relative not in self._intact:
            entry = self.entries.get(relative)
            try:
                stat = os.stat(self.out_dir / relative)
                same = entry is not None and (stat.st_size, stat.st_mtime_ns) == (entry.size, entry.mtime_ns)
            except OSError:
                same = False
            self._intact[relative] = entry if same else None
        return self._intact[relative]


def publish(tree: OutputTree, out_dir: Path, cache_dir: Path | None) -> None:
    """Put the build in ``tree`` into ``out_dir`` in one step, and record it in the manifest."""
    out_dir = out_dir.resolve()
    recover(out_dir)
    previous = tree.previous if tree.previous is not None and tree.previous.out_dir == out_dir else None
    if tree.kept and previous is None:
        raise ValueError("files kept from a previous build need that build in place")
    reused = {relative for relative in tree.files if previous is not None and _unchanged(tree, previous, relative)}
    if not (previous is not None and out_dir.is_dir() and len(reused) == len(tree.files)
            and _only_these_files(out_dir, set(tree.written))):
        _stage_and_exchange(tree, out_dir, reused | set(tree.kept))
    if cache_dir is not None:
        _save_manifest(tree, out_dir, cache_dir)
        forget_missing_outputs(cache_dir)


def _unchanged(tree: OutputTree, previous: "Manifest", relative: str) -> bool:
    entry = previous.intact(relative)
    return entry is not None and entry.size == len(tree.files[relative]) and entry.digest == tree.digest(relative)


def _only_these_files(out_dir: Path, wanted: set[str]) -> bool:
    """Whether ``out_dir`` holds exactly the files ``wanted`` (nothing stray, no empty folders)."""
    found = 0
    for folder, dirs, files in os.walk(out_dir):
        if not files and not dirs and folder != str(out_dir):
            return False
        for name in files:
            relative = os.path.relpath(os.path.join(folder, name), out_dir).replace(os.sep, "/")
            if relative not in wanted:
                return False
            found += 1
    return found == len(wanted)


def leftovers(out_dir: Path) -> list[Path]:
    """Folders a killed build left beside ``out_dir``."""
    parent = out_dir.parent
    if not parent.is_dir():
        return []
    prefixes = (f".{out_dir.name}.staging-", f".{out_dir.name}.old-")
    return sorted(p for p in parent.iterdir() if p.name.startswith(prefixes))


def recover(out_dir: Path) -> None:
    """Undo what a killed build left: put an old tree back when ``out_dir`` is missing
    (killed between the two renames of the fallback), then remove every leftover folder.
    Only one build of a site runs at a time (build.lock), so none of them is in use."""
    found = leftovers(out_dir)
    if not out_dir.exists():
        for old in found:
            if old.name.startswith(f".{out_dir.name}.old-") and old.is_dir():
                os.replace(old, out_dir)
                found.remove(old)
                break
    for folder in found:
        _remove_tree(folder)


def _remove_tree(folder: Path) -> None:
    if folder.is_dir() and not folder.is_symlink():
        shutil.rmtree(folder, ignore_errors=True)
    else:
        folder.unlink(missing_ok=True)


def _stage_and_exchange(tree: OutputTree, out_dir: Path, linkable: set[str]) -> None:
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.staging-", dir=out_dir.parent))
    try:
        folders: set[Path] = {staging}
        for relative in tree.written:
            target = staging / relative
            if target.parent not in folders:
                target.parent.mkdir(parents=True, exist_ok=True)
                folders.add(target.parent)
            if relative in linkable and _link(out_dir / relative, target):
                continue
            with open(target, "wb") as handle:
                handle.write(tree.files[relative] if relative in tree.files else tree.read_previous(relative))
        os.chmod(staging, 0o755)  # mkdtemp makes it private; a web server must read it
        if out_dir.exists():
            _exchange(staging, out_dir)
        else:
            os.replace(staging, out_dir)
            return
    except BaseException:
        _remove_tree(staging)
        raise
    _remove_tree(staging)  # now the previous build


def _link(source: Path, target: Path) -> bool:
    try:
        os.link(source, target)
        return True
    except OSError:  # a file system without hard links: copy it, keeping its times for the manifest
        try:
            shutil.copy2(source, target)
            return True
        except OSError:
            return False


def _exchange(staging: Path, out_dir: Path) -> None:
    """Swap the two folders' names at once; the fallback leaves a moment with only ``.old``."""
    if _renameat2_exchange(staging, out_dir):
        return
    retired = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.old-", dir=out_dir.parent))
    retired.rmdir()
    os.replace(out_dir, retired)
    try:
        os.replace(staging, out_dir)
    except OSError:
        os.replace(retired, out_dir)  # put the old build back before giving up
        raise
    os.replace(retired, staging)  # so the caller removes it as the previous build


_RENAME_EXCHANGE = 2
_AT_FDCWD = -100
_renameat2 = None


def _renameat2_exchange(a: Path, b: Path) -> bool:
    """Linux renameat2(RENAME_EXCHANGE); False where the system or the file system lacks it."""
    global _renameat2
    if not sys.platform.startswith("linux"):
        return False
    if _renameat2 is None:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        function = getattr(libc, "renameat2", None)
        if function is None:
            _renameat2 = False
            return False
        function.argtypes = (ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint)
        function.restype = ctypes.c_int
        _renameat2 = function
    if _renameat2 is False:
        return False
    import ctypes

    if _renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    error = ctypes.get_errno()
    if error in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP, errno.EXDEV):
        return False
    raise OSError(error, os.strerror(error), str(b))


def _save_manifest(tree: OutputTree, out_dir: Path, cache_dir: Path) -> None:
    files: dict[str, list] = {}
    for relative in tree.written:
        if relative in tree.kept:
            entry = tree.kept[relative]
        else:
            data = tree.files[relative]
            stat = os.stat(out_dir / relative)
            source, extra = tree.sources.get(relative, ("", {}))
            entry = Entry(tree.digest(relative), len(data), stat.st_mtime_ns, source, extra)
        files[relative] = [entry.digest, entry.size, entry.mtime_ns, entry.source, entry.extra]
    previous = tree.previous
    if previous is not None and previous.out_dir == out_dir and all(
            previous.entries.get(path) == Entry(*values) for path, values in files.items()) \
            and len(previous.entries) == len(files):
        return  # the same build as last time
    rules: dict[str, str] = {}
    compact: dict[str, list] = {}
    for relative, (file_digest, size, mtime_ns, source, extra) in files.items():
        if "rules" in extra:
            rules.update(extra["rules"])
            extra = {**extra, "rules": list(extra["rules"])}
        compact[relative] = [file_digest, size, mtime_ns, source, extra]
    path = Manifest.file_for(cache_dir, out_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = json.dumps({"out_dir": str(out_dir), "version": MANIFEST_VERSION, "rules": rules,
                          "files": compact}).encode("utf-8")
    write_atomically(path, seal("manifest", payload))


_OUT_DIR = re.compile(r'"out_dir": ("(?:[^"\\]|\\.)*")')


def forget_missing_outputs(cache_dir: Path) -> None:
    """Drop the manifests (and stamps) of output folders that no longer exist (`labpress check` builds
    into a scratch folder it deletes); a manifest names its folder in its first bytes."""
    for manifest in cache_dir.glob("output-*.json"):
        try:
            with manifest.open(encoding="utf-8") as handle:
                found = _OUT_DIR.search(handle.read(4096))
            if found is None or not Path(json.loads(found.group(1))).is_dir():
                manifest.unlink()
                # and the stamp of that folder's last build (site/fresh.py), named alike
                manifest.with_name("fresh-" + manifest.name.removeprefix("output-")).unlink(missing_ok=True)
        except (OSError, ValueError):
            pass
