"""Watch what a build reads: ``content/``, ``widgets/``, ``themes/``, ``static/``, ``data/`` (the
files figure code reads at build time) and ``labpress.toml``.

Two watchfiles watchers run in background threads: one recursive over the
folders that exist, one on the site folder itself (not recursive) that sees
``labpress.toml`` change, even when an editor replaces it, and sees a watched
folder appear or vanish, which restarts the recursive one. Neither descends
into the rest of the site folder (``node_modules/``, ``.venv/``, the output).
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Callable

import watchfiles
from watchfiles import Change, DefaultFilter

CONFIG_NAME = "labpress.toml"
FOLDERS = ("content", "widgets", "themes", "static", "data")


class _Either:
    """A stop event for watchfiles that fires when either event is set."""

    def __init__(self, *events: threading.Event):
        self.events = events

    def is_set(self) -> bool:
        return any(event.is_set() for event in self.events)


class SiteWatcher:
    """Calls ``on_change(paths)`` from a background thread with each batch of changed paths."""

    def __init__(self, site_dir: Path, on_change: Callable[[set[Path]], None], ignore: tuple[Path, ...] = (),
                 on_error: Callable[[str], None] | None = None):
        self.site_dir = site_dir.resolve()
        self.on_change = on_change
        self.on_error = on_error
        self.ignore = tuple(p.resolve() for p in ignore)
        self._stop = threading.Event()
        self._restart = threading.Event()
        self._threads: list[threading.Thread] = []
        self._ready = {"folders": threading.Event(), "site": threading.Event()}
        self._filter = DefaultFilter()

    @property
    def watched(self) -> list[str]:
        """What is watched now, as an author would name it (a folder made later is watched too)."""
        return [f"{name}/" for name in FOLDERS if (self.site_dir / name).is_dir()] + [CONFIG_NAME]

    def start(self, timeout: float = 10.0) -> None:
        """Start watching; returns once both watchers are in place, so no change after it is missed."""
        for target, name in ((self._watch_folders, "labpress-watch-folders"), (self._watch_top, "labpress-watch-site")):
            thread = threading.Thread(target=target, name=name, daemon=True)
            thread.start()
            self._threads.append(thread)
        deadline = time.monotonic() + timeout
        for ready in self._ready.values():
            ready.wait(max(0.0, deadline - time.monotonic()))

    def close(self, timeout: float = 5.0) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout)
        self._threads.clear()

    # ------------------------------------------------------------------ filters

    def _wanted(self, change: Change, path: str) -> bool:
        resolved = Path(path)
        if any(resolved == ignored or ignored in resolved.parents for ignored in self.ignore):
            return False
        return self._filter(change, path)

    def _top_level(self, change: Change, path: str) -> bool:
        name = Path(path).name
        if name == CONFIG_NAME:
            return True
        # A watched folder appearing or going away; edits inside are the other watcher's.
        return name in FOLDERS and change in (Change.added, Change.deleted)

    # ------------------------------------------------------------------ loops

    def _watch(self, *paths: Path, ready: threading.Event, **options):
        """watchfiles.watch, setting ``ready`` at its first answer: a timeout (every quarter second
        without changes) or changes; either way its watches are in place by then."""
        for changes in watchfiles.watch(*paths, yield_on_timeout=True, rust_timeout=250, raise_interrupt=False,
                                        ignore_permission_denied=True, **options):
            ready.set()
            if changes:
                yield changes

    def _emit(self, changes: set[tuple[Change, str]]) -> None:
        paths = {Path(path) for _, path in changes}
        if paths:
            self.on_change(paths)

    def _watch_folders(self) -> None:
        while not self._stop.is_set():
            self._restart.clear()
            roots = [self.site_dir / name for name in FOLDERS if (self.site_dir / name).is_dir()]
            if not roots:  # nothing to watch until a folder appears
                self._ready["folders"].set()
                while not (self._stop.is_set() or self._restart.is_set()):
                    self._stop.wait(0.1)
                continue
            try:
                for changes in self._watch(*roots, ready=self._ready["folders"], watch_filter=self._wanted,
                                           stop_event=_Either(self._stop, self._restart)):
                    self._emit(changes)
            except Exception as exc:  # a root vanished under the watcher, say: start again
                if self.on_error and not self._stop.is_set():
                    self.on_error(f"watcher: {exc}; watching again")
                self._stop.wait(0.5)

    def _watch_top(self) -> None:
        while not self._stop.is_set():
            try:
                for changes in self._watch(self.site_dir, ready=self._ready["site"], watch_filter=self._top_level,
                                           stop_event=self._stop, recursive=False):
                    if any(Path(path).name in FOLDERS for _, path in changes):
                        self._restart.set()
                    self._emit(changes)
            except Exception as exc:
                if self.on_error and not self._stop.is_set():
                    self.on_error(f"watcher: {exc}; watching again")
                self._stop.wait(0.5)
