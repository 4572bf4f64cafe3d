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
from labpress.cache.reads import Reads, paused, recording
from labpress.site.locking import DEFAULT_WAIT_SECONDS, prepare_cache_folder, remove_temporary_files, site_lock
from labpress.site import fresh
from labpress.site.memory import BuildMemory, Pending, Stage
from labpress.site.output import Manifest, OutputTree, forget_missing_outputs, publish, recover, save_manifest

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


_ASK = object()  # write_provenance asks git itself


def write_provenance(site, site_dir: Path, out_dir: Path, config, source_digests: dict,
                     tree: OutputTree, memory: BuildMemory | None = None, git=_ASK,
                     only: list | None = None) -> tuple[dict, object]:
    """Each post's provenance record beside its page (``<slug>/provenance.json``), by slug, and the
    git state they show.

    The tools' versions and the git state are found once for the whole build; the output
    and cache folders are not part of the work tree's state. ``memory``: records kept between
    builds, each by what it was made from; ``git``: the git state, when the caller asked for it;
    ``only``: the posts whose record may have changed (a tree that holds the others' already), when
    the versions and the git state are the last build's.
    """
    from labpress.provenance.git import git_state
    from labpress.provenance.record import RECORD_NAME, post_provenance
    from labpress.provenance.versions import tool_versions

    versions = _stage(memory, "versions", str(site_dir), lambda: tool_versions(site_dir), tree)
    if git is _ASK:
        git = git_state(site_dir, ignored=(out_dir, site_dir / CACHE_DIR))
    known = memory.provenance if memory is not None else {}
    shared = (versions, fresh.git_key(git), str(config.theme_dir), str(site_dir))
    records, kept = {}, {}
    targets = site.posts
    if only is not None and memory.records is not None and memory.records[0] == shared:
        records, kept, targets = dict(memory.records[1]), known, only
    with paused():  # what a record reads is the post's own (its body's inputs and widget modules)
        for post in targets:
            sha256 = source_digests.get(post.source)
            memo = known.get(post.slug)
            if memo is not None and memo[0] is post.body and memo[1] == post.key and memo[2] == sha256 \
                    and memo[3] == shared:
                record, text_digest = memo[4], memo[5]
            else:
                record = post_provenance(post, site_dir, config.theme_dir, versions, git, sha256)
                text_digest = None
            if text_digest is None:
                text_digest = hashlib.sha256(record.text.encode("utf-8")).hexdigest()
            kept[post.slug] = (post.body, post.key, sha256, shared, record, text_digest)
            records[post.slug] = record
            tree.write_or_keep(post.path + RECORD_NAME, record.text, text_digest)
    if memory is not None:
        memory.provenance = kept
        memory.records = (shared, records)
        memory.records_partial = targets is only
    return records, git


def _stage(memory: BuildMemory | None, name: str, arguments, run, tree: OutputTree):
    """``run()``, or what it gave and wrote last time when its inputs are unchanged: every input the
    build's own stages read (``memory.global_unchanged``) and ``arguments`` (compared with ==)."""
    if memory is None:
        return run()
    known = memory.stages.get(name)
    if memory.global_unchanged and known is not None and known.arguments == arguments:
        for relative, data, digest in known.writes:
            tree.write_or_keep(relative, data, digest)
        return known.result
    if known is not None and memory.seeded:  # a tree that starts as the published one
        for relative, _data, _digest in known.writes:
            tree.kept.pop(relative, None)
    before, kept = {relative: id(data) for relative, data in tree.files.items()}, set(tree.kept)
    result = run()
    writes = [(relative, data, tree.digest(relative)) for relative, data in tree.files.items()
              if before.get(relative) != id(data)]
    if kept >= tree.kept.keys():  # (a stage that keeps files of the last build is run every time)
        memory.stages[name] = Stage(arguments, result, writes)
    else:
        memory.stages.pop(name, None)
    return result


def _feed(site, labels: dict, memory: BuildMemory | None) -> str:
    """atom.xml; with ``memory``, kept while what it shows is the same (and each entry's content)."""
    from labpress.markdown.xref import fill_post_references
    from labpress.site.feeds import FEED_SIZE, atom_feed

    newest = site.posts[:FEED_SIZE]
    feed_html = {p.slug: fill_post_references(p.html, labels) for p in newest}
    if memory is None:
        return atom_feed(site, feed_html)
    if memory.dates is None or memory.dates[0] is not site:
        memory.dates = (site, _page_dates(site))
    shows = (site.config, memory.dates[1][0][1],  # the newest post's date (the feed's)
             [(p.slug, p.meta, feed_html[p.slug]) for p in newest])
    if memory.feed is not None and memory.feed[0] == shows:
        return memory.feed[1]
    contents = memory.feed[2] if memory.feed is not None else {}
    xml = atom_feed(site, feed_html, contents)
    memory.feed = (shows, xml, {html: contents[html] for html in feed_html.values() if html in contents})
    return xml


