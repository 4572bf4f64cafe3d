"""`make bench`: LabPress measured the way its users feel it, beside Hugo and Pelican.

Build side: a synthetic notebook (bench/corpus.py) of N posts is built by
LabPress, and the same posts by Hugo with `transform.ToMath` (the like-for-like
peer: it typesets every formula at build time), Hugo with the maths left as raw
TeX (the floor) and Pelican (bench/others.py): clean build, clean build with the
formula cache warm, no-change rebuild and one-post edit, each the median of
several runs, with pages per second and peak memory. LabPress is also timed
inside one long-running process, as `labpress serve` rebuilds after an edit.
Maths: formulas per second cold and warm, and the cache's hit rate. Search: the
time the Pagefind index adds to a build, and its size (bench/search.py).

Reader side (bench/reader.py): the demo site in headless Chromium: bytes,
first paint, long tasks, widget latency.

Writes bench/report.md and bench/results.json. Every figure is measured in the
same run on the same machine, so ratios compare across machines. Where a target
is missed, the report carries the profile that says where the time goes.
"""

from __future__ import annotations

import argparse
import html
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
from others import MATH_ERROR, hugo_command, hugo_site, pelican_command, pelican_site  # noqa: E402
from report import PEERS, missed_targets  # noqa: E402

SUMMARY = re.compile(r"Built (\d+) pages .* (\d+) formulas typeset, (\d+) from cache")
DISPLAY_MATH = re.compile(r"^\$\$\n(.*?)\n\$\$$", re.M | re.S)
INLINE_MATH = re.compile(r"(?<![$\\])\$([^$\n]+)\$")
ANNOTATION = re.compile(r'<annotation encoding="application/x-tex">(.*?)</annotation>', re.S)  # KaTeX's MathML
EDITED = "exp-00001.md"


# --- running and timing --------------------------------------------------------

def _environment() -> dict:
    """PATH with this interpreter's scripts first, so `pelican` is the one installed beside LabPress."""
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    return env


def timed(command: list[str], cwd: Path | None = None) -> dict:
    """Run ``command``: wall time, its output and its peak memory (MB), that of the largest process it
    started (itself or a worker it waited for: ``wait4``'s ``ru_maxrss``)."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        started = time.perf_counter()
        process = subprocess.Popen(command, cwd=cwd, env=_environment(), stdout=out, stderr=err, text=True)
        _pid, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        if process.returncode != 0:
            raise SystemExit(f"{' '.join(command)} failed ({process.returncode}):\n{err.read()[-3000:]}")
        return {"seconds": seconds, "stdout": out.read(), "peak_mb": usage.ru_maxrss / 1024}


def run_case(command: list[str], runs: int, before=None, cwd: Path | None = None) -> dict:
    """``runs`` timed runs of ``command`` (``before(i)`` prepares each); the median, every run and the
    largest peak memory of any run."""
    times, outputs, peaks = [], [], []
    for i in range(runs):
        if before:
            before(i)
        result = timed(command, cwd)
        times.append(result["seconds"])
        outputs.append(result["stdout"])
        peaks.append(result["peak_mb"])
    return {"seconds": statistics.median(times), "runs": [round(t, 4) for t in times], "stdout": outputs[-1],
            "peak_mb": max(peaks)}


def append_sentence(path: Path, i: int) -> None:
    path.write_text(path.read_text(encoding="utf-8") + f"\nOne more sentence, edit {i}.\n", encoding="utf-8")


def count_pages(folder: Path) -> int:
    return sum(1 for _ in folder.rglob("*.html"))


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
    # Inside one process, as `labpress serve` rebuilds: modules loaded and templates compiled once.
    # After the timed runs, one more edit is profiled (its profile is reported if the target is missed).
    serve_profile = site.parent / f"profile-{site.name}-serve.pyisession"
    warm = json.loads(subprocess.run([sys.executable, str(HERE / "warm.py"), str(site), str(runs), str(edited),
                                      str(serve_profile)],
                                     check=True, capture_output=True, text=True, env=_environment()).stdout)
    cases["serve_profile"] = str(serve_profile)
    for case, measured in warm.items():
        seconds = statistics.median(m["seconds"] for m in measured)
        cases[f"{case}_serve"] = {"seconds": seconds, "runs": [round(m["seconds"], 4) for m in measured],
                                  "after_seconds": statistics.median(m["after_seconds"] for m in measured),
                                  "pages": measured[0]["pages"], "pages_per_second": measured[0]["pages"] / seconds,
                                  "rendered_posts": measured[-1]["rendered_posts"],
                                  "rendered_pages": measured[-1]["rendered_pages"]}
    return cases


def formulas(post: Path) -> list[tuple[str, bool]]:
    """The formulas of one corpus post: (TeX, displayed)."""
    text = post.read_text(encoding="utf-8")
    return ([(tex, True) for tex in DISPLAY_MATH.findall(text)]
            + [(tex, False) for tex in INLINE_MATH.findall(DISPLAY_MATH.sub("", text))])


def corpus_formulas(site: Path) -> list[tuple[str, bool]]:
    """Every formula of the corpus's posts, in order: (TeX, displayed)."""
    return [formula for post in sorted((site / "content").glob("*.md")) for formula in formulas(post)]


