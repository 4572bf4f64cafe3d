"""Posts on disk: discovery, rendering, and the checks that span several posts."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

from ..config import SiteConfig
from ..errors import ContentError, ErrorSink, display_path
from ..frontmatter import PostMeta, tag_slug
from ..slugs import slugify
from ..markdown.body import RenderedBody
from .inline_styles import shared as shared_styles

CONTENT_DIR = "content"


@dataclass(eq=False)  # a post is itself: compared by identity, which is also fast
class Post:
    source: Path
    shown_path: str  # as printed in errors: relative to the site directory
    slug: str
    body: RenderedBody  # from a cache its html may be left on disk until wanted (see ``html``)
    key: str = ""  # digest of everything the body depends on (set by the build)
    load_html: object = None  # from the cache: a function of the key giving the body's HTML

    @property
    def meta(self) -> PostMeta:
        return self.body.meta

    @property
    def html(self) -> str:
        """The rendered body, read from the cache the first time it is needed."""
        if self.body.html is None:
            self.body = replace(self.body, html=self.load_html(self.key))
        return self.body.html

    @property
    def path(self) -> str:
        """Output path of the page, relative to the site root."""
        return f"{self.slug}/"


@dataclass
class SeriesGroup:
    key: str
    title: str
    description: str
    posts: list[Post] = field(default_factory=list)

    @property
    def path(self) -> str:
        return f"series/{self.key}/"


@dataclass
class TagGroup:
    name: str
    slug: str
    posts: list[Post] = field(default_factory=list)

    @property
    def path(self) -> str:
        return f"tags/{self.slug}/"


@dataclass
class Site:
    config: SiteConfig
    posts: list[Post]  # newest first
    series: list[SeriesGroup]
    tags: list[TagGroup]

    def neighbours(self, post: Post) -> tuple[Post | None, Post | None]:
        """Previous and next steps of the post's series."""
        for group in self.series:
            if group.key == post.meta.series:
                i = group.posts.index(post)
                prev = group.posts[i - 1] if i > 0 else None
                nxt = group.posts[i + 1] if i + 1 < len(group.posts) else None
                return prev, nxt
        return None, None

    def series_of(self, post: Post) -> SeriesGroup | None:
        return next((g for g in self.series if g.key == post.meta.series), None)


def discover_posts(site_dir: Path) -> list[Path]:
    content = site_dir / CONTENT_DIR
    if not content.is_dir():
        return []
    return sorted(p for p in content.rglob("*.md") if not any(part.startswith((".", "_")) for part in p.relative_to(content).parts))


def load_post(source: Path, config: SiteConfig, katex, errors: list[ContentError], widget_library=None,
              cache_dir: Path | None = None) -> Post:
    shown = display_path(source, config.root)
    sink = ErrorSink(shown)
    try:
        text = source.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        sink.add(1, 1, f"not UTF-8 text: {exc.reason} at byte {exc.start}")
        text = ""
    from ..markdown import render_body  # here: a build with nothing to render never loads the Markdown stack

    body = render_body(text, sink, config, katex, widget_library, cache_dir)
    errors.extend(sink.errors)
    # Formulas came out with classes (markdown/math.py); any other style attribute becomes one here.
    html, rules = shared_styles().extract(body.html)
    body = replace(body, html=html, style_rules=dict(sorted({**body.style_rules, **rules}.items())))
    return Post(source=source, shown_path=shown, slug=slugify(source.stem), body=body)


def assemble_site(config: SiteConfig, posts: list[Post], include_drafts: bool) -> tuple[Site, list[ContentError]]:
    """Order posts, group them into series and tags, and check what spans posts."""
    errors: list[ContentError] = []

    def error_at(post: Post, key: str, message: str) -> None:
        line, col = post.meta.positions.get(key, (1, 1))
        errors.append(ContentError(post.shown_path, line, col, message))

    visible = [p for p in posts if include_drafts or not p.meta.is_draft]
    visible.sort(key=lambda p: (p.meta.date, p.meta.exp or 0, p.slug), reverse=True)

    by_slug: dict[str, Post] = {}
    by_exp: dict[int, Post] = {}
    for post in sorted(visible, key=lambda p: p.shown_path):
        if post.slug in by_slug:
            errors.append(ContentError(post.shown_path, 1, 1,
                                       f"page /{post.slug}/ is also made from {by_slug[post.slug].shown_path}: rename one file"))
        by_slug.setdefault(post.slug, post)
        if post.meta.exp is not None:
            if post.meta.exp in by_exp:
                error_at(post, "exp", f"EXP #{post.meta.exp:03d} is already used by {by_exp[post.meta.exp].shown_path}")
            by_exp.setdefault(post.meta.exp, post)

    series: list[SeriesGroup] = []
    for key, definition in config.series.items():
        members = [p for p in visible if p.meta.series == key]
        if not members:
            continue
        steps: dict[int, Post] = {}
        for post in sorted(members, key=lambda p: p.shown_path):
            if post.meta.step is None and "step" not in post.meta.positions:
                error_at(post, "series", f"a post in series '{key}' needs a 'step' (its place in the series)")
            elif post.meta.step in steps:
                error_at(post, "step", f"step {post.meta.step} of series '{key}' is already {steps[post.meta.step].shown_path}")
            else:
                steps[post.meta.step] = post
        members.sort(key=lambda p: (p.meta.step or 0, p.meta.date, p.slug))
        series.append(SeriesGroup(key, definition.title, definition.description, members))

    tags: dict[str, TagGroup] = {}
    for post in visible:
        for tag in post.meta.tags:
            group = tags.setdefault(tag_slug(tag), TagGroup(tag, tag_slug(tag)))
            group.posts.append(post)
    tag_list = sorted(tags.values(), key=lambda g: g.slug)
    return Site(config, visible, series, tag_list), errors
