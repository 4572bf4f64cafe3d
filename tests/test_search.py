"""Search (generator/search/, browser/search.js): the Pagefind index of every post is written at build,
byte-identical across builds and after edits equal to a clean build's; it holds titles, sections,
prose, table text and formulas' TeX once (not their MathML or KaTeX HTML), and only posts. In
Chromium: "/" opens the masthead's search box, a word that is only in one post's table finds that
post with its section, under a base path and under the strict CSP, with nothing fetched from
elsewhere and no console errors; Escape closes it and focus goes back."""

from __future__ import annotations

import contextlib
import functools
import gzip
import http.server
import json
import shutil
import tempfile
import threading
from pathlib import Path

import pytest

from conftest import REPO, SiteMaker
from labpress.search.copies import body_text_html
from labpress.search.index import INDEX_DIR, index_language
from labpress.site.pipeline import build_site
from support import StaticServer, tree

ARTIFACTS = REPO / "tests" / "artifacts"
AXE = REPO / "node_modules" / "axe-core" / "axe.min.js"
TABLE_WORD = "quinhydrone"  # only in one cell of the titration post's Results table
TITRATION = """\
---
title: Titrating Vinegar
date: 2026-02-01
summary: How much acid is in a bottle of supermarket vinegar.
tags: [chemistry]
---

## Method {#sec-method}

A burette of sodium hydroxide, dripped into ten millilitres of vinegar until the colour turns.

## Results {#sec-results}

| run | volume (mL) | indicator | $\\Delta V_{\\mathrm{drop}}$ |
|---|---|---|---|
| 1 | 12.4 | phenolphthalein | 0.05 |
| 2 | 12.6 | WORD | 0.05 |

The two runs agree to within a drop.
"""
PENDULUM = """\
---
title: A Pendulum That Wobbles
date: 2026-02-02
summary: The bob traces an ellipse instead of a line.
---

## Theory

The wobble rate is

$$
\\kappa_{\\mathrm{wobble}} = \\frac{\\Omega}{2\\pi}
$$

and it grows with the amplitude.

## Measurements

Counted by eye, see @post-titrating-vinegar for another bench measurement.
"""
NOTES = """\
---
title: Loose Ends
date: 2026-02-03
---

## Still open

Whether the burette was clean.
"""


def add_posts(site: SiteMaker) -> SiteMaker:
    site.post("titrating-vinegar.md", TITRATION.replace("WORD", TABLE_WORD))
    site.post("wobble.md", PENDULUM)
    site.post("loose-ends.md", NOTES)
    return site


def make_site(root: Path) -> SiteMaker:
    return add_posts(SiteMaker(root))


def fragments(out: Path) -> dict[str, dict]:
    """The index's page records (Pagefind's fragments: gzip, a signature, JSON), by URL."""
    records = {}
    for path in sorted((out / INDEX_DIR / "fragment").iterdir()):
        data = gzip.decompress(path.read_bytes())
        assert data.startswith(b"pagefind_dcd"), path
        record = json.loads(data[len(b"pagefind_dcd"):])
        records[record["url"]] = record
    return records


def index_files(out: Path) -> dict[str, bytes]:
    return {k: v for k, v in tree(out).items() if k.startswith(INDEX_DIR)}


# --------------------------------------------------------------------------- the index at build


def test_the_index_holds_every_post_and_only_posts(site):
    add_posts(site)
    assert site.build().returncode == 0
    files = index_files(site.out)
    assert {INDEX_DIR + n for n in ("pagefind.js", "pagefind-worker.js", "pagefind-entry.json", "wasm.en.pagefind")} <= set(files)
    assert not [n for n in files if "-ui." in n or "highlight" in n or "playground" in n], "Pagefind's own UI is not shipped"
    entry = json.loads(files[INDEX_DIR + "pagefind-entry.json"])
    assert entry["languages"]["en"]["page_count"] == 3
    records = fragments(site.out)
    assert sorted(records) == ["/loose-ends/", "/titrating-vinegar/", "/wobble/"], "posts only, no listing pages"
    titration = records["/titrating-vinegar/"]
    assert titration["meta"] == {"title": "Titrating Vinegar", "date": "2026-02-01"}
    assert [(a["id"], a["text"]) for a in titration["anchors"]] == [("sec-method", "Method"), ("sec-results", "Results")]
    content = titration["content"]
    assert content.startswith("Titrating Vinegar. How much acid is in a bottle of supermarket vinegar.")
    assert TABLE_WORD in content and "phenolphthalein" in content and "12.6" in content
    for chrome in ("Experiments", "Contents", "Provenance", "Skip to content", "Dark mode", "01"):
        assert chrome not in content.split(), f"the page's {chrome!r} is not the post's text"
    # The script and the box are on every page, listings too.
    for page in ("index.html", "tags/index.html", "titrating-vinegar/index.html", "404.html"):
        html = (site.out / page).read_text()
        assert 'id="search-dialog"' in html and f'data-index="/{INDEX_DIR}"' in html, page
        assert '<script type="module" src="/assets/search.' in html, page


