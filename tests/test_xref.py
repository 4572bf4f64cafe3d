"""Cross-references (issue 12): labels on equations, figures, widgets, images, tables and sections,
numbered per post, ``@label`` references that become links with the number, references to other
posts filled in by the site, and every mistake at its place in the post."""

import re
from pathlib import Path

import pytest

HEAD = "---\ntitle: P\ndate: 2026-02-02\n---\n\n"  # the body starts on line 6

DIAL = """
from labpress.kernel import Figure, Slider, View, widget


@widget(title="Dial", angle=Slider(0, 90, value=30, step=10, label="Angle"))
def dial(angle):
    fig = Figure(x=(0, 100), y=(0, 100), title="Dial")
    fig.circle(angle, angle)
    return View(fig, {"angle": angle})
"""

# A widget with a control named 'label': 'label:' stays that control's setting.
NAMED = """
from labpress.kernel import Choice, Figure, View, widget


@widget(title="Named", label=Choice(["a", "b"], value="a"))
def named(label):
    fig = Figure(x=(0, 1), y=(0, 1), title="Named " + label)
    return View(fig, {"label": label})
"""

FIGURE = '```python {figure} #fig-curve caption="A curve"\nplt.plot([0, 1], [0, 1])\n```\n'


def built(site, body: str, *args: str) -> str:
    result, html = site.build_post(HEAD + body, *args)
    assert result.returncode == 0, result.stderr
    return html


def refused(site, body: str) -> list[str]:
    result, html = site.build_post(HEAD + body)
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert "Traceback" not in output and "internal error" not in output, output
    return result.errors


def links(html: str) -> list[tuple[str, str]]:
    return re.findall(r'<a class="xref" href="([^"]*)">([^<]*)</a>', html)


def error(line: int, col: int, message: str) -> str:
    return f"content/p.md:{line}:{col}: error: {message}"


# --- Each construct ---------------------------------------------------------------


def test_equations_are_numbered_at_their_right_and_referred_to(site):
    html = built(site, "See @eq-first, [@eq-second] and [-@eq-second].\n\n"
                       "$$\nE = mc^2\n$$ {#eq-first}\n\n$$ x $$\n\n$$ a + b $$ {#eq-second}\n")
    assert links(html) == [("#eq-first", "Eq. (1)"), ("#eq-second", "Eq. (2)"), ("#eq-second", "(2)")]
    numbered = re.findall(r'<div class="math-display math-display--numbered" id="(eq-[a-z]+)">.*?'
                          r'<span class="eq-number">\((\d)\)</span></div>', html, re.S)
    assert numbered == [("eq-first", "1"), ("eq-second", "2")]
    assert html.count('<div class="math-display math-scroll"') == 1  # the unlabelled one: no number
    # The number stands outside the box a wide formula scrolls in, which is named with it.
    assert html.count('<div class="math-scroll" tabindex="0" role="group" aria-label="Equation (2)">') == 1


def test_figures_widgets_and_images_share_the_figure_counter(site):
    site.widget("dial", DIAL)
    body = ("Figures @fig-curve, @fig-dial, @fig-photo and @fig-last.\n\n" + FIGURE + "\n"
            "```python {figure} alt=\"Not numbered\"\nplt.plot([0, 1])\n```\n\n"
            "::: widget dial\nangle: 40\nlabel: fig-dial\ncaption: \"angle {angle:.0f}\"\n:::\n\n"
            "![A photo of the rig](/img/rig.png){#fig-photo}\n\n"
            '```python {figure} #fig-last alt="Last, no caption"\nplt.plot([1, 0])\n```\n')
    html = built(site, body)
    assert links(html) == [("#fig-curve", "Figure 1"), ("#fig-dial", "Figure 2"), ("#fig-photo", "Figure 3"),
                           ("#fig-last", "Figure 4")]
    assert '<figure class="py-figure" id="fig-curve">' in html
    assert '<figcaption><span class="xref-label">Figure 1:</span> A curve</figcaption>' in html
    # The widget's label is its id; its caption stays the element the runtime rewrites.
    assert re.search(r'<figure class="widget" id="fig-dial" data-widget="dial"', html)
    assert ('<figcaption class="widget-figcaption"><span class="xref-label">Figure 2:</span> '
            '<span class="widget-caption">angle 40</span></figcaption>') in html
    assert ('<figure class="image-figure" id="fig-photo">\n<img src="/img/rig.png" alt="A photo of the rig" />\n'
            '<figcaption><span class="xref-label">Figure 3:</span> A photo of the rig</figcaption>\n</figure>') in html
    assert '<figcaption><span class="xref-label">Figure 4</span></figcaption>' in html  # no caption: the number
    assert html.count('class="xref-label"') == 4