def _page_dates(site) -> list:
    from labpress.site.pages import page_dates

    return page_dates(site)


def _sitemap(site, memory: BuildMemory | None) -> str:
    from labpress.site.feeds import sitemap

    if memory is None:
        return sitemap(site, _page_dates(site))
    if memory.dates is None or memory.dates[0] is not site:
        memory.dates = (site, _page_dates(site))
    dates = memory.dates[1]
    shows = (site.config, dates)
    if memory.sitemap is None or memory.sitemap[0] != shows:
        memory.sitemap = (shows, sitemap(site, dates))
    return memory.sitemap[1]


def write_pages(pages: dict, tree: OutputTree, config, memory: BuildMemory | None = None, only: bool = False) -> None:
    """Pages into the tree, each linking the site stylesheet of the classes their style attributes became.

    The stylesheet's name changes with its content; a page kept from the previous build
    whose link is out of date gets only its link changed. ``only``: the tree holds the last build's
    pages already: while the stylesheet stays, only the pages rendered now are written.
    """
    from labpress.math.styles import InlineStyles
    from labpress.theme.lookup import fingerprint

    rules = _all_rules(pages, memory)
    css_url = None
    if rules:
        known = memory.stylesheet if memory is not None else None
        if known is not None and known[0] == rules.keys():
            css, css_path = known[1], known[2]
        else:
            css = InlineStyles.stylesheet(rules).encode("utf-8")
            css_path = f"assets/inline.{fingerprint(css)}.css"
            if memory is not None:
                memory.stylesheet = (set(rules), css, css_path)
        tree.write_or_keep(css_path, css)
        css_url = config.url(css_path)
    link = lambda url: f'<link rel="stylesheet" href="{url}">\n</head>'
    if memory is not None:
        before, memory.next_css_url = memory.css_url, css_url
        if before is not None and before != css_url:
            tree.kept.pop(_css_path(before, config), None)  # the last build's stylesheet is gone
        if only and before == css_url:
            pages = {out: page for out, page in pages.items() if page.html is not None}
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


def _widget_uses(site, memory: BuildMemory | None, changed: list | None) -> list:
    """Each post's widgets (what the widget assets are made from); for the same site as last time,
    the last list when the ``changed`` posts' widgets are the same."""
    if memory is not None and changed is not None and memory.widget_uses is not None \
            and memory.widget_uses[0] is site:
        known = memory.widget_uses[2]
        if all(post.body.widgets == known.get(id(post)) for post in changed):
            return memory.widget_uses[1]
    uses = [post.body.widgets for post in site.posts]
    if memory is not None:
        memory.widget_uses = (site, uses, {id(post): post.body.widgets for post in site.posts})
    return uses


def _uncommitted(memory: BuildMemory, records: dict, changed: list) -> list[str]:
    """The slugs of the posts whose own files are not committed as they are, sorted; when only the
    ``changed`` posts' records were made again, worked out from the last build's."""
    known = memory.uncommitted
    if memory.records_partial and known is not None:
        for post in changed:
            known.discard(post.slug)
            if records[post.slug].clean is False:
                known.add(post.slug)
    else:
        known = memory.uncommitted = {slug for slug, record in records.items() if record.clean is False}
    return sorted(known)


def _css_path(url: str, config) -> str:
    """The path in the tree of the site stylesheet at ``url``."""
    return url[len(config.url("")):]


