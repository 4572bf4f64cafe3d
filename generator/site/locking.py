"""One build of a site at a time, and a cache folder that can be trusted to be a folder.

Two builds of one site (a `labpress build` while `labpress serve` rebuilds, or
two terminals) would share the cache and the output folder. The second one
waits for the first, saying so, or with ``wait=0`` stops at once with an error
(exit 2). The lock is an advisory ``flock`` on ``.labpress-cache/build.lock``:
the kernel drops it when its holder dies, even by ``kill -9``, so a killed
build never leaves a stale lock behind. Every wait is bounded.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import time
from pathlib import Path
from typing import Callable, Iterator

from labpress.errors import ConfigError

LOCK_NAME = "build.lock"
# How long a build waits for another build of the same site before giving up.
DEFAULT_WAIT_SECONDS = 600.0


def prepare_cache_folder(folder: Path, notify: Callable[[str], None]) -> None:
    """Make sure ``folder`` is a folder: anything else in its place is set aside (``NAME.damaged``)."""
    if folder.is_symlink() and not folder.is_dir() or folder.exists() and not folder.is_dir():
        aside = folder.with_name(folder.name + ".damaged")
        if aside.is_dir() and not aside.is_symlink():
            import shutil

            shutil.rmtree(aside, ignore_errors=True)
        os.replace(folder, aside)
        notify(f"warning: {folder.name} was not a folder; set aside as {aside.name}, the cache starts afresh")
    folder.mkdir(parents=True, exist_ok=True)


def remove_temporary_files(folder: Path) -> None:
    """Temporary files a killed build left in the cache folder (``.NAME.*.tmp``)."""
    with contextlib.suppress(OSError):
        for entry in os.scandir(folder):
            if entry.name.startswith(".") and entry.name.endswith(".tmp") and entry.is_file(follow_symlinks=False):
                with contextlib.suppress(OSError):
                    os.unlink(entry.path)


@contextlib.contextmanager
def site_lock(cache_folder: Path, wait: float, notify: Callable[[str], None]) -> Iterator[None]:
    """Hold the build lock of the site whose cache is ``cache_folder`` (already a folder)."""
    path = cache_folder / LOCK_NAME
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    try:
        if not _try_lock(fd):
            holder = _holder(fd)
            if wait <= 0:
                raise ConfigError(f"error: another build of this site is running{holder}; try again when it ends")
            notify(f"waiting for another build of this site to finish{holder}…")
            deadline = time.monotonic() + wait
            delay = 0.02
            while not _try_lock(fd):
                if time.monotonic() >= deadline:
                    raise ConfigError(f"error: another build of this site is still running{holder} after"
                                      f" {wait:g} s of waiting; stop it or try again later")
                time.sleep(delay)
                delay = min(delay * 2, 0.5)
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode("ascii"), 0)
        yield
    finally:
        os.close(fd)  # releases the lock


def _try_lock(fd: int) -> bool:
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except BlockingIOError:
        return False


def _holder(fd: int) -> str:
    try:
        pid = int(os.pread(fd, 32, 0).decode("ascii").strip())
    except (OSError, ValueError):
        return ""
    return f" (process {pid})"
