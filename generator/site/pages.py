"""The theme's Jinja2 templates, and every HTML page of a site rendered through them."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from markupsafe import Markup

if TYPE_CHECKING:
    import jinja2

from labpress.config.schema import SiteConfig
from labpress.content.frontmatter import DEFAULT_VERDICT_LABELS, VERDICT_MARKS, VERDICT_PHRASES, tag_slug
from labpress.cache.digests import Repr, digest
from labpress.theme.static import ThemeStatic
from labpress.content.posts import Site

MOOD_MARKS = {"learning": "⚠", "confident": "✓", "stuck": "✕", "curious": "?", "exploring": "→"}


def template_environment(config: SiteConfig, cache_dir=None) -> "jinja2.Environment":
    """The theme's templates; with ``cache_dir``, compiled templates are kept there between runs."""
    import jinja2  # here: a build that renders no page never loads it

    from labpress.theme.lookup import template_loader
    from labpress.theme.template_cache import checked_bytecode_cache

    bytecode = checked_bytecode_cache(Path(cache_dir)) if cache_dir else None
    env = jinja2.Environment(
        bytecode_cache=bytecode,
        loader=template_loader(config.theme_dir, config.root),  # the site's own templates, then the theme's
        autoescape=jinja2.select_autoescape(["html", "xml"], default_for_string=True),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.globals.update(
        site=config,
        url=config.url,
        absolute_url=config.absolute_url,
        verdict_marks=VERDICT_MARKS,
        verdict_phrases=VERDICT_PHRASES,
        verdict_labels=DEFAULT_VERDICT_LABELS,
        mood_marks=MOOD_MARKS,
    )
    env.filters["exp_number"] = lambda n: "" if n is None else f"EXP #{n:03d}"
    env.filters["tag_slug"] = tag_slug
    env.filters["isodate"] = lambda d: d.isoformat()
    env.filters["longdate"] = lambda d: f"{d.day} {d.strftime('%B')} {d.year}"
    env.filters["short"] = lambda sha, length=10: sha[:length] if sha else "absent"  # digests, commits
    return env


@dataclass
class RenderedPage:
    html: str | None  # None: the previous build's file is still right (see OutputTree.reusable)
    rules: dict[str, str]  # style rules of the classes it uses (math/styles.py)
    source: str  # digest of everything the page shows


def render_pages(site: Site, assets: ThemeStatic, templates, runtime=None, tree=None,
                 inputs_digest: str = "", finish=None, provenance: dict | None = None,
                 memo: dict | None = None, labels: dict | None = None,
                 only: list | None = None) -> dict[str, RenderedPage]:
    """Every HTML page, keyed by its output path relative to the site root.

    ``inputs_digest`` covers what every page may show (theme, configuration, all
    front matter); a post page adds its own body. With an output ``tree`` that
    knows the previous build, a page whose inputs are unchanged is not rendered.
    ``finish`` turns a page's HTML into (HTML, style rules it uses). ``templates()``
    gives the Jinja2 environment, made when the first page is rendered. ``provenance``: each
    post's record by slug (provenance/record.py), shown at the end of its page; the listings
    mark the posts whose own files are not committed as they are. ``memo``: kept between builds
    by a long-running process (site/memory.py): the digests are the same, made from what is kept,
    and a post's page whose every input is the same object as last time is the same page.
    ``labels``: the site's cross-reference labels (``site_labels``), when the caller has them.
    ``only``: the posts whose page may have changed, when every other post is as last time (the
    same body and record): their pages are the last build's without a look.
    """
    provenance = provenance or {}
    uncommitted = memo.get("uncommitted") if memo is not None and memo.get("records") is provenance else None
    if uncommitted is None:
        uncommitted = sorted(slug for slug, record in provenance.items() if record.clean is False)
    common = {"assets": assets, "all_series": site.series, "all_tags": site.tags}
    pages: dict[str, RenderedPage] = {}
    memo = memo if memo is not None else {}
    shared = _shared_digest(site, assets, inputs_digest, memo)
    sources = memo.setdefault("sources", {})  # out -> (what its digest was made of, the digest)
    finish = finish or (lambda html: (html, {}))
    from labpress.markdown.xref import fill_post_references, references_used, site_labels

    if labels is None:
        labels = site_labels(site.posts)  # references to other posts are filled in from these (markdown/xref.py)
    # A post's page is the last build's when all it shows is: the same shared part, runtime, labels,
    # listings' marks, and the same body, record and neighbours (objects kept by the memory).
    everything = (shared, runtime, uncommitted, labels)
    last = memo.get("post pages")
    same_site = last is not None and last[0] == everything and tree is not None
    post_pages: dict = {}

    def render(name: str, path: str, **context) -> None:
        context.setdefault("has_math", False)
        context.setdefault("widget_runtime", None)
        out = path + "index.html" if path == "" or path.endswith("/") else path
        post = context.get("post")
        # Only pages with widgets load the runtime, so only they depend on it. A post's key
        # stands for its body (the body is made from exactly what the key digests).
        # A post also shows what its code and blocks read (RenderedBody.inputs): their digests count too.
        shown = ((post.key, post.body.inputs) if post.key else post.html) if post else ""
        if post is not None:  # and what its references to other posts show
            shown = (shown, references_used(post.body, labels))
        # A post page shows its provenance record; a listing, which of its posts are uncommitted.
        record = context.get("provenance")
        made_of = (shared, name, shown, context["widget_runtime"], record.text if record else None,
                   context.get("uncommitted"))
        known = sources.get(out)
        if known is not None and known[0] == made_of:
            source = known[1]
        else:
            source = digest(shared, name, out, shown, context["widget_runtime"], record.text if record else None,
                            context.get("uncommitted"))
            sources[out] = (made_of, source)
        kept = tree.reusable(out, source) if tree is not None else None
        if kept is not None:
            pages[out] = RenderedPage(None, kept.extra.get("rules", {}), source)
            return
        if post is not None:
            context["body"] = Markup(fill_post_references(post.html, labels))
            context["provenance"] = record.record if record else None
        html, rules = finish(templates().get_template(name).render(page_path=path, **common, **context))
        if post is not None:
            rules = dict(sorted({**rules, **post.body.style_rules}.items()))
        pages[out] = RenderedPage(html, rules, source)

    targets = site.posts
    if same_site and only is not None and len(last[2]) == len(site.posts):
        # Every other post's page is the last build's: copied whole, then the changed posts' made again.
        post_pages, targets = dict(last[1]), only
        pages.update(last[2])
    for post in targets:
        prev, nxt = site.neighbours(post)
        record = provenance.get(post.slug)
        quick = (post.body, post.key, record, prev, nxt, site.series_of(post))
        if same_site:
            known = last[1].get(post.path)
            if known is not None and known[0] == quick and tree.reusable(post.path + "index.html", known[1].source):
                pages[post.path + "index.html"] = known[1]
                post_pages[post.path] = known
                continue
        render(
            "post.html",
            post.path,
            post=post,
            meta=post.meta,
            series=site.series_of(post),
            prev_post=prev,
            next_post=nxt,
            has_math=post.body.math_count > 0,
            widget_runtime=runtime if post.body.widgets else None,
            provenance=record,
        )
        page = pages[post.path + "index.html"]
        post_pages[post.path] = (quick, RenderedPage(None, page.rules, page.source))
    memo["post pages"] = (everything, post_pages, {path + "index.html": known[1] for path, known in post_pages.items()}
                          if targets is site.posts else _patched(last[2], post_pages, targets))
    render("index.html", "", posts=site.posts, uncommitted=uncommitted)
    render("series_list.html", "series/", series_list=site.series)
    for group in site.series:
        render("series.html", group.path, series=group, uncommitted=uncommitted)
    render("tags.html", "tags/", tags=site.tags)
    for group in site.tags:
        render("tag.html", group.path, tag=group, uncommitted=uncommitted)
    render("404.html", "404.html")
    return pages


def _patched(pages: dict, post_pages: dict, changed: list) -> dict:
    """The last build's post pages by output path, with the ``changed`` posts' as now."""
    for post in changed:
        pages[post.path + "index.html"] = post_pages[post.path][1]
    return pages


def _shared_digest(site: Site, assets: ThemeStatic, inputs_digest: str, memo: dict) -> str:
    """The digest of what every page may show: ``inputs_digest``, the assets, and each post's address,
    front matter and what the listings say of it; each post's part kept by its body (``memo``)."""
    known = memo.get("posts")  # (site.posts as last seen, their bodies, each one's repr)
    if known is not None and known[0] is site.posts and len(known[1]) == len(site.posts):
        bodies, shown = known[1], known[2]
        for index, post in enumerate(site.posts):
            if post.body is not bodies[index]:
                bodies[index] = post.body
                shown[index] = _listed(post)
    else:
        bodies = [post.body for post in site.posts]
        shown = [_listed(post) for post in site.posts]
        memo["posts"] = (site.posts, bodies, shown)
    kept = memo.get("assets")
    if kept is None or kept[0] != assets:
        kept = memo["assets"] = (assets, repr(assets))
    return digest(inputs_digest, Repr(kept[1]), Repr("[" + ", ".join(shown) + "]"))


def _listed(post) -> str:
    return repr((post.slug, post.meta, post.body.reading_minutes, post.body.math_count > 0, bool(post.body.widgets)))


def page_dates(site: Site) -> list[tuple[str, dt.date | None]]:
    """(path, last modified) of each page worth listing in the sitemap."""
    newest = max((p.meta.date for p in site.posts), default=None)
    pages: list[tuple[str, dt.date | None]] = [("", newest), ("series/", newest), ("tags/", newest)]
    pages += [(p.path, p.meta.date) for p in site.posts]
    pages += [(g.path, max(p.meta.date for p in g.posts)) for g in site.series]
    pages += [(g.path, max(p.meta.date for p in g.posts)) for g in site.tags]
    return pages