def _all_rules(pages: dict, memory: BuildMemory | None) -> dict[str, str]:
    """Every style rule the pages use (a rule's name is the digest of its body: see math/styles.py);
    with ``memory``, counted page by page, so only the pages whose rules changed are looked at."""
    if memory is None:
        return {name: body for page in pages.values() for name, body in page.rules.items()}
    seen, counts, bodies = memory.rules
    for out in [out for out in seen if out not in pages]:
        for name in seen.pop(out):
            counts[name] -= 1
    for out, page in pages.items():
        before = seen.get(out)
        if before is page.rules:
            continue
        for name in before or ():
            counts[name] -= 1
        for name, body in page.rules.items():
            counts[name] = counts.get(name, 0) + 1
            bodies[name] = body
        seen[out] = page.rules
    for name in [name for name, count in counts.items() if count <= 0]:
        del counts[name], bodies[name]
    return bodies


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
               notify: Callable[[str], None] | None = None, wait: float = DEFAULT_WAIT_SECONDS,
               memory: BuildMemory | None = None) -> BuildResult:
    """Build the site; ``progress(done, total, path)`` is called as each post is rendered.

    ``jobs``: processes rendering posts (default: every core when there are many posts to render).
    ``notify``: one line for the author (a damaged cache set aside, a wait for another build).
    ``wait``: seconds to wait for another build of the same site (0: fail at once).
    ``memory``: what a long-running process keeps between its builds of this site (site/memory.py);
    with it, the pages are published before the caches, the manifest, the stamp and the search
    index are brought up to date: call ``finish(memory)`` soon after.
    """
    notify = notify or warn
    site_dir = site_dir.resolve()
    if memory is None or memory.config is None or base_url is None:  # (a process that built it knows)
        config = load_config(site_dir, base_url)  # a site directory, before anything is written into it
        if base_url is None and not config.base_url_configured:
            notify(NO_BASE_URL)
    cache_folder = site_dir / CACHE_DIR
    prepare_cache_folder(cache_folder, notify)
    with site_lock(cache_folder, wait, notify):
        remove_temporary_files(cache_folder)
        if memory is not None:
            _finish_locked(memory)  # what the last build left, if nobody asked for it
        return _build_locked(site_dir, out_dir, base_url, drafts, use_cache, progress, jobs, notify, memory)


def _build_locked(site_dir: Path, out_dir: Path | None, base_url: str | None, drafts: bool, use_cache: bool,
                  progress, jobs: int | None, notify: Callable[[str], None],
                  memory: BuildMemory | None = None) -> BuildResult:
    started = time.perf_counter()
    started_ns = time.time_ns()
    out_dir = (out_dir or site_dir / "build").resolve()
    _check_output_folder(site_dir, out_dir)
    if memory is not None:
        _remembered(memory, site_dir, out_dir, base_url, drafts, use_cache)
    recover(out_dir, keep=memory.shadow.path if memory is not None and memory.shadow else None)  # what a killed build left
    cache_dir = site_dir / CACHE_DIR
    arguments = fresh.arguments_key(site_dir, out_dir, base_url, drafts) if use_cache else None
    if use_cache and memory is None:  # nothing to do when every input, cache file and output file is as left
        known = fresh.still_fresh(site_dir, out_dir, cache_dir, arguments, Manifest.file_for(cache_dir, out_dir))
        if known is not None:
            forget_missing_outputs(cache_dir)  # as publishing does
            return _as_before(known, out_dir, progress, started)
    reads = Reads()  # what this thread reads from here on, for the stamp (or the memory)
    context = cache = None
    try:
        with recording(reads if use_cache or memory is not None else None):
            from labpress.cache.posts import BuildCache

            if memory is not None and memory.global_unchanged and memory.config is not None:
                context = _same_context(memory, site_dir)
            else:
                context = render_context(site_dir, base_url, use_cache, notify)
                if memory is not None:
                    memory.config, memory.katex = context.config, context.katex
            cache = BuildCache(cache_dir if use_cache else None, notify)
            return _build(site_dir, out_dir, drafts, use_cache, progress, jobs, context, cache, started,
                          (site_dir, base_url, use_cache), fresh.Inputs(started_ns), reads, arguments, memory)
    except BaseException:
        if memory is not None:  # the posts it holds as the last good build left them
            for post, body, key, load_html in reversed(memory.changed_objects):
                post.body, post.key, post.load_html = body, key, load_html
        raise
    finally:  # every handle on the caches closed, whatever happened
        if memory is not None:
            memory.changed_objects = []
        if context is not None:
            context.katex.close()
        if cache is not None:
            cache.close()


def _remembered(memory: BuildMemory, site_dir: Path, out_dir: Path, base_url, drafts: bool, use_cache: bool) -> None:
    """Check what ``memory`` knows before a build: forget it all for other arguments; whether what the
    build's stages read is unchanged; the output folder as this process left it."""
    key = [fresh.arguments_key(site_dir, out_dir, base_url, drafts), use_cache]
    if memory.arguments != key:
        memory.reset(key)
    memory.global_unchanged = memory.global_entries is not None and all(
        fresh.unchanged(entry, settle=True) for entry in memory.global_entries)
    if not memory.global_unchanged:
        memory.global_entries = None
    try:
        inode = os.stat(out_dir).st_ino
    except OSError:
        inode = None
    if memory.manifest is not None and inode != memory.out_inode:
        memory.forget_output()  # another build published meanwhile, or the folder went


