"""The search index (generator/search/): what it adds to a build, and its size.

Usage: python bench/search.py SITE_DIR RUNS EDITED_POST. In one process (as bench/warm.py), after a
first build: RUNS rebuilds after appending a sentence to EDITED_POST (any changed post makes the
whole index again) and RUNS no-change rebuilds (the index is kept), then the same two with the index
left out (only the search script written), so the difference of the medians is what the index adds
to those builds. Within the builds with the index: the seconds of Pagefind's run (in its thread,
while the pages render), of making copies, and of waiting for Pagefind before publishing; and once,
the copies of every post made afresh (as in a clean build). Then the index's files in the output:
their number and bytes, and the bytes of Pagefind's client (what the first search fetches before any
chunk of the index). Prints JSON.
"""

from __future__ import annotations

import json
import shutil
import statistics
import sys
import time
from pathlib import Path

import labpress.search.index as search
from labpress.site.pipeline import CACHE_DIR, build_site
from labpress.theme.lookup import fingerprint

CLIENT_PREFIXES = ("pagefind.js", "pagefind-worker.js", "pagefind-entry.json", "wasm.", "pagefind.")
SPENT: dict = {}


def timed(name: str, function):
    def wrapper(*args, **kwargs):
        started = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            SPENT[name] = SPENT.get(name, 0.0) + time.perf_counter() - started
    return wrapper


def without_index(site, config, tree, labels, cache_dir=None, **_options):
    """The search step with no index: the script only (whatever else the build passes write_search)."""
    script = search.SCRIPT.read_bytes()
    path = f"assets/search.{fingerprint(script)}.js"
    tree.write(path, script)
    return search.SearchAssets(path)


def build(site: Path) -> dict:
    SPENT.clear()
    started = time.perf_counter()
    build_site(site)
    return {"seconds": time.perf_counter() - started, **{k: SPENT.get(k, 0.0) for k in ("pagefind", "copies", "wait")}}


def edit(path: Path, i: int) -> None:
    path.write_text(path.read_text(encoding="utf-8") + f"\nA sentence for the search index, edit {i}.\n",
                    encoding="utf-8")


def sizes(out: Path) -> dict:
    folder = out / search.INDEX_DIR
    files = [p for p in folder.rglob("*") if p.is_file()]
    client = [p for p in files if p.parent == folder and p.name.startswith(CLIENT_PREFIXES)]
    return {"files": len(files), "bytes": sum(p.stat().st_size for p in files),
            "client_bytes": sum(p.stat().st_size for p in client),
            "fragments": sum(1 for p in files if p.parent.name == "fragment"),
            "script_bytes": search.SCRIPT.stat().st_size}


def median(runs: list[dict], key: str) -> float:
    return statistics.median(run[key] for run in runs)


def main() -> int:
    site, runs, edited = Path(sys.argv[1]), int(sys.argv[2]), Path(sys.argv[3])
    search.run_pagefind = timed("pagefind", search.run_pagefind)
    search.update_copies = timed("copies", search.update_copies)
    search.SearchAssets.finish = timed("wait", search.SearchAssets.finish)
    build_site(site)
    one_edit, no_change = [], []
    for i in range(runs):
        edit(edited, i)
        one_edit.append(build(site))
    no_change = [build(site) for _ in range(runs)]
    index = sizes(site / "build")
    edit(edited, runs)
    shutil.rmtree(site / CACHE_DIR / search.PAGES_DIR)
    every_copy = build(site)["copies"]

    real = search.write_search
    search.write_search = without_index
    bare_edit = []
    for i in range(runs):
        edit(edited, runs + 1 + i)
        bare_edit.append(build(site))
    bare_no_change = [build(site) for _ in range(runs)]
    search.write_search = real
    build_site(site)  # the site as it was, index included

    result = {"index": index, "copies_all_posts": every_copy}
    for name, measured, bare in (("one_edit", one_edit, bare_edit), ("no_change", no_change, bare_no_change)):
        result[name] = {"seconds": median(measured, "seconds"), "without_index": median(bare, "seconds"),
                        "adds": median(measured, "seconds") - median(bare, "seconds"),
                        **{key: median(measured, key) for key in ("pagefind", "copies", "wait")},
                        "runs": [round(run["seconds"], 4) for run in measured],
                        "runs_without_index": [round(run["seconds"], 4) for run in bare]}
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