def test_a_widget_control_named_label_keeps_working(site):
    site.widget("named", NAMED)
    html = built(site, "As @fig-named shows.\n\n::: widget named\nlabel: b\nfigure-label: fig-named\n:::\n")
    assert links(html) == [("#fig-named", "Figure 1")]
    assert '<figure class="widget" id="fig-named"' in html
    assert "Named b" in html  # label: b went to the control


def test_tables_markdown_and_data_share_the_table_counter(site):
    (site.root / "data").mkdir()
    (site.root / "data" / "t.csv").write_text("x,y\n1,2\n", encoding="utf-8")
    body = ("@tbl-md and @tbl-data.\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n: Measured $x$ values {#tbl-md}\n\n"
            "| c |\n|---|\n| 3 |\n\nTable: Just a caption\n\n"
            "::: table data/t.csv\ncaption: From a file\nlabel: tbl-data\n:::\n")
    html = built(site, body)
    assert links(html) == [("#tbl-md", "Table 1"), ("#tbl-data", "Table 2")]
    assert re.search(r'<figure class="data-table" id="tbl-md" aria-labelledby="table-1">\n<figcaption id="table-1">'
                     r'<span class="data-table-label">Data table</span> n=1 <span class="data-table-caption">'
                     r'<span class="xref-label">Table 1:</span> Measured <span class="katex">.*?</span> values</span>'
                     r'</figcaption>', html)
    assert ('<span class="data-table-caption">Just a caption</span></figcaption>') in html  # unlabelled: no number
    assert '<span class="xref-label">Table 2:</span> From a file' in html
    assert "{#tbl-md}" not in html and ": Measured" not in html


def test_sections_keep_their_numbers(site):
    html = built(site, "## Setup\n\nSee @sec-method.\n\n## Method {#sec-method}\n\nText.\n")
    assert links(html) == [("#sec-method", "Section 02")]
    assert '<h2 id="sec-method" class="section-heading"><span class="section-num">02</span>' \
           ' <span class="section-title">Method</span></h2>' in html


def test_numbering_across_mixed_items_in_page_order(site):
    body = ("## One {#sec-one}\n\n$$ a $$ {#eq-a}\n\n" + FIGURE + "\n| a |\n|---|\n| 1 |\n\n: T {#tbl-a}\n\n"
            "## Two\n\n![Img](/i.png){#fig-img}\n\n$$ b $$ {#eq-b}\n\n"
            "[@sec-one; @eq-a; @fig-curve; @tbl-a; @fig-img; @eq-b] and [see @fig-img, left].\n")
    html = built(site, body)
    assert re.findall(r'<a class="xref" href="#[^"]+">([^<]+)</a>', html) == [
        "Section 01", "Eq. (1)", "Figure 1", "Table 1", "Figure 2", "Eq. (2)", "Figure 2"]
    assert ('<a class="xref" href="#sec-one">Section 01</a>, <a class="xref" href="#eq-a">Eq. (1)</a>, '
            '<a class="xref" href="#fig-curve">Figure 1</a>') in html
    assert 'see <a class="xref" href="#fig-img">Figure 2</a>, left.' in html


def test_an_address_and_an_escaped_at_stay_text(site):
    html = built(site, "Write to lab@fig-x.example or \\@fig-x.\n")
    assert "lab@fig-x.example or @fig-x." in html and 'class="xref"' not in html


def test_a_reference_inside_a_link_shows_the_number_without_a_second_link(site):
    html = built(site, "[see @fig-curve](#fig-curve)\n\n" + FIGURE)
    assert '<a href="#fig-curve">see <span class="xref">Figure 1</span></a>' in html


# --- Across posts --------------------------------------------------------------------


OTHER = ("---\ntitle: The other post\ndate: 2026-02-01\n---\n\n"
         '```python {figure} alt="first"\nplt.plot([0, 1])\n```\n\n'
         "$$ y $$ {#eq-other}\n\n" + FIGURE)


