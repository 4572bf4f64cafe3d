"""What build-time code reads (figure and run blocks, widget kernels at build): the files and folders
it opens or lists, recorded per thread.

The rules are below ("What a block reads"); the caches of the code's results keep
what was recorded, with digests (``cache/inputs.py``), and run the code again when
any of it changes.
"""

from __future__ import annotations

import contextlib
import os
import stat
import sys
import threading
from pathlib import Path

# --- What a block reads ------------------------------------------------------
#
# A figure may read data files (open(), numpy.loadtxt/genfromtxt/fromfile,
# pandas, matplotlib's imread, ...) or list a folder (glob, os.listdir,
# Path.iterdir). All of these reach Python's ``open``, ``os.listdir`` or
# ``os.scandir`` audit events, so one audit hook per process sees them whatever
# library does the reading. Hooks cannot be removed, so the hook does nothing
# unless a recording is active in the calling thread (the dev server's HTTP
# thread is never recorded). What it saw becomes the figure's inputs:
#
# * only paths inside the site folder count (paths are made absolute when the
#   event fires, so a block that changes folder is still understood);
# * inside it, Python's own files do not: anything under sys.prefix,
#   sys.base_prefix or sys.exec_prefix (a virtual environment kept in the site
#   folder), in a site-packages, dist-packages or __pycache__ folder, or
#   matplotlib's configuration and cache folders; nor LabPress's cache folder;
# * a file opened only for writing is an output, not an input;
# * what the import system reads and lists to import a module is not data
#   (modules a block imports are not tracked; '' on sys.path lists the site);
# * a file the block tried to open but that did not exist counts (with no
#   digest): when it appears, the figure is drawn again.
#
# * a path looked at with os.stat (os.path.exists, isfile, Path.exists, ...)
#   counts as a file: numpy checks that a file exists before opening it, so a
#   block that falls back when the file is missing is drawn again when it
#   appears. Stat fires no audit event: while a recording is active anywhere,
#   ``os.stat`` is wrapped (the wrapper only notes paths for a recording thread).
#
# Outside the site folder nothing is tracked (system fonts, /dev, /proc, the
# standard library). Reads done in C without Python's I/O (h5py, netCDF) fire
# no event and are not seen.

_READ_EVENTS = frozenset({"open", "os.listdir", "os.scandir"})
_PYTHON_FOLDERS = frozenset({"site-packages", "dist-packages", "__pycache__"})
_CACHE_FOLDER_NAME = ".labpress-cache"
_IMPORT_SYSTEM = "<frozen importlib"
# importlib.metadata looks through every folder on sys.path for a distribution's metadata (the
# versions a provenance record names): those listings are not data (the metadata files it reads are).
_METADATA_SEARCH = os.path.join("importlib", "metadata", "__init__.py")

_thread = threading.local()  # .recorder: the Reads of the block running in this thread, if any
_recordings = 0  # recordings active in any thread: while 0 the hook returns at once
_hook_lock = threading.Lock()
_hook_installed = False


class Reads:
    """Absolute paths a block opened for reading, paths it only looked at (``os.stat``), and folders
    it listed."""

    def __init__(self):
        self.files: set[str] = set()
        self.looked: dict[str, str] = {}  # path -> what it was when first looked at (see ``kind_of``)
        self.folders: set[str] = set()


def kind_of(result: os.stat_result | None) -> str:
    """What a path is, as far as looking at it says: absent, a folder, a file or other."""
    if result is None:
        return "absent"
    if stat.S_ISDIR(result.st_mode):
        return "dir"
    return "file" if stat.S_ISREG(result.st_mode) else "other"


def _audit(event: str, args: tuple) -> None:
    if not _recordings or event not in _READ_EVENTS:
        return
    reads = getattr(_thread, "recorder", None)
    if reads is None:
        return
    try:
        caller = sys._getframe(1).f_code.co_filename
        if caller.startswith(_IMPORT_SYSTEM):
            return  # finding or loading a module the block imports: not its data
        if event == "os.listdir" and caller.endswith(_METADATA_SEARCH):
            return
        path = args[0] if args else None
        if event == "open":
            if path is None or isinstance(path, int):
                return  # a file descriptor: opened (and recorded) before
            flags = args[2] if len(args) > 2 else None
            if isinstance(flags, int) and flags & os.O_ACCMODE == os.O_WRONLY:
                return
            reads.files.add(os.path.abspath(os.fsdecode(os.fspath(path))))
        else:
            if isinstance(path, int):
                return
            reads.folders.add(os.path.abspath(os.fsdecode(os.fspath(path)) if path is not None else "."))
    except Exception:  # an audit hook that raises would fail the author's own call
        pass