def test_formulas_are_indexed_once_as_tex(site):
    add_posts(site)
    assert site.build().returncode == 0
    content = fragments(site.out)["/wobble/"]["content"]
    tex = r"\kappa_{\mathrm{wobble}} = \frac{\Omega}{2\pi}"
    assert content.count(tex) == 1, content
    # KaTeX's MathML and HTML would add the symbols as characters, and the words again.
    for duplicate in ("κ", "Ω", "π"):
        assert duplicate not in content, content
    assert content.count("wobble") == 2  # "The wobble rate" and the TeX
    # A table header of only maths (read aloud as its MathML's text, in the page) is its TeX too.
    table = fragments(site.out)["/titrating-vinegar/"]["content"]
    assert table.count(r"\Delta V_{\mathrm{drop}}") == 1 and "Δ" not in table, table
    # A reference to another post shows (and is indexed as) its title.
    assert "see Titrating Vinegar for another bench measurement" in content


def test_copies_drop_what_is_not_the_authors_text():
    html = ('<h2 id="s" class="section-heading"><span class="section-num">02</span> <span class="section-title">Setup'
            ' <span class="section-tag">interactive</span></span></h2><p>a<span class="katex"><span class="katex-mathml">'
            '<math><semantics><mi>x</mi><annotation encoding="application/x-tex">x &lt; 1</annotation></semantics></math>'
            '</span><span class="katex-html" aria-hidden="true">x&lt;1</span></span>b</p>'
            '<figure class="widget"><svg><text>0.5</text></svg><fieldset class="widget-controls"><label>k</label>'
            '<input type="range"></fieldset><dl class="widget-readouts"><dt>k</dt><dd>1</dd></dl>'
            '<figcaption>the caption</figcaption></figure><p hidden>hidden</p><img src="x.png" alt="a bench"><br>'
            '<script>var x = "<p>";</script><!-- a comment --><table><tr><td>one</td><td>two</td></tr></table>'
            '<p>unclosed <b>bold')
    assert body_text_html(html) == (
        '<h2 id="s"> <span>Setup </span></h2><p>a<span>x &lt; 1</span>b</p><figure><figcaption>the caption</figcaption>'
        '</figure><span>a bench</span><br><table><tr><td>one</td><td>two</td></tr></table><p>unclosed <b>bold')


def test_index_language_is_the_primary_subtag():
    assert [index_language(x) for x in ("en", "en-GB", "pt_BR", "DE", "")] == ["en", "en", "pt", "de", "en"]


def test_two_builds_write_byte_identical_indexes(site, tmp_path):
    add_posts(site)
    assert site.build("--out", str(tmp_path / "one")).returncode == 0
    shutil.rmtree(site.root / ".labpress-cache")
    assert site.build("--out", str(tmp_path / "two")).returncode == 0
    other = make_site(tmp_path / "elsewhere")  # the same site in another folder, built with no cache
    assert other.build("--out", str(tmp_path / "three"), "--no-cache").returncode == 0
    one, two, three = (index_files(tmp_path / n) for n in ("one", "two", "three"))
    assert one and one == two == three


def test_the_index_is_made_only_when_a_post_changes(site, tmp_path, monkeypatch):
    import labpress.search.index as search_index

    runs = []
    real = search_index.run_pagefind
    monkeypatch.setattr(search_index, "run_pagefind", lambda *a: runs.append(1) or real(*a))
    add_posts(site)
    assert site.build().returncode == 0 and len(runs) == 1
    entry = site.out / INDEX_DIR / "pagefind-entry.json"
    before = entry.stat().st_mtime_ns
    assert site.build().returncode == 0 and len(runs) == 1, "an unchanged site is not indexed again"
    assert entry.stat().st_mtime_ns == before
    (site.out / INDEX_DIR / "pagefind.js").write_text("damaged")  # an index file edited in the output folder
    assert site.build().returncode == 0 and len(runs) == 2
    assert (site.out / INDEX_DIR / "pagefind.js").read_text() != "damaged"