def _same_context(memory: BuildMemory, site_dir: Path) -> RenderContext:
    """The render context of the last build, its configuration unchanged (a new widget library: its
    modules are loaded once per build)."""
    from labpress.site.workers import RenderContext
    from labpress.widgets.library import WidgetLibrary, WidgetLimits

    config = memory.config
    library = WidgetLibrary(site_dir, config.pyodide_packages,
                            WidgetLimits(config.widget_max_states, config.widget_max_frame_bytes,
                                         config.seconds_per_block))
    return RenderContext(config, memory.katex, library, site_dir / CACHE_DIR if memory.arguments[1] else None)


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
           inputs: fresh.Inputs, reads: Reads, stamp: list | None, memory: BuildMemory | None) -> BuildResult:
    """The build itself; ``stamp``: the arguments to write its stamp with (None: no stamp, no cache)."""
    from labpress.cache.digests import code_digest, digest
    from labpress.content.posts import Post, discover_posts
    from labpress.content.slugs import slugify
    from labpress.math.styles import InlineStyles
    from labpress.search.index import write_search
    from labpress.site.pages import render_pages
    from labpress.site.workers import default_jobs, render_many
    from labpress.theme.lookup import find_node_package, theme_digest as theme_tree_digest, theme_file
    from labpress.theme.palette import STYLESHEET
    from labpress.theme.static import write_theme_static
    from labpress.widgets.library import once_per_kernel
    from labpress.widgets.shipping import write_widget_assets

    config, katex = context.config, context.katex
    replay = memory is not None and memory.global_unchanged
    git_query = _ask_git(site_dir, out_dir) if memory is not None else None  # meanwhile, in a thread
    katex.open_cache()  # checked before any worker reads it
    moved: set[Path] = set()  # post files whose stat moved (with a memory)
    if replay:  # the post files known by their stat (the stages do not look at them again: see _remember)
        with paused():
            moved = {source for source in memory.sources if source not in memory.files
                     or not fresh.unchanged(memory.files[source][0], settle=True)}
            ok = all(source.is_file() for source in moved)
        if not ok:  # one is no post file any more: look at them all again
            replay = memory.global_unchanged = False
            memory.global_entries = None
    # The stylesheet a post's figures take their colours from (its edits are inputs of those posts):
    # a site's own copy added or removed renders the posts again.
    if replay:
        config_digest = memory.config_digest
    else:
        config_digest = digest((site_dir / CONFIG_NAME).read_bytes(), config.base_url,
                               str(theme_file(config.theme_dir, STYLESHEET)))
    errors: list[ContentError] = []
    if replay:
        sources, errors = list(memory.sources), list(memory.discover_errors)
    else:
        sources = discover_posts(site_dir, errors)  # a post that cannot be read is an error, not a crash
    found: dict[Path, Post] = {}
    keys: dict[Path, str] = {}
    source_digests: dict[Path, str] = {}  # sha256 of the bytes each post's key was made from (provenance)
    remembered_files = memory.files if replay else {}
    remembered_posts = memory.posts if memory is not None else {}
    post_entries: dict[str, list] = {}  # key -> input entries of the post's body (with a memory)
    reread: list[Path] = []  # post files read (not known by their stat)
    dirty: list[Path] = []  # posts not taken whole from the memory (loaded from the cache or rendered)

    def render_again(source: Path, key: str) -> str:
        """A cached post whose HTML turned out damaged: rendered here and now, and kept."""
        from labpress.site.workers import render_one

        post, post_errors = render_one(context, (source, key))
        if not post_errors:
            cache.remember(key, post.body)
        return post.html

    by_source = {post.source: post for post, _entries in remembered_posts.values()} if memory is not None else {}
    with paused():  # a post's file and what its body read are inputs of the post, known another way
        for source in sources:
            known = remembered_files.get(source)
            if known is not None and source not in moved:
                entry, source_digests[source], key, shown = known
                inputs.entries[(False, entry[1])] = entry
            else:
                reread.append(source)
                shown = source.relative_to(site_dir).as_posix()  # discover_posts finds them inside site_dir
                read_ns = time.time_ns()
                with open(source, "rb") as handle:
                    st = os.fstat(handle.fileno())  # before the bytes: a later change shows in the stat
                    text = handle.read()
                source_digests[source] = hashlib.sha256(text).hexdigest()
                inputs.known("file", str(source), st, source_digests[source], read_ns)
                key = cache.post_key(text, shown, config_digest)
            keys[source] = key
            remembered = remembered_posts.get(key)
            if remembered is not None and all(fresh.unchanged(entry, settle=True) for entry in remembered[1]):
                found[source] = remembered[0]
                post_entries[key] = remembered[1]
                cache.use(key)
                continue
            dirty.append(source)
            body = cache.load_body(key)
            if body is not None:
                post = Post(source=source, shown_path=shown, slug=slugify(source.stem), body=body, key=key,
                            load_html=lambda key, source=source: _html_or(cache.load_html(key), render_again,
                                                                          source, key))
                found[source] = _same_object(by_source.get(source), post, memory)
    to_render = [s for s in sources if s not in found]
    done = 0
    for post in found.values():
        done += 1
        if progress:
            progress(done, len(sources), post.shown_path)
    workers = jobs if jobs else default_jobs(len(to_render))
    # Consumed to the end: the worker processes (and their handles on the caches) are gone before
    # the caches are written.
    made_there: dict[int, tuple] = {}  # what the workers made of each body's HTML besides (site/workers.py)
    rendered = render_many([(s, keys[s]) for s in to_render], context, render_context, arguments, workers,
                           made_there)
    for index, (post, post_errors) in enumerate(rendered):
        source = to_render[index]
        post = found[source] = _same_object(by_source.get(source), post, memory)
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
    changed_posts = [found[s] for s in dirty]
    known = memory.posts_list if replay else None
    if known is not None and len(known[1]) == len(sources) and all(
            found[s] is known[1].get(s) and found[s].meta.is_draft == known[2].get(s) for s in dirty):
        posts = known[0]  # the same post objects, drafts and not, as last time
    else:
        posts = [found[s] for s in sources if drafts or not found[s].meta.is_draft]
        if memory is not None:
            memory.posts_list = (posts, dict(found), {s: post.meta.is_draft for s, post in found.items()})
    site, site_errors, same_site = _assembled(config, posts, drafts, memory, changed_posts, replay)
    errors.extend(site_errors)
    from labpress.markdown.xref import check_post_references

    labels = _labels(site, memory, changed_posts if same_site else None)  # @post-SLUG#label references
    errors.extend(check_post_references(site.posts, labels))
    if errors:
        katex.save()
        cache.save()  # before the errors are raised: the posts that rendered well are kept
        raise ContentErrors(errors)
    # Otherwise the caches are written once the search index is on its way (below, or in finish()
    # with a memory): Pagefind is the last step to end, so it starts as early as it can.

    if replay:
        theme_digest = memory.theme_digest
    else:
        theme_digest = theme_tree_digest(config.theme_dir)  # the site's own theme files and the packaged ones
    cache_dir = site_dir / CACHE_DIR if use_cache else None
    templates = lambda: _templates(config, digest(theme_digest, config_digest, str(cache_dir)), cache_dir)  # noqa: E731
    if memory is not None and memory.manifest is not None:
        previous = memory.manifest
    else:
        previous = Manifest.load(cache_dir, out_dir)
    tree = OutputTree(previous)
    # With the same site as last time (and the same stages' inputs), a build changes only what its
    # changed posts show: the tree starts as the published one, and the stages write what differs.
    delta = memory is not None and replay and same_site and memory.manifest is not None and memory.last is not None
    if memory is not None:
        memory.seeded = delta
    if delta:
        tree.kept = dict(memory.manifest.entries)
    from labpress.search.index import pagefind_version

    # The posts' index (Pagefind runs in a thread from here on, while the pages render), and the
    # masthead's search box.
    search = write_search(site, config, tree, labels, cache_dir,
                          defer=memory is not None, memo=memory.made_from if memory is not None else None,
                          pagefind=_stage(memory, "pagefind", None, pagefind_version, tree),
                          only=changed_posts if delta else None,
                          texts={body: made[0] for body, made in made_there.items()})
    katex_dir = find_node_package("katex", site_dir)
    assets = _stage(memory, "theme", str(katex_dir), lambda: write_theme_static(config, katex_dir, tree), tree)
    # The classes of each post's HTML, where the workers found them (for the faces a page preloads).
    assets.know_classes({post.html: made_there[id(post.body)][1] for post in site.posts if id(post.body) in made_there})
    runtime = _stage(memory, "widgets", _widget_uses(site, memory, changed_posts if same_site else None),
                     lambda: write_widget_assets(site, config, tree), tree)
    _stage(memory, "static", None, lambda: write_site_static(site_dir, tree), tree)
    git = git_query() if git_query is not None else _ASK
    provenance, git = write_provenance(site, site_dir, out_dir, config, source_digests, tree, memory, git,
                                       only=changed_posts if delta else None)
    if memory is not None:  # which posts' own files are not committed, as the listings mark them
        memory.pages["records"] = provenance
        memory.pages["uncommitted"] = _uncommitted(memory, provenance, changed_posts)
    pages = render_pages(site, assets, lambda: _with_search(templates(), search), runtime, tree,
                         digest(code_digest(), theme_digest, config_digest, drafts, search.script, search.pages > 0),
                         finish=InlineStyles().extract, provenance=provenance,
                         memo=memory.pages if memory is not None else None, labels=labels,
                         only=changed_posts if delta and memory.records_partial else None)
    write_pages(pages, tree, config, memory, only=delta)
    tree.write_or_keep("atom.xml", _feed(site, labels, memory))
    tree.write_or_keep("sitemap.xml", _sitemap(site, memory))
    tree.write_or_keep(".nojekyll", "")
    rendered_pages = sorted(out for out, page in pages.items() if page.html is not None)
    if memory is not None and replay and memory.result_sources is not None:
        shown = memory.result_sources  # the same files, and a post's path is its file's
    else:
        shown = [found[s].shown_path for s in sources]
    if memory is None:
        katex.save()  # the formulas and posts this build made (after the index started: see above)
        cache.save()
        # The index Pagefind makes meanwhile comes into the tree last (search.finish waits for it);
        # a clean build writes the rest of the tree into its staging folder while it waits.
        publish(tree, out_dir, cache_dir, late=search.finish)
        files = len(tree.kept.keys() | tree.files.keys())
        result = {"pages": len(pages), "files": files, "sources": shown}
        if stamp is not None:
            _record(site_dir, out_dir, cache_dir, stamp, inputs, reads, git, found.values(), cache, tree, result)
    else:
        for source in dirty:  # what each post's body read, known again by stat at the next build
            post = found[source]
            if post.key not in post_entries:
                post_entries[post.key] = _post_inputs(post, cache, inputs.started_ns)
        memory.result_sources = shown
        files = len(tree.kept.keys() | tree.files.keys())  # (the index as the last build left it, for now)
        result = {"pages": len(pages), "files": files, "sources": shown}
        publish(tree, out_dir, cache_dir, shadow=memory.shadow, save=False)
        memory.last = True
        _remember(memory, site_dir, out_dir, cache_dir, stamp, inputs, reads, git, found, post_entries, tree,
                  result, katex, cache, search, config_digest, theme_digest, sources, reread, replay, dirty)
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


