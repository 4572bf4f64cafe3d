"""One build of a site: read, check, render, then swap the output into place.

Every stage is a plain function from data to data; this module wires them.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from .assets import copy_katex_assets, find_node_package, fingerprint
from .config import CONFIG_NAME, load_config
from .errors import ConfigError, ContentError, ContentErrors, display_path
from .katex import KatexRenderer
from .markdown.highlight import pygments_css
from .markdown.sections import slugify
from .site.cache import BuildCache, code_digest, digest, tree_digest
from .site.content import Post, assemble_site, discover_posts, load_post
from .site.feeds import atom_feed, sitemap
from .site.inline_styles import InlineStyles
from .site.output import OutputTree, staged_output
from .site.pages import ThemeAssets, page_dates, render_pages, template_environment
from .widget_assets import write_widget_assets
from .widgets import WidgetLibrary, WidgetLimits

CACHE_DIR = ".labpress-cache"


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


def write_theme_assets(config, katex_dir: Path, tree: OutputTree) -> ThemeAssets:
    static = config.theme_dir / "static"
    urls: dict[str, str] = {}
    for source in sorted(p for p in static.rglob("*") if p.is_file()):
        relative = source.relative_to(static).as_posix()
        data = source.read_bytes()
        if relative == "style.css":
            data += ("\n/* Code colours (Pygments) */\n" + pygments_css()).encode("utf-8")
        if source.suffix in (".css", ".js"):
            stem, dot, suffix = relative.rpartition(".")
            target = f"assets/{stem}.{fingerprint(data)}.{suffix}"
        else:
            target = f"assets/{relative}"
        tree.write(target, data)
        urls[relative] = target
    katex_css = copy_katex_assets(katex_dir, tree)
    missing = [name for name in ("style.css", "scheme.js", "favicon.svg") if name not in urls]
    if missing:
        raise ConfigError(f"error: theme '{config.theme}' lacks static/{', static/'.join(missing)}")
    return ThemeAssets(style=urls["style.css"], katex=katex_css, scheme=urls["scheme.js"], icon=urls["favicon.svg"],
                       widgets=urls.get("widgets.css"))


STATIC_DIR = "static"


def write_site_static(site_dir: Path, tree: OutputTree) -> None:
    """The site's own files (images, downloads) from ``static/``, at the same paths under the site root."""
    static = site_dir / STATIC_DIR
    if static.is_dir():
        for source in sorted(p for p in static.rglob("*") if p.is_file() and not p.name.startswith(".")):
            tree.write(source.relative_to(static).as_posix(), source.read_bytes())


def build_site(site_dir: Path, out_dir: Path | None = None, base_url: str | None = None,
               drafts: bool = False, use_cache: bool = True, progress=None) -> BuildResult:
    """Build the site; ``progress(done, total, path)`` is called as each post is rendered."""
    started = time.perf_counter()
    site_dir = site_dir.resolve()
    config = load_config(site_dir, base_url)
    out_dir = (out_dir or site_dir / "build").resolve()
    katex_dir = find_node_package("katex", site_dir)
    katex = KatexRenderer(katex_dir, config.macros, site_dir / CACHE_DIR / "katex.json" if use_cache else None)

    library = WidgetLibrary(site_dir, config.pyodide_packages,
                            WidgetLimits(config.widget_max_states, config.widget_max_frame_bytes))
    cache = BuildCache(site_dir / CACHE_DIR if use_cache else None)
    config_digest = digest((site_dir / CONFIG_NAME).read_bytes(), config.base_url)
    errors: list[ContentError] = []
    posts = []
    sources = discover_posts(site_dir)
    for done, source in enumerate(sources, 1):
        post_errors: list[ContentError] = []
        shown = display_path(source, site_dir)
        key = cache.post_key(source.read_bytes(), shown, config_digest)
        body = cache.load_body(key)
        if body is not None:
            post = Post(source=source, shown_path=shown, slug=slugify(source.stem), body=body)
        else:
            post = load_post(source, config, katex, post_errors, library, site_dir / CACHE_DIR if use_cache else None)
            cache.rendered_posts.append(shown)
            if not post_errors:
                cache.store_body(key, post.body)
        if progress:
            progress(done, len(sources), post.shown_path)
        # A draft being written does not block the published posts.
        if drafts or not post.meta.is_draft:
            errors.extend(post_errors)
            posts.append(post)
    site, site_errors = assemble_site(config, posts, drafts)
    errors.extend(site_errors)
    katex.save()
    if errors:
        raise ContentErrors(errors)

    env = template_environment(config)
    with staged_output(out_dir) as tree:
        assets = write_theme_assets(config, katex_dir, tree)
        runtime = write_widget_assets(site, config, tree)
        write_site_static(site_dir, tree)
        # Each page comes out with its style attributes turned into classes (kept in the cache
        # that way) and the rules it uses; one site stylesheet holds them all.
        pages = render_pages(site, assets, env, runtime, cache,
                             digest(code_digest(), tree_digest(config.theme_dir), config_digest, drafts),
                             finish=InlineStyles().extract)
        rules = {name: body for _, used in pages.values() for name, body in used.items()}
        if rules:
            css = InlineStyles.stylesheet(rules).encode("utf-8")
            css_path = f"assets/inline.{fingerprint(css)}.css"
            tree.write(css_path, css)
            link = f'<link rel="stylesheet" href="{config.url(css_path)}">\n</head>'
        for path, (html, used) in sorted(pages.items()):
            tree.write(path, html.replace("</head>", link, 1) if used else html)
        tree.write("atom.xml", atom_feed(site, {p.slug: p.body.html for p in site.posts}))
        tree.write("sitemap.xml", sitemap(site, page_dates(site)))
        tree.write(".nojekyll", "")
        files = len(tree.written)
    cache.prune()
    return BuildResult(
        rendered_posts=cache.rendered_posts if use_cache else [p.shown_path for p in posts],
        rendered_pages=cache.rendered_pages if use_cache else sorted(pages),
        out_dir=out_dir,
        pages=len(pages),
        files=files,
        seconds=time.perf_counter() - started,
        formulas_typeset=katex.misses,
        formulas_cached=katex.hits,
    )
