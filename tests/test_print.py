"""Printing a post: every formula glyph, every block, each widget's current frame, on white.

KaTeX's fonts load when text in them is first laid out, and a post lays out its blocks only near the
screen: printed as soon as it opened, a post showed blanks for every face not loaded yet (Σ, 𝓛, big
parentheses, bold). A page preloads the faces its formulas use (theme/static.py, base.html), and the
print styles lay out every block, in the light scheme, without controls. The PDFs are read back with
poppler-utils (pdftotext, pdffonts, pdftoppm; .ci/run installs them); a page of each is kept as a PNG
in tests/artifacts/ to look at.
"""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from conftest import REPO
from labpress.theme.lookup import find_node_package
from labpress.theme.static import ThemeStatic, katex_font_table
from support import open_context

ARTIFACTS = REPO / "tests" / "artifacts"
DEMO_POST = "regularisation-four-knobs/"  # the demo post with the most maths, and four widgets
WIDGET_POST = "dials-and-handles/"  # the fixture notebook's widget post

KATEX_CSS = (find_node_package("katex", REPO) / "dist" / "katex.min.css").read_text(encoding="utf-8")


def fonts_for(html: str) -> list[str]:
    table = katex_font_table(KATEX_CSS, "assets/katex/fonts/")
    urls = ThemeStatic("", "", "", "", katex_fonts=table).katex_fonts_for(html)
    return [url.rpartition("/")[2].removesuffix(".woff2") for url in urls]


# --------------------------------------------------------------------------- which faces a page preloads


def test_the_faces_a_formula_uses_come_from_its_classes():
    table = katex_font_table(KATEX_CSS, "f/")
    assert table[0] == ((), "f/KaTeX_Main-Regular.woff2")  # every formula's base face
    assert ((("large-op", "op-symbol"),), "f/KaTeX_Size2-Regular.woff2") in table  # a display \sum
    assert ((("mathcal",),), "f/KaTeX_Caligraphic-Regular.woff2") in table
    assert ((("delimsizing", "mult"), ("delim-size4",)), "f/KaTeX_Size4-Regular.woff2") in table  # two elements
    assert ((("textbf",), ("textit",)), "f/KaTeX_Main-BoldItalic.woff2") in table
    span = '<span class="katex"><span class="{}">x</span></span>'.format
    assert fonts_for("<p>no maths</p>") == []
    assert fonts_for(span("mord mathnormal")) == ["KaTeX_Main-Regular", "KaTeX_Math-Italic"]
    assert fonts_for(span("mop op-symbol large-op") + span("mord mathcal") + span("mord mathnormal")) == [
        "KaTeX_Main-Regular", "KaTeX_Math-Italic", "KaTeX_Caligraphic-Regular", "KaTeX_Size2-Regular"]
    # A class of one rule on one element and another's elsewhere is not that rule: "size3" of a sizing
    # span beside a size-2 delimiter is not a size-3 delimiter.
    assert fonts_for(span("delimsizing size2") + span("sizing reset-size6 size3")) == [
        "KaTeX_Main-Regular", "KaTeX_Size2-Regular"]


def test_a_page_preloads_the_faces_of_its_formulas(site):
    site.post("m.md", "---\ntitle: M\ndate: 2026-01-01\n---\n\n"
                      "$$ \\mathcal{L} = \\sum_i \\left( \\frac{1}{m} \\right) \\mathbf{W} $$\n\nAnd $x$.\n")
    site.post("plain.md", "---\ntitle: Plain\ndate: 2026-01-02\n---\n\nNo formulas.\n")
    assert site.build().returncode == 0
    preloads = lambda page: re.findall(r'<link rel="preload" href="/assets/katex/fonts/(KaTeX_[\w-]+)\.woff2" as="font"'
                                       r' type="font/woff2" crossorigin( fetchpriority="low")?>', page)
    post = (site.out / "m" / "index.html").read_text()
    faces = preloads(post)
    assert [face for face, _ in faces[:2]] == ["KaTeX_Main-Regular", "KaTeX_Math-Italic"]
    assert {face for face, _ in faces} == {"KaTeX_Main-Regular", "KaTeX_Math-Italic", "KaTeX_Main-Bold",  # \mathbf
                                           "KaTeX_Caligraphic-Regular", "KaTeX_Size2-Regular",  # \mathcal, \sum
                                           "KaTeX_Size3-Regular"}  # \left( \frac…\right)
    assert [low for _, low in faces] == ["", ""] + [' fetchpriority="low"'] * (len(faces) - 2)  # after the first screen
    assert preloads((site.out / "plain" / "index.html").read_text()) == []
    assert preloads((site.out / "index.html").read_text()) == []


# --------------------------------------------------------------------------- printed in Chromium


def poppler(tool: str, *args: str) -> str:
    if shutil.which(tool) is None:
        pytest.fail(f"{tool} is missing: apt-get install poppler-utils (.ci/run installs it)")
    return subprocess.run([tool, *args], capture_output=True, text=True, check=True).stdout


