"""bench/results.json as bench/report.md: every target beside what was measured, and why where missed."""

from __future__ import annotations

NO_CHANGE_TARGET = 1.0
ONE_EDIT_TARGET = 0.3
CASES = (
    ("clean", "clean build (empty cache)"),
    ("math_warm", "clean build, formulas cached"),
    ("no_change", "no-change rebuild"),
    ("one_edit", "one post edited"),
    ("no_change_serve", "no-change rebuild, in `labpress serve`"),
    ("one_edit_serve", "one post edited, in `labpress serve`"),
)


def seconds(value: float) -> str:
    return f"{value * 1000:.0f} ms" if value < 1 else f"{value:.2f} s"


def verdict(measured: float, target: float) -> str:
    return "**met**" if measured < target else f"**missed** by {seconds(measured - target)} ({measured / target:.1f}×)"


def render(results: dict) -> str:
    m, v = results["machine"], results["versions"]
    lines = [
        "# LabPress benchmarks", "",
        f"{m['cpu']}, {m['cores']} cores ({m['arch']}, {m['system']}). Python {v['python']}, LabPress {v['labpress']},"
        f" Pelican {v['pelican']} (Python-Markdown {v['markdown']}), Hugo {v['hugo']}.",
        f"Mode: {'quick' if results['quick'] else 'full'}; each build time is the median of {results['runs']} runs"
        f" (all runs are in results.json). The whole run took {results['seconds'] / 60:.1f} minutes.", "",
    ]
    largest = max(results["build"], key=lambda r: r["posts"])
    lines += targets(largest, results.get("reader"))
    for size in results["build"]:
        lines += build_table(size)
    lines += maths_table(results["build"])
    lines += search_table(results["build"])
    lines += misses(largest)
    if results.get("reader") and not results["reader"].get("unavailable"):
        lines += reader_misses(results["reader"])
    if results.get("reader", {}).get("unavailable"):
        lines += ["## Reader side", "", f"Not measured: {results['reader']['unavailable']}", ""]
    elif results.get("reader"):
        import reader

        lines += reader.report_lines(results["reader"])
    lines += method()
    return "\n".join(lines) + "\n"


def targets(size: dict, reader_result: dict | None) -> list[str]:
    lp = size["labpress"]
    n = size["posts"]
    rows = ["## Targets", "", f"Build targets are for 1000 posts; this table uses the {n}-post corpus.", "",
            "| target | measured | verdict |", "|---|---|---|"]
    if "pelican" in size:
        ratio = lp["clean"]["seconds"] / size["pelican"]["clean"]["seconds"]
        state = "**met**" if ratio < 1 else f"**missed**: {ratio:.2f}× Pelican's time"
        rows.append(f"| clean build faster than Pelican (LabPress typesets every formula) | LabPress {seconds(lp['clean']['seconds'])},"
                    f" Pelican {seconds(size['pelican']['clean']['seconds'])}: {ratio:.2f}× | {state} |")
    rows.append(f"| no-change rebuild under 1 s (`labpress build`) | {seconds(lp['no_change']['seconds'])} |"
                f" {verdict(lp['no_change']['seconds'], NO_CHANGE_TARGET)} |")
    rows.append(f"| one-post edit under 300 ms (`labpress build`, a fresh process) | {seconds(lp['one_edit']['seconds'])} |"
                f" {verdict(lp['one_edit']['seconds'], ONE_EDIT_TARGET)} |")
    rows.append(f"| one-post edit under 300 ms (rebuild in `labpress serve`) | {seconds(lp['one_edit_serve']['seconds'])} |"
                f" {verdict(lp['one_edit_serve']['seconds'], ONE_EDIT_TARGET)} |")
    if reader_result and not reader_result.get("unavailable"):
        rows += ["", "The reader-side targets (bytes, first paint, long tasks, widget latency) are in the"
                 " table of the Reader side section."]
    return rows + [""]


