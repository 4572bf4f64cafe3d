"""Internal link checking over a built site: every href and src that stays on the
site must name a file that exists, and every #fragment an id on that page."""

from __future__ import annotations

from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urljoin, urlsplit


@dataclass(frozen=True, order=True)
class BrokenLink:
    page: str
    target: str
    reason: str
    attribute: str = "href"

    def __str__(self) -> str:
        return f"{self.page}: broken link {self.target}: {self.reason}"


class _PageScan(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.ids: set[str] = set()
        self.links: list[tuple[str, str]] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if attrs.get("id"):
            self.ids.add(attrs["id"])
        if tag == "a" and attrs.get("name"):
            self.ids.add(attrs["name"])
        for name in ("href", "src"):
            if attrs.get(name) is not None and not (tag == "link" and attrs.get("rel") == "canonical"):
                self.links.append((attrs[name], name))


def _scan(path: Path) -> _PageScan:
    scan = _PageScan()
    scan.feed(path.read_text(encoding="utf-8"))
    return scan


def check_links(out_dir: Path, site_url: str) -> list[BrokenLink]:
    """Broken internal links of the site in ``out_dir``, published at ``site_url`` (ends with '/')."""
    site = urlsplit(site_url)
    pages = sorted(out_dir.rglob("*.html"))
    scans = {p: _scan(p) for p in pages}
    broken: list[BrokenLink] = []

    def file_for(path: str) -> Path | None:
        if not path.startswith(site.path):
            return None
        relative = unquote(path[len(site.path):])
        candidate = out_dir / relative
        if relative == "" or relative.endswith("/"):
            candidate = candidate / "index.html"
        return candidate

    for page, scan in scans.items():
        relative_page = page.relative_to(out_dir).as_posix()
        page_url = site_url + (relative_page[: -len("index.html")] if relative_page.endswith("index.html") else relative_page)
        for link, attribute in scan.links:
            resolved = urlsplit(urljoin(page_url, link))
            if resolved.scheme not in ("http", "https") or resolved.netloc != site.netloc:
                continue
            target = file_for(resolved.path)
            if target is None:
                broken.append(BrokenLink(relative_page, link, f"outside the site's base path {site.path}", attribute))
                continue
            if not target.is_file():
                broken.append(BrokenLink(relative_page, link, "no such file in the build", attribute))
                continue
            if resolved.fragment and target.suffix == ".html":
                ids = scans[target].ids if target in scans else _scan(target).ids
                if unquote(resolved.fragment) not in ids:
                    broken.append(BrokenLink(relative_page, link, f"no element with id '{resolved.fragment}'", attribute))
    return sorted(broken)
