"""Whether the output folder already holds what a build would make: a build with nothing to do found
out early, without loading a post, and publishing nothing.

After every successful build with a cache, the build writes a stamp beside its manifest
(``fresh-<id>.json`` in the cache folder, sealed): every input the build read and how to know it
again, the arguments and environment it ran with, the git state its provenance records show, the
state of the cache files it reads, and every file and folder of the output as published, with
what the build was (pages, files, posts). A later build that finds all of these as they were has
nothing to do: the output is already what it would write, so it returns at once. Anything that
differs, and a stamp that is missing, damaged or of another version, and the build runs in full
(and writes a new stamp).

The inputs are what the build read in its own thread (``cache/reads.py`` records every file it
opens or looks at and every folder it lists, whatever reads it: the theme, KaTeX's files,
Pyodide's, the site's static files, LabPress's own code, the tools' installed metadata), the post
files with the digest of the bytes the build read, and what each post's code and blocks read and
its widget modules (the digests its cached body carries). Each is known again by its ``stat``
(device, inode, mode, size, and modification and change times in nanoseconds: the change time
cannot be set back, so a file restored with its old modification time is still seen) and, when
that differs, by its digest. A file changed within ``RACY_SECONDS`` of being read may change again
without its ``stat`` showing it (timestamps are coarse), so its digest is checked every time; one
the stamp can only digest after the build (not a post file) and that changed within that margin
of the build's start may have changed after the build read it: then no stamp is written at all.

The output is checked as the manifest checks it, more strictly: every file's stat as published
(size, modification time, inode; not its change time, which hard links made or removed beside it
move) and every folder's modification time, which moves whenever a name is added to it or
removed: so a stray file, one edited, removed or replaced is seen without listing the tree. Only the cache files a build with nothing to do would itself read
are part of the stamp (the post cache and the formula cache, with their journals): one damaged,
set aside or left with a hot journal makes the next build run in full, which notices and repairs it.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat as stat_module
import sys
import time
from pathlib import Path

from labpress.cache.inputs import input_digest
from labpress.cache.reads import kind_of, plain_stat
from labpress.cache.store import seal, unseal, write_atomically

VERSION = 2
KIND = "fresh"
# A file changed within this long before it was read (or after) is "racy": its stat may not show
# the next change, so its digest is checked at every build.
RACY_SECONDS = 2.0
# The cache files a build with nothing to do reads itself (and would set aside when damaged).
CACHE_FILES = tuple(f"{name}{suffix}" for name in ("posts.sqlite", "katex.sqlite")
                    for suffix in ("", "-journal", "-wal", "-shm"))
SPECIAL = ("/proc/", "/sys/", "/dev/")  # never an input: always different


def stamp_file(cache_dir: Path, out_dir: Path) -> Path:
    return cache_dir / f"fresh-{hashlib.sha256(str(out_dir).encode()).hexdigest()[:16]}.json"


def signature(st: os.stat_result | None) -> list | None:
    if st is None:
        return None
    return [st.st_dev, st.st_ino, st.st_mode, st.st_size, st.st_mtime_ns, st.st_ctime_ns]


def stat_of(path: str) -> os.stat_result | None:
    try:
        return plain_stat(path)
    except (OSError, ValueError):
        return None


_stat = stat_of


def is_racy(st: os.stat_result | None, since_ns: int) -> bool:
    """Whether a file with this stat, read at ``since_ns`` (time.time_ns()), may change without its stat showing it."""
    return st is not None and max(st.st_mtime_ns, st.st_ctime_ns) >= since_ns - int(RACY_SECONDS * 1e9)


_racy = is_racy


# --- what an input is -------------------------------------------------------------
#
# "file" and "folder" are cache/inputs.py's input_digest (what a post's cached body was checked
# with): the sha256 of a file's bytes, of a folder's sorted names but __pycache__, None when
# absent or unreadable.
# "path" is what the build's own thread opened: absent, a folder, or a file's digest; "look" what
# it only looked at (os.stat: is it there, a file or a folder): absent, a folder, a file or other.


def state(kind: str, path: str, st: os.stat_result | None = None) -> str | None:
    if kind in ("file", "folder"):
        return input_digest(kind, path)
    st = st if st is not None else _stat(path)
    if st is None:
        return "absent"
    if stat_module.S_ISDIR(st.st_mode):
        return "dir"
    if kind == "look":
        return kind_of(st)
    if stat_module.S_ISREG(st.st_mode):
        return input_digest("file", path) or "unreadable"
    return "other"


def unchanged(entry: list, settle: bool = False) -> bool:
    """Whether one input [kind, path, signature, state, racy] is as the stamp says. With ``settle``,
    an entry found unchanged by its digest takes the stat it has now (no longer racy once its last
    change is RACY_SECONDS old), so the next check is by stat again."""
    kind, path, sig, known, racy = entry
    st = _stat(path)
    if sig is not None and not racy and signature(st) == sig:
        return True
    if st is None and sig is None:
        return known in (None, "absent")
    read_ns = time.time_ns()
    if state(kind, path, st) != known:
        return False
    if settle:
        entry[2], entry[4] = signature(st), _racy(st, read_ns)
    return True


# --- the check --------------------------------------------------------------------


def arguments_key(site_dir: Path, out_dir: Path, base_url: str | None, drafts: bool) -> list:
    """What, besides its inputs, a build's output depends on: its arguments, the interpreter, and
    LabPress's environment variables (LABPRESS_NODE_MODULES finds KaTeX and Pyodide)."""
    environment = sorted((name, value) for name, value in os.environ.items() if name.startswith("LABPRESS_"))
    return [str(site_dir), str(out_dir), base_url, bool(drafts), sys.version, sys.executable, environment]


