"""Experiment blocks, numbered sections, data tables, code and reading time."""

import re

from conftest import REPO

HEAD = "---\ntitle: Blocks\ndate: 2026-02-02\nverdict: refuted\nverdict_label: Far from it\n---\n"


def build_post(site, body: str, head: str = HEAD):
    return site.build_post(head + body)


def test_hypothesis_card_is_section_one(site):
    result, html = build_post(site, "::: hypothesis\nAll knobs are one knob.\n:::\n")
    assert result.returncode == 0, result.stderr
    assert '<section class="section section--hypothesis" aria-labelledby="hypothesis">' in html
    assert '<span class="section-num">01</span> <span class="section-title">Hypothesis</span>' in html
    assert re.search(r'<div class="hypothesis-card">.*H₀.*All knobs are one knob\.', html, re.S)


def test_conclusion_shows_verdict_from_front_matter(site):
    result, html = build_post(site, "::: hypothesis\nH\n:::\n\n::: conclusion\nThey differ.\n:::\n")
    assert result.returncode == 0, result.stderr
    card = html[html.index('<div class="verdict-card verdict-card--refuted">'):]
    assert '<p class="verdict-label"><span aria-hidden="true">⚠</span> Far from it</p>' in card
    assert '<p class="verdict-phrase">Hypothesis refuted</p>' in card
    assert card.index("Far from it") < card.index("They differ.")


def test_callouts(site):
    result, html = build_post(site, "::: note\nA note.\n:::\n\n::: warning\nCareful.\n:::\n")
    assert result.returncode == 0, result.stderr
    assert '<aside class="callout callout--note" aria-label="Note">' in html
    assert '<aside class="callout callout--warning" aria-label="Warning">' in html


def test_sections_numbered_with_stable_unique_ids(site):
    body = "::: hypothesis\nH\n:::\n\n## Method\n\ntext\n\n## L1 vs L2 — a budget\n\n### Sub\n\n## Method\n\n::: conclusion\nC\n:::\n\n## What next\n"
    result, html = build_post(site, body)
    assert result.returncode == 0, result.stderr
    found = re.findall(r'<h2 id="([^"]+)" class="section-heading"><span class="section-num">(\d+)</span>', html)
    assert found == [("hypothesis", "01"), ("method", "02"), ("l1-vs-l2-a-budget", "03"), ("method-2", "04"),
                     ("conclusion", "05"), ("what-next", "06")]
    assert "<h3>Sub</h3>" in html


def test_data_table_label_counts_rows(site):
    table = "| a | b |\n|---|---|\n| 1 | 2 |\n| 3 | 4 |\n| 5 | 6 |\n"
    result, html = build_post(site, table + "\ntext\n\n" + table.replace("| 5 | 6 |\n", ""))
    assert result.returncode == 0, result.stderr
    assert re.findall(r'<span class="data-table-label">Data table</span> n=(\d+)', html) == ["3", "2"]


def test_code_highlighted_at_build_time(site):
    result, html = build_post(site, "```python\ndef f(x):\n    return x  # why\n```\n\n```\nplain <b>\n```\n")
    assert result.returncode == 0, result.stderr
    assert '<pre class="highlight" tabindex="0"><code class="language-python"><span class="k">def</span>' in html
    assert '<span class="c1"># why</span>' in html
    assert "plain &lt;b&gt;" in html
    css = next((site.out / "assets").glob("style.*.css")).read_text()
    assert ".highlight .k" in css and "[data-scheme=dark] .highlight .k" in css


def test_reading_time_from_prose(site):
    words = " ".join(["word"] * 700)
    result, html = build_post(site, words + "\n\n```\n" + "code " * 2000 + "\n```\n")
    assert result.returncode == 0, result.stderr
    assert '<span class="read-time">4 min read</span>' in html  # 700 words; code not counted


def test_unknown_block_with_suggestion(site):
    result, _ = build_post(site, "\n::: hypotesis\nH\n:::\n")
    assert result.errors == [
        "content/p.md:8:5: error: unknown block 'hypotesis' (did you mean 'hypothesis'?); known blocks: hypothesis, conclusion, note, tip, important, warning, caution, widget, table"
    ]


def test_unclosed_block(site):
    result, _ = build_post(site, "::: note\nnever closed\n\nmore text\n")
    assert result.errors == ["content/p.md:7:1: error: block 'note' is never closed: end it with a line ':::'"]


def test_block_in_wrong_place(site):
    result, _ = build_post(site, "- item\n\n  ::: hypothesis\n  H\n  :::\n")
    assert result.errors == [
        "content/p.md:9:3: error: block 'hypothesis' must stand at the top level of the post, not inside a list, quote or other block"
    ]


def test_conclusion_needs_verdict_and_order(site):
    head = "---\ntitle: T\ndate: 2026-02-02\n---\n"
    result, _ = build_post(site, "::: conclusion\nC\n:::\n\n::: hypothesis\nH\n:::\n", head=head)
    assert result.errors == [
        "content/p.md:5:1: error: the 'conclusion' block must come after the 'hypothesis' block",
        "content/p.md:5:1: error: the 'conclusion' block shows the verdict: add 'verdict:' to the front matter",
    ]


def test_second_hypothesis_and_body_h1(site):
    result, _ = build_post(site, "# Big\n\n::: hypothesis\nA\n:::\n\n::: hypothesis\nB\n:::\n")
    assert result.errors == [
        "content/p.md:7:1: error: use '##' for sections: the post's title is its only top-level heading",
        "content/p.md:13:1: error: a post has one 'hypothesis' block; the first is at line 9",
    ]


def test_nested_callout_inside_hypothesis_with_longer_fence(site):
    result, html = build_post(site, ":::: hypothesis\nH\n\n::: note\ninner\n:::\n::::\n")
    assert result.returncode == 0, result.stderr
    assert html.index("hypothesis-card") < html.index("callout--note")


def test_code_token_colours_reach_aa_contrast_on_theme_backgrounds():
    from labpress.theme.code_colours import CODE_BACKGROUND, contrast, pygments_css
    from labpress.theme.palette import load_palette

    palette = load_palette(REPO / "themes" / "default")
    LIGHT_CODE_BG, DARK_CODE_BG = palette.colour(CODE_BACKGROUND, "code blocks")
    theme_css = (REPO / "themes" / "default" / "static" / "style.css").read_text()
    assert f"--code-bg: light-dark({LIGHT_CODE_BG}, {DARK_CODE_BG});" in theme_css
    light, dark = pygments_css(palette).split("@media")
    colour = re.compile(r"(?<![-\w])color: (#[0-9a-f]{6})")
    assert colour.findall(light) and colour.findall(dark)
    assert min(contrast(c, LIGHT_CODE_BG) for c in colour.findall(light)) >= 4.5
    assert min(contrast(c, DARK_CODE_BG) for c in colour.findall(dark)) >= 4.5