def bench_maths(site: Path) -> dict:
    """Formulas per second through KaTeX, cold (nothing cached) and warm (all cached), on the corpus's formulas."""
    from labpress.theme.lookup import find_node_package
    from labpress.math.katex import KatexRenderer

    occurrences = corpus_formulas(site)
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


def bench_floor(site: Path) -> dict:
    """The least CPU a clean build can take (bench/floor.py), after bench_labpress left the copies of
    the posts that Pagefind reads in the site's cache."""
    import floor

    return floor.measure(site, sorted(set(corpus_formulas(site))), cores())


def bench_search(site: Path, runs: int) -> dict:
    """What the search index adds to builds in one process (bench/search.py): after an edit (the whole
    index made again, while the pages render) and with no change (kept); its size in the output."""
    return json.loads(subprocess.run([sys.executable, str(HERE / "search.py"), str(site), str(runs),
                                      str(site / "content" / EDITED)],
                                     check=True, capture_output=True, text=True, env=_environment()).stdout)


# --- Hugo and Pelican -----------------------------------------------------------

def bench_tool(tool: str, site: Path, work: Path, runs: int) -> dict:
    """``tool`` (one of PEERS) on ``site``'s posts: clean builds (every cache emptied), for Hugo with
    ToMath clean builds with its formula cache warm, then no-change rebuilds and one-post edits with
    its caches as the clean build left them, as a user's would be."""
    if tool == "pelican":
        project = pelican_site(site, work / f"pelican-{site.name}")
        command, output, caches, keep = pelican_command(project), project / "output", [project / "cache"], []
        edited = project / "content" / EDITED
    else:
        project = hugo_site(site, work / f"{tool}-{site.name}", maths=tool == "hugo_math")
        # Hugo keeps what ToMath typeset in its file cache (and the WebAssembly it compiled KaTeX to):
        # a folder of the benchmark's own, emptied for each clean build, so that one typesets every formula.
        cache_dir = work / f"{tool}-{site.name}-cache"
        command, output = hugo_command(project, cache_dir), project / "public"
        caches, keep = [project / "resources"], [cache_dir]
        edited = project / "content" / "posts" / EDITED

    def outputs_only(_i):  # the formula cache stays
        for folder in (output, *caches):
            shutil.rmtree(folder, ignore_errors=True)

    def clean(i):
        outputs_only(i)
        for folder in keep:
            shutil.rmtree(folder, ignore_errors=True)

    cases = {"clean": run_case(command, runs, clean)}
    check = check_output(tool, site, output)
    if tool == "hugo_math":
        cases["math_warm"] = run_case(command, runs, outputs_only)
    subprocess.run(command, check=True, capture_output=True, env=_environment())
    cases["no_change"] = run_case(command, runs)
    cases["one_edit"] = run_case(command, runs, lambda i: append_sentence(edited, i))
    pages = count_pages(output)
    for case in cases.values():
        case.pop("stdout")
        case.update(pages=pages, pages_per_second=pages / case["seconds"])
    return {**cases, "check": check}


