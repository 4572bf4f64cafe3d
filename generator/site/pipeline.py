"""One build of a site: read, check, render, then swap the output into place.

Every stage is a plain function from data to data; this module wires them.
"""

from __future__ import annotations

import hashlib
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from labpress.config.schema import CONFIG_NAME, load_config
from labpress.errors import ConfigError, ContentError, ContentErrors, warn
from labpress.cache.digests import code_root, code_tree
from labpress.cache.reads import Reads, recording
from labpress.site.locking import DEFAULT_WAIT_SECONDS, prepare_cache_folder, remove_temporary_files, site_lock
from labpress.site import fresh
from labpress.site.output import Manifest, OutputTree, forget_missing_outputs, publish, recover

if TYPE_CHECKING:
    from labpress.cache.posts import BuildCache
    from labpress.site.workers import RenderContext

# The stages themselves (Markdown, KaTeX, templates, provenance, widgets, search) are imported by the
# functions that run them: a build that finds nothing to do (site/fresh.py) never loads them.

CACHE_DIR = ".labpress-cache"
NO_BASE_URL = ("warning: labpress.toml sets no base_url, so the feed, the sitemap and the canonical links say"
               " http://localhost/: add base_url = \"https://you.github.io/notebook/\" (the address the site is"
               " published at) to labpress.toml, or build with --base-url URL")


@dataclass
class BuildResult:
    out_dir: Path
    pages: int
    files: int
    seconds: float
    formulas_typeset: int
    formulas_cached: int
    rendered_posts: list = None  # posts rendered afresh (the rest came from the cache)
    rendered_pages: list = None  # pages rendered afresh


STATIC_DIR = "static"


def write_site_static(site_dir: Path, tree: OutputTree) -> None:
    """The site's own files (images, downloads) from ``static/``, at the same paths under the site root."""
    static = site_dir / STATIC_DIR
    if static.is_dir():
        for source in sorted(p for p in static.rglob("*") if p.is_file() and not p.name.startswith(".")):
            tree.write(source.relative_to(static).as_posix(), source.read_bytes())


def write_provenance(site, site_dir: Path, out_dir: Path, config, source_digests: dict,
                     tree: OutputTree) -> tuple[dict, object]:
    """Each post's provenance record beside its page (``<slug>/provenance.json``), by slug, and the
    git state they show.

    The tools' versions and the git state are found once for the whole build; the output
    and cache folders are not part of the work tree's state.
    """
    from labpress.provenance.git import git_state
    from labpress.provenance.record import RECORD_NAME, post_provenance
    from labpress.provenance.versions import tool_versions

    versions = tool_versions(site_dir)
    git = git_state(site_dir, ignored=(out_dir, site_dir / CACHE_DIR))
    records = {}
    for post in site.posts:
        records[post.slug] = record = post_provenance(post, site_dir, config.theme_dir, versions, git,
                                                      source_digests.get(post.source))
        tree.write(post.path + RECORD_NAME, record.text)
    return records, git


def write_pages(pages: dict, tree: OutputTree, config) -> None:
    """Pages into the tree, each linking the site stylesheet of the classes their style attributes became.

    The stylesheet's name changes with its content; a page kept from the previous build
    whose link is out of date gets only its link changed.
    """
    from labpress.math.styles import InlineStyles
    from labpress.theme.lookup import fingerprint

    rules = {name: body for page in pages.values() for name, body in page.rules.items()}
    css_url = None
    if rules:
        css = InlineStyles.stylesheet(rules).encode("utf-8")
        css_path = f"assets/inline.{fingerprint(css)}.css"
        tree.write(css_path, css)
        css_url = config.url(css_path)
    link = lambda url: f'<link rel="stylesheet" href="{url}">\n</head>'
    for out, page in sorted(pages.items()):
        wanted = css_url if page.rules else None
        extra = {"rules": page.rules, "css": wanted}
        if page.html is not None:
            tree.write(out, page.html.replace("</head>", link(wanted), 1) if wanted else page.html, page.source, extra)
            continue
        previous = tree.reusable(out, page.source)
        if previous.extra.get("css") == wanted:
            tree.keep(out)
        else:  # only the stylesheet moved (pages with rules always link one)
            html = tree.read_previous(out).decode("utf-8").replace(link(previous.extra["css"]), link(wanted), 1)
            tree.write(out, html, page.source, extra)


_environments: dict[str, object] = {}


