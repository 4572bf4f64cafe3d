"""Everything ``labpress check`` looks at: what a build validates, the kernels' imports, and the
links, anchors and images of the built pages, each placed at its position in the post.

It builds into a scratch folder it removes afterwards, so nothing in the site changes.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from labpress.check.links import check_links
from labpress.config.schema import load_config
from labpress.content.posts import discover_posts
from labpress.content.slugs import slugify
from labpress.errors import ContentError, ContentErrors, display_path
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


def check_site(site_dir: Path, drafts: bool = False) -> tuple[list[ContentError], int]:
    """All problems found, and the number of pages checked."""
    config = load_config(site_dir)
    errors = _widget_errors(site_dir, config)
    scratch = Path(tempfile.mkdtemp(prefix="labpress-check-"))
    try:
        try:
            result = build_site(site_dir, out_dir=scratch / "site", drafts=drafts)
        except ContentErrors as exc:
            return sorted(set(errors + exc.errors)), 0
        errors += _link_errors(site_dir, result.out_dir, config)
        return sorted(set(errors)), result.pages
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
