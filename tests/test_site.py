"""The site as a whole: pages, navigation, feed, sitemap, base URL, determinism, atomic output."""

import hashlib
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from conftest import REPO, SUBPATH_URL, run_labpress
from labpress.check.links import check_links

ATOM = "{http://www.w3.org/2005/Atom}"


def three_posts(site):
    for step, (name, day, exp) in enumerate([("first", "2026-01-05", 1), ("second", "2026-02-05", 2), ("third", "2026-03-05", 3)], 1):
        site.post(f"{name}.md", f"""
        ---
        title: Post {name}
        date: {day}
        exp: {exp}
        series: basics
        step: {step}
        tags: [Alpha, beta test]
        verdict: confirmed
        summary: Summary of {name}.
        ---

        ::: hypothesis
        Claim {name}.
        :::

        Text linking to [the first](/first/#hypothesis), with $x^2 + {exp}$ in it.
        """)


def tree_digest(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def test_pages_written(site):
    three_posts(site)
    result = site.build()
    assert result.returncode == 0, result.stderr
    assert re.fullmatch(r"Built 10 pages \(\d+ files\) into .* in \d+\.\d\d s · rendered 3 posts and 10 pages, reused the rest"
                        r" · \d+ formulas typeset, \d+ from cache\n", result.stdout)
    for page in ("index.html", "first/index.html", "second/index.html", "third/index.html", "series/index.html",
                 "series/basics/index.html", "tags/index.html", "tags/alpha/index.html", "tags/beta-test/index.html",
                 "404.html", "atom.xml", "sitemap.xml", ".nojekyll"):
        assert (site.out / page).is_file(), page
    fonts = list((site.out / "assets" / "katex" / "fonts").iterdir())
    assert fonts and all(f.suffix == ".woff2" for f in fonts)
    css = next((site.out / "assets" / "katex").glob("katex.*.css")).read_text()
    assert "woff2" in css and ".woff)" not in css and ".ttf" not in css


def test_index_newest_first_with_facts(site):
    three_posts(site)
    site.build()
    html = (site.out / "index.html").read_text()
    assert html.index("Post third") < html.index("Post second") < html.index("Post first")
    row = html[html.index("Post third"):html.index("Post second")]
    assert "step 3" in row and "Complete" in row and "Confirmed" in row
    assert "EXP #003" in html


def test_series_page_and_prev_next(site):
    three_posts(site)
    site.build()
    series = (site.out / "series" / "basics" / "index.html").read_text()
    assert series.index("Post first") < series.index("Post second") < series.index("Post third")
    middle = (site.out / "second" / "index.html").read_text()
    assert re.search(r'<a href="/first/" rel="prev">.*Post first', middle)
    assert re.search(r'<a href="/third/" rel="next">.*Post third', middle)
    first = (site.out / "first" / "index.html").read_text()
    assert 'rel="prev"' not in first and "First step of the series" in first


def test_tag_pages(site):
    three_posts(site)
    site.build()
    tag = (site.out / "tags" / "beta-test" / "index.html").read_text()
    assert "Tagged “beta test”" in tag and tag.count('class="post-row"') == 3
    post = (site.out / "first" / "index.html").read_text()
    assert '<a class="tag" href="/tags/alpha/">Alpha</a>' in post


def test_atom_feed_is_valid_with_absolute_urls(site):
    three_posts(site)
    site.build("--base-url", "https://someone.github.io/notes/")
    feed = ET.parse(site.out / "atom.xml").getroot()
    assert feed.tag == f"{ATOM}feed"
    for required in ("id", "title", "updated", "author"):
        assert feed.find(f"{ATOM}{required}") is not None, required
    assert feed.find(f"{ATOM}updated").text == "2026-03-05T00:00:00Z"
    self_link = feed.find(f"{ATOM}link[@rel='self']")
    assert self_link.get("href") == "https://someone.github.io/notes/atom.xml"
    entries = feed.findall(f"{ATOM}entry")
    assert [e.find(f"{ATOM}id").text for e in entries] == [
        "https://someone.github.io/notes/third/", "https://someone.github.io/notes/second/", "https://someone.github.io/notes/first/"]
    for entry in entries:
        for required in ("id", "title", "updated", "link", "content"):
            assert entry.find(f"{ATOM}{required}") is not None
        assert entry.find(f"{ATOM}content").get("type") == "html"
    assert entries[0].find(f"{ATOM}title").text == "EXP #003 · Post third"


def test_feed_entries_carry_each_formula_once_as_mathml(site):
    """Feed readers drop a page's styles: KaTeX's HTML rendering beside the MathML would show every
    formula twice, the second garbled. An entry keeps the MathML only; the page keeps both."""
    site.post("m.md", "---\ntitle: M\ndate: 2026-01-01\n---\n\nInline $\\sum_i x_i$, then\n\n"
                      "$$ \\mathcal{L} = \\left( \\frac{1}{m} \\right)^2 $$ {#eq-loss}\n\n"
                      "| $\\Delta T$ | b |\n|---|---|\n| 1 | 2 |\n")
    assert site.build().returncode == 0
    page = (site.out / "m" / "index.html").read_text()
    assert page.count('class="katex-html"') == 3 and page.count("<math") == 3
    content = ET.parse(site.out / "atom.xml").getroot().find(f"{ATOM}entry/{ATOM}content").text
    assert "katex-html" not in content and content.count("<math") == 3 and content.count("</math>") == 3
    # Nor the text a header of only maths is read as on the page: its MathML is read instead.
    assert page.count('class="math-spoken"') == 1
    assert "math-spoken" not in content and 'class="katex-mathml" aria-hidden' not in content
    assert "∑" in content and "<mi>x</mi>" in content and "\\mathcal{L}" in content  # MathML, with its TeX
    # What is around each formula is left as it was: the sentence, the numbered display, the table.
    assert re.search(r'Inline <span class="math-nowrap"><span class="katex"><span class="katex-mathml"><math .*?</math>'
                     r'</span></span>,</span> then', content, re.S)
    assert re.search(r'<div class="math-scroll"[^>]*><span class="katex-display"><span class="katex">'
                     r'<span class="katex-mathml"><math [^>]*display="block">.*?</math></span></span></span></div>'
                     r'<span class="eq-number">\(1\)</span></div>', content, re.S)
    assert re.search(r"<th[^>]*><span class=\"katex\"><span class=\"katex-mathml\"><math .*?</math></span></span></th>",
                     content, re.S)
    from labpress.site.feeds import mathml_only

    mathml = '<span class="katex"><span class="katex-mathml"><math><mi>x</mi></math></span>'
    one = mathml + '<span class="katex-html" aria-hidden="true"><span class="base"><span>x</span></span><svg></svg></span></span>'
    assert mathml_only(f"<p>{one}, {one}</p>") == f"<p>{mathml}</span>, {mathml}</span></p>"
    assert mathml_only('<span class="katex-html">unclosed <span>') == '<span class="katex-html">unclosed <span>'


def test_sitemap_lists_every_page(site):
    three_posts(site)
    site.build()
    urls = [u.text for u in ET.parse(site.out / "sitemap.xml").getroot().iter("{http://www.sitemaps.org/schemas/sitemap/0.9}loc")]
    assert "https://notes.example/second/" in urls and "https://notes.example/tags/alpha/" in urls
    assert len(urls) == 9  # every page but 404


def test_base_url_prefixes_every_link(site):
    three_posts(site)
    assert site.build("--base-url", "https://someone.github.io/my-notebook/").returncode == 0
    for page in site.out.rglob("*.html"):
        html = page.read_text()
        for link in re.findall(r'(?:href|src)="([^"]+)"', html):
            assert link.startswith(("/my-notebook/", "https://someone.github.io/my-notebook/", "#")), (page, link)
    assert check_links(site.out, "https://someone.github.io/my-notebook/") == []
    # A link the author wrote from the site root follows the base path too.
    assert '<a href="/my-notebook/first/#hypothesis">the first</a>' in (site.out / "second" / "index.html").read_text()


def test_base_url_path_only_keeps_configured_origin(site):
    three_posts(site)
    site.build("--base-url", "/sub/")
    assert '<link rel="canonical" href="https://notes.example/sub/first/">' in (site.out / "first" / "index.html").read_text()


def test_two_builds_are_byte_identical(site, tmp_path):
    three_posts(site)
    assert site.build("--out", str(tmp_path / "one")).returncode == 0
    assert (site.root / ".labpress-cache" / "katex.sqlite").is_file()
    shutil.rmtree(site.root / ".labpress-cache")
    assert site.build("--out", str(tmp_path / "two")).returncode == 0
    assert site.build("--out", str(tmp_path / "three")).returncode == 0  # warm cache
    one, two, three = (tree_digest(tmp_path / n) for n in ("one", "two", "three"))
    assert one == two == three


def test_failed_build_leaves_previous_output_untouched(site):
    three_posts(site)
    assert site.build().returncode == 0
    before = tree_digest(site.out)
    site.post("broken.md", "---\ntitle: Broken\ndate: 2026-04-01\n---\n$\\nope$\n")
    result = site.build()
    assert result.returncode == 1
    assert "the previous output is unchanged" in result.stderr
    assert tree_digest(site.out) == before
    assert [p.name for p in site.root.iterdir() if p.name.startswith(".build")] == []


def test_successful_rebuild_removes_stale_pages(site):
    three_posts(site)
    site.build()
    (site.root / "content" / "third.md").unlink()
    assert site.build().returncode == 0
    assert not (site.out / "third").exists()


def test_exit_codes_from_a_real_process(site):
    three_posts(site)
    ok = run_labpress("build", str(site.root))
    assert ok.returncode == 0 and ok.stderr == ""
    site.post("bad.md", "---\ntitle: X\ndate: 2026-01-01\nverdikt: refuted\n---\n")
    bad = run_labpress("build", str(site.root))
    assert bad.returncode == 1
    assert "content/bad.md:4:1: error: unknown front matter field 'verdikt' (did you mean 'verdict'?)" in bad.stderr
    assert "Traceback" not in bad.stderr
    usage = run_labpress("build", str(site.root), "--bogus")
    assert usage.returncode == 2
    missing = run_labpress("build", str(site.root / "nowhere"))
    assert missing.returncode == 2 and "no labpress.toml" in missing.stderr


@pytest.mark.parametrize(
    "config, message",
    [
        ('titel = "x"\n', "labpress.toml:1: error: unknown key 'titel' (did you mean 'title'?)"),
        ('title = "x"\nbase_url = "ftp://x/"\n', "error: base URL must be http(s) or a path"),
        ('title = "x"\n[series.Bad_Key]\ntitle = "y"\n', "series key 'Bad_Key' must be lower-case"),
        ('title = "x"\n[math.macros]\nR = "y"\n', "math macro 'R' must be a control sequence"),
        ('title = "x\n', "labpress.toml: error:"),
    ],
)
def test_config_errors_exit_2(site, config, message):
    site.config(config)
    result = site.build()
    assert result.returncode == 2
    assert message in result.stderr


def test_demo_site_builds_and_links_resolve(demo_build, demo_build_subpath):
    """The repository's own demo notebook builds, at the root and under a sub-path, with every link
    and anchor resolving. What its pages show is tested on the fixture notebook, not on its prose."""
    assert check_links(demo_build, "https://labpress.example/") == []
    assert check_links(demo_build_subpath, SUBPATH_URL) == []
    assert (demo_build / "index.html").is_file() and (demo_build / "404.html").is_file()


def test_fixture_notebook_builds_and_links_resolve(notebook_build, notebook_build_subpath):
    assert check_links(notebook_build, "https://fixture-notes.example/") == []
    assert check_links(notebook_build_subpath, SUBPATH_URL) == []
    post = (notebook_build / "dials-and-handles" / "index.html").read_text()
    assert "EXP #012" in post and "T-12" in post and "Bench Basics for the Test Suite" in post
    assert re.search(r"Data table</span> n=4", post)
    assert "Could not tell them apart" in post and "Hypothesis refuted" in post
    assert post.count('class="section-num"') == 12


def test_link_check_catches_broken_links(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "index.html").write_text('<a href="/a/">ok</a><a href="/a/#nope">bad anchor</a><a href="/missing/">gone</a>'
                                         '<a href="https://elsewhere.example/">ext</a><p id="here"></p><a href="#here">self</a>')
    (tmp_path / "a" / "index.html").write_text("<h1 id='top'>A</h1>")
    broken = check_links(tmp_path, "https://site.example/")
    assert [(b.target, b.reason) for b in broken] == [
        ("/a/#nope", "no element with id 'nope'"), ("/missing/", "no such file in the build")]


def html_validate(*roots: Path) -> subprocess.CompletedProcess:
    binary = REPO / "node_modules" / ".bin" / "html-validate"
    files = sorted(str(p) for root in roots for p in root.rglob("*.html"))
    return subprocess.run([str(binary), "--config", str(REPO / ".htmlvalidate.json"), *files],
                          capture_output=True, text=True, cwd=REPO)


@pytest.mark.skipif(not (REPO / "node_modules" / ".bin" / "html-validate").exists(), reason="npm ci installs html-validate")
def test_every_page_passes_html_validate(demo_build, demo_build_subpath):
    result = html_validate(demo_build, demo_build_subpath)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.skipif(not (REPO / "node_modules" / ".bin" / "html-validate").exists(), reason="npm ci installs html-validate")
def test_every_fixture_notebook_page_passes_html_validate(notebook_build, notebook_build_subpath):
    """The fixture notebook has what the demo may lack (a choice control, a live-only slider, callouts)."""
    result = html_validate(notebook_build, notebook_build_subpath)
    assert result.returncode == 0, result.stdout + result.stderr


def test_pages_work_under_a_strict_csp(notebook_build):
    """No inline scripts, handlers or style attributes: KaTeX's positioning moves into a stylesheet."""
    for page in notebook_build.rglob("*.html"):
        html = page.read_text()
        assert ' style="' not in html, page
        assert not re.search(r"\son[a-z]+=", html), page
        for script in re.findall(r"<script\b[^>]*>", html):
            assert ' src="' in script or 'type="application/json"' in script, (page, script)
    post = (notebook_build / "dials-and-handles" / "index.html").read_text()
    css_url = re.search(r'<link rel="stylesheet" href="(/assets/inline\.[0-9a-f]{10}\.css)">', post).group(1)
    css = (notebook_build / css_url.lstrip("/")).read_text()
    for name in set(re.findall(r'class="[^"]*\b(s-[0-9a-f]{8})\b', post)):
        assert f".{name}{{" in css


def test_inline_style_extraction_keeps_classes_and_priority():
    from labpress.math.styles import InlineStyles

    styles = InlineStyles()
    page, used = styles.extract('<span class="a" style="height:1em;"></span><i style="top:-2em"/><b style="">x</b>')
    name_a, name_b = sorted(used, key=lambda n: used[n])
    assert used[name_a] == "height:1em!important" and used[name_b] == "top:-2em!important"
    assert page == f'<span class="a {name_a}"></span><i class="{name_b}"/><b style="">x</b>'
    again, used_again = styles.extract('<span class="a" style="height:1em;"></span><p style="">y</p>')
    assert again == f'<span class="a {name_a}"></span><p style="">y</p>' and used_again == {name_a: used[name_a]}
    assert styles.extract("<p>plain</p>") == ("<p>plain</p>", {})
