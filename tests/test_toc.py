"""Table of contents: a post with four sections or more shows its outline (numbers and titles, linked
to the sections) after its header, in a <details> open at first that a reader can fold away."""

import re
import subprocess

import pytest

from conftest import REPO, SUBPATH_URL
from labpress.check.links import check_links
from support import StaticServer

HEAD = "---\ntitle: Outline\ndate: 2026-02-02\nsummary: A dek.\nverdict: confirmed\n---\n"
FOUR = ("::: hypothesis\nH.\n:::\n\n## Method\n\nM.\n\n## Results & *errors*\n\nR.\n\n## Method\n\nAgain.\n\n"
        "::: conclusion\nC.\n:::\n")


def toc_of(html: str) -> str:
    return html[html.index('<nav class="post-toc"'):html.index("</nav>", html.index('<nav class="post-toc"')) + 6]


def test_a_post_with_many_sections_lists_them_after_its_header(site):
    result, html = site.build_post(HEAD + FOUR)
    assert result.returncode == 0, result.stderr
    toc = toc_of(html)
    header_end = html.index("</header>", html.index('<header class="post-header">'))
    assert html.index('<p class="post-dek">A dek.</p>') < header_end < html.index(toc)
    assert html.index(toc) < html.index('<div class="post-body">')
    assert toc.startswith('<nav class="post-toc" aria-label="Contents">\n    <details open>\n'
                          '      <summary><span class="post-toc-title">Contents</span></summary>\n'
                          '      <ol class="post-toc-list">\n')
    entries = re.findall(r'<li><a href="#([^"]+)"><span class="post-toc-num">(\d+)</span>'
                         r' <span class="post-toc-name">([^<]*)</span></a></li>', toc)
    assert entries == [("hypothesis", "01", "Hypothesis"), ("method", "02", "Method"),
                       ("results-errors", "03", "Results &amp; errors"), ("method-2", "04", "Method"),
                       ("conclusion", "05", "Conclusion")]
    for anchor, _, _ in entries:  # every entry leads to its section's heading
        assert f'<h2 id="{anchor}" class="section-heading">' in html


def test_a_post_with_few_sections_has_none(site):
    result, html = site.build_post(HEAD + "## One\n\n## Two\n\n## Three\n")
    assert result.returncode == 0, result.stderr
    assert "post-toc" not in html


def test_the_outline_works_under_a_base_url_and_its_links_resolve(site):
    site.post("p.md", HEAD + FOUR)
    result = site.build("--base-url", SUBPATH_URL)
    assert result.returncode == 0, result.stderr
    toc = toc_of((site.out / "p" / "index.html").read_text())
    assert re.findall(r'href="([^"]+)"', toc) == ["#hypothesis", "#method", "#results-errors", "#method-2",
                                                   "#conclusion"]
    assert check_links(site.out, SUBPATH_URL) == []


HTML_VALIDATE = REPO / "node_modules" / ".bin" / "html-validate"


@pytest.mark.skipif(not HTML_VALIDATE.exists(), reason="npm ci installs html-validate")
def test_the_page_is_valid_html(site):
    result, _ = site.build_post(HEAD + FOUR)
    assert result.returncode == 0, result.stderr
    checked = subprocess.run([str(HTML_VALIDATE), "--config", str(REPO / ".htmlvalidate.json"),
                              str(site.out / "p" / "index.html")], capture_output=True, text=True, cwd=REPO)
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_open_at_first_folded_with_a_tap_on_a_phone_and_compact_on_a_wide_screen(site, browser):
    result, _ = site.build_post(HEAD + FOUR)
    assert result.returncode == 0, result.stderr
    server = StaticServer(site.out)
    try:
        phone = browser.new_context(viewport={"width": 375, "height": 800}, java_script_enabled=False)
        page = phone.new_page()
        page.goto(server.url + "p/")
        assert page.locator(".post-toc details").get_attribute("open") is not None
        assert page.get_by_role("navigation", name="Contents").is_visible()
        links = page.locator(".post-toc-list a")
        assert links.count() == 5 and links.first.is_visible()
        left = links.evaluate_all("links => links.map(a => Math.round(a.getBoundingClientRect().left))")
        assert len(set(left)) == 1  # one column
        page.locator(".post-toc summary").click()  # folds without any script
        assert not links.first.is_visible()
        page.locator(".post-toc summary").press("Enter")  # and opens again from the keyboard
        assert links.first.is_visible()
        phone.close()

        wide = browser.new_context(viewport={"width": 1280, "height": 900})
        page = wide.new_page()
        page.goto(server.url + "p/")
        links = page.locator(".post-toc-list a")
        left = links.evaluate_all("links => links.map(a => Math.round(a.getBoundingClientRect().left))")
        assert len(set(left)) == 2  # two columns: compact
        heights = links.evaluate_all("links => links.map(a => a.getBoundingClientRect().height)")
        assert min(heights) >= 24  # targets large enough to tap
        page.locator('.post-toc-list a[href="#conclusion"]').click()
        page.wait_for_function("location.hash === '#conclusion'")
        wide.close()
    finally:
        server.close()
