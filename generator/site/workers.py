"""Posts rendered on every core.

A clean build of a big notebook is mostly Markdown, maths and widget frames,
one post at a time and independent of the others, so the posts to render are
shared among worker processes. Each worker keeps its own KaTeX engine and
widget modules for the whole build and sends back the rendered post, its
errors and the formulas it typeset (the parent merges them into the KaTeX
cache). The result does not depend on the number of workers: a post is the
same whichever process renders it.
"""

from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path

from labpress.cache.reads import paused
from labpress.config.schema import SiteConfig
from labpress.content.body import RenderedBody
from labpress.content.frontmatter import PostMeta
from labpress.content.posts import Post, read_post_text
from labpress.content.slugs import slugify
from labpress.errors import ContentError, ErrorSink, display_path
from labpress.math.styles import shared as shared_styles

# Below this many posts to render, starting the workers (a fresh interpreter
# each) costs more than sharing the work saves.
PARALLEL_FROM = 48


@dataclass
class RenderContext:
    """What rendering a post needs besides the post: built once per process."""

    config: object
    katex: object
    library: object
    cache_dir: Path | None


def default_jobs(posts_to_render: int) -> int:
    """Worker processes for this many posts: every core for a big build, none for a small one."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return cores if posts_to_render >= PARALLEL_FROM else 1


def load_post(source: Path, config: SiteConfig, katex, errors: list[ContentError], widget_library=None,
              cache_dir: Path | None = None) -> Post:
    """Read and render one post file; its content errors go to ``errors`` (the post is still returned)."""
    shown = display_path(source, config.root)
    sink = ErrorSink(shown)
    text = read_post_text(source, sink)
    if text is None:
        errors.extend(sink.errors)
        return Post(source=source, shown_path=shown, slug=slugify(source.stem), body=RenderedBody(PostMeta()))
    from labpress.markdown import render_body  # here: a build with nothing to render never loads the Markdown stack

    body = render_body(text, sink, config, katex, widget_library, cache_dir)
    errors.extend(sink.errors)
    # Formulas came out with classes (markdown/math.py); any other style attribute becomes one here.
    html, rules = shared_styles().extract(body.html)
    body = replace(body, html=html, style_rules=dict(sorted({**body.style_rules, **rules}.items())))
    return Post(source=source, shown_path=shown, slug=slugify(source.stem), body=body)


def render_one(context: RenderContext, job: tuple[Path, str]):
    """(post, its content errors) for one (source file, cache key)."""
    source, key = job
    errors: list = []
    with paused():  # what rendering reads is the post's, in its body (RenderedBody.inputs)
        post = load_post(source, context.config, context.katex, errors, context.library, context.cache_dir)
    post.key = key
    return post, errors


# --- worker processes --------------------------------------------------------

_context: RenderContext | None = None


def _start_worker(parent: int, make_context, arguments) -> None:
    global _context
    _die_with_parent(parent)
    _context = make_context(*arguments)


def _die_with_parent(parent: int) -> None:
    """A worker must not outlive a build killed with SIGKILL (it would go on reading the caches).

    ``parent`` is the build's process id, given by the build itself: a worker that starts after
    the build died would otherwise take its new parent (init) for the build."""
    if sys.platform.startswith("linux"):
        import ctypes
        import signal

        PR_SET_PDEATHSIG = 1
        try:
            ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        except (OSError, AttributeError):
            pass
    if os.getppid() != parent:  # the parent died before the request was made
        os._exit(1)
    import threading

    def watch() -> None:  # elsewhere (and as a second line): notice being adopted by another process
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(1)

    threading.Thread(target=watch, name="labpress-parent-watch", daemon=True).start()


def _render_in_worker(job: tuple[Path, str]):
    post, errors = render_one(_context, job)
    katex = _context.katex
    return (post, errors, _made_here(post), *katex.take_fresh())


def _made_here(post) -> tuple | None:
    """What the build's own process would otherwise work out from the post's HTML, made here beside
    the other posts: what the search index keeps of it (search/copies.py) and its elements' classes
    (for the KaTeX faces its page preloads, theme/static.py). None when its page fills in references
    to other posts (its HTML is not what the page shows)."""
    from labpress.search.copies import body_text_html
    from labpress.theme.static import class_sets

    html = post.body.html
    return None if not html or 'data-xref="' in html else (body_text_html(html), class_sets(html))


def _main_reimportable() -> bool:
    """Whether a spawned worker can import this program's __main__ again (it cannot when the
    script was piped to python's standard input)."""
    main = sys.modules.get("__main__")
    path = getattr(main, "__file__", None)
    return path is None or os.path.isfile(path)


def render_many(jobs_list: list[tuple[Path, str]], context: RenderContext, make_context, arguments: tuple, jobs: int,
                made_there: dict | None = None):
    """Yield (post, errors) for each (source, cache key), in order.

    With ``jobs`` > 1 the posts are rendered by that many worker processes, each
    set up by ``make_context(*arguments)``; formulas they typeset reach the
    parent's KaTeX cache, so the next build finds them. ``made_there``: filled with what
    the workers made of each post's HTML besides (``_made_here``), by ``id(post.body)``.
    """
    if jobs <= 1 or len(jobs_list) <= 1 or not _main_reimportable():
        for job in jobs_list:
            yield render_one(context, job)
        return
    import multiprocessing  # here, not at the top: most rebuilds never start a worker
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    # "spawn": a fresh interpreter, safe whatever threads the parent runs (progress bar, file watcher).
    spawn = multiprocessing.get_context("spawn")
    chunk = max(1, min(16, len(jobs_list) // (jobs * 8)))
    done = 0
    try:
        with ProcessPoolExecutor(max_workers=jobs, mp_context=spawn, initializer=_start_worker,
                                 initargs=(os.getpid(), make_context, arguments)) as pool:
            for post, errors, made, *report in pool.map(_render_in_worker, jobs_list, chunksize=chunk):
                context.katex.absorb(*report)
                if made is not None and made_there is not None:
                    made_there[id(post.body)] = made
                done += 1
                yield post, errors
    except (BrokenProcessPool, OSError):
        # Workers could not start or died (a __main__ that cannot be re-imported, such as a
        # script piped to python; no room for another process): this process does the rest.
        for job in jobs_list[done:]:
            yield render_one(context, job)