def check_output(tool: str, site: Path, output: Path) -> dict:
    """What a clean build of ``tool`` wrote, checked byte by byte: Hugo with ToMath must have typeset
    (a known display formula of the first post is KaTeX HTML with its MathML in that post's page, KaTeX's
    stylesheet is linked and there, and nearly every formula of the corpus is typeset), and Hugo with raw
    TeX must not have; so a misconfigured peer cannot pass for a fast one. The counts go in the report."""
    if tool == "pelican":
        return {}
    posts = sorted((site / "content").glob("*.md"))
    expected = sum(len(formulas(post)) for post in posts)
    typeset = errors = 0
    for post in posts:
        page = (output / post.stem / "index.html").read_text(encoding="utf-8")
        typeset += len(ANNOTATION.findall(page))
        errors += page.count(MATH_ERROR)
    first = (output / posts[0].stem / "index.html").read_text(encoding="utf-8")
    known = next((tex for tex, display in formulas(posts[0]) if display), formulas(posts[0])[0][0])
    found = {"formulas": expected, "typeset": typeset, "fallbacks": errors, "known_formula": known}
    if tool == "hugo":
        if typeset or 'class="katex' in first:
            raise SystemExit(f"Hugo with raw TeX typeset formulas ({typeset}): it is meant to be the floor")
        return found
    problems = []
    annotations = [tex.strip() for tex in ANNOTATION.findall(first)]  # Hugo keeps a display formula's newlines
    if html.escape(known) not in annotations:
        problems.append(f"the formula {known!r} of {posts[0].name} is not KaTeX's MathML in its page")
    if 'class="katex-display"' not in first or '<span class="katex-html"' not in first:
        problems.append(f"the page of {posts[0].name} has no KaTeX HTML")
    if 'href="/katex/katex.min.css"' not in first or not (output / "katex" / "katex.min.css").is_file():
        problems.append("KaTeX's stylesheet is not linked and copied")
    if typeset < 0.95 * expected:
        problems.append(f"only {typeset} of the corpus's {expected} formulas were typeset ({errors} fell back to TeX)")
    if problems:
        raise SystemExit("Hugo with transform.ToMath did not typeset as configured: " + "; ".join(problems))
    return found


# --- profiles -------------------------------------------------------------------

# Where a profile's time goes: each sample is put in the group of the innermost frame on its stack that
# one of these names (LabPress's own modules by their path in the package, libraries by theirs); a
# module being imported keeps everything below it in "loading modules".
IMPORTS = "loading modules"
GROUPS = (
    ("math/", "maths (KaTeX and its cache)"), ("markdown/math.py", "maths (KaTeX and its cache)"),
    ("/quickjs", "maths (KaTeX and its cache)"),
    ("search/", "search index (Pagefind)"),
    ("cache/", "build cache (reads, writes, digests)"),
    ("markdown/highlight.py", "code highlighting"), ("/pygments/", "code highlighting"),
    ("markdown/", "Markdown"), ("/markdown_it/", "Markdown"), ("/mdit_py_plugins/", "Markdown"),
    ("site/pages.py", "page templates (Jinja2)"), ("theme/", "page templates (Jinja2)"),
    ("/jinja2/", "page templates (Jinja2)"), ("/markupsafe/", "page templates (Jinja2)"),
    ("site/output.py", "writing the output"), ("site/feeds.py", "feed and sitemap"),
    ("content/", "reading posts"), ("/yaml/", "reading posts"),
    ("provenance/", "provenance (git, tool versions)"),
    ("widgets/", "widgets and figures"), ("kernel/", "widgets and figures"), ("figures/", "widgets and figures"),
    ("compute/", "widgets and figures"),
    ("site/workers.py", "render workers"), ("/concurrent/", "render workers"), ("/multiprocessing/", "render workers"),
    ("site/locking.py", "build lock"),
    ("", "the build's other steps"),  # any other LabPress module
)
SQLITE = "build cache (reads, writes, digests)"  # sqlite3's Connection and Cursor calls, wherever they are made


def _group(frame, package: str) -> str | None:
    path = frame.file_path or ""
    if path.startswith("<frozen importlib"):
        return IMPORTS
    if frame.function.startswith(("Connection.", "Cursor.")) and path == "<built-in>":
        return SQLITE
    own = path[len(package):] if path.startswith(package) else None  # a LabPress module, by its path in the package
    for key, group in GROUPS:
        if (key in path) if key.startswith("/") else (own is not None and own.startswith(key)):
            return group
    return None


def breakdown(session) -> list[dict]:
    """A pyinstrument session's time by group (GROUPS), largest first."""
    import labpress

    package = str(Path(labpress.__file__).resolve().parent) + os.sep
    totals: dict[str, float] = {}

    def walk(frame, group):
        group = group if group == IMPORTS else (_group(frame, package) or group)
        if not frame.children:
            totals[group] = totals.get(group, 0.0) + frame.time
        for child in frame.children:
            walk(child, group)

    walk(session.root_frame(), "other (interpreter, profiler)")
    total = sum(totals.values()) or 1.0
    return [{"name": name, "seconds": round(t, 4), "share": round(t / total, 4)}
            for name, t in sorted(totals.items(), key=lambda item: -item[1])]