def _same_object(before, post, memory: BuildMemory):
    """``post``, or the post object the memory holds for its file, given its body: what the last
    build's site holds of it stays right where it can (site/memory.py). Undone if the build fails."""
    if before is not None and (before.slug, before.shown_path) == (post.slug, post.shown_path):
        memory.changed_objects.append((before, before.body, before.key, before.load_html))
        before.body, before.key, before.load_html = post.body, post.key, post.load_html
        return before
    return post


def _assembled(config, posts: list, drafts: bool, memory: BuildMemory | None, changed: list, replay: bool):
    """assemble_site, and whether its site is the last build's: with ``memory`` and ``replay`` (the
    configuration and the site's files unchanged), the same post objects with the same front matter
    (only the ``changed`` posts may have another) make the same site."""
    from labpress.content.posts import assemble_site

    if memory is None:
        return (*assemble_site(config, posts, drafts), False)
    known = memory.assembled if replay else None
    if known is not None and known[1] == drafts and len(known[0]) == len(posts) \
            and all(post is before for post, before in zip(posts, known[0])) \
            and all(post.meta is known[4].get(id(post)) or post.meta == known[4].get(id(post)) for post in changed):
        for post in changed:
            known[4][id(post)] = post.meta
        return known[2], known[3], True
    site, errors = assemble_site(config, posts, drafts)
    memory.assembled = (list(posts), drafts, site, list(errors), {id(post): post.meta for post in posts})
    return site, errors, False