def build_table(size: dict) -> list[str]:
    lp = size["labpress"]
    others = [tool for tool in ("pelican", "hugo") if tool in size]
    head = "| case | LabPress | pages/s |" + "".join(f" {t.capitalize()} | LabPress ÷ {t.capitalize()} |" for t in others)
    rows = [f"## Build side: {size['posts']} posts", "",
            f"LabPress builds {lp['clean']['pages']} pages (posts, index, series and tag pages) plus feed and sitemap;"
            + "".join(f" {t.capitalize()} writes {size[t]['clean']['pages']} HTML pages;" for t in others)
            + f" a fresh `labpress` process takes {seconds(lp['startup']['seconds'])} to start (`labpress --version`).", "",
            head, "|---|---|---|" + "---|---|" * len(others)]
    for case, label in CASES:
        row = f"| {label} | {seconds(lp[case]['seconds'])} | {lp[case]['pages_per_second']:.0f} |"
        for tool in others:
            theirs = size[tool].get(case.removesuffix("_serve")) if case != "math_warm" else None
            if theirs is None or case.endswith("_serve"):
                row += " | |"
            else:
                row += f" {seconds(theirs['seconds'])} | {lp[case]['seconds'] / theirs['seconds']:.2f} |"
        rows.append(row)
    rows += ["", "Peak memory of the largest process (MB):", "",
             "| case | LabPress |" + "".join(f" {t.capitalize()} |" for t in others), "|---|---|" + "---|" * len(others)]
    for case, label in (("clean", "clean build"), ("no_change", "no-change rebuild")):
        rows.append(f"| {label} | {lp[case]['peak_mb']:.0f} |" + "".join(f" {size[t][case]['peak_mb']:.0f} |" for t in others))
    return rows + [""]


def maths_table(sizes: list[dict]) -> list[str]:
    rows = ["## Maths", "",
            "KaTeX through quickjs-ng in one process, on every formula of the corpus: cold is each distinct formula"
            " typeset once (engine start included), warm is every occurrence served by the cache.", "",
            "| posts | formulas | distinct | repeats | typeset per s (cold) | served per s (warm) | cache hit rate in a clean build |",
            "|---|---|---|---|---|---|---|"]
    for size in sizes:
        f = size["maths"]
        rows.append(f"| {size['posts']} | {f['occurrences']} | {f['distinct']} | {f['repeat_share']:.0%} |"
                    f" {f['cold_per_second']:.0f} | {f['warm_per_second']:.0f} | {f['clean_build_hit_rate']:.1%} |")
    rows += ["", "The clean-build hit rate counts, in a build with an empty cache, the formulas served from what that"
             " build had already typeset; with several worker processes each typesets its own first copy.", ""]
    return rows


def _bytes(value: int) -> str:
    return f"{value / 1e6:.2f} MB" if value >= 1e6 else f"{value / 1e3:.0f} kB"


def search_table(sizes: list[dict]) -> list[str]:
    sizes = [size for size in sizes if "search" in size]
    if not sizes:
        return []
    rows = ["## Search", "",
            "The Pagefind index of every post (generator/search/), timed inside one process (bench/search.py). A"
            " build after a post is edited makes the whole index again, as a clean build does: the edited post's"
            " copy (the others are kept in the cache), then Pagefind, which runs while the pages render; a"
            " no-change rebuild keeps the index. \"Adds\" is the median build with the index less the median"
            " build without it; \"every copy\" is the copies of all posts made afresh, which a clean build adds"
            " as well. The client is what a reader's first search fetches before any chunk of the index"
            " (pagefind.js, its worker and WebAssembly, the entry and metadata), besides the site's search script.", "",
            "| posts | adds to a one-post edit | Pagefind | every copy | adds to a no-change rebuild |"
            " index files | index size | client | search script |",
            "|---|---|---|---|---|---|---|---|---|"]
    for size in sizes:
        s = size["search"]
        edit, same, index = s["one_edit"], s["no_change"], s["index"]
        rows.append(f"| {size['posts']} | {seconds(max(0.0, edit['adds']))} ({seconds(edit['without_index'])} →"
                    f" {seconds(edit['seconds'])}) | {seconds(edit['pagefind'])} | {seconds(s['copies_all_posts'])} |"
                    f" {seconds(max(0.0, same['adds']))} | {index['files']} | {_bytes(index['bytes'])} |"
                    f" {_bytes(index['client_bytes'])} | {_bytes(index['script_bytes'])} |")
    return rows + [""]


