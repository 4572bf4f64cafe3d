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
    lines += misses(largest)
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