_plain_stat = os.stat


def plain_stat(path, *args, **kwargs):
    """``os.stat`` itself, never noted (for code that checks inputs, not reads them)."""
    return _plain_stat(path, *args, **kwargs)


def _noted_stat(path, *args, **kwargs):
    reads = getattr(_thread, "recorder", None)
    if reads is None or isinstance(path, int) or kwargs.get("dir_fd") is not None:
        return _plain_stat(path, *args, **kwargs)
    try:
        absolute = os.path.abspath(os.fsdecode(os.fspath(path)))
    except Exception:
        return _plain_stat(path, *args, **kwargs)
    try:
        result = _plain_stat(path, *args, **kwargs)
    except OSError:
        reads.looked.setdefault(absolute, "absent")
        raise
    reads.looked.setdefault(absolute, kind_of(result))
    return result


def _install_hook() -> None:
    global _hook_installed
    with _hook_lock:
        if not _hook_installed:
            sys.addaudithook(_audit)
            _hook_installed = True


@contextlib.contextmanager
def recording(reads: Reads | None):
    """Record into ``reads`` what this thread opens and lists until the block ends (None: nothing)."""
    global _recordings
    if reads is None:
        yield
        return
    _install_hook()
    previous = getattr(_thread, "recorder", None)
    _thread.recorder = reads
    with _hook_lock:
        _recordings += 1
        if _recordings == 1 and os.stat is _plain_stat:
            os.stat = _noted_stat
    try:
        yield
    finally:
        _thread.recorder = previous
        with _hook_lock:
            _recordings -= 1
            if _recordings == 0 and os.stat is _noted_stat:
                os.stat = _plain_stat


@contextlib.contextmanager
def paused():
    """Record nothing in this thread until the block ends (what it reads is recorded another way:
    a post's inputs in its body)."""
    previous = getattr(_thread, "recorder", None)
    _thread.recorder = None
    try:
        yield
    finally:
        _thread.recorder = previous


@contextlib.contextmanager
def in_folder(folder: Path | None):
    """Run in ``folder`` (the site's), so ``data/x.csv`` means the site's file wherever the build started
    (None: stay where the process is)."""
    if folder is None:
        yield
        return
    try:
        previous = os.getcwd()
    except OSError:  # the folder the command started in is gone
        previous = None
    os.chdir(folder)
    try:
        yield
    finally:
        if previous is not None:
            with contextlib.suppress(OSError):
                os.chdir(previous)


def _ignored_prefixes(root: Path, cache_dir) -> tuple[str, ...]:
    folders = [root / _CACHE_FOLDER_NAME, sys.prefix, sys.base_prefix, sys.exec_prefix]
    if cache_dir:
        folders.append(cache_dir)
    matplotlib = sys.modules.get("matplotlib")
    if matplotlib is not None:
        for name in ("get_configdir", "get_cachedir"):
            with contextlib.suppress(Exception):
                folders.append(getattr(matplotlib, name)())
    prefixes = set()
    for folder in folders:
        for form in (os.path.abspath(folder), os.path.realpath(folder)):
            prefixes.add(form.rstrip(os.sep) + os.sep)
    return tuple(sorted(prefixes))


def _relative_inside(path: str, roots: tuple[str, ...], ignored: tuple[str, ...]) -> str | None:
    """``path`` relative to the site folder (posix), or None when it is not an input (see above)."""
    for form in dict.fromkeys((path, os.path.realpath(path))):
        if (form + os.sep).startswith(ignored):
            return None
    for form in dict.fromkeys((path, os.path.realpath(path))):
        for root in roots:
            if form == root or form.startswith(root + os.sep):
                relative = Path(os.path.relpath(form, root))
                if _PYTHON_FOLDERS.intersection(relative.parts) or relative.suffix == ".pyc":
                    return None
                return relative.as_posix()
    return None


def site_inputs(reads: Reads, root: Path, cache_dir) -> list[tuple[str, str]]:
    """(kind, path relative to the site folder) of each input the block read: kind 'file' or 'folder'."""
    roots = tuple(dict.fromkeys((os.path.abspath(root), os.path.realpath(root))))
    ignored = _ignored_prefixes(root, cache_dir)
    found = set()
    for kind, paths in (("file", reads.files | reads.looked.keys()), ("folder", reads.folders)):
        for path in paths:
            relative = _relative_inside(path, roots, ignored)
            if relative is not None:
                found.add((kind, relative))
    return sorted(found)