def _templates(config, key: str, cache_dir: Path | None):
    """The theme's Jinja2 environment, kept while the theme and configuration stay the same, so
    that a long-running process (``labpress serve``) compiles each template once."""
    if key not in _environments:
        from labpress.site.pages import template_environment

        _environments.clear()
        _environments[key] = template_environment(config, cache_dir / "templates" if cache_dir else None)
    return _environments[key]


def _with_search(environment, search):
    """The templates, with the search box's script and index (``search``, a SearchAssets) as a global."""
    environment.globals["search"] = search
    return environment


def render_context(site_dir: Path, base_url: str | None, use_cache: bool,
                   notify: Callable[[str], None] = warn) -> RenderContext:
    """What rendering posts needs, made afresh in each worker process."""
    from labpress.math.katex import CACHE_NAME as KATEX_CACHE, KatexRenderer
    from labpress.site.workers import RenderContext
    from labpress.theme.lookup import find_node_package
    from labpress.widgets.library import WidgetLibrary, WidgetLimits

    config = load_config(site_dir, base_url)
    katex = KatexRenderer(find_node_package("katex", site_dir), config.macros,
                          site_dir / CACHE_DIR / KATEX_CACHE if use_cache else None,
                          seconds=config.seconds_per_block, notify=notify)
    library = WidgetLibrary(site_dir, config.pyodide_packages,
                            WidgetLimits(config.widget_max_states, config.widget_max_frame_bytes,
                                         config.seconds_per_block))
    return RenderContext(config, katex, library, site_dir / CACHE_DIR if use_cache else None)


def build_site(site_dir: Path, out_dir: Path | None = None, base_url: str | None = None,
               drafts: bool = False, use_cache: bool = True, progress=None, jobs: int | None = None,
               notify: Callable[[str], None] | None = None, wait: float = DEFAULT_WAIT_SECONDS) -> BuildResult:
    """Build the site; ``progress(done, total, path)`` is called as each post is rendered.

    ``jobs``: processes rendering posts (default: every core when there are many posts to render).
    ``notify``: one line for the author (a damaged cache set aside, a wait for another build).
    ``wait``: seconds to wait for another build of the same site (0: fail at once).
    """
    notify = notify or warn
    site_dir = site_dir.resolve()
    config = load_config(site_dir, base_url)  # a site directory, before anything is written into it
    if base_url is None and not config.base_url_configured:
        notify(NO_BASE_URL)
    cache_folder = site_dir / CACHE_DIR
    prepare_cache_folder(cache_folder, notify)
    with site_lock(cache_folder, wait, notify):
        remove_temporary_files(cache_folder)
        return _build_locked(site_dir, out_dir, base_url, drafts, use_cache, progress, jobs, notify)


def _build_locked(site_dir: Path, out_dir: Path | None, base_url: str | None, drafts: bool, use_cache: bool,
                  progress, jobs: int | None, notify: Callable[[str], None]) -> BuildResult:
    started = time.perf_counter()
    started_ns = time.time_ns()
    out_dir = (out_dir or site_dir / "build").resolve()
    _check_output_folder(site_dir, out_dir)
    recover(out_dir)  # what a killed build left beside the output folder
    cache_dir = site_dir / CACHE_DIR
    arguments = None  # what besides its inputs this build depends on (site/fresh.py)
    if use_cache:  # nothing to do when every input, cache file and output file is as the last build left it
        arguments = fresh.arguments_key(site_dir, out_dir, base_url, drafts)
        known = fresh.still_fresh(site_dir, out_dir, cache_dir, arguments, Manifest.file_for(cache_dir, out_dir))
        if known is not None:
            forget_missing_outputs(cache_dir)  # as publishing does
            return _as_before(known, out_dir, progress, started)
    reads = Reads()  # what this thread reads from here on, for the stamp
    context = cache = None
    try:
        with recording(reads if use_cache else None):
            from labpress.cache.posts import BuildCache

            context = render_context(site_dir, base_url, use_cache, notify)
            cache = BuildCache(cache_dir if use_cache else None, notify)
            return _build(site_dir, out_dir, drafts, use_cache, progress, jobs, context, cache, started,
                          (site_dir, base_url, use_cache), fresh.Inputs(started_ns), reads, arguments)
    finally:  # every handle on the caches closed, whatever happened
        if context is not None:
            context.katex.close()
        if cache is not None:
            cache.close()


def _as_before(known: dict, out_dir: Path, progress, started: float) -> BuildResult:
    """The result of a build that found the output already made (site/fresh.py)."""
    sources = known["sources"]
    if progress:
        for done, shown in enumerate(sources, 1):
            progress(done, len(sources), shown)
    return BuildResult(out_dir=out_dir, pages=known["pages"], files=known["files"],
                       seconds=time.perf_counter() - started, formulas_typeset=0, formulas_cached=0,
                       rendered_posts=[], rendered_pages=[])