def _labels(site, memory: BuildMemory | None, changed: list | None = None) -> dict:
    """The site's cross-reference labels (markdown/xref.py), kept by ``memory`` while each post's title
    and labels are the same (for the same site, only the ``changed`` posts' are looked at)."""
    from labpress.markdown.xref import site_labels

    if memory is None:
        return site_labels(site.posts)
    shown = lambda post: (post.slug, post.meta.title, (getattr(post.body, "xref", None) or {}).get("labels"))  # noqa: E731
    if changed is not None and memory.labels is not None and memory.labels[2] is site:
        if all(memory.labels[0].get(id(post)) == shown(post) for post in changed):
            return memory.labels[1]
    made_of = {id(post): shown(post) for post in site.posts}
    if memory.labels is None or memory.labels[0] != made_of:
        memory.labels = (made_of, site_labels(site.posts), site)
    else:
        memory.labels = (made_of, memory.labels[1], site)
    return memory.labels[1]


def _ask_git(site_dir: Path, out_dir: Path):
    """The git state, asked in a thread while the build goes on: a function that waits for it."""
    import threading

    from labpress.provenance.git import git_state

    answer = {}
    thread = threading.Thread(target=lambda: answer.setdefault("git", git_state(
        site_dir, ignored=(out_dir, site_dir / CACHE_DIR))), name="labpress-git", daemon=True)
    thread.start()

    def wait():
        thread.join()
        return answer.get("git")

    return wait


