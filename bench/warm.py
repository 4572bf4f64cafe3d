"""Rebuilds inside one long-running process, as `labpress serve` does them after an edit.

Usage: python bench/warm.py SITE_DIR RUNS EDITED_POST [PROFILE]. Builds once to warm up
(modules loaded, templates compiled), then times RUNS no-change rebuilds and
RUNS rebuilds after appending a sentence to EDITED_POST. Prints JSON. With
PROFILE, one more edit is then rebuilt under pyinstrument, its session saved
there (bench/run.py reports it if the one-post edit misses its target).

Each build keeps what it made in a BuildMemory, as the server's session does
(generator/devserver/session.py). A build's time is from the start of the build
to its pages published, which is when the server tells open pages to reload;
what the build leaves for after that (cache files, manifest, the search index
that Pagefind makes in a thread, the stamp) is then done, outside the timing,
and waited for before the next build, as if the author paused between edits.
Its time is reported beside the build's as ``after_seconds``.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from pathlib import Path

from labpress.site.memory import BuildMemory
from labpress.site.pipeline import build_site, finish, finish_search

SEARCH_WAIT_SECONDS = 600  # Pagefind on 1000 posts takes seconds; a build that never finishes is a failure


def settle(memory: BuildMemory, site: Path, done: threading.Event) -> None:
    """What the server does after a build: the caches, manifest and stamp written, the index published."""
    finish(memory, site)
    while memory.pending is not None and memory.pending.search is not None:
        if not done.wait(SEARCH_WAIT_SECONDS):
            raise RuntimeError(f"the search index was not done within {SEARCH_WAIT_SECONDS} s")
        done.clear()
        finish_search(memory, site)


def timed(site: Path, memory: BuildMemory, done: threading.Event) -> dict:
    started = time.perf_counter()
    result = build_site(site, memory=memory)
    published = time.perf_counter()
    settle(memory, site, done)
    return {"seconds": published - started, "after_seconds": time.perf_counter() - published,
            "pages": result.pages, "rendered_posts": len(result.rendered_posts),
            "rendered_pages": len(result.rendered_pages)}


def edit(path: Path, i: int) -> None:
    path.write_text(path.read_text(encoding="utf-8") + f"\nA sentence added while serving, edit {i}.\n",
                    encoding="utf-8")


def main() -> int:
    site, runs, edited = Path(sys.argv[1]), int(sys.argv[2]), Path(sys.argv[3])
    memory, done = BuildMemory(), threading.Event()
    memory.on_search_done = done.set
    timed(site, memory, done)  # the server's first build
    no_change = [timed(site, memory, done) for _ in range(runs)]
    one_edit = []
    for i in range(runs):
        edit(edited, i)
        one_edit.append(timed(site, memory, done))
    if len(sys.argv) > 4:
        from pyinstrument import Profiler

        edit(edited, runs)
        profiler = Profiler()
        profiler.start()
        build_site(site, memory=memory)
        profiler.stop().save(sys.argv[4])
        settle(memory, site, done)
    print(json.dumps({"no_change": no_change, "one_edit": one_edit}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