def test_references_to_another_post(site):
    site.post("other.md", OTHER)
    html = built(site, "As in @post-other#fig-curve, [-@post-other#eq-other] and @post-other; or [a link](/other/#fig-curve).\n")
    assert links(html) == [("/other/#fig-curve", "Figure 1"), ("/other/#eq-other", "(1)"), ("/other/", "The other post")]
    assert '<a href="/other/#fig-curve">a link</a>' in html
    assert "data-xref" not in html  # filled in
    feed = (site.out / "atom.xml").read_text()
    assert '/other/#fig-curve"&gt;Figure 1&lt;/a&gt;' in feed and "data-xref" not in feed


def test_base_url_reaches_every_reference(site):
    site.post("other.md", OTHER)
    html = built(site, "@post-other#fig-curve and @fig-curve.\n\n" + FIGURE, "--base-url", "https://x.example/sub/")
    assert links(html) == [("/sub/other/#fig-curve", "Figure 1"), ("#fig-curve", "Figure 1")]


def test_another_posts_numbers_follow_its_edits_in_an_incremental_build(site, tmp_path):
    site.post("other.md", OTHER)
    built(site, "See @post-other#fig-curve.\n")
    site.post("other.md", OTHER.replace('```python {figure} alt="first"\nplt.plot([0, 1])\n```\n\n', ""))
    result = site.build()
    assert result.returncode == 0, result.stderr
    html = (site.out / "p" / "index.html").read_text()
    assert links(html) == [("/other/#fig-curve", "Figure 1")]
    site.post("other.md", OTHER.replace("$$ y $$ {#eq-other}\n\n", FIGURE.replace("curve", "new") + "\n"))
    assert site.build().returncode == 0
    incremental = {p.relative_to(site.out): p.read_bytes() for p in site.out.rglob("*") if p.is_file()}
    assert links(incremental[Path("p/index.html")].decode()) == [("/other/#fig-curve", "Figure 2")]
    assert site.build("--out", str(tmp_path / "clean"), "--no-cache").returncode == 0
    clean = {p.relative_to(tmp_path / "clean"): p.read_bytes() for p in (tmp_path / "clean").rglob("*") if p.is_file()}
    assert incremental == clean


# --- Mistakes, at their place ----------------------------------------------------------


@pytest.mark.parametrize("body, expected", [
    pytest.param("See @fig-nope.\n\n" + FIGURE, [error(6, 5, "no label 'fig-nope' in this post")], id="undefined"),
    pytest.param("See [@fig-curv].\n\n" + FIGURE,
                 [error(6, 6, "no label 'fig-curv' in this post (did you mean 'fig-curve'?)")], id="did-you-mean"),
    pytest.param("$$ a $$ {#eq-a}\n\n$$ b $$ {#eq-a}\n",
                 [error(8, 9, "the label 'eq-a' is already the label of the equation at line 6")], id="duplicate"),
    pytest.param(FIGURE + "\n![x](/x.png){#fig-curve}\n",
                 [error(10, 13, "the label 'fig-curve' is already the label of the figure at line 6")],
                 id="duplicate-across-kinds-of-figure"),
    pytest.param("$$ a $$ {#fig-a}\n", [error(6, 9, "the label 'fig-a' is on an equation, but 'fig-' labels figures"
                                                    " and widgets: write {#eq-a}")], id="figure-label-on-equation"),
    pytest.param('```python {figure} #eq-x caption="c"\nplt.plot([0])\n```\n',
                 [error(6, 20, "the label 'eq-x' is on a figure, but 'eq-' labels equations: write {#fig-x}")],
                 id="equation-label-on-figure"),
    pytest.param("## Method {#tbl-m}\n", [error(6, 11, "the label 'tbl-m' is on a section, but 'tbl-' labels tables:"
                                                       " write {#sec-m}")], id="table-label-on-section"),
    pytest.param("| a |\n|---|\n| 1 |\n\n: Cap {#sec-x}\n",
                 [error(10, 7, "the label 'sec-x' is on a table, but 'sec-' labels sections: write {#tbl-x}")],
                 id="section-label-on-table"),
    pytest.param("$$ a $$ {#a b}\n", [], id="not-a-label-is-not-a-math-block"),
    pytest.param("$$ a $$ {#results}\n", [error(6, 9, "'{#results}' is not a label: an equation takes 'eq-' and a"
                                                     " name of letters, digits, '-' and '_', as in {#eq-results}")],
                 id="no-kind"),
    pytest.param("### Detail {#sec-d}\n", [error(6, 12, "a label such as {#sec-method} goes on a '##' heading at the"
                                                        " top level of the post: the numbered sections are what it"
                                                        " names")], id="label-on-h3"),
    pytest.param("Text ![x](/x.png){#fig-x} inline.\n",
                 [error(6, 18, "a labelled image is a figure: give it a paragraph of its own (a blank line before"
                               " and after)")], id="image-in-a-sentence"),
    pytest.param("$$\nx \\label{eq:energy}\n$$\n",
                 [error(7, 3, "\\label is not how a post labels an equation: write {#eq-energy} after the closing $$"
                              " of a display equation, and refer to it with @eq-energy")], id="tex-label"),
    pytest.param("By $\\eqref{eq-a}$.\n",
                 [error(6, 5, "\\eqref refers to a TeX label, which a post does not have: write @eq-a in the text,"
                              " for an equation labelled {#eq-a} after its closing $$")], id="tex-eqref"),
    pytest.param("See @post-nowhere#fig-a.\n",
                 [error(6, 5, "no post 'nowhere': @post-SLUG names a post by its address (content/SLUG.md is /SLUG/)")],
                 id="unknown-post"),
    pytest.param("See @post-p#fig-none.\n", [error(6, 5, "the post 'p' has no label 'fig-none'")],
                 id="unknown-label-in-a-post"),
    pytest.param("See @post-p#results.\n",
                 [error(6, 5, "'@post-p#results' is not a reference to another post: write @post-SLUG for the post,"
                              " or @post-SLUG#fig-NAME for one of its labels")], id="bad-cross-post"),
    pytest.param("[@fig-curve; @smith]\n\n" + FIGURE,
                 [error(6, 1, "one pair of brackets holds citations or cross-references, not both: write [@fig-x]"
                              " and [@key] apart")], id="mixed-brackets"),
])
def test_mistakes_are_errors_at_their_position(site, body, expected):
    if not expected:
        assert built(site, body)
        return
    assert refused(site, body) == expected


