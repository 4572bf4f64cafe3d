"""Rebuilds inside one long-running process, as `labpress serve` does them after an edit.

Usage: python bench/warm.py SITE_DIR RUNS EDITED_POST [PROFILE]. Builds once to warm up
(modules loaded, templates compiled), then times RUNS no-change rebuilds and
RUNS rebuilds after appending a sentence to EDITED_POST. Prints JSON. With
PROFILE, one more edit is then rebuilt under pyinstrument, its session saved
there (bench/run.py reports it if the one-post edit misses its target).
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from labpress.site.pipeline import build_site


def timed(site: Path) -> dict:
    started = time.perf_counter()
    result = build_site(site)
    return {"seconds": time.perf_counter() - started, "pages": result.pages,
            "rendered_posts": len(result.rendered_posts), "rendered_pages": len(result.rendered_pages)}


def edit(path: Path, i: int) -> None:
    path.write_text(path.read_text(encoding="utf-8") + f"\nA sentence added while serving, edit {i}.\n",
                    encoding="utf-8")


def main() -> int:
    site, runs, edited = Path(sys.argv[1]), int(sys.argv[2]), Path(sys.argv[3])
    build_site(site)
    no_change = [timed(site) for _ in range(runs)]
    one_edit = []
    for i in range(runs):
        edit(edited, i)
        one_edit.append(timed(site))
    if len(sys.argv) > 4:
        from pyinstrument import Profiler

        edit(edited, runs)
        profiler = Profiler()
        profiler.start()
        build_site(site)
        profiler.stop().save(sys.argv[4])
    print(json.dumps({"no_change": no_change, "one_edit": one_edit}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