def _post_inputs(post, cache: BuildCache, started_ns: int) -> list:
    """The input entries (site/fresh.py) of what a post's body read and its widget modules."""
    entries = []
    for kind, path, value in post.body.inputs:
        st = fresh.stat_of(str(path))
        entries.append([kind, str(path), fresh.signature(st), value, fresh.is_racy(st, started_ns)])
    for use in post.body.widgets:
        for path in use.source_files():
            st = fresh.stat_of(str(path))
            entries.append(["file", str(path), fresh.signature(st), cache.file_digest(path),
                            fresh.is_racy(st, started_ns)])
    return entries


def _remember(memory: BuildMemory, site_dir: Path, out_dir: Path, cache_dir: Path, stamp, inputs: fresh.Inputs,
              reads: Reads, git, found: dict, post_entries: dict, tree: OutputTree, result: dict, katex, cache,
              search, config_digest: str, theme_digest: str, sources: list, reread: list, replay: bool,
              dirty: list) -> None:
    """What this build leaves in ``memory`` for the next one, and for ``finish(memory)``."""
    from labpress.site.output import Shadow, published_entries

    memory.config_digest, memory.theme_digest = config_digest, theme_digest
    memory.css_url = memory.next_css_url  # what the published pages link
    memory.sources, memory.discover_errors = list(sources), []  # (a build with errors is not remembered)
    if replay and len(memory.files) == len(found):  # the same files: only those read again change
        for source in reread:
            entry = inputs.entries[(False, str(source))]
            memory.files[source] = (entry, entry[3], found[source].key, found[source].shown_path)
    else:
        memory.files = {}
        for source, post in found.items():
            entry = inputs.entries[(False, str(source))]
            memory.files[source] = (entry, entry[3], post.key, post.shown_path)
    if replay and len(memory.posts) == len(found):  # the same files: only the posts made again change
        for key in [key for key, (post, _entries) in memory.posts.items() if post.key != key]:
            del memory.posts[key]
        for source in dirty:
            post = found[source]
            memory.posts[post.key] = (post, post_entries[post.key])
    else:
        memory.posts = {post.key: (post, post_entries[post.key]) for post in found.values()}
    # What the stages read: this build's, and (when they gave what they gave last time) the last one's.
    stages = fresh.Inputs(inputs.started_ns)
    if replay and memory.global_entries is not None:
        for entry in memory.global_entries:
            stages.entries[(entry[0] == "folder", entry[1])] = entry
    excluded = (str(out_dir) + os.sep, str(out_dir.parent / f".{out_dir.name}."), str(cache_dir) + os.sep,
                str(code_root()) + os.sep, *fresh.SPECIAL)
    if fresh.add_reads(stages, reads, excluded, out_dir):
        # A look at a post file (is it there, a file?) is part of the post's own entry (its stat and digest).
        posted = {entry[1] for entry, _sha, _key, _shown in memory.files.values()}
        memory.global_entries = [entry for entry in stages.entries.values()
                                 if not (entry[0] == "look" and entry[1] in posted)]
    else:
        memory.global_entries = None
    if memory.global_entries is None:
        memory.stages.clear()
    memory.manifest = Manifest.trusted(out_dir, published_entries(tree, out_dir))
    memory.out_inode = os.stat(out_dir).st_ino
    memory.tree = tree
    if memory.shadow is None:
        memory.shadow = Shadow(out_dir)
    pending = memory.pending = Pending()
    pending.saves += [katex.save, cache.save]
    if cache_dir is not None:
        pending.saves.append(lambda: save_manifest(tree, out_dir, cache_dir))
    pending.search = search.deferred
    if stamp is not None and memory.global_entries is not None:
        stamp_path = fresh.stamp_file(cache_dir, out_dir)
        global_entries, posts, files = list(memory.global_entries), list(memory.posts.values()), \
            [entry for entry, _sha, _key, _shown in memory.files.values()]

        def write_stamp(tree: OutputTree = tree) -> None:
            """The stamp (site/fresh.py) of this build, once its index is complete: the inputs as this
            process knows them (what the stages read, its own code, each post's file and inputs)."""
            _digest, code, read_ns = code_tree()
            code_inputs = fresh.Inputs(read_ns)
            for kind, path, st, value in code:
                code_inputs.known(kind, path, st, value, read_ns)
            entries = {**{(e[0] == "folder", e[1]): e for e in global_entries}, **code_inputs.entries}
            for _post, listed in posts:
                for entry in listed:
                    entries.setdefault((entry[0] == "folder", entry[1]), entry)
            for entry in files:
                entries[(False, entry[1])] = entry
            written = tree.written
            fresh.write(stamp_path, stamp, [list(e) for e in entries.values()], git, cache_dir,
                        Manifest.file_for(cache_dir, out_dir), out_dir, written, {**result, "files": len(written)})

        pending.stamp = write_stamp
    elif cache_dir is not None:
        fresh.forget(fresh.stamp_file(cache_dir, out_dir))