def summarise(path: Path, lines: int = 40) -> dict:
    """A saved pyinstrument session: its length, its breakdown and its call tree trimmed to the top."""
    from pyinstrument.renderers import ConsoleRenderer
    from pyinstrument.session import Session

    session = Session.load(path)
    rendered = ConsoleRenderer(unicode=True, color=False).render(session)
    tree = [line.rstrip() for line in rendered.splitlines()
            if line.strip() and not line.lstrip().startswith(("_", "/", "Recorded", "Program", "Profile at"))]
    return {"seconds": round(session.duration, 4), "breakdown": breakdown(session), "tree": "\n".join(tree[:lines])}


def profile(site: Path, prepare, *extra: str) -> dict:
    """pyinstrument's profile of one `labpress build` in a fresh process (its main process)."""
    prepare()
    out = site.parent / f"profile-{site.name}.pyisession"
    subprocess.run([sys.executable, "-m", "pyinstrument", "-r", "pyisession", "-o", str(out), "-m", "labpress",
                    "build", str(site), "--quiet", *extra], check=True, capture_output=True, env=_environment())
    return summarise(out)


# --- everything -----------------------------------------------------------------

def bench_size(posts: int, runs: int, work: Path, others: bool, search: bool) -> dict:
    site = make_corpus(work / f"site-{posts}", posts)
    result: dict = {"posts": posts, "phase_seconds": {}}

    def phase(name: str, measure):  # each part's wall time, and the CPU time of this process and its children
        started, cpu = time.perf_counter(), _cpu_seconds()
        value = measure()
        result["phase_seconds"][name] = wall = round(time.perf_counter() - started, 2)
        print(f"  {name}: {wall:.1f} s ({_cpu_seconds() - cpu:.1f} s of CPU)", flush=True)
        return value

    result["labpress"] = phase("labpress", lambda: bench_labpress(site, runs))
    result["maths"] = phase("maths", lambda: bench_maths(site))
    result["floor"] = phase("floor", lambda: bench_floor(site))
    if search:
        result["search"] = phase("search", lambda: bench_search(site, runs))
    clean = result["labpress"]["clean"]
    result["maths"]["clean_build_hit_rate"] = clean["cached"] / max(1, clean["typeset"] + clean["cached"])
    if others:
        for tool in PEERS:
            result[tool] = phase(tool, lambda: bench_tool(tool, site, work, runs))
    result["profiles"] = phase("profiles", lambda: profiles_for(result, site))
    return result


def _cpu_seconds() -> float:
    import resource

    return sum(getattr(resource.getrusage(who), field) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)
               for field in ("ru_utime", "ru_stime"))


def profiles_for(result: dict, site: Path) -> dict:
    """Profiles of the cases that miss a target (report.missed_targets): the clean build in one
    process (-j 1, so the workers' share is in the profile too), the no-change `labpress build` in a
    fresh process, the one-post edit inside one process as `labpress serve` makes it (bench/warm.py)."""
    found = {}
    cache = site / ".labpress-cache"
    missed = missed_targets(result)
    serve_profile = Path(result["labpress"].pop("serve_profile"))
    if "clean" in missed:
        found["clean"] = profile(site, lambda: (shutil.rmtree(cache, ignore_errors=True),
                                                shutil.rmtree(site / "build", ignore_errors=True)), "-j", "1")
    if "no_change" in missed:  # the site is as the last build left it: nothing to do
        found["no_change"] = profile(site, lambda: None)
    if "one_edit_serve" in missed:
        found["one_edit_serve"] = summarise(serve_profile)
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
    parser.add_argument("--no-others", action="store_true", help="leave out Hugo and Pelican")
    parser.add_argument("--no-search", action="store_true", help="leave out the Search section")
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
            results["build"].append(bench_size(n, runs, Path(work), others=not args.no_others,
                                               search=not args.no_search))
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


def cores() -> int:
    """The cores this process may run on."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def machine() -> dict:
    return {"arch": platform.machine(), "cores": cores(), "system": platform.system(), "cpu": _cpu_name()}


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