def _build(site_dir: Path, out_dir: Path, drafts: bool, use_cache: bool, progress, jobs: int | None,
           context: RenderContext, cache: BuildCache, started: float, arguments: tuple,
           inputs: fresh.Inputs, reads: Reads, stamp: list | None) -> BuildResult:
    """The build itself; ``stamp``: the arguments to write its stamp with (None: no stamp, no cache)."""
    from labpress.cache.digests import code_digest, digest
    from labpress.content.posts import Post, assemble_site, discover_posts
    from labpress.content.slugs import slugify
    from labpress.math.styles import InlineStyles
    from labpress.search.index import write_search
    from labpress.site.feeds import FEED_SIZE, atom_feed, sitemap
    from labpress.site.pages import page_dates, render_pages
    from labpress.site.workers import default_jobs, render_many
    from labpress.theme.lookup import find_node_package, theme_digest as theme_tree_digest, theme_file
    from labpress.theme.palette import STYLESHEET
    from labpress.theme.static import write_theme_static
    from labpress.widgets.library import once_per_kernel
    from labpress.widgets.shipping import write_widget_assets

    config, katex = context.config, context.katex
    katex.open_cache()  # checked before any worker reads it
    # The stylesheet a post's figures take their colours from (its edits are inputs of those posts):
    # a site's own copy added or removed renders the posts again.
    config_digest = digest((site_dir / CONFIG_NAME).read_bytes(), config.base_url,
                           str(theme_file(config.theme_dir, STYLESHEET)))
    errors: list[ContentError] = []
    sources = discover_posts(site_dir, errors)  # a post that cannot be read is an error, not a crash
    found: dict[Path, Post] = {}
    keys: dict[Path, str] = {}
    source_digests: dict[Path, str] = {}  # sha256 of the bytes each post's key was made from (provenance)

    def render_again(source: Path, key: str) -> str:
        """A cached post whose HTML turned out damaged: rendered here and now, and kept."""
        from labpress.site.workers import render_one

        post, post_errors = render_one(context, (source, key))
        if not post_errors:
            cache.remember(key, post.body)
        return post.html

    for source in sources:
        shown = source.relative_to(site_dir).as_posix()  # discover_posts finds them inside site_dir
        read_ns = time.time_ns()
        with open(source, "rb") as handle:
            st = os.fstat(handle.fileno())  # before the bytes: a later change shows in the stat
            text = handle.read()
        source_digests[source] = hashlib.sha256(text).hexdigest()
        inputs.known("file", str(source), st, source_digests[source], read_ns)
        keys[source] = key = cache.post_key(text, shown, config_digest)
        body = cache.load_body(key)
        if body is not None:
            found[source] = Post(source=source, shown_path=shown, slug=slugify(source.stem), body=body, key=key,
                                 load_html=lambda key, source=source: _html_or(cache.load_html(key), render_again,
                                                                               source, key))
    to_render = [s for s in sources if s not in found]
    done = 0
    for post in found.values():
        done += 1
        if progress:
            progress(done, len(sources), post.shown_path)
    workers = jobs if jobs else default_jobs(len(to_render))
    # Consumed to the end: the worker processes (and their handles on the caches) are gone before
    # the caches are written.
    rendered = render_many([(s, keys[s]) for s in to_render], context, render_context, arguments, workers)
    for index, (post, post_errors) in enumerate(rendered):
        source = to_render[index]
        found[source] = post
        cache.rendered_posts.append(post.shown_path)
        if not post_errors:
            cache.remember(keys[source], post.body)
        done += 1
        if progress:
            progress(done, len(sources), post.shown_path)
        # A draft being written does not block the published posts.
        if drafts or not post.meta.is_draft:
            errors.extend(post_errors)
    errors = once_per_kernel(errors)  # a kernel that failed to load: one error, not one per post using it
    posts = [found[s] for s in sources if drafts or not found[s].meta.is_draft]
    site, site_errors = assemble_site(config, posts, drafts)
    errors.extend(site_errors)
    from labpress.markdown.xref import check_post_references, fill_post_references, site_labels

    labels = site_labels(site.posts)  # @post-SLUG#label references, filled in as pages are written
    errors.extend(check_post_references(site.posts, labels))
    katex.save()
    cache.save()  # before any error is raised: the posts that rendered well are kept
    if errors:
        raise ContentErrors(errors)

    theme_digest = theme_tree_digest(config.theme_dir)  # the site's own theme files and the packaged ones
    cache_dir = site_dir / CACHE_DIR if use_cache else None
    templates = lambda: _templates(config, digest(theme_digest, config_digest, str(cache_dir)), cache_dir)  # noqa: E731
    tree = OutputTree(Manifest.load(cache_dir, out_dir))
    assets = write_theme_static(config, find_node_package("katex", site_dir), tree)
    runtime = write_widget_assets(site, config, tree)
    write_site_static(site_dir, tree)
    provenance, git = write_provenance(site, site_dir, out_dir, config, source_digests, tree)
    search = write_search(site, config, tree, labels, cache_dir)  # the posts' index, and the masthead's search box
    pages = render_pages(site, assets, lambda: _with_search(templates(), search), runtime, tree,
                         digest(code_digest(), theme_digest, config_digest, drafts, search.script, search.pages > 0),
                         finish=InlineStyles().extract, provenance=provenance)
    write_pages(pages, tree, config)
    feed_html = {p.slug: fill_post_references(p.html, labels) for p in site.posts[:FEED_SIZE]}
    tree.write("atom.xml", atom_feed(site, feed_html))
    tree.write("sitemap.xml", sitemap(site, page_dates(site)))
    tree.write(".nojekyll", "")
    katex.save()  # formulas of posts rendered again because their cached HTML was damaged
    cache.save()
    search.finish()  # the index Pagefind made meanwhile, into the tree
    publish(tree, out_dir, cache_dir)
    rendered_pages = sorted(out for out, page in pages.items() if page.html is not None)
    files = len(tree.written)
    if stamp is not None:
        _record(site_dir, out_dir, cache_dir, stamp, inputs, reads, git, found.values(), cache, tree,
                {"pages": len(pages), "files": files, "sources": [found[s].shown_path for s in sources]})
    return BuildResult(
        rendered_posts=cache.rendered_posts if use_cache else [p.shown_path for p in posts],
        rendered_pages=rendered_pages,
        out_dir=out_dir,
        pages=len(pages),
        files=files,
        seconds=time.perf_counter() - started,
        formulas_typeset=katex.misses,
        formulas_cached=katex.hits,
    )


