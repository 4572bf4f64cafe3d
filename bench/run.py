"""`make bench`: LabPress measured the way its users feel it, beside Pelican and Hugo.

Build side: a synthetic notebook (bench/corpus.py) of N posts is built by
LabPress, and the same posts by Pelican and Hugo (bench/others.py): clean
build, no-change rebuild and one-post edit, each the median of several runs,
with pages per second and peak memory. LabPress is also timed inside one
long-running process, as `labpress serve` rebuilds after an edit. Maths:
formulas per second cold and warm, and the cache's hit rate. Search: the time
the Pagefind index adds to a build, and its size (bench/search.py).

Reader side (bench/reader.py): the demo site in headless Chromium: bytes,
first paint, long tasks, widget latency.

Writes bench/report.md and bench/results.json. Every figure is measured in the
same run on the same machine, so ratios compare across machines. Where a target
is missed, the report carries the profile that says where the time goes.
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
REPO = HERE.parent
sys.path.insert(0, str(HERE))
from corpus import make_corpus  # noqa: E402
from others import hugo_command, hugo_site, pelican_command, pelican_site  # noqa: E402

SUMMARY = re.compile(r"Built (\d+) pages .* (\d+) formulas typeset, (\d+) from cache")
# Targets from the benchmark issue (seconds, for 1000 posts).
NO_CHANGE_TARGET = 1.0
ONE_EDIT_TARGET = 0.3
EDITED = "exp-00001.md"
TOOLS = ("pelican", "hugo")


# --- running and timing --------------------------------------------------------

def _environment() -> dict:
    """PATH with this interpreter's scripts first, so `pelican` is the one installed beside LabPress."""
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    return env


