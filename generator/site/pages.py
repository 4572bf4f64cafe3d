"""The theme's Jinja2 templates, and every HTML page of a site rendered through them."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import jinja2
from markupsafe import Markup

from ..config import SiteConfig
from ..frontmatter import DEFAULT_VERDICT_LABELS, tag_slug
from ..markdown.blocks import VERDICT_MARKS, VERDICT_PHRASES
from .cache import digest
from .content import Site

MOOD_MARKS = {"learning": "⚠", "confident": "✓", "stuck": "✕", "curious": "?", "exploring": "→"}


@dataclass(frozen=True)
class ThemeAssets:
    """Fingerprinted URLs (relative to the site root) of the stylesheets and scripts."""

    style: str
    katex: str
    scheme: str
    icon: str
    widgets: str | None = None  # the widget stylesheet, when the theme has one


def template_environment(config: SiteConfig) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(config.theme_dir / "templates"),
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
    return env


def render_pages(site: Site, assets: ThemeAssets, env: jinja2.Environment, runtime=None, cache=None,
                 inputs_digest: str = "", finish=None) -> dict:
    """Every HTML page, keyed by its output path relative to the site root.

    ``finish`` post-processes each rendered page (its result is what is kept and
    cached); without it a page is its HTML.

    With a cache, a page whose inputs are unchanged is taken from the last build:
    ``inputs_digest`` covers what every page may show (theme, configuration, all
    front matter); a post page adds its own body.
    """
    common = {"assets": assets, "all_series": site.series, "all_tags": site.tags}
    pages: dict[str, str] = {}
    shared = digest(inputs_digest, assets,
                    [(p.slug, p.meta, p.body.reading_minutes, p.body.math_count > 0, bool(p.body.widgets))
                     for p in site.posts])

    def render(name: str, path: str, **context) -> None:
        context.setdefault("has_math", False)
        context.setdefault("widget_runtime", None)
        out = path + "index.html" if path == "" or path.endswith("/") else path
        def draw():
            html = env.get_template(name).render(page_path=path, **common, **context)
            return finish(html) if finish else html

        if cache is None:
            pages[out] = draw()
        else:
            # Only pages with widgets load the runtime, so only they depend on it.
            body = context["post"].body.html if "post" in context else ""
            pages[out] = cache.page(digest(shared, name, out, body, context["widget_runtime"]), out, draw)

    for post in site.posts:
        prev, nxt = site.neighbours(post)
        render(
            "post.html",
            post.path,
            post=post,
            meta=post.meta,
            body=Markup(post.body.html),
            series=site.series_of(post),
            prev_post=prev,
            next_post=nxt,
            has_math=post.body.math_count > 0,
            widget_runtime=runtime if post.body.widgets else None,
        )
    render("index.html", "", posts=site.posts)
    render("series_list.html", "series/", series_list=site.series)
    for group in site.series:
        render("series.html", group.path, series=group)
    render("tags.html", "tags/", tags=site.tags)
    for group in site.tags:
        render("tag.html", group.path, tag=group)
    render("404.html", "404.html")
    return pages


def page_dates(site: Site) -> list[tuple[str, dt.date | None]]:
    """(path, last modified) of each page worth listing in the sitemap."""
    newest = max((p.meta.date for p in site.posts), default=None)
    pages: list[tuple[str, dt.date | None]] = [("", newest), ("series/", newest), ("tags/", newest)]
    pages += [(p.path, p.meta.date) for p in site.posts]
    pages += [(g.path, max(p.meta.date for p in g.posts)) for g in site.series]
    pages += [(g.path, max(p.meta.date for p in g.posts)) for g in site.tags]
    return pages
