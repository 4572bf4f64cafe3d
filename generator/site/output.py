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
from typing import Callable
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

    def write_or_keep(self, relative: str, data: str | bytes, known_digest: str | None = None) -> None:
        """``write``, or keep the previous build's file when it holds these bytes already (``known_digest``:
        their digest, when the caller knows it)."""
        entry = self.previous.intact(relative) if self.previous is not None else None
        if entry is not None and not entry.source and known_digest is not None and entry.digest == known_digest:
            self.keep_as(relative, entry)
            return
        data = data.encode("utf-8") if isinstance(data, str) else data
        if entry is not None and not entry.source and entry.size == len(data) \
                and entry.digest == (known_digest or _content_digest(data)):
            self.keep_as(relative, entry)
            return
        self.write(relative, data)
        if known_digest:
            self._digests[relative] = known_digest

    def keep_as(self, relative: str, entry: Entry) -> None:
        """Keep the previous build's file, known to be intact (a long-running process that published
        it and has seen nothing change it)."""
        self.files.pop(relative, None)
        self._digests.pop(relative, None)
        self.kept[relative] = entry

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

    @classmethod
    def trusted(cls, out_dir: Path, entries: dict[str, Entry]) -> "Manifest":
        """What a process published itself and has seen nothing change: not looked at again."""
        manifest = cls(out_dir, entries)
        manifest._intact = dict(entries)
        return manifest

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


def publish(tree: OutputTree, out_dir: Path, cache_dir: Path | None, shadow: "Shadow | None" = None,
            save: bool = True, late: Callable[[], None] | None = None) -> None:
    """Put the build in ``tree`` into ``out_dir`` in one step, and record it in the manifest (with
    ``save``; else the caller saves it later with ``save_manifest``). With a ``shadow`` that is in
    place, only the files that differ from it are written (see ``Shadow``).

    ``late``: called before the output folder changes, to add the files still to come (the search
    index, which Pagefind makes meanwhile). When there is no previous build to keep files from, the
    tree's files are written into the staging folder first, while those are awaited."""
    out_dir = out_dir.resolve()
    recover(out_dir, keep=shadow.path if shadow is not None else None)  # (not this process's shadow)
    previous = tree.previous if tree.previous is not None and tree.previous.out_dir == out_dir else None
    if tree.kept and previous is None:
        raise ValueError("files kept from a previous build need that build in place")
    if late is not None and previous is None and shadow is None:
        _stage_and_exchange(tree, out_dir, set(), late)
        if cache_dir is not None and save:
            save_manifest(tree, out_dir, cache_dir)
        return
    if late is not None:
        late()
    if not (shadow is not None and shadow.ready() and shadow.publish(tree)):
        if shadow is not None:
            shadow.forget()  # made again from this build (Shadow.make)
        reused = {relative for relative in tree.files if previous is not None and _unchanged(tree, previous, relative)}
        if not (previous is not None and out_dir.is_dir() and len(reused) == len(tree.files)
                and _only_these_files(out_dir, set(tree.written))):
            _stage_and_exchange(tree, out_dir, reused | set(tree.kept))
    if cache_dir is not None and save:
        save_manifest(tree, out_dir, cache_dir)


def save_manifest(tree: OutputTree, out_dir: Path, cache_dir: Path) -> None:
    """The manifest of the build in ``tree``, published into ``out_dir``."""
    _save_manifest(tree, out_dir, cache_dir)
    forget_missing_outputs(cache_dir)