def cache_state(cache_dir: Path) -> list:
    return [[name, signature(_stat(os.path.join(cache_dir, name)))] for name in CACHE_FILES]


def git_key(git) -> list | None:
    """The git state a build's provenance records show (provenance/git.py's GitState), in a form
    that is the same in every process."""
    if git is None:
        return None
    return [git.commit, str(git.top), git.clean, sorted((str(p), s) for p, s in git.paths.items()),
            sorted((str(p), s) for p, s in git.folders.items()), sorted(str(p) for p in git.renamed_in)]


def load(cache_dir: Path, out_dir: Path) -> dict | None:
    try:
        payload = unseal(KIND, stamp_file(cache_dir, out_dir).read_bytes())
        stamp = json.loads(payload) if payload is not None else None
    except (OSError, ValueError):
        return None
    return stamp if isinstance(stamp, dict) and stamp.get("version") == VERSION else None


def output_unchanged(out_dir: Path, files: list, folders: list) -> bool:
    try:
        fd = os.open(out_dir, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return False
    try:
        for relative, size, mtime_ns, ino in files:
            st = os.stat(relative, dir_fd=fd, follow_symlinks=False)
            if (st.st_size, st.st_mtime_ns, st.st_ino) != (size, mtime_ns, ino) or not stat_module.S_ISREG(st.st_mode):
                return False
        for relative, mtime_ns, ino in folders:
            st = os.stat(relative, dir_fd=fd, follow_symlinks=False)
            if (st.st_mtime_ns, st.st_ino) != (mtime_ns, ino) or not stat_module.S_ISDIR(st.st_mode):
                return False
    except (OSError, ValueError, TypeError):
        return False
    finally:
        os.close(fd)
    return True


def still_fresh(site_dir: Path, out_dir: Path, cache_dir: Path, arguments: list, manifest: Path) -> dict | None:
    """What the last build was (its ``result``: pages, files, posts) when the output folder still
    holds exactly what a build now would make; None when a build has something to do."""
    stamp = load(cache_dir, out_dir)
    if stamp is None or stamp.get("arguments") != arguments:
        return None
    try:
        if stamp["cache"] != cache_state(cache_dir) or stamp["manifest"] != signature(_stat(manifest)):
            return None
        if not all(unchanged(entry) for entry in stamp["inputs"]):
            return None
        if not output_unchanged(out_dir, stamp["files"], stamp["folders"]):
            return None
        if stamp["git"] != git_key(_git_state(site_dir, out_dir, cache_dir)):
            return None
        return stamp["result"]
    except (KeyError, TypeError, ValueError):
        return None


def _git_state(site_dir: Path, out_dir: Path, cache_dir: Path):
    from labpress.provenance.git import git_state

    return git_state(site_dir, ignored=(out_dir, cache_dir))


# --- the record -------------------------------------------------------------------


def _key(kind: str, path: str) -> tuple[bool, str]:
    return kind == "folder", path  # a folder's names and a path's content are two inputs (a look is a path's)


class Inputs:
    """The inputs of one build: [kind, path, signature, state, racy] by (listed or not, path)."""

    def __init__(self, started_ns: int):
        self.started_ns = started_ns
        self.entries: dict[tuple[bool, str], list] = {}
        self.doubtful = False  # an input may have changed after the build read it: no stamp

    def known(self, kind: str, path: str, st: os.stat_result | None, value: str | None, read_ns: int) -> None:
        """An input whose state the build worked out itself when it read it (``st``: its stat then, or
        later: a change since shows as racy, so it is checked by its digest); one known already
        (a post's file, found again as a path looked at) stays as it is."""
        self.entries.setdefault(_key(kind, path), [kind, path, signature(st), value, _racy(st, read_ns)])

    def afterwards(self, kind: str, path: str) -> None:
        """An input whose state is found now, after the build read it."""
        if _key(kind, path) in self.entries:
            return
        st = _stat(path)
        racy = _racy(st, self.started_ns)
        if racy and not (kind == "path" and stat_module.S_ISDIR(st.st_mode)):  # a folder opened is only a folder
            self.doubtful = True
            return
        self.entries[_key(kind, path)] = [kind, path, signature(st), state(kind, path, st), racy]


def record(stamp_path: Path, arguments: list, inputs: Inputs, reads, excluded: tuple[str, ...], git,
           cache_dir: Path, manifest: Path, out_dir: Path, written: list[str], result: dict) -> None:
    """Write the stamp of the build that just published ``written`` into ``out_dir`` (see the module's
    docstring); ``reads``: what its thread read (a cache.reads.Reads); ``excluded``: the starts of
    paths that are not inputs (the output and cache folders)."""
    if not add_reads(inputs, reads, excluded, out_dir):
        forget(stamp_path)
        return
    write(stamp_path, arguments, list(inputs.entries.values()), git, cache_dir, manifest, out_dir, written, result)


def add_reads(inputs: Inputs, reads, excluded: tuple[str, ...], out_dir: Path) -> bool:
    """What a build's thread read, as inputs; False when one may have changed after it was read."""
    beside = str(out_dir.parent)  # listed for what a killed build left there, which every build removes first
    wanted = lambda path: not (path + os.sep).startswith(excluded)  # noqa: E731
    for path, seen in sorted(reads.looked.items()):  # what it was when looked at, known then
        if wanted(path) and path not in reads.files:
            inputs.known("look", path, _stat(path), seen, inputs.started_ns)
    for kind, paths in (("path", reads.files), ("folder", reads.folders)):
        for path in sorted(paths):
            if wanted(path) and not (kind == "folder" and path == beside):
                inputs.afterwards(kind, path)
    return not inputs.doubtful


def write(stamp_path: Path, arguments: list, entries: list, git, cache_dir: Path, manifest: Path, out_dir: Path,
          written: list[str], result: dict) -> None:
    """The stamp itself: ``entries``, the build's inputs ([kind, path, signature, state, racy])."""
    files, folders = [], {}
    try:
        fd = os.open(out_dir, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        forget(stamp_path)
        return
    try:
        for relative in written:
            st = os.stat(relative, dir_fd=fd, follow_symlinks=False)
            files.append([relative, st.st_size, st.st_mtime_ns, st.st_ino])
            folder = os.path.dirname(relative)
            while folder not in folders:
                st = os.stat(folder or ".", dir_fd=fd, follow_symlinks=False)
                folders[folder] = [folder or ".", st.st_mtime_ns, st.st_ino]
                if not folder:
                    break
                folder = os.path.dirname(folder)
    except OSError:
        forget(stamp_path)
        return
    finally:
        os.close(fd)
    stamp = {"version": VERSION, "arguments": arguments, "cache": cache_state(cache_dir),
             "manifest": signature(_stat(manifest)), "inputs": sorted(entries, key=_input_order),
             "git": git_key(git), "files": files, "folders": sorted(folders.values()), "result": result}
    try:
        write_atomically(stamp_path, seal(KIND, json.dumps(stamp, separators=(",", ":")).encode("utf-8")))
    except OSError:
        forget(stamp_path)


def _input_order(entry: list) -> tuple:
    return (entry[0] != "file", entry[1])  # the post files first: they are what changes most often


def forget(stamp_path: Path) -> None:
    try:
        stamp_path.unlink()
    except OSError:
        pass
