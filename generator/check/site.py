"""Everything ``labpress check`` looks at: what a build validates, the kernels' imports, and the
links, anchors and images of the built pages, each placed at its position in the post.

It builds into a scratch folder it removes afterwards, so nothing in the site changes.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from labpress.check.links import check_links
from labpress.config.schema import load_config
from labpress.content.frontmatter import front_matter_values
from labpress.content.posts import discover_posts
from labpress.content.slugs import slugify
from labpress.errors import ContentError, ContentErrors, display_path, warn
from labpress.site.pipeline import build_site


def _widget_errors(site_dir: Path, config) -> list[ContentError]:
    """Kernel imports of every module in widgets/, used by a post or not yet."""
    from labpress.widgets.library import WidgetLibrary, WidgetLimits, WidgetLoadError  # here: loads the kernel API

    library = WidgetLibrary(site_dir, config.pyodide_packages, WidgetLimits())
    errors = []
    for name in library.names():
        try:
            library.check_imports(library.folder / f"{name}.py")
        except WidgetLoadError as exc:
            file, line, col = (exc.where.split(":") + ["1", "1"])[:3]
            errors.append(ContentError(file, int(line), int(col), exc.message))
    return errors


def _link_errors(site_dir: Path, out: Path, config) -> list[ContentError]:
    """Broken links and images of the built pages, placed at the link in the post that has it."""
    sources = {slugify(p.stem): p for p in discover_posts(site_dir)}
    errors = []
    for broken in check_links(out, config.base_url):
        page_slug = broken.page.split("/")[0]
        source = sources.get(page_slug) if broken.page.endswith("/index.html") else None
        if source is None:
            errors.append(ContentError(broken.page, 1, 1, f"broken link {broken.target}: {broken.reason}"))
            continue
        text = source.read_text(encoding="utf-8")
        written = broken.target
        if written.startswith(config.base_path) and config.base_path != "/":
            written = "/" + written[len(config.base_path):]
        offset = text.find(f"({written}")
        offset = text.find(written) if offset < 0 else offset + 1
        line = text.count("\n", 0, max(offset, 0)) + 1
        col = offset - (text.rfind("\n", 0, offset) + 1) + 1 if offset >= 0 else 1
        kind = "image" if broken.attribute == "src" else "link"
        errors.append(ContentError(display_path(source, site_dir), line, col, f"broken {kind} {written}: {broken.reason}"))
    return errors


def _is_draft(source: Path) -> bool:
    """Whether the post is a draft, read as the build reads it (content/frontmatter.py)."""
    try:
        values = front_matter_values(source.read_bytes().decode("utf-8", errors="replace"))
    except OSError:
        return False
    status = values.get("status") if values else None
    return isinstance(status, str) and status.strip().lower() == "draft"


@dataclass
class CheckResult:
    errors: list[ContentError]
    pages: int  # pages checked, drafts' included
    drafts: int  # drafts among the posts
    drafts_checked: bool


def check_site(site_dir: Path, drafts: bool = True, notify: Callable[[str], None] = warn) -> CheckResult:
    """Every problem of the site, drafts included unless ``drafts`` is False (they are what an author is
    writing). With drafts, the site is built twice into a scratch folder: with them, for their own
    errors and links, and as ``labpress build`` publishes it, for what only that build finds (a link or
    a reference from a published post to a draft)."""
    config = load_config(site_dir)
    errors = _widget_errors(site_dir, config)
    draft_sources = [p for p in discover_posts(site_dir) if _is_draft(p)]
    draft_pages = {f"{slugify(p.stem)}/index.html" for p in draft_sources}
    said: set[str] = set()

    def once(message: str) -> None:  # two builds, one warning
        if message not in said:
            said.add(message)
            notify(message)

    scratch = Path(tempfile.mkdtemp(prefix="labpress-check-"))
    builds = [(True, scratch / "drafts")] if drafts and draft_sources else []
    builds.append((False, scratch / "site"))
    found: list[ContentError] = []
    pages = 0
    try:
        for with_drafts, out in builds:
            try:
                result = build_site(site_dir, out_dir=out, drafts=with_drafts, notify=once)
            except ContentErrors as exc:
                found += [e for e in exc.errors if not _said(e, found)]
                continue
            finally:
                _forget_manifest(site_dir, out)
            pages = max(pages, result.pages)
            links = _link_errors(site_dir, result.out_dir, config)
            if with_drafts:  # the published pages' links are checked in the build without drafts
                links = [e for e in links if _page_of(e, site_dir) in draft_pages]
            found += links
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    errors = _without_kernel_repeats(errors, found)
    return CheckResult(sorted(set(errors + found)), pages, len(draft_sources), drafts)


def _said(error: ContentError, found: list[ContentError]) -> bool:
    """Whether the first build said it already: an error at the same place, or the same kernel that
    failed to load (its first use may have been a draft)."""
    from labpress.widgets.library import kernel_failure

    failure = kernel_failure(error.message)
    return any((e.path, e.line, e.col) == (error.path, error.line, error.col)
               or (failure is not None and kernel_failure(e.message) == failure) for e in found)


def _page_of(error: ContentError, site_dir: Path) -> str:
    """The built page of the post an error is in."""
    return f"{slugify(Path(error.path).stem)}/index.html"


def _forget_manifest(site_dir: Path, out: Path) -> None:
    """The scratch build's output manifest goes with the scratch folder."""
    from labpress.site.output import Manifest
    from labpress.site.pipeline import CACHE_DIR

    try:
        Manifest.file_for(site_dir / CACHE_DIR, out.resolve()).unlink(missing_ok=True)
    except OSError:
        pass


def _without_kernel_repeats(kernel_errors: list[ContentError], build_errors: list[ContentError]) -> list[ContentError]:
    """The kernels' import errors, less those a post's widget block already reports (one mistake, one message)."""
    reported = {e.message for e in build_errors}
    return [e for e in kernel_errors
            if not any(m.startswith(f"{e.message} ({e.path}:{e.line}:{e.col}") for m in reported)]