class Shadow:
    """A second output tree beside the output folder (``.NAME.shadow-PID``), one build behind it,
    kept by a long-running process (``labpress serve``) between its builds.

    Publishing through it writes into it only the files that differ from what it holds (a file the
    output folder has as wanted is hard-linked from there; one the shadow already holds is left),
    removes what the build no longer has, and exchanges it with the output folder in one step, as
    ``_stage_and_exchange`` does: at every instant the output folder is the old tree or the new one,
    whole. The old tree is now the shadow, for the next build. A file is never written where it
    stands (both trees share most of their files): it is made anew. Anything unexpected (the folders
    moved by another build, a write that failed) and the shadow is forgotten and made again.
    """

    def __init__(self, out_dir: Path):
        self.out_dir = out_dir.resolve()
        self.path = self.out_dir.parent / f".{self.out_dir.name}.shadow-{os.getpid()}"
        self.held: dict[str, tuple[int, str]] | None = None  # relative -> (inode, digest) in the shadow
        self.live: dict[str, tuple[int, str]] = {}  # the same of the output folder
        self.inodes: tuple[int, int] | None = None  # (the output folder's, the shadow's), as left
        self.usable = True  # False once the two folders could not be exchanged in one step
        self.differs: set[str] = set()  # paths where the shadow and the output folder differ

    def ready(self) -> bool:
        if self.held is None or self.inodes is None or not self.usable:
            return False
        try:
            return (os.stat(self.out_dir).st_ino, os.stat(self.path).st_ino) == self.inodes
        except OSError:
            return False

    def forget(self) -> None:
        self.held, self.inodes = None, None
        _remove_tree(self.path)

    def make(self, tree: OutputTree) -> None:
        """The shadow as a copy of the output folder that ``tree`` was just published into (every file
        hard-linked), for the next build."""
        self.forget()
        if not (self.usable and _exchange_available()):
            return
        live = {}
        try:
            self.path.mkdir()
            os.chmod(self.path, 0o755)
            folders = {self.path}
            for relative in tree.written:
                target = self.path / relative
                if target.parent not in folders:
                    target.parent.mkdir(parents=True, exist_ok=True)
                    folders.add(target.parent)
                os.link(self.out_dir / relative, target)
                digest = tree.kept[relative].digest if relative in tree.kept else tree.digest(relative)
                live[relative] = (os.stat(target).st_ino, digest)
            self.inodes = (os.stat(self.out_dir).st_ino, os.stat(self.path).st_ino)
        except OSError:
            self.forget()
            return
        self.held, self.live, self.differs = dict(live), live, set()

    def publish(self, tree: OutputTree) -> bool:
        """Whether ``tree`` was published through the shadow (False: publish it another way)."""
        try:
            return self._publish(tree)
        except BaseException:
            self.forget()
            raise

    def _publish(self, tree: OutputTree) -> bool:
        held, live = self.held, self.live
        wanted = set(tree.kept)
        wanted.update(tree.files)
        # Where the shadow must change: what differs between it and the output folder, what this build
        # wrote, what it no longer has, and what is new to the shadow. Elsewhere the shadow holds what
        # the output folder holds, and the build kept that.
        candidates = self.differs | tree.files.keys() | (held.keys() - wanted) | (wanted - held.keys())
        new_live = dict(live)
        folders = {self.path}
        gone = []
        for relative in sorted(candidates):
            if relative not in wanted:
                if relative in held:
                    _remove_tree(self.path / relative)
                    gone.append(relative)
                new_live.pop(relative, None)
                continue
            digest = tree.kept[relative].digest if relative in tree.kept else tree.digest(relative)
            have = held.get(relative)
            if have is not None and have[1] == digest:
                new_live[relative] = have
                continue
            target = self.path / relative
            if target.parent not in folders:
                _make_folder(target.parent, self.path)
                folders.add(target.parent)
            if have is not None or os.path.lexists(target):
                _remove_tree(target)
            source = live.get(relative)
            if source is not None and source[1] == digest:
                os.link(self.out_dir / relative, target)
                new_live[relative] = source
                continue
            data = tree.files[relative] if relative in tree.files else tree.read_previous(relative)
            fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            new_live[relative] = (os.stat(target).st_ino, digest)
        # And the folders the files gone leave empty, deepest first: a folder still wanted holds a file.
        for folder in sorted({p for relative in gone for p in _parents(os.path.dirname(relative))},
                             key=lambda folder: folder.count("/"), reverse=True):
            try:
                os.rmdir(self.path / folder)
            except OSError:
                pass  # not empty: something else is in it
        if not _renameat2_exchange(self.path, self.out_dir):
            self.usable = False
            self.forget()
            return False
        self.differs = {relative for relative in candidates if new_live.get(relative) != live.get(relative)}
        self.held, self.live = live, new_live
        self.inodes = (self.inodes[1], self.inodes[0])
        return True