def test_an_edit_makes_that_posts_copy_again_and_a_damaged_copy_is_made_again(site, tmp_path):
    add_posts(site)
    assert site.build().returncode == 0
    copies = site.root / ".labpress-cache" / "search-pages"
    pages = sorted(p.relative_to(copies).as_posix() for p in copies.rglob("index.html"))
    assert pages == ["loose-ends/index.html", "titrating-vinegar/index.html", "wobble/index.html"]
    stamps = {p: (copies / p).stat().st_mtime_ns for p in pages}
    notes = site.root / "content" / "loose-ends.md"
    notes.write_text(notes.read_text() + "\nA new line about the stopcock.\n")
    (copies / "wobble" / "index.html").write_text("<html><body>damaged</body></html>")  # by hand, in the cache
    (copies / "stray" / "index.html").parent.mkdir()
    (copies / "stray" / "index.html").write_text("<html><body>not a post</body></html>")
    assert site.build().returncode == 0
    assert (copies / "titrating-vinegar/index.html").stat().st_mtime_ns == stamps["titrating-vinegar/index.html"]
    assert (copies / "loose-ends/index.html").stat().st_mtime_ns != stamps["loose-ends/index.html"]
    assert "damaged" not in (copies / "wobble" / "index.html").read_text()
    assert not (copies / "stray").exists()
    assert "stopcock" in fragments(site.out)["/loose-ends/"]["content"]
    _same_as_clean(site, tmp_path, "clean")


def _same_as_clean(site, tmp_path, name: str) -> None:
    clean = build_site(site.root, out_dir=tmp_path / name, use_cache=False)
    assert tree(site.out) == tree(clean.out_dir)


def test_incremental_index_equals_a_clean_builds_after_each_edit(site, tmp_path):
    add_posts(site)
    assert site.build().returncode == 0
    titration = site.root / "content" / "titrating-vinegar.md"

    titration.write_text(titration.read_text().replace(TABLE_WORD, "bromothymol"))  # a table cell
    assert site.build().returncode == 0
    content = fragments(site.out)["/titrating-vinegar/"]["content"]
    assert "bromothymol" in content and TABLE_WORD not in content
    _same_as_clean(site, tmp_path, "cell")

    # A title another post's reference shows: that post's indexed text changes too.
    titration.write_text(titration.read_text().replace("title: Titrating Vinegar", "title: Vinegar, Titrated"))
    assert site.build().returncode == 0
    assert "see Vinegar, Titrated for another" in fragments(site.out)["/wobble/"]["content"]
    _same_as_clean(site, tmp_path, "title")

    site.post("fresh.md", "---\ntitle: Fresh\ndate: 2026-03-01\n---\n\n## New\n\nA zeolite sieve.\n")
    (site.root / "content" / "loose-ends.md").unlink()
    assert site.build().returncode == 0
    assert sorted(fragments(site.out)) == ["/fresh/", "/titrating-vinegar/", "/wobble/"]
    _same_as_clean(site, tmp_path, "added-removed")

    assert site.build("--base-url", "https://x.example/sub/").returncode == 0
    assert sorted(fragments(site.out)) == ["/sub/fresh/", "/sub/titrating-vinegar/", "/sub/wobble/"]


def test_a_build_writes_nothing_into_the_current_folder(site, tmp_path, monkeypatch):
    add_posts(site)
    here, scratch = tmp_path / "here", tmp_path / "tmp"
    here.mkdir()
    scratch.mkdir()
    monkeypatch.chdir(here)
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    assert site.build().returncode == 0
    assert site.build("--no-cache").returncode == 0  # its copies in a scratch folder too
    assert list(here.iterdir()) == [], "Pagefind's default output folder (./pagefind) must not be written"
    assert list(scratch.iterdir()) == [], "scratch folders left"


def test_a_site_without_posts_has_no_index_and_its_box_says_so(site):
    assert site.build().returncode == 0
    assert not (site.out / INDEX_DIR).exists()
    html = (site.out / "index.html").read_text()
    assert 'id="search-open"' in html and "data-index" not in html
    site.post("first.md", "---\ntitle: First\ndate: 2026-01-01\n---\n\nA word.\n")
    assert site.build().returncode == 0
    assert f'data-index="/{INDEX_DIR}"' in (site.out / "index.html").read_text()
    assert sorted(fragments(site.out)) == ["/first/"]