def finish(memory: BuildMemory, site_dir: Path, wait: float = DEFAULT_WAIT_SECONDS,
           notify: Callable[[str], None] | None = None) -> None:
    """What a build with ``memory`` left for after its pages were published: the cache files and the
    manifest written, the search index started in a thread (``memory.on_search_done`` is called when
    it is done: call ``finish_search``), the stamp written once the index is complete, and the shadow
    tree made for the next build."""
    cache_folder = site_dir.resolve() / CACHE_DIR
    if memory.pending is None:
        return
    with site_lock(cache_folder, wait, notify or warn):
        _finish_locked(memory)


def _finish_locked(memory: BuildMemory) -> None:
    pending = memory.pending
    if pending is None:
        return
    while pending.saves:
        pending.saves.pop(0)()
    if pending.search is not None and pending.search.thread is None:
        pending.search.start(memory.on_search_done)
    elif pending.search is None and pending.stamp is not None:
        stamp, pending.stamp = pending.stamp, None
        stamp()
    if memory.shadow is not None and memory.shadow.held is None and memory.tree is not None:
        memory.shadow.make(memory.tree)
    if pending.search is None and pending.stamp is None:
        memory.pending = None
    _settle_garbage(memory)


def _settle_garbage(memory: BuildMemory) -> None:
    """What the memory holds (every post's body, the pages' digests) set aside from Python's cyclic
    garbage collector, which would otherwise go through all of it in the middle of the next build
    (tens of milliseconds for a thousand posts). Now and then the collector first looks at it all
    once, so what a long session let go is freed."""
    import gc

    memory.builds_since_collect += 1
    if memory.builds_since_collect >= 16:
        memory.builds_since_collect = 0
        gc.unfreeze()
        gc.collect()
    gc.freeze()


def finish_search(memory: BuildMemory, site_dir: Path, wait: float = DEFAULT_WAIT_SECONDS,
                  notify: Callable[[str], None] | None = None) -> bool:
    """Publish the search index the last build with ``memory`` left to Pagefind, once it is done (and
    then the manifest and the stamp). False when there is none to publish yet."""
    pending = memory.pending
    if pending is None or pending.search is None or not pending.search.done():
        return False
    site_dir = site_dir.resolve()
    with site_lock(site_dir / CACHE_DIR, wait, notify or warn):
        if memory.pending is not pending or memory.tree is None:
            return False  # a build came meanwhile: its own index is on its way
        out_dir = memory.manifest.out_dir
        try:
            inode = os.stat(out_dir).st_ino
        except OSError:
            inode = None
        if inode != memory.out_inode:  # another build published meanwhile, with its own index
            memory.forget_output()
            memory.pending = None
            return False
        last = memory.tree
        tree = OutputTree(memory.manifest)
        from labpress.search.index import INDEX_DIR

        for relative in last.written:
            if not relative.startswith(INDEX_DIR):
                tree.keep_as(relative, memory.manifest.entries[relative])
        pending.search.write(tree)
        cache_dir = site_dir / CACHE_DIR if memory.arguments[1] else None
        publish(tree, out_dir, cache_dir, shadow=memory.shadow, save=False)
        from labpress.site.output import published_entries

        memory.manifest = Manifest.trusted(out_dir, published_entries(tree, out_dir))
        memory.out_inode = os.stat(out_dir).st_ino
        memory.tree = tree
        if cache_dir is not None:
            save_manifest(tree, out_dir, cache_dir)
        pending.search = None
        if pending.stamp is not None:
            stamp, pending.stamp = pending.stamp, None
            stamp(tree)
        if memory.shadow is not None and memory.shadow.held is None:
            memory.shadow.make(tree)
        memory.pending = None
    return True


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
