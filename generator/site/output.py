"""Writing a build into its output folder, only once the build has succeeded.

The pages and assets of a build are gathered in memory first; nothing touches
the output folder until every page has been rendered, so a failed build
leaves the previous output exactly as it was.

The first build (or one without the cache) writes a staging folder and swaps
it in with a rename. Later builds update the folder in place: a manifest in
the cache records each file's digest and what it was made from, and only the
files whose content changes are written (each to a temporary name, then all
renamed into place together); files no longer part of the site are removed.
The result is byte for byte what a clean build writes. A file edited or
deleted in the output folder by hand no longer matches its manifest entry and
is written again.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

MANIFEST_VERSION = 2


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
            stored = json.loads(cls.file_for(cache_dir, out_dir).read_text(encoding="utf-8"))
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
    """Put the build in ``tree`` into ``out_dir``, and record it in the manifest."""
    out_dir = out_dir.resolve()
    if tree.previous is None or tree.previous.out_dir != out_dir or not out_dir.is_dir():
        _write_staged(tree, out_dir)
    else:
        _update_in_place(tree, out_dir)
    if cache_dir is not None:
        _save_manifest(tree, out_dir, cache_dir)
        _forget_missing_outputs(cache_dir)


def _write_staged(tree: OutputTree, out_dir: Path) -> None:
    if tree.kept:
        raise ValueError("files kept from a previous build need that build in place")
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.staging-", dir=out_dir.parent))
    try:
        folders: set[Path] = set()
        for relative, data in tree.files.items():
            target = staging / relative
            if target.parent not in folders:
                target.parent.mkdir(parents=True, exist_ok=True)
                folders.add(target.parent)
            target.write_bytes(data)
        os.chmod(staging, 0o755)  # mkdtemp makes it private; a web server must read it
        _swap_into_place(staging, out_dir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def _swap_into_place(staging: Path, out_dir: Path) -> None:
    if not out_dir.exists():
        os.replace(staging, out_dir)
        return
    retired = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.old-", dir=out_dir.parent))
    retired.rmdir()
    os.replace(out_dir, retired)
    try:
        os.replace(staging, out_dir)
    except OSError:
        os.replace(retired, out_dir)  # put the old build back before giving up
        raise
    shutil.rmtree(retired, ignore_errors=True)


def _update_in_place(tree: OutputTree, out_dir: Path) -> None:
    previous = tree.previous
    changed = []
    for relative, data in tree.files.items():
        entry = previous.intact(relative)
        if entry is None or entry.size != len(data) or entry.digest != tree.digest(relative):
            changed.append(relative)
    # Every new file is written under a temporary name first; only then are they renamed into
    # place, one quick rename each, so an interrupted write never leaves half a page behind.
    pending: list[tuple[str, Path]] = []
    try:
        for relative in changed:
            target = out_dir / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".labpress-", suffix=".tmp")
            with os.fdopen(fd, "wb") as handle:
                handle.write(tree.files[relative])
            os.chmod(tmp, 0o644)
            pending.append((relative, Path(tmp)))
    except BaseException:
        for _, tmp in pending:
            tmp.unlink(missing_ok=True)
        raise
    for relative, tmp in pending:
        os.replace(tmp, out_dir / relative)
    # Whatever else is in the folder is not part of this build: stale pages, stray files.
    wanted = set(tree.written)
    for folder, dirs, files in os.walk(out_dir, topdown=False):
        here = Path(folder)
        for name in files:
            relative = (here / name).relative_to(out_dir).as_posix()
            if relative not in wanted:
                (here / name).unlink()
        for name in dirs:
            try:
                (here / name).rmdir()  # only when empty
            except OSError:
                pass


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
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".output-", suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(json.dumps({"version": MANIFEST_VERSION, "out_dir": str(out_dir), "rules": rules,
                                 "files": compact}))
    os.replace(tmp, path)


_OUT_DIR = re.compile(r'"out_dir": ("(?:[^"\\]|\\.)*")')


def _forget_missing_outputs(cache_dir: Path) -> None:
    """Drop the manifests of output folders that no longer exist (`labpress check` builds into a
    scratch folder it deletes); a manifest names its folder in its first bytes."""
    for manifest in cache_dir.glob("output-*.json"):
        try:
            with manifest.open(encoding="utf-8") as handle:
                found = _OUT_DIR.search(handle.read(4096))
            if found is None or not Path(json.loads(found.group(1))).is_dir():
                manifest.unlink()
        except (OSError, ValueError):
            pass