def misses(size: dict) -> list[str]:
    lp = size["labpress"]
    startup = lp["startup"]["seconds"]
    rows = ["## Where a target is missed", ""]
    notes = []
    if "pelican" in size and lp["clean"]["seconds"] >= size["pelican"]["clean"]["seconds"]:
        notes.append(("Clean build slower than Pelican",
                      f"LabPress {seconds(lp['clean']['seconds'])} against Pelican {seconds(size['pelican']['clean']['seconds'])}."
                      f" With formulas cached it takes {seconds(lp['math_warm']['seconds'])}, so typesetting costs"
                      f" {seconds(max(0.0, lp['clean']['seconds'] - lp['math_warm']['seconds']))}.", "clean",
                      "Next step: the profile below (one process, `-j 1`) shows where a post's time goes; the largest"
                      " items are the ones to attack first."))
    if lp["one_edit"]["seconds"] >= ONE_EDIT_TARGET:
        serve = lp["one_edit_serve"]["seconds"]
        notes.append(("One-post edit in a fresh `labpress build` over 300 ms",
                      f"{seconds(lp['one_edit']['seconds'])}, of which {seconds(startup)} is the interpreter starting and"
                      f" loading LabPress before any work, and the rest loading the Markdown stack, Jinja2 and the"
                      f" cache. The same rebuild inside `labpress serve`, where an author editing a post waits for it,"
                      f" takes {seconds(serve)} ({'within' if serve < ONE_EDIT_TARGET else 'over'} the target).",
                      "one_edit",
                      "Next step: for the command line, a resident build process (the dev server already is one);"
                      " inside it, the profile's largest items."))
    if lp["no_change"]["seconds"] >= NO_CHANGE_TARGET:
        notes.append(("No-change rebuild over 1 s", f"{seconds(lp['no_change']['seconds'])}.", "no_change",
                      "Next step: the profile's largest items."))
    if not notes:
        rows.append("No build-side target is missed.")
    for title, text, profile_key, next_step in notes:
        rows += [f"### {title}", "", text, ""]
        profile = size.get("profiles", {}).get(profile_key)
        if profile:
            rows += ["pyinstrument, main process:", "", "```", profile, "```", ""]
        rows += [next_step, ""]
    return rows


def _ms(value: float) -> str:
    return f"{value:.0f} ms" if value >= 10 else f"{value:.1f} ms"


def _breakdown(task: dict) -> str:
    return ", ".join(f"{part['name']} {_ms(part['ms'])}" for part in task.get("breakdown", []))