# --------------------------------------------------------------------------- in the browser

SUB = "/sub/"
CSP = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'"
REPORT_PATH = "/__csp-report"
WATCH_JS = """
window.__violations = [];
document.addEventListener('securitypolicyviolation', (e) => window.__violations.push(e.violatedDirective + ' ' + e.blockedURI));
"""


@pytest.fixture(scope="module")
def search_builds(tmp_path_factory):
    """The three-post site built at the root and under /sub/."""
    site = make_site(tmp_path_factory.mktemp("search") / "site")
    root = site.root.parent
    assert site.build("--out", str(root / "build")).returncode == 0
    assert site.build("--out", str(root / "build-sub"), "--base-url", "https://x.example" + SUB).returncode == 0
    return root / "build", root / "build-sub"


class CspServer:
    """A build served with the strict CSP enforced, and reported (report-uri) from the worker too."""

    def __init__(self, directory: Path):
        self.reports: list[str] = []
        reports = self.reports

        class Handler(http.server.SimpleHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def end_headers(self):
                self.send_header("Content-Security-Policy", f"{CSP}; report-uri {REPORT_PATH}")
                super().end_headers()

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                reports.append(body.decode("utf-8", "replace"))
                self.send_response(204)
                self.end_headers()

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Handler, directory=str(directory)))
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@contextlib.contextmanager
def watched_page(browser, origin: str, **options):
    """A page that records console messages, page errors and every request's URL."""
    context = browser.new_context(**options)
    context.set_default_timeout(15_000)
    context.add_init_script(WATCH_JS)
    page = context.new_page()
    page.messages, page.requests = [], []
    page.on("console", lambda m: page.messages.append(f"{m.type}: {m.text}"))
    page.on("pageerror", lambda e: page.messages.append(f"pageerror: {e}"))
    context.on("request", lambda r: page.requests.append(r.url))
    try:
        yield page
    finally:
        context.close()
    elsewhere = [u for u in page.requests if not u.startswith(origin) and not u.startswith("data:")]
    assert not elsewhere, f"fetched from elsewhere: {elsewhere}"


def search_for(page, word: str) -> list[dict]:
    page.keyboard.press("/")
    page.wait_for_selector("#search-dialog[open]")
    assert page.evaluate("document.activeElement.id") == "search-input"
    page.keyboard.type(word)
    page.wait_for_selector("#search-results .search-result")
    page.wait_for_function("(word) => document.querySelector('#search-status').textContent.includes(word)", arg=word)
    return page.eval_on_selector_all("#search-results .search-result", """items => items.map(item => ({
        title: item.querySelector('.search-result-title').textContent,
        href: item.querySelector('.search-result-title').getAttribute('href'),
        sections: [...item.querySelectorAll('.search-section-link')].map(a => ({
            href: a.getAttribute('href'),
            title: a.querySelector('.search-section-title')?.textContent || '',
            marked: [...a.querySelectorAll('mark')].map(m => m.textContent.replace(/[.,;:]$/, ''))})),
    }))""")


def assert_clean(page) -> None:
    problems = [m for m in page.messages if m.startswith(("error", "pageerror", "warning"))]
    assert not problems, problems
    assert page.evaluate("window.__violations") == []