def _parents(folder: str):
    """``folder`` (relative, posix) and each folder above it, but the root."""
    while folder:
        yield folder
        folder = os.path.dirname(folder)


def _make_folder(folder: Path, root: Path) -> None:
    """``folder`` under ``root``, a file in the way of it (or of a folder above it) removed."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        for parent in [folder, *folder.parents]:
            if parent == root:
                break
            if parent.is_file() or parent.is_symlink():
                parent.unlink()
        folder.mkdir(parents=True, exist_ok=True)


def _exchange_available() -> bool:
    """Whether this system has renameat2 (the file system may still refuse RENAME_EXCHANGE)."""
    return _load_renameat2() is not False


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
    prefixes = (f".{out_dir.name}.staging-", f".{out_dir.name}.old-", f".{out_dir.name}.shadow-")
    return sorted(p for p in parent.iterdir() if p.name.startswith(prefixes))


def recover(out_dir: Path, keep: Path | None = None) -> None:
    """Undo what a killed build left: put an old tree back when ``out_dir`` is missing
    (killed between the two renames of the fallback), then remove every leftover folder
    (``keep``: the shadow of the process building, see ``Shadow``).
    Only one build of a site runs at a time (build.lock), so none of them is in use."""
    found = [folder for folder in leftovers(out_dir) if folder != keep]
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


def _stage_and_exchange(tree: OutputTree, out_dir: Path, linkable: set[str],
                        late: Callable[[], None] | None = None) -> None:
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.staging-", dir=out_dir.parent))
    try:
        folders: set[Path] = {staging}

        def stage(relatives) -> None:
            for relative in relatives:
                target = staging / relative
                if target.parent not in folders:
                    target.parent.mkdir(parents=True, exist_ok=True)
                    folders.add(target.parent)
                if relative in linkable and _link(out_dir / relative, target):
                    continue
                with open(target, "wb") as handle:
                    handle.write(tree.files[relative] if relative in tree.files else tree.read_previous(relative))

        stage(tree.written)
        if late is not None:
            before = {relative: tree.files.get(relative) for relative in tree.written}
            late()  # the files still to come, into the tree
            wanted = tree.written
            for relative in sorted(before.keys() - set(wanted)):  # no longer in the tree
                (staging / relative).unlink()
            again = [relative for relative in wanted
                     if relative not in before or tree.files.get(relative) is not before[relative]]
            for relative in again:  # changed by the late step: made anew (never written through a link)
                (staging / relative).unlink(missing_ok=True)
            stage(again)
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


def _load_renameat2():
    """libc's renameat2, or False where the system lacks it."""
    global _renameat2
    if _renameat2 is None:
        if not sys.platform.startswith("linux"):
            _renameat2 = False
            return False
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        function = getattr(libc, "renameat2", None)
        if function is None:
            _renameat2 = False
            return False
        function.argtypes = (ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint)
        function.restype = ctypes.c_int
        _renameat2 = function
    return _renameat2


def _renameat2_exchange(a: Path, b: Path) -> bool:
    """Linux renameat2(RENAME_EXCHANGE); False where the system or the file system lacks it."""
    function = _load_renameat2()
    if function is False:
        return False
    import ctypes

    if function(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    error = ctypes.get_errno()
    if error in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP, errno.EXDEV):
        return False
    raise OSError(error, os.strerror(error), str(b))


def published_entries(tree: OutputTree, out_dir: Path) -> dict[str, Entry]:
    """The manifest's entries of the build in ``tree``, just published into ``out_dir``."""
    entries = dict(tree.kept)
    for relative, data in tree.files.items():
        stat = os.stat(out_dir / relative)
        source, extra = tree.sources.get(relative, ("", {}))
        entries[relative] = Entry(tree.digest(relative), len(data), stat.st_mtime_ns, source, extra)
    return entries


def _save_manifest(tree: OutputTree, out_dir: Path, cache_dir: Path) -> None:
    files: dict[str, list] = {}
    published = published_entries(tree, out_dir)
    for relative in sorted(published):
        entry = published[relative]
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