def reader_misses(result: dict) -> list[str]:
    """The reader-side targets missed in this run: by how much, what the Chromium trace shows, the next step."""
    rows = []
    load, frames, pyodide = result.get("load") or {}, result.get("frames") or {}, result.get("pyodide") or {}
    if load.get("js_before_fcp"):
        ran = sorted({(s["url"].rsplit("/", 1)[-1], s["event"]) for t in load.get("traced", [])
                      for s in t.get("scripts_before_fcp", [])})
        names = sorted({name for name, _ in ran})
        others = [name for name in names if not name.startswith("scheme.")]
        rows += ["### JavaScript runs before first paint", "",
                 "In the trace, before the `firstContentfulPaint` mark: "
                 + "; ".join(f"`{name}` ({event})" for name, event in ran) + ".", ""]
        if len(others) < len(names):
            rows += ["`scheme.js` is the one script in `<head>`, on purpose: a reader who chose the other colour"
                     " scheme would otherwise see the page flash in the system's scheme before their choice applies"
                     " (CSS alone cannot read a stored choice). It does nothing else before the first paint. Next"
                     " step: none that keeps both; the target is missed by this one small script, by design.", ""]
        if others:
            rows += [f"{', '.join(f'`{n}`' for n in others)} also ran before the paint, though nothing visible"
                     " needs it then. Next step: start it once the page has painted.", ""]
    longest = load.get("longtask_median_ms") or 0
    traced = [t["longest_task"] for t in load.get("traced", []) if t.get("longest_task")]
    if longest > 50 or any(t["ms"] > 50 for t in traced):
        worst = max(traced, key=lambda t: t["ms"]) if traced else None
        rows += ["### A main-thread task over 50 ms during load", "",
                 f"Median over the cold loads {_ms(longest)} (the longtask observer), missed by {_ms(max(0, longest - 50))}."
                 + (f" The trace's longest task: {_ms(worst['ms'])}, of which {_breakdown(worst)}." if worst else ""),
                 "",
                 "That task is the first style and layout of the page: a long post whose every formula is KaTeX HTML"
                 " (thousands of absolutely sized spans), on a machine painting in software. Next step: lay out less"
                 " at first (sections far below the fold skipped with `content-visibility`, widget figures sized in"
                 " advance), then measure again on a machine with a GPU, where paint leaves the main thread.", ""]
    if frames.get("p95_ms", 0) >= 16:
        rows += ["### Pre-computed frames: p95 over 16 ms", "",
                 f"p95 {_ms(frames['p95_ms'])} (median {_ms(frames['median_ms'])}): the DOM changes after"
                 f" {_ms(frames['dom_median_ms'])} and the next animation frame comes {_ms(frames['raf_median_ms'])} later;"
                 " the rest is the frame's style, layout and paint. Next step: smaller frames (fewer SVG nodes) and"
                 " a layout boundary around the figure.", ""]
    drag = pyodide.get("drag") or {}
    if drag.get("median_ms", 0) >= 16 or drag.get("p95_ms", 0) >= 50:
        parts = drag.get("breakdown_median_ms", {})
        rows += ["### Pyodide widget: update latency during a drag", "",
                 f"Median {_ms(drag['median_ms'])} (target 16 ms), p95 {_ms(drag['p95_ms'])} (target 50 ms)."
                 f" Where a frame's time goes (medians): input to the render request {_ms(parts.get('to_post', 0))},"
                 f" the worker {_ms(parts.get('worker', 0))} (the kernel itself {_ms(drag.get('kernel_median_ms', 0))}),"
                 f" the worker's reply to the frame on screen {_ms(parts.get('to_screen', 0))}.",
                 "",
                 "Waiting for the next animation frame alone costs up to 16.7 ms at 60 Hz, so a median under 16 ms"
                 " needs the frame ready within the same frame as the input. Next step: draw the new SVG into the"
                 " figure in the animation-frame callback that follows the reply (not a task after it), and cut the"
                 " worker's overhead around the kernel (Python-side JSON and SVG string building under Pyodide).", ""]
    return rows


def method() -> list[str]:
    return ["## Method", "",
            "- Corpus (bench/corpus.py): posts of 1,500–3,000 words with front matter, 20–60 formulas each (two in"
            " three from a shared notation, the rest the post's own), two tables, code blocks, a widget in every"
            " fifth post; deterministic from its seed.",
            "- Pelican and Hugo (bench/others.py) build the same posts: the same front matter, prose, tables and"
            " code; maths left as raw TeX; LabPress's `:::` block fences reduced to their contents. Pelican runs"
            " with its content cache on; Hugo uses every core by itself.",
            "- Wall times are for the whole command, process start-up included. \"In `labpress serve`\" times"
            " are `build_site` calls inside one process that has already built once (bench/warm.py).",
            "- Peak memory is the largest resident size of any process of the command (workers included), from"
            " `getrusage(RUSAGE_CHILDREN)`.",
            ""]
