"""`make bench`: build-side benchmarks of LabPress on a synthetic notebook.

Writes bench/report.md and bench/results.json. Every figure is measured in the
same run on the same machine; targets come from the benchmark issue.
Not measured yet (next steps): Pelican and Hugo on the same posts, and the
reader side (bytes, first paint, widget latency) in headless Chromium.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from corpus import make_corpus  # noqa: E402

SUMMARY = re.compile(r"Built (\d+) pages .* (\d+) formulas typeset, (\d+) from cache")
TARGETS = {"no_change": 1.0, "one_edit": 0.3}  # seconds, for 1000 posts


def timed_build(site: Path, *extra: str) -> dict:
    """One `labpress build` in its own process: wall time, peak memory, and its summary line."""
    started = time.perf_counter()
    process = subprocess.Popen([sys.executable, "-m", "labpress", "build", str(site), *extra],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    out, err = process.stdout.read(), process.stderr.read()
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise SystemExit(f"build failed:\n{err}")
    pages, typeset, cached = (int(x) for x in SUMMARY.search(out).groups())
    return {"seconds": seconds, "peak_mb": usage.ru_maxrss / 1024, "pages": pages, "typeset": typeset, "cached": cached}


def median_of(runs: list[dict]) -> dict:
    middle = sorted(runs, key=lambda r: r["seconds"])[len(runs) // 2]
    return {**middle, "seconds": statistics.median(r["seconds"] for r in runs),
            "peak_mb": max(r["peak_mb"] for r in runs), "runs": [round(r["seconds"], 4) for r in runs]}


def bench_size(posts: int, runs: int, work: Path) -> dict:
    site = make_corpus(work / f"site-{posts}", posts)
    cache = site / ".labpress-cache"
    clean = []
    for _ in range(runs):
        shutil.rmtree(cache, ignore_errors=True)
        clean.append(timed_build(site))
    warm_math = []
    for _ in range(runs):  # posts render again, formulas come from the KaTeX cache
        for kind in ("posts", "pages"):
            shutil.rmtree(cache / kind, ignore_errors=True)
        warm_math.append(timed_build(site))
    timed_build(site)
    no_change = [timed_build(site) for _ in range(runs)]
    edited = site / "content" / "exp-00001.md"
    one_edit = []
    for i in range(runs):
        edited.write_text(edited.read_text() + f"\nOne more sentence, edit {i}.\n")
        one_edit.append(timed_build(site))
    result = {"posts": posts, "clean": median_of(clean), "math_warm": median_of(warm_math),
              "no_change": median_of(no_change), "one_edit": median_of(one_edit)}
    for case in ("clean", "math_warm", "no_change", "one_edit"):
        result[case]["pages_per_second"] = result[case]["pages"] / result[case]["seconds"]
    cold = result["clean"]
    result["formulas"] = {
        "typeset_cold": cold["typeset"], "repeats_in_one_build": cold["cached"],
        "cache_hit_rate": cold["cached"] / max(1, cold["typeset"] + cold["cached"]),
    }
    return result


def report(results: list[dict], quick: bool) -> str:
    lines = ["# LabPress benchmarks", "",
             f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}."
             f" Mode: {'quick' if quick else 'full'}. Times are medians of the runs listed in results.json.", "",
             "## Build side", "",
             "| posts | case | wall time (s) | pages/s | peak memory (MB) | target |",
             "|---|---|---|---|---|---|"]
    for r in results:
        for case, label in (("clean", "clean build"), ("math_warm", "all posts re-rendered, formulas cached"),
                            ("no_change", "no-change rebuild"), ("one_edit", "one post edited")):
            c = r[case]
            target = ""
            if case in TARGETS and r["posts"] >= 1000:
                verdict = "met" if c["seconds"] < TARGETS[case] else f"missed by {c['seconds'] - TARGETS[case]:.2f} s"
                target = f"< {TARGETS[case]} s: {verdict}"
            lines.append(f"| {r['posts']} | {label} | {c['seconds']:.3f} | {c['pages_per_second']:.0f} | {c['peak_mb']:.0f} | {target} |")
    lines += ["", "## Maths", "", "| posts | formulas typeset (cold) | repeats served by the cache in one build | hit rate |",
              "|---|---|---|---|"]
    for r in results:
        f = r["formulas"]
        lines.append(f"| {r['posts']} | {f['typeset_cold']} | {f['repeats_in_one_build']} | {f['cache_hit_rate']:.1%} |")
    lines += ["", "## Not measured yet", "",
              "- Pelican and Hugo on the same posts (the comparison the issue asks for).",
              "- The reader side: bytes transferred, first paint, longest task, widget input-to-frame latency.",
              "- Builds run on one core; the issue asks for both.", ""]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="100 posts, 3 runs")
    parser.add_argument("--posts", type=int, nargs="*", help="corpus sizes (default 100 1000)")
    parser.add_argument("--runs", type=int, help="runs per case (default 5, quick 3)")
    parser.add_argument("--out", type=Path, default=HERE, help="where report.md and results.json go")
    args = parser.parse_args()
    sizes = args.posts or ([100] if args.quick else [100, 1000])
    runs = args.runs or (3 if args.quick else 5)
    with tempfile.TemporaryDirectory(prefix="labpress-bench-") as work:
        results = [bench_size(n, runs, Path(work)) for n in sizes]
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "results.json").write_text(json.dumps({"quick": args.quick, "results": results}, indent=2) + "\n")
    (args.out / "report.md").write_text(report(results, args.quick))
    print(f"wrote {args.out / 'report.md'} and {args.out / 'results.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