def _record(site_dir: Path, out_dir: Path, cache_dir: Path, arguments: list, inputs: fresh.Inputs, reads: Reads,
            git, posts, cache: BuildCache, tree: OutputTree, result: dict) -> None:
    """The stamp of this build (site/fresh.py): besides what this thread read, LabPress's own code as
    this process read it, and what each post's code, blocks and widgets read (their digests as the
    post's body was checked or made in this build)."""
    _digest, code, read_ns = code_tree()
    for kind, path, st, value in code:
        inputs.known(kind, path, st, value, read_ns)
    for post in posts:
        for kind, path, value in post.body.inputs:
            inputs.known(kind, str(path), fresh.stat_of(str(path)), value, inputs.started_ns)
        for use in post.body.widgets:
            for path in use.source_files():
                inputs.known("file", str(path), fresh.stat_of(str(path)), cache.file_digest(path), inputs.started_ns)
    excluded = (str(out_dir) + os.sep, str(out_dir.parent / f".{out_dir.name}."), str(cache_dir) + os.sep,
                str(code_root()) + os.sep, *fresh.SPECIAL)
    fresh.record(fresh.stamp_file(cache_dir, out_dir), arguments, inputs, reads, excluded, git, cache_dir,
                 Manifest.file_for(cache_dir, out_dir), out_dir, tree.written, result)


def _check_output_folder(site_dir: Path, out_dir: Path) -> None:
    """The output folder is replaced whole by each build: it must not hold anything else."""
    if site_dir.is_relative_to(out_dir) or out_dir in (site_dir / CACHE_DIR, site_dir / "content"):
        raise ConfigError(f"error: the output folder {out_dir} would replace the site itself; choose another --out")
    if out_dir.exists() and not out_dir.is_dir():
        raise ConfigError(f"error: the output folder {out_dir} is a file; remove it or choose another --out")
    if out_dir.is_dir() and not (out_dir / ".nojekyll").exists() and any(out_dir.iterdir()):
        raise ConfigError(f"error: {out_dir} is not empty and is not a LabPress build (it has no .nojekyll);"
                          " a build replaces its output folder whole, so choose an empty or new folder")


def _html_or(html: str | None, render_again, source: Path, key: str) -> str:
    return html if html is not None else render_again(source, key)