def test_a_wrong_widget_label(site):
    site.widget("dial", DIAL)
    assert refused(site, "::: widget dial\nlabel: tbl-dial\n:::\n") == [
        error(7, 8, "the label 'tbl-dial' is on a figure, but 'tbl-' labels tables: write {#fig-dial}")]


def test_two_builds_are_byte_identical(site, tmp_path):
    site.post("other.md", OTHER)
    site.post("p.md", HEAD + "@post-other#fig-curve, @eq-a\n\n$$ a $$ {#eq-a}\n")
    outputs = []
    for name in ("one", "two"):
        assert site.build("--out", str(tmp_path / name), "--no-cache").returncode == 0
        outputs.append({p.relative_to(tmp_path / name): p.read_bytes()
                        for p in (tmp_path / name).rglob("*") if p.is_file()})
    assert outputs[0] == outputs[1]


REPO = Path(__file__).resolve().parent.parent


@pytest.mark.skipif(not (REPO / "node_modules" / ".bin" / "html-validate").exists(), reason="npm ci installs html-validate")
def test_the_html_is_valid(site):
    import subprocess

    site.widget("dial", DIAL)
    (site.root / "content" / "refs.bib").write_text("@book{k, author = {A. Author}, title = {T}, year = 2001,"
                                                    " doi = {10.1/x}}\n", encoding="utf-8")
    site.post("other.md", OTHER)
    body = ("## Method {#sec-m}\n\n@k says [@k, p. 2] of @eq-a, @fig-curve, @fig-dial, @fig-img, @tbl-a, @sec-m,"
            " @post-other#fig-curve and [see @fig-img](#fig-img).\n\n$$ a $$ {#eq-a}\n\n" + FIGURE +
            "\n::: widget dial\nlabel: fig-dial\n:::\n\n![An image](/x.png){#fig-img}\n\n| a |\n|---|\n| 1 |\n\n"
            ": A table with $x$ {#tbl-a}\n")
    result, html = site.build_post(HEAD.replace("title: P", "title: P\nbibliography: refs.bib") + body)
    assert result.returncode == 0, result.stderr
    assert 'class="citation"' in html and "references-list" in html
    pages = [str(site.out / "p" / "index.html"), str(site.out / "other" / "index.html")]
    result = subprocess.run([str(REPO / "node_modules" / ".bin" / "html-validate"), "--config",
                             str(REPO / ".htmlvalidate.json"), *pages], capture_output=True, text=True, cwd=REPO)
    assert result.returncode == 0, result.stdout + result.stderr