def timed(command: list[str], cwd: Path | None = None) -> dict:
    """Run ``command``: wall time and its output."""
    started = time.perf_counter()
    process = subprocess.Popen(command, cwd=cwd, env=_environment(), stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    out, err = process.communicate()
    seconds = time.perf_counter() - started
    if process.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed ({process.returncode}):\n{err[-3000:]}")
    return {"seconds": seconds, "stdout": out}


def run_case(command: list[str], runs: int, before=None, cwd: Path | None = None) -> dict:
    """``runs`` timed runs of ``command`` (``before(i)`` prepares each); the median and every run."""
    times, outputs = [], []
    for i in range(runs):
        if before:
            before(i)
        result = timed(command, cwd)
        times.append(result["seconds"])
        outputs.append(result["stdout"])
    return {"seconds": statistics.median(times), "runs": [round(t, 4) for t in times], "stdout": outputs[-1]}


def append_sentence(path: Path, i: int) -> None:
    path.write_text(path.read_text(encoding="utf-8") + f"\nOne more sentence, edit {i}.\n", encoding="utf-8")


def count_pages(folder: Path) -> int:
    return sum(1 for _ in folder.rglob("*.html"))


def measure_peak(command: list[str]) -> float:
    """Peak memory (MB) of the largest process one run of ``command`` starts, measured in a fresh child."""
    probe = ("import resource, subprocess, sys; subprocess.run(sys.argv[1:], check=True, capture_output=True); "
             "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")
    out = subprocess.run([sys.executable, "-c", probe, *command], env=_environment(), capture_output=True,
                         text=True, check=True).stdout
    return int(out.split()[-1]) / 1024


# --- LabPress ------------------------------------------------------------------

def labpress_command(site: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "labpress", "build", str(site), *extra]


def bench_labpress(site: Path, runs: int) -> dict:
    cache = site / ".labpress-cache"
    edited = site / "content" / EDITED

    def clean(_i):
        shutil.rmtree(cache, ignore_errors=True)
        shutil.rmtree(site / "build", ignore_errors=True)

    def posts_only(_i):  # every post renders again; the KaTeX cache stays
        for entry in list(cache.glob("*")):
            if entry.name != "katex.sqlite":
                shutil.rmtree(entry) if entry.is_dir() else entry.unlink()
        shutil.rmtree(site / "build", ignore_errors=True)

    cases = {"startup": run_case([sys.executable, "-m", "labpress", "--version"], runs),
             "clean": run_case(labpress_command(site), runs, clean),
             "math_warm": run_case(labpress_command(site), runs, posts_only)}
    subprocess.run(labpress_command(site), check=True, capture_output=True, env=_environment())
    cases["no_change"] = run_case(labpress_command(site), runs)
    cases["one_edit"] = run_case(labpress_command(site), runs, lambda i: append_sentence(edited, i))
    cases["startup"].pop("stdout")
    for name, case in cases.items():
        if name == "startup":
            continue
        pages, typeset, cached = (int(x) for x in SUMMARY.search(case.pop("stdout")).groups())
        case.update(pages=pages, typeset=typeset, cached=cached, pages_per_second=pages / case["seconds"])
    clean(0)
    cases["clean"]["peak_mb"] = measure_peak(labpress_command(site))
    cases["no_change"]["peak_mb"] = measure_peak(labpress_command(site))
    # Inside one process, as `labpress serve` rebuilds: modules loaded and templates compiled once.
    warm = json.loads(subprocess.run([sys.executable, str(HERE / "warm.py"), str(site), str(runs), str(edited)],
                                     check=True, capture_output=True, text=True, env=_environment()).stdout)
    for case, measured in warm.items():
        seconds = statistics.median(m["seconds"] for m in measured)
        cases[f"{case}_serve"] = {"seconds": seconds, "runs": [round(m["seconds"], 4) for m in measured],
                                  "pages": measured[0]["pages"], "pages_per_second": measured[0]["pages"] / seconds,
                                  "rendered_posts": measured[-1]["rendered_posts"],
                                  "rendered_pages": measured[-1]["rendered_pages"]}
    return cases


def bench_maths(site: Path) -> dict:
    """Formulas per second through KaTeX, cold (nothing cached) and warm (all cached), on the corpus's formulas."""
    from labpress.theme.lookup import find_node_package
    from labpress.math.katex import KatexRenderer

    display = re.compile(r"^\$\$\n(.*?)\n\$\$$", re.M | re.S)
    inline = re.compile(r"(?<![$\\])\$([^$\n]+)\$")
    occurrences = []
    for post in sorted((site / "content").glob("*.md")):
        text = post.read_text(encoding="utf-8")
        occurrences += [(tex, True) for tex in display.findall(text)]
        occurrences += [(tex, False) for tex in inline.findall(display.sub("", text))]
    katex = KatexRenderer(find_node_package("katex", REPO), {}, None)
    distinct = sorted(set(occurrences))
    started = time.perf_counter()
    for tex, is_display in distinct:
        katex.render(tex, is_display)
    cold = time.perf_counter() - started
    started = time.perf_counter()
    for tex, is_display in occurrences:
        katex.render(tex, is_display)
    warm = time.perf_counter() - started
    return {"occurrences": len(occurrences), "distinct": len(distinct),
            "cold_per_second": len(distinct) / cold, "warm_per_second": len(occurrences) / warm,
            "repeat_share": 1 - len(distinct) / max(1, len(occurrences))}


def bench_search(site: Path, runs: int) -> dict:
    """What the search index adds to builds in one process (bench/search.py): after an edit (the whole
    index made again, while the pages render) and with no change (kept); its size in the output."""
    return json.loads(subprocess.run([sys.executable, str(HERE / "search.py"), str(site), str(runs),
                                      str(site / "content" / EDITED)],
                                     check=True, capture_output=True, text=True, env=_environment()).stdout)


# --- Pelican and Hugo -----------------------------------------------------------

def bench_tool(tool: str, site: Path, work: Path, runs: int) -> dict:
    if tool == "pelican":
        project = pelican_site(site, work / f"pelican-{site.name}")
        command, output, caches = pelican_command(project), project / "output", [project / "cache"]
        edited = project / "content" / EDITED
    else:
        project = hugo_site(site, work / f"hugo-{site.name}")
        command, output, caches = hugo_command(project), project / "public", [project / "resources"]
        edited = project / "content" / "posts" / EDITED

    def clean(_i):
        for folder in (output, *caches):
            shutil.rmtree(folder, ignore_errors=True)

    cases = {"clean": run_case(command, runs, clean)}
    subprocess.run(command, check=True, capture_output=True, env=_environment())
    cases["no_change"] = run_case(command, runs)
    cases["one_edit"] = run_case(command, runs, lambda i: append_sentence(edited, i))
    pages = count_pages(output)
    for case in cases.values():
        case.pop("stdout")
        case.update(pages=pages, pages_per_second=pages / case["seconds"])
    clean(0)
    cases["clean"]["peak_mb"] = measure_peak(command)
    cases["no_change"]["peak_mb"] = measure_peak(command)
    return cases


# --- profiles -------------------------------------------------------------------

def profile(site: Path, prepare, *extra: str, lines: int = 45) -> str:
    """pyinstrument's call tree of one `labpress build` (the main process), trimmed to its top."""
    prepare()
    out = site.parent / f"profile-{site.name}.txt"
    subprocess.run([sys.executable, "-m", "pyinstrument", "--no-color", "-o", str(out), "-m", "labpress", "build",
                    str(site), "--quiet", *extra], check=True, capture_output=True, env=_environment())
    text = [line.rstrip() for line in out.read_text(encoding="utf-8").splitlines()
            if line.strip() and not line.lstrip().startswith(("_", "/", "Recorded", "Program"))]
    return "\n".join(text[:lines])


# --- everything -----------------------------------------------------------------

def bench_size(posts: int, runs: int, work: Path, others: bool) -> dict:
    site = make_corpus(work / f"site-{posts}", posts)
    result = {"posts": posts, "labpress": bench_labpress(site, runs), "maths": bench_maths(site),
              "search": bench_search(site, runs)}
    clean = result["labpress"]["clean"]
    result["maths"]["clean_build_hit_rate"] = clean["cached"] / max(1, clean["typeset"] + clean["cached"])
    if others:
        result.update({tool: bench_tool(tool, site, work, runs) for tool in TOOLS})
    result["profiles"] = profiles_for(result, site)
    return result


def profiles_for(result: dict, site: Path) -> dict:
    """Profiles of the cases that miss a target (the clean build is profiled on one process: -j 1)."""
    found = {}
    labpress = result["labpress"]
    cache = site / ".labpress-cache"
    if "pelican" in result and labpress["clean"]["seconds"] >= result["pelican"]["clean"]["seconds"]:
        found["clean"] = profile(site, lambda: (shutil.rmtree(cache, ignore_errors=True),
                                                shutil.rmtree(site / "build", ignore_errors=True)), "-j", "1")
    if result["posts"] >= 1000 or labpress["one_edit"]["seconds"] >= ONE_EDIT_TARGET:
        found["one_edit"] = profile(site, lambda: append_sentence(site / "content" / EDITED, 99))
    if labpress["no_change"]["seconds"] >= NO_CHANGE_TARGET:
        found["no_change"] = profile(site, lambda: None)
    return found


def versions() -> dict:
    import importlib.metadata as metadata

    found = {"python": platform.python_version()}
    for package in ("labpress", "pelican", "hugo", "markdown", "playwright"):
        try:
            found[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            found[package] = None
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="100 posts, 3 runs, a shorter reader run")
    parser.add_argument("--posts", type=int, nargs="*", help="corpus sizes (default 100 1000; quick: 100)")
    parser.add_argument("--runs", type=int, help="runs per case (default 5, quick 3)")
    parser.add_argument("--no-others", action="store_true", help="leave out Pelican and Hugo")
    parser.add_argument("--no-reader", action="store_true", help="leave out the reader side (Chromium)")
    parser.add_argument("--out", type=Path, default=HERE, help="where report.md and results.json go")
    args = parser.parse_args()
    sizes = args.posts or ([100] if args.quick else [100, 1000])
    runs = args.runs or (3 if args.quick else 5)
    started = time.perf_counter()
    results: dict = {"quick": args.quick, "runs": runs, "machine": machine(), "versions": versions()}
    with tempfile.TemporaryDirectory(prefix="labpress-bench-") as work:
        results["build"] = []
        for n in sizes:
            print(f"build side: {n} posts", flush=True)
            results["build"].append(bench_size(n, runs, Path(work), others=not args.no_others))
        if not args.no_reader:
            print("reader side: the demo site in Chromium", flush=True)
            results["reader"] = reader_side(Path(work), args.quick)
    results["seconds"] = time.perf_counter() - started
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    from report import render

    (args.out / "report.md").write_text(render(results))
    print(f"wrote {args.out / 'report.md'} and {args.out / 'results.json'} in {results['seconds']:.0f} s")
    return 0


def reader_side(work: Path, quick: bool) -> dict:
    import reader

    built = work / "demo"
    subprocess.run([sys.executable, "-m", "labpress", "build", str(REPO), "--out", str(built), "--quiet"],
                   check=True, env=_environment())
    try:
        return reader.measure(built, "regularisation-four-knobs/", quick=quick)
    except reader.BrowserUnavailable as exc:  # the build side still stands on its own
        print(f"reader side not measured: {exc}", file=sys.stderr)
        return {"unavailable": str(exc)}


def machine() -> dict:
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return {"arch": platform.machine(), "cores": cores, "system": platform.system(), "cpu": _cpu_name()}


def _cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


if __name__ == "__main__":
    sys.exit(main())
