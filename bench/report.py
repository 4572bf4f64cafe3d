"""bench/results.json as bench/report.md: every target beside what was measured, and why where missed."""

from __future__ import annotations

# Issue 15's build targets, for 1000 posts.
CLEAN_OVER_HUGO_TARGET = 2.0  # a clean build (every formula typeset) at most this many times Hugo's without maths
SERVE_EDIT_TARGET = 0.05  # seconds: a one-post edit rebuilt inside `labpress serve`
NO_CHANGE_TARGET = 0.5  # seconds: a no-change `labpress build`

# The peers, in the order the tables show them: the like-for-like one first, then the floor, then Pelican.
PEERS = ("hugo_math", "hugo", "pelican")
PEER_NAMES = {"hugo_math": "Hugo + ToMath", "hugo": "Hugo, raw TeX", "pelican": "Pelican"}
CASES = (
    ("clean", "clean build (empty caches)"),
    ("math_warm", "clean build, formula cache warm"),
    ("no_change", "no-change rebuild"),
    ("one_edit", "one post edited"),
    ("no_change_serve", "no-change rebuild, in `labpress serve`"),
    ("one_edit_serve", "one post edited, in `labpress serve`"),
)


def seconds(value: float) -> str:
    return f"{value * 1000:.0f} ms" if value < 1 else f"{value:.2f} s"


def verdict(measured: float, target: float) -> str:
    return "**met**" if measured < target else f"**missed** by {seconds(measured - target)} ({measured / target:.1f}×)"


def missed_targets(size: dict) -> set[str]:
    """The cases of ``size`` (one corpus's results) that miss one of issue 15's targets."""
    lp, missed = size["labpress"], set()
    if "hugo" in size and lp["clean"]["seconds"] > CLEAN_OVER_HUGO_TARGET * size["hugo"]["clean"]["seconds"]:
        missed.add("clean")
    if lp["no_change"]["seconds"] >= NO_CHANGE_TARGET:
        missed.add("no_change")
    if lp["one_edit_serve"]["seconds"] >= SERVE_EDIT_TARGET:
        missed.add("one_edit_serve")
    return missed


