"""The least CPU a clean build can take with the stack LabPress is built on, measured part by part.

A clean build must at least typeset each distinct formula with KaTeX in quickjs-ng, parse each
post's Markdown with markdown-it-py, and have Pagefind index the posts. Each is measured here
alone, in the tightest form it can take:

* KaTeX: every distinct formula of the corpus rendered in one loop inside the JavaScript engine,
  so no Python runs between formulas (the engine LabPress's builds use, with KaTeX's extensions);
* Markdown: each post parsed and rendered by markdown-it-py with only what its syntax needs from
  markdown-it-py and mdit-py-plugins (CommonMark, tables, front matter, ``$`` maths, ``:::``
  blocks, footnotes), none of LabPress's own rules;
* Pagefind: its binary indexing the copies of the posts the last build made.

Their CPU seconds together, over the cores, are a lower bound on a clean build's wall time: no
schedule of this work on these cores can finish sooner. The report sets that bound beside the
clean-build target. The KaTeX part is also run on every core at once (the formulas dealt out
among one process per core), which gives its wall time as a build would see it: two busy cores
of a virtual machine do less than twice the work of one.
"""

from __future__ import annotations

import json
import resource
import time
from pathlib import Path


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _katex_loop(site: Path, distinct: list[tuple[str, bool]]) -> tuple[float, float]:
    """(CPU seconds, wall seconds) of KaTeX typesetting ``distinct`` (TeX, displayed) in one loop in
    quickjs-ng, timed once the engine has loaded KaTeX."""
    from labpress.math.katex import KatexRenderer
    from labpress.theme.lookup import find_node_package

    katex = KatexRenderer(find_node_package("katex", site), {}, None)
    katex.start()
    context = katex._context
    context.set_time_limit(3600)  # one call for all of them: the per-formula bound does not apply
    context.eval("var LABPRESS_FLOOR = " + json.dumps(distinct) + ";")
    cpu, wall = time.process_time(), time.perf_counter()
    count = context.eval("var n = 0; for (const [tex, display] of LABPRESS_FLOOR) {"
                         " n += katex.renderToString(tex, {displayMode: display, throwOnError: false}).length > 0;"
                         " } n")
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    assert count == len(distinct), (count, len(distinct))
    return cpu, wall


def katex_seconds(site: Path, distinct: list[tuple[str, bool]]) -> float:
    """CPU seconds of KaTeX typesetting ``distinct`` (TeX, displayed) in one loop in quickjs-ng."""
    return _katex_loop(site, distinct)[0]


def _wall_of_share(site: str, distinct: list) -> float:
    return _katex_loop(Path(site), [tuple(formula) for formula in distinct])[1]


def katex_wall_on_cores(site: Path, distinct: list[tuple[str, bool]], cores: int) -> float:
    """Wall seconds of typesetting ``distinct`` dealt out among ``cores`` processes at once: the
    longest of their loops (each timed from when its engine has loaded KaTeX)."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    shares = [distinct[k::cores] for k in range(cores)]
    with ProcessPoolExecutor(cores, mp_context=multiprocessing.get_context("spawn")) as pool:
        return max(pool.map(_wall_of_share, [str(site)] * cores, shares))


def markdown_seconds(site: Path) -> float:
    """CPU seconds of markdown-it-py's parse and render of every post, with the library rules the
    posts' syntax needs and nothing of LabPress's."""
    from markdown_it import MarkdownIt
    from mdit_py_plugins.container import container_plugin
    from mdit_py_plugins.dollarmath import dollarmath_plugin
    from mdit_py_plugins.footnote import footnote_plugin
    from mdit_py_plugins.front_matter import front_matter_plugin

    parser = MarkdownIt("commonmark").enable("table")
    front_matter_plugin(parser)
    dollarmath_plugin(parser)
    footnote_plugin(parser)
    for name in ("hypothesis", "conclusion", "widget"):  # the corpus's blocks (bench/corpus.py)
        container_plugin(parser, name)
    texts = [path.read_text(encoding="utf-8") for path in sorted((site / "content").glob("*.md"))]
    started = time.process_time()
    for text in texts:
        parser.render(text)
    return time.process_time() - started


def pagefind_seconds(site: Path) -> float | None:
    """CPU seconds of Pagefind indexing the copies of the posts in the site's cache (None: no copies)."""
    from labpress.search.index import PAGES_DIR, run_pagefind

    pages = site / ".labpress-cache" / PAGES_DIR
    if not any(pages.glob("*/index.html")):
        return None
    started = _children_cpu()
    run_pagefind(pages, "en")
    return _children_cpu() - started


def measure(site: Path, distinct: list[tuple[str, bool]], cores: int) -> dict:
    """The floor's parts for the corpus in ``site`` and its ``distinct`` formulas, on ``cores`` cores."""
    parts = {"katex": katex_seconds(site, distinct), "markdown": markdown_seconds(site),
             "pagefind": pagefind_seconds(site)}
    total = sum(value for value in parts.values() if value is not None)
    return {"cores": cores, "formulas": len(distinct), "cpu_seconds": parts, "total_cpu_seconds": total,
            "least_wall_seconds": total / cores, "katex_wall_on_cores": katex_wall_on_cores(site, distinct, cores)}