LOADED_FACES_JS = """async () => {
  // The faces the screen uses once every block is laid out (as a reader who scrolled the whole post).
  document.documentElement.dataset.anchorJump = '1';
  await new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve)));
  await document.fonts.ready;
  const name = (f) => f.family.replaceAll('"', '') + '-' + ({'400 normal': 'Regular', '700 normal': 'Bold',
    '400 italic': 'Italic', '700 italic': 'BoldItalic'})[f.weight + ' ' + f.style];
  return [...document.fonts].filter((f) => f.family.includes('KaTeX') && f.status === 'loaded').map(name);
}"""


@pytest.mark.browser
def test_a_post_printed_as_soon_as_it_opens_has_every_glyph(browser, demo_server, demo_build, tmp_path):
    """The demo post, opened in the dark scheme and printed at once (no scrolling, no waiting): every
    formula's glyphs are in the PDF's text layer, in the faces the screen uses once it has laid out
    every formula, every section is there, on white, and no control is."""
    from PIL import Image

    pdf = tmp_path / "post.pdf"
    with open_context(browser, color_scheme="dark", viewport={"width": 1280, "height": 900}) as context:
        page = context.new_page()
        page.goto(demo_server.url + DEMO_POST, wait_until="load")
        page.pdf(path=str(pdf), format="A4", print_background=True)
        on_screen = set(page.evaluate(LOADED_FACES_JS))
    text = poppler("pdftotext", "-enc", "UTF-8", str(pdf), "-")
    words = " ".join(text.split())
    assert text.count("∑") >= 3, "the sums of the L2 and L1 penalties are not printed"
    for glyph in ("⟹", "λ", "∥", "α"):
        assert glyph in text, f"{glyph} is missing from the printed post"
    printed = set(re.findall(r"\+(KaTeX_[\w-]+)", poppler("pdffonts", str(pdf))))
    assert {"KaTeX_Size2-Regular", "KaTeX_Caligraphic-Regular", "KaTeX_Main-Bold", "KaTeX_Math-Italic"} <= printed
    assert printed == on_screen, f"printed in {sorted(printed)}, the screen uses {sorted(on_screen)}"
    assert printed <= set(fonts_for((demo_build / DEMO_POST / "index.html").read_text())), "a face was not preloaded"
    # Every block is laid out, the last sections too, and each widget's frame with its readouts.
    for heading in ("Hypothesis", "Four mechanisms, one label", "What next"):
        assert heading in words, f"section {heading!r} is not printed"
    # The figures' words are text in the PDF (searchable, as the page's), not shapes.
    assert "effective decay (log scale)" in words and "8/12 kept" in words and "quiet vs LOUD decay" in words
    for screen_only in ("Copy link", "interactive with JavaScript", "Budget t", "Skip to content", "Dark mode"):
        assert screen_only not in words, f"{screen_only!r} is printed"
    # On white, though the screen was dark; the image of its first page is kept to look at.
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    poppler("pdftoppm", "-png", "-r", "60", "-f", "1", "-l", "3", str(pdf), str(ARTIFACTS / "print-demo"))
    first = Image.open(sorted(ARTIFACTS.glob("print-demo-*1.png"))[0]).convert("RGB")
    for x, y in ((5, 5), (first.width // 2, 5), (5, first.height - 5), (first.width - 5, first.height // 2)):
        assert first.getpixel((x, y)) == (255, 255, 255), f"the page is painted {first.getpixel((x, y))} at {x},{y}"
    dark_pixels = sum(first.convert("L").histogram()[:67])
    assert dark_pixels > 2000, "no ink on the first page"


@pytest.mark.browser
def test_a_widget_prints_the_frame_it_shows(browser, notebook_server, tmp_path):
    """A reader moves a slider, then prints: the paper shows that frame, its readouts and caption."""
    pdf = tmp_path / "widget.pdf"
    with open_context(browser, viewport={"width": 1280, "height": 900}) as context:
        page = context.new_page()
        page.goto(notebook_server.url + WIDGET_POST, wait_until="load")
        page.wait_for_function("() => document.querySelector('#widget-decay-1').classList.contains('is-enhanced')")
        slider = page.locator("#widget-decay-1 input[type=range]")
        slider.focus()
        slider.press("ArrowRight")
        slider.press("ArrowRight")  # a share of 0.5 lost per step
        page.wait_for_function("() => document.querySelector('#widget-decay-1 .widget-caption')"
                               ".textContent.includes('0.062')")
        page.pdf(path=str(pdf), format="A4")
    words = " ".join(poppler("pdftotext", "-enc", "UTF-8", str(pdf), "-").split())
    assert "after four steps 0.062 is left; under 5% after 5 steps" in words, "the caption is not the frame shown"
    assert "left after 4 steps 0.062" in words and "0.240" not in words
    assert "Share lost per step" not in words  # the controls stay on the screen
    poppler("pdftoppm", "-png", "-r", "60", "-f", "1", "-l", "1", str(pdf), str(ARTIFACTS / "print-widget"))