def render(results: dict) -> str:
    m, v = results["machine"], results["versions"]
    lines = [
        "# LabPress benchmarks", "",
        f"{m['cpu']}, {m['cores']} cores ({m['arch']}, {m['system']}). Python {v['python']}, LabPress {v['labpress']},"
        f" Hugo {v['hugo']}, Pelican {v['pelican']} (Python-Markdown {v['markdown']}).",
        f"Mode: {'quick' if results['quick'] else 'full'}; "
        + (f"each build time is the median of {results['runs']} runs (all runs are in results.json)."
           if results["runs"] > 1 else "each build time is from a single run.")
        + f" The whole run took {results['seconds'] / 60:.1f} minutes.", "",
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


def _top(profile: dict | None, count: int = 3) -> str:
    """The largest groups of a profile's breakdown, in a few words."""
    if not profile:
        return ""
    return ", ".join(f"{part['name']} {part['share']:.0%}" for part in profile["breakdown"][:count])


def targets(size: dict, reader_result: dict | None) -> list[str]:
    lp, n = size["labpress"], size["posts"]
    profiles, missed = size.get("profiles", {}), missed_targets(size)
    scope = ("this table uses the 1000-post corpus" if n == 1000 else
             f"this run measured {n} posts, so its verdicts only indicate where 1000 posts would stand")
    rows = ["## Targets", "",
            f"Issue 15's build targets are for 1000 posts; {scope}. Where a target is missed, the last column"
            " gives the largest parts of its profile (pyinstrument; the profiles are under \"Where a target is"
            " missed\").", "",
            "| target | measured | verdict | where the time goes |", "|---|---|---|---|"]

    def where(case):
        return _top(profiles.get(case)) if case in missed else ""

    clean = lp["clean"]["seconds"]
    if "hugo" in size:
        floor = size["hugo"]["clean"]["seconds"]
        ratio = clean / floor
        state = ("**met**" if ratio <= CLEAN_OVER_HUGO_TARGET else
                 f"**missed** by {ratio - CLEAN_OVER_HUGO_TARGET:.2f}× Hugo's time ({seconds(clean - 2 * floor)})")
        rows.append(f"| clean build at most {CLEAN_OVER_HUGO_TARGET:.0f}× Hugo without maths (LabPress typesets every"
                    f" formula) | LabPress {seconds(clean)}, Hugo (raw TeX) {seconds(floor)}: {ratio:.2f}× | {state} |"
                    f" {where('clean')} |")
    else:
        rows.append(f"| clean build at most {CLEAN_OVER_HUGO_TARGET:.0f}× Hugo without maths | LabPress {seconds(clean)};"
                    " Hugo not run (--no-others) | not measured | |")
    rows.append(f"| one-post edit inside `labpress serve` under {seconds(SERVE_EDIT_TARGET)} |"
                f" {seconds(lp['one_edit_serve']['seconds'])} | {verdict(lp['one_edit_serve']['seconds'], SERVE_EDIT_TARGET)} |"
                f" {where('one_edit_serve')} |")
    rows.append(f"| no-change `labpress build` under {seconds(NO_CHANGE_TARGET)} (a fresh process) |"
                f" {seconds(lp['no_change']['seconds'])} | {verdict(lp['no_change']['seconds'], NO_CHANGE_TARGET)} |"
                f" {where('no_change')} |")
    if "hugo_math" in size:
        peer = size["hugo_math"]["clean"]["seconds"]
        rows.append(f"| *informative:* clean build faster than Hugo + ToMath (both typeset every formula) |"
                    f" LabPress {seconds(clean)}, Hugo + ToMath {seconds(peer)}: {clean / peer:.2f}× |"
                    f" {'faster' if clean < peer else 'slower'} | |")
    if reader_result and not reader_result.get("unavailable"):
        rows += ["", "The reader-side targets (bytes, first paint, long tasks, widget latency) are in the"
                 " table of the Reader side section."]
    return rows + [""]


def build_table(size: dict) -> list[str]:
    lp = size["labpress"]
    peers = [tool for tool in PEERS if tool in size]
    head = "| case | LabPress | pages/s |" + "".join(f" {PEER_NAMES[t]} | LabPress ÷ {PEER_NAMES[t]} |" for t in peers)
    rows = [f"## Build side: {size['posts']} posts", "",
            f"LabPress builds {lp['clean']['pages']} pages (posts, index, series and tag pages) plus feed and sitemap;"
            + "".join(f" {PEER_NAMES[t]} writes {size[t]['clean']['pages']} HTML pages;" for t in peers)
            + f" a fresh `labpress` process takes {seconds(lp['startup']['seconds'])} to start (`labpress --version`)."]
    check = size.get("hugo_math", {}).get("check")
    if check:
        rows[-1] += (f" Hugo + ToMath typeset {check['typeset']} of the corpus's {check['formulas']} formulas into"
                     f" KaTeX HTML and MathML ({check['fallbacks']} fell back to TeX); the bench checks the pages"
                     " for it and for the stylesheet they link.")
    rows += ["", head, "|---|---|---|" + "---|---|" * len(peers)]
    for case, label in CASES:
        row = f"| {label} | {seconds(lp[case]['seconds'])} | {lp[case]['pages_per_second']:.0f} |"
        for tool in peers:
            theirs = None if case.endswith("_serve") else size[tool].get(case) or (
                size[tool]["clean"] if case == "math_warm" else None)
            row += " | |" if theirs is None else f" {seconds(theirs['seconds'])} | {lp[case]['seconds'] / theirs['seconds']:.2f} |"
        rows.append(row)
    if peers:
        rows += ["", "LabPress ÷ peer: LabPress's time over the peer's (under 1, LabPress is faster)."
                 + (" Hugo with raw TeX and Pelican typeset nothing, so their \"formula cache warm\" figure is their"
                    " clean build." if {"hugo", "pelican"} & set(peers) else "")
                 + " The `labpress serve` rows have no peer figure: Hugo's own server (`hugo server`, which"
                 " rebuilds in memory) is not measured."]
    after = lp["one_edit_serve"].get("after_seconds")
    if after is not None:
        rows += ["", "A `labpress serve` row is one build in a process that keeps its builds in memory, as the"
                 " server does, timed from the start of the build to its pages published, which is when open"
                 " pages reload. The server then writes the caches and the manifest, and Pagefind brings the"
                 f" search index up to date in the background: {seconds(after)} more after a one-post edit"
                 " (median), waited for before the next edit."]
    rows += ["", "Peak memory of the largest process (MB):", "",
             "| case | LabPress |" + "".join(f" {PEER_NAMES[t]} |" for t in peers), "|---|---|" + "---|" * len(peers)]
    for case, label in (("clean", "clean build"), ("no_change", "no-change rebuild")):
        rows.append(f"| {label} | {lp[case]['peak_mb']:.0f} |" + "".join(f" {size[t][case]['peak_mb']:.0f} |" for t in peers))
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


def _profile_lines(profile: dict, where: str) -> list[str]:
    """A missed target's profile: its time by group (the table), then the top of its call tree."""
    rows = [f"Where the time goes, from pyinstrument ({where}, {seconds(profile['seconds'])} profiled; each sample"
            " counted in the group of the innermost frame on its stack that belongs to one, a module being imported"
            " in \"loading modules\"):", "",
            "| part | time | share |", "|---|---|---|"]
    shown = [part for part in profile["breakdown"] if part["share"] >= 0.01]
    rows += [f"| {part['name']} | {seconds(part['seconds'])} | {part['share']:.0%} |" for part in shown]
    rest = profile["breakdown"][len(shown):]
    if rest:
        rows.append(f"| {_count(len(rest), 'smaller part')} | {seconds(sum(p['seconds'] for p in rest))} |"
                    f" {sum(p['share'] for p in rest):.0%} |")
    return rows + ["", "The top of the call tree:", "", "```", profile["tree"], "```", ""]


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def floor_text(size: dict, hugo: float) -> str:
    """The lower bound bench/floor.py measured, set beside the clean-build target (``hugo``: the
    seconds of Hugo's clean build with raw maths)."""
    found = size.get("floor")
    if not found:
        return ""
    target = CLEAN_OVER_HUGO_TARGET * hugo
    parts = found["cpu_seconds"]
    pagefind = (f" and Pagefind's index of the posts {seconds(parts['pagefind'])}" if parts.get("pagefind") is not None
                else "")
    least = found["least_wall_seconds"]
    text = (f"\n\nThe least a clean build can take with this stack (bench/floor.py, each part alone and in its"
            f" tightest form): typesetting the corpus's {found['formulas']:,} distinct formulas in one loop inside"
            f" quickjs-ng takes {seconds(parts['katex'])} of CPU, markdown-it-py's parse of the posts with only the"
            f" library rules their syntax needs {seconds(parts['markdown'])}{pagefind}:"
            f" {seconds(found['total_cpu_seconds'])} of CPU, so at least {seconds(least)} on {found['cores']} cores,"
            f" before any template, file or cache, against the"
            f" target's {seconds(target)}.")
    if least > target:
        text += " The target is below that floor: no build made of these parts can meet it on this machine."
    else:
        text += f" The floor leaves {seconds(target - least)} for everything else."
    if found.get("katex_wall_on_cores"):
        wall = found["katex_wall_on_cores"]
        text += (f" Typesetting alone, the formulas dealt out among {found['cores']} processes at once, takes"
                 f" {seconds(wall)} of wall time ({wall / hugo:.2f}× Hugo's whole build"
                 f" with raw maths): two busy cores of this machine do {found['cpu_seconds']['katex'] / wall:.2f}×"
                 " the work of one.")
    return text


def misses(size: dict) -> list[str]:
    lp = size["labpress"]
    startup = lp["startup"]["seconds"]
    missed, profiles = missed_targets(size), size.get("profiles", {})
    rows = ["## Where a target is missed", ""]
    notes = []
    if "clean" in missed:
        floor = size["hugo"]["clean"]["seconds"]
        typesetting = lp["clean"]["seconds"] - lp["math_warm"]["seconds"]
        text = (f"LabPress {seconds(lp['clean']['seconds'])} against Hugo's {seconds(floor)} with the maths left as raw"
                f" TeX: {lp['clean']['seconds'] / floor:.2f}×, the target {CLEAN_OVER_HUGO_TARGET:.0f}×. With its"
                f" formula cache warm LabPress takes {seconds(lp['math_warm']['seconds'])}"
                f" ({lp['math_warm']['seconds'] / floor:.2f}× Hugo's), "
                + (f"so typesetting costs it about {seconds(typesetting)}." if typesetting > 0 else
                   "no less than the clean build in this run: most of the gap is not typesetting."))
        if "hugo_math" in size:
            peer = size["hugo_math"]
            text += (f" Hugo typesetting the same formulas with ToMath takes {seconds(peer['clean']['seconds'])} clean and"
                     f" {seconds(peer['math_warm']['seconds'])} with its cache warm.")
        text += floor_text(size, floor)
        notes.append((f"Clean build over {CLEAN_OVER_HUGO_TARGET:.0f}× Hugo without maths", text, "clean",
                      "the build in one process, `-j 1`, so the posts the workers render are in it too",
                      "Next step: the largest parts of the profile first; the workers divide the rendering by the"
                      " cores, not the other parts."))
    if "one_edit_serve" in missed:
        notes.append((f"One-post edit inside `labpress serve` over {seconds(SERVE_EDIT_TARGET)}",
                      f"{seconds(lp['one_edit_serve']['seconds'])} (median), rendering"
                      f" {_count(lp['one_edit_serve'].get('rendered_posts', 1), 'post')} and"
                      f" {_count(lp['one_edit_serve'].get('rendered_pages', 0), 'page')} afresh; a no-change rebuild in the same"
                      f" process takes {seconds(lp['no_change_serve']['seconds'])}.", "one_edit_serve",
                      "one more edit rebuilt by `build_site` in the warm process of bench/warm.py",
                      "Next step: the profile's largest parts, the work a one-post edit does for every post first."))
    if "no_change" in missed:
        notes.append((f"No-change `labpress build` over {seconds(NO_CHANGE_TARGET)}",
                      f"{seconds(lp['no_change']['seconds'])}, of which {seconds(startup)} is a fresh process starting"
                      f" and loading LabPress's command line (`labpress --version`); inside `labpress serve` the"
                      f" same rebuild takes {seconds(lp['no_change_serve']['seconds'])}.", "no_change",
                      "a fresh `labpress build` process, its main thread",
                      "Next step: load less before finding that nothing changed (the profile's modules), then its"
                      " other largest parts."))
    if not notes:
        rows += ["No build-side target is missed.", ""]
    for title, text, key, where, next_step in notes:
        rows += [f"### {title}", "", text, ""]
        if profiles.get(key):
            rows += _profile_lines(profiles[key], where)
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
    dragged = frames.get("drag") or {}
    if (dragged.get("p95_ms") or 0) >= 16:
        driven = dragged.get("runtime_inputs")
        how = (f"the runtime set {driven} of the {dragged.get('input_events')} values from raw pointer updates, so a"
               " frame goes in as the pointer moves" if driven else
               "the runtime did not drive the slider, so each frame waited for the input event Chromium sends at the"
               " start of a frame")
        rows += ["### Pre-computed frames: a slider drag's p95 over 16 ms", "",
                 f"p95 {_ms(dragged['p95_ms'])} (median {_ms(dragged['median_ms'])}): {how}; the DOM changes after"
                 f" {_ms(dragged.get('dom_median_ms') or 0)} and the next animation frame comes at"
                 f" {_ms(dragged.get('raf_median_ms') or 0)} (medians), the rest is that frame's style, layout and paint."
                 " Next step: smaller frames (fewer SVG nodes) and a layout boundary around the figure.", ""]
    from reader import TARGETS as READER_TARGETS  # the reader's own targets: one set of numbers

    median_limit, p95_limit = READER_TARGETS["drag_median_ms"], READER_TARGETS["drag_p95_ms"]
    for key, what in (("drag", "slider"), ("drag_handle", "point handle")):
        drag = pyodide.get(key) or {}
        if not drag.get("median_ms") or (drag["median_ms"] < median_limit and (drag.get("p95_ms") or 0) < p95_limit):
            continue
        trace = drag.get("trace") or {}
        steps = [("the worker", "worker"), ("the reply's wait for the main thread", "to_main"), ("the patch", "patch"),
                 ("the wait for the next frame", "to_frame"), ("style and layout", "style_layout"),
                 ("paint and commit", "paint_commit"), ("the compositor's presentation", "to_present")]
        where = ", ".join(f"{label} {_ms(trace.get(f'{name}_median_ms') or 0)}" for label, name in steps
                          if trace.get(f"{name}_median_ms") is not None)
        rows += [f"### Pyodide widget: input to frame during a drag of its {what}", "",
                 f"Median {_ms(drag['median_ms'])} (target {median_limit} ms), p95 {_ms(drag['p95_ms'])} (target"
                 f" {p95_limit} ms). Where a reply's time goes, from the Chromium trace (medians): {where or 'not traced'}.",
                 ""]
        if key == "drag":
            handle = pyodide.get("drag_handle") or {}
            handle_kernel = (f" (kernel {_ms(handle['kernel_median_ms'])})" if handle.get("kernel_median_ms") is not None
                             else "")
            compared = (f" The point handle, which reads the pointer from `pointerrawupdate` as soon as it moves,"
                        f" took median {_ms(handle['median_ms'])}, p95 {_ms(handle['p95_ms'])} in the same run"
                        f"{handle_kernel}." if handle.get("median_ms") else "")
            driven, events = drag.get("runtime_inputs"), drag.get("input_events")
            kernel = f" (kernel {_ms(drag['kernel_median_ms'])})" if drag.get("kernel_median_ms") is not None else ""
            if driven:
                rows += [f"While the thumb is held the runtime sets the slider's value itself from each raw pointer"
                         f" update ({driven} of the {events} input events of the drag were the runtime's), so the"
                         f" request leaves as the pointer moves, not with the input event Chromium sends at the start"
                         f" of the next frame." + compared + " What is left is the worker's render of the state"
                         f"{kernel} and the reply's waits for the main thread and for the next frame. Next step: these shrink on a quiet machine;"
                         " measure again there, then make the kernel's frame smaller.", ""]
            else:
                rows += ["The runtime did not drive this slider (a restyled or scaled thumb, or a browser where it"
                         " cannot know where the thumb goes), so a new value came only with the input event Chromium"
                         " sends at the start of a frame: the request leaves a frame after the pointer moved and its"
                         " reply is drawn in the frame after that, about 25 ms at 60 Hz before any work." + compared +
                         " Next step: keep the thumb's native look, so the runtime can drive it from raw pointer"
                         " updates while it is held.", ""]
        else:
            rows += ["Next step: the reply's wait for the main thread and for the next frame are most of it; on a"
                     " quiet machine they shrink, so measure again before changing the runtime.", ""]
    return rows


def method() -> list[str]:
    return ["## Method", "",
            "- Corpus (bench/corpus.py): posts of 1,500–3,000 words with front matter, 20–60 formulas each (two in"
            " three from a shared notation, the rest the post's own), two tables, code blocks, a widget in every"
            " fifth post; deterministic from its seed.",
            "- The peers (bench/others.py) build the same posts: the same front matter, prose, tables and code;"
            " LabPress's `:::` block fences reduced to their contents. Hugo + ToMath typesets every formula at build"
            " time with the KaTeX Hugo embeds, through its documented passthrough render hook"
            " (`transform.ToMath`, HTML and MathML output, as LabPress writes; a formula KaTeX rejects is caught"
            " with `try` and shown as TeX with a warning rather than failing the build), and its pages link"
            " KaTeX's stylesheet, copied into the site with its woff2 fonts as LabPress copies them. Hugo, raw"
            " TeX is the same site with the maths left for a script in the browser: the floor. Pelican leaves the"
            " maths as raw TeX and runs with its content cache on. Hugo uses every core by itself.",
            "- Clean builds start with every cache empty: LabPress's `.labpress-cache`, Pelican's content cache,"
            " and Hugo's `--cacheDir` (a folder of the benchmark's own, where ToMath keeps each formula it typeset"
            " and the WebAssembly it compiled KaTeX to). \"Formula cache warm\" keeps only the formula cache (for"
            " LabPress `katex.sqlite`, for Hugo its `--cacheDir`); rebuilds keep every cache.",
            "- Wall times are for the whole command, process start-up included. \"In `labpress serve`\" times"
            " are `build_site` calls inside one process that has already built once (bench/warm.py).",
            "- Peak memory is the largest resident size of any process of the command (workers included) over"
            " the case's timed runs, from `wait4`'s resource usage of the command.",
            "- The floor of a clean build (bench/floor.py), measured after LabPress's timed runs: the CPU time of"
            " the three parts no build of the corpus can skip, each alone and in its tightest form (KaTeX over the"
            " distinct formulas in one loop inside quickjs-ng; markdown-it-py with only the rules of its own and of"
            " mdit-py-plugins that the posts' syntax needs, none of LabPress's; Pagefind's binary over the copies"
            " of the posts), summed and divided by the cores.",
            "- Profiles (pyinstrument, main thread) are taken on runs of their own after the timed ones, and reported"
            " for the targets missed; the profiler slows a build, so a profile's total is longer than the median.",
            ""]
