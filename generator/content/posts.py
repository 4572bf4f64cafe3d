"""Posts on disk: discovery, rendering, and the checks that span several posts."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path

from labpress.config.schema import SiteConfig
from labpress.errors import ContentError, ErrorSink, printable_path, shorten
from labpress.content.frontmatter import PostMeta, tag_slug
from labpress.content.body import RenderedBody

CONTENT_DIR = "content"
STATIC_DIR = "static"  # the site's own files, copied to the same paths (see build.write_site_static)

# What a build writes at the top of the site besides the posts (site/pages.py, build.py, the
# theme's and widgets' assets), by the one name a post's slug could clash with. A post at
# /404/ or /atom/ would not overwrite 404.html or atom.xml, but a static host that serves
# /name from name.html, as GitHub Pages does, makes the two the same address.
GENERATED = {
    "index": "the home page (/index.html)",
    "tags": "the tag pages (/tags/)",
    "series": "the series pages (/series/)",
    "404": "the page-not-found page (/404.html)",
    "atom": "the Atom feed (/atom.xml)",
    "sitemap": "the sitemap (/sitemap.xml)",
    "assets": "the stylesheets, scripts and widget files (/assets/)",
    "nojekyll": "the GitHub Pages marker (/.nojekyll)",
}


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
    _steps: dict | None = field(default=None, repr=False, compare=False)  # id(post) -> (prev, next), made once
    _groups: dict | None = field(default=None, repr=False, compare=False)  # series key -> group, made once

    def neighbours(self, post: Post) -> tuple[Post | None, Post | None]:
        """Previous and next steps of the post's series."""
        if self._steps is None:
            self._steps = {}
            for group in self.series:
                for i, member in enumerate(group.posts):
                    self._steps.setdefault(id(member), (group.posts[i - 1] if i > 0 else None,
                                                        group.posts[i + 1] if i + 1 < len(group.posts) else None))
        return self._steps.get(id(post), (None, None))  # a post is a step of its series' group only

    def series_of(self, post: Post) -> SeriesGroup | None:
        if self._groups is None:
            self._groups = {}
            for group in self.series:
                self._groups.setdefault(group.key, group)
        return self._groups.get(post.meta.series)


def discover_posts(site_dir: Path, errors: list[ContentError] | None = None) -> list[Path]:
    """The post files under content/, in order; names starting with '.' or '_' are left out.

    A post that cannot be read or named (a link to nothing, a name that is not UTF-8, a folder
    named like a post) is left out, and with an ``errors`` list it is reported there.
    """
    content = site_dir / CONTENT_DIR
    if not content.is_dir():
        return []
    found = []
    for path in sorted(content.rglob("*.md")):
        if any(part.startswith((".", "_")) for part in path.relative_to(content).parts):
            continue
        relative = path.relative_to(site_dir).as_posix()
        if path.is_dir() and not path.is_symlink():
            if errors is not None:  # most likely a slip (mkdir for touch); never silently nothing
                errors.append(ContentError(printable_path(relative), 1, 1, "a folder named like a post: a post is a"
                                           " Markdown text file; rename the folder (its name must not end in .md)"))
            continue
        problem = _unreadable(path, relative)
        if problem is None:
            found.append(path)
        elif errors is not None:
            errors.append(ContentError(printable_path(relative), 1, 1, problem))
    return found


def _unreadable(path: Path, relative: str) -> str | None:
    """Why the post at ``path`` (``relative`` to the site) cannot be built, or None."""
    try:
        relative.encode("utf-8")
    except UnicodeEncodeError:
        return "the file name is not UTF-8 text: rename the file (a post's name becomes its address)"
    if path.is_symlink() and not path.exists():
        try:
            target = shorten(printable_path(os.readlink(path)))
        except OSError:
            target = "?"
        return f"the file is a link to '{target}', which does not exist"
    if not path.is_file():
        return "not a regular file: a post is a Markdown text file"
    if not os.access(path, os.R_OK):
        return "the file cannot be read: permission denied"
    return None


def read_post_text(source: Path, sink: ErrorSink) -> str | None:
    """The post's text, or None after one error at the first byte that is not UTF-8."""
    try:
        data = source.read_bytes()
    except OSError as exc:
        sink.add(1, 1, f"the file cannot be read: {shorten(exc.strerror or str(exc))}")
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        if data.startswith((b"\xff\xfe", b"\xfe\xff")):
            sink.add(1, 1, "the file is UTF-16 text: save it as UTF-8")
            return None
        line_start = data.rfind(b"\n", 0, exc.start) + 1
        line = data.count(b"\n", 0, exc.start) + 1
        col = len(data[line_start:exc.start].decode("utf-8", "replace")) + 1  # in characters, as elsewhere
        sink.add(line, col, f"the file is not UTF-8 text: byte 0x{data[exc.start]:02X} here cannot be read"
                            " (save the file as UTF-8)")
        return None


def static_clash(static: Path, slug: str) -> str | None:
    """What in the site's static/ folder already takes the address /slug/, if anything."""
    for name in (slug, f"{slug}/index.html", f"{slug}.html"):
        if (static / name).is_file():
            return f"the file {STATIC_DIR}/{name}, copied to /{name}"
    return None


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
    static = config.root / STATIC_DIR
    has_static = static.is_dir()  # most sites have none: no look-up per post
    for post in sorted(visible, key=lambda p: p.shown_path):
        clash = GENERATED.get(post.slug) or (static_clash(static, post.slug) if has_static else None)
        if clash:
            errors.append(ContentError(post.shown_path, 1, 1,
                                       f"the page /{post.slug}/ would clash with {clash}: rename the file"))
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