@pytest.mark.browser
def test_slash_opens_search_and_a_table_word_finds_its_post_and_section(browser, search_builds):
    server = StaticServer(search_builds[0])
    try:
        with watched_page(browser, server.url, viewport={"width": 1280, "height": 900}) as page:
            page.goto(server.url)
            assert page.is_visible("#search-open") and not page.is_visible("#search-dialog")
            results = search_for(page, TABLE_WORD)
            assert results == [{"title": "Titrating Vinegar", "href": "/titrating-vinegar/", "sections": [
                {"href": "/titrating-vinegar/#sec-results", "title": "Results", "marked": [TABLE_WORD]}]}]
            assert page.text_content("#search-status") == f"1 post matches “{TABLE_WORD}”."
            page.keyboard.press("Escape")
            page.wait_for_selector("#search-dialog", state="hidden")
            # The dialog's close event, which puts the focus back, is a task after the dialog hides.
            page.wait_for_function("document.activeElement && document.activeElement.id === 'search-open'", timeout=5000)

            # A click outside the box closes it.
            page.click("#search-open")
            page.mouse.click(5, 790)
            page.wait_for_selector("#search-dialog", state="hidden")

            # The button opens it too, the words stay; the arrow keys reach the result; Enter follows it.
            page.click("#search-open")
            page.wait_for_selector("#search-dialog[open]")
            assert page.input_value("#search-input") == TABLE_WORD
            page.wait_for_selector("#search-results .search-result")
            page.keyboard.press("ArrowDown")
            page.keyboard.press("ArrowDown")
            assert page.evaluate("document.activeElement.getAttribute('href')") == "/titrating-vinegar/#sec-results"
            with page.expect_navigation():
                page.keyboard.press("Enter")
            assert page.url == server.url + "titrating-vinegar/#sec-results"
            assert page.is_visible("#sec-results") and not page.is_visible("#search-dialog")

            # A formula's TeX finds its post; a word in no post says so.
            assert [r["title"] for r in search_for(page, "kappa")] == ["A Pendulum That Wobbles"]
            page.fill("#search-input", "xylophone")
            page.wait_for_function("document.querySelector('#search-status').textContent.startsWith('No posts')")
            assert page.locator("#search-results li").count() == 0
            assert_clean(page)
    finally:
        server.close()


@pytest.mark.browser
def test_search_works_under_a_base_path(browser, search_builds):
    server = StaticServer(search_builds[1], SUB)
    origin = server.url[: -len(SUB)]
    try:
        with watched_page(browser, origin, viewport={"width": 1280, "height": 900}) as page:
            page.goto(server.url + "wobble/")
            results = search_for(page, TABLE_WORD)
            assert results[0]["href"] == "/sub/titrating-vinegar/"
            assert results[0]["sections"][0]["href"] == "/sub/titrating-vinegar/#sec-results"
            index = [u for u in page.requests if "/pagefind/" in u]
            assert index and all(u.startswith(server.url + INDEX_DIR) for u in index), index
            with page.expect_navigation():
                page.click(".search-section-link")
            assert page.url == server.url + "titrating-vinegar/#sec-results"
            assert page.title().startswith("Titrating Vinegar")
            assert_clean(page)
    finally:
        server.close()


@pytest.mark.browser
def test_search_works_under_the_strict_csp(browser, search_builds):
    server = CspServer(search_builds[0])
    try:
        with watched_page(browser, server.url, viewport={"width": 375, "height": 800}) as page:
            response = page.goto(server.url + "loose-ends/")
            assert CSP in response.headers["content-security-policy"]
            assert page.is_visible("#search-open"), "the button shows at 375 px"
            results = search_for(page, "burette")
            assert {r["title"] for r in results} == {"Titrating Vinegar", "Loose Ends"}
            # Pagefind searched in its worker (a worker the CSP refused would fall back, with a warning).
            assert any(u.endswith("pagefind-worker.js") for u in page.requests)
            width = page.evaluate("document.querySelector('#search-dialog').getBoundingClientRect().right")
            assert width <= 375, "the dialog fits a phone"
            assert_clean(page)
        assert server.reports == [], server.reports
    finally:
        server.close()


@pytest.mark.browser
@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("width", [1280, 375])
def test_screenshots_of_the_open_search(browser, search_builds, scheme, width):
    server = StaticServer(search_builds[0])
    try:
        with watched_page(browser, server.url, viewport={"width": width, "height": 800}, color_scheme=scheme) as page:
            page.goto(server.url + "titrating-vinegar/")
            search_for(page, "burette")
            page.wait_for_timeout(100)
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            target = ARTIFACTS / f"search-{scheme}-{width}.png"
            page.screenshot(path=str(target), animations="disabled")
            assert target.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
            overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
            assert overflow <= 0, f"the page scrolls sideways by {overflow} px"
            assert_clean(page)
            if not AXE.exists():
                return  # no npm set-up (`make test` runs npm ci): the screenshots are taken all the same
            # axe-core (npm, pinned) on the masthead with the search open: contrast, names, roles.
            page.add_script_tag(path=str(AXE))
            found = page.evaluate("""async () => (await axe.run({include: [['#site-header']]},
                {resultTypes: ['violations']})).violations.map(v => v.id + ': ' + v.nodes.map(n => n.target).join(' '))""")
            assert found == [], found
    finally:
        server.close()
