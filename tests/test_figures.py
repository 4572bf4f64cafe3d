"""Build-time figures: ```python {figure} blocks run with matplotlib and land in the page as themed inline SVG."""

import re

import pytest

from support import StaticServer

# Front matter is lines 1-4 and line 5 is blank, so a fence on the next line is line 6.
HEAD = "---\ntitle: Figures\ndate: 2026-02-02\n---\n\n"

PLOT = """\
x = np.linspace(0, 10, 50)
plt.plot(x, np.exp(-x / 3), label="loss")
plt.plot(x, np.exp(-x / 2), "--", label="validation")
plt.xlabel("epoch")
plt.ylabel("loss")
plt.title("Loss curve")
plt.legend()
plt.grid(True)
"""


def fence(code: str, info: str = 'caption="Loss curve" alt="Loss falls from 1 to 0.05"') -> str:
    return f"```python {{figure}} {info}\n{code}```\n"


def build_post(site, body: str, *args: str):
    return site.build_post(HEAD + body, *args)


def figures(html: str) -> list[str]:
    return re.findall(r'<figure class="py-figure">.*?</figure>', html, re.S)


def svg_of(figure: str) -> str:
    return re.search(r"<svg\b.*?</svg>", figure, re.S).group(0)


def test_figure_renders_inline_svg_with_caption_and_alt(site):
    result, html = build_post(site, "Before.\n\n" + fence(PLOT) + "\nAfter.\n")
    assert result.returncode == 0, result.stderr
    [figure] = figures(html)
    assert figure.startswith('<figure class="py-figure"><div class="py-figure-svg" role="img" '
                             'aria-label="Loss falls from 1 to 0.05"><svg ')
    assert figure.endswith("</svg></div><figcaption>Loss curve</figcaption></figure>")
    svg = svg_of(figure)
    assert re.search(r'viewBox="0 0 [\d.]+ [\d.]+"', svg) and 'aria-hidden="true"' in svg
    assert "<metadata" not in svg and "<?xml" not in html and "<!DOCTYPE svg" not in html
    assert "language-python" not in html  # the code runs; it is not shown as a code block
    assert html.index("Before.") < html.index("<figure") < html.index("After.")


def test_caption_and_alt_are_escaped_and_alt_falls_back_to_caption(site):
    info = 'caption="Loss <b>&</b> \\"gain\\""'
    result, html = build_post(site, fence(PLOT, info))
    assert result.returncode == 0, result.stderr
    [figure] = figures(html)
    assert 'aria-label="Loss &lt;b&gt;&amp;&lt;/b&gt; &quot;gain&quot;"' in figure
    assert "<figcaption>Loss &lt;b&gt;&amp;&lt;/b&gt; &quot;gain&quot;</figcaption>" in figure


def test_alt_without_caption_has_no_figcaption(site):
    result, html = build_post(site, fence(PLOT, "alt='Two falling curves'"))
    assert result.returncode == 0, result.stderr
    [figure] = figures(html)
    assert 'aria-label="Two falling curves"' in figure and "<figcaption" not in figure


def test_text_stays_text(site):
    result, html = build_post(site, fence(PLOT))
    assert result.returncode == 0, result.stderr
    svg = svg_of(figures(html)[0])
    texts = re.findall(r"<text\b[^>]*>([^<]*)</text>", svg)
    for label in ("epoch", "loss", "Loss curve", "validation"):
        assert label in texts
    assert "DejaVuSans-" not in svg  # no glyph outlines (matplotlib names them after the font)
    assert re.search(r'<text [^>]*class="[^"]*pyfig-font-sans', svg)  # follows the theme's sans-serif


def test_two_builds_are_byte_identical(site, tmp_path):
    site.post("p.md", HEAD + fence(PLOT) + "\n" + fence("plt.bar([1, 2, 3], [3, 1, 2])\n", 'alt="Three bars"'))
    first, second = tmp_path / "one", tmp_path / "two"
    assert site.build("--no-cache", "--out", str(first)).returncode == 0
    assert site.build("--no-cache", "--out", str(second)).returncode == 0
    page = (first / "p" / "index.html").read_bytes()
    assert page == (second / "p" / "index.html").read_bytes()
    assert page.count(b'<figure class="py-figure">') == 2


def test_cached_figure_is_not_run_again(site, tmp_path):
    counter = tmp_path / "runs.txt"
    code = f"with open({str(counter)!r}, 'a') as f:\n    f.write('x')\n" + PLOT
    result, html = build_post(site, "First words.\n\n" + fence(code))
    assert result.returncode == 0, result.stderr
    assert counter.read_text() == "x"
    cached = list((site.root / ".labpress-cache" / "compute").iterdir())
    assert len(cached) == 1 and re.fullmatch(r"[0-9a-f]{64}\.run", cached[0].name)

    # The prose changes, so the post is rendered again, but the figure comes from the cache.
    result, html_again = build_post(site, "Other words.\n\n" + fence(code))
    assert result.returncode == 0, result.stderr
    assert counter.read_text() == "x"
    assert figures(html_again) == figures(html)

    # A changed block runs again; so does every block without the cache.
    assert build_post(site, "Other words.\n\n" + fence(code + "plt.axhline(0.5)\n"))[0].returncode == 0
    assert counter.read_text() == "xx"
    assert build_post(site, "Words.\n\n" + fence(code), "--no-cache")[0].returncode == 0
    assert counter.read_text() == "xxx"


def test_exception_is_reported_at_the_line_that_raised(site):
    code = "x = np.arange(3)\nplt.plot(x, x)\ny = 1 / 0\n"
    result, html = build_post(site, fence(code))
    assert result.returncode == 1
    # Fence on line 6, so code line 3 is file line 9; "1 / 0" starts in column 5.
    assert result.errors == ["content/p.md:9:5: error: figure code raised ZeroDivisionError: division by zero"]
    assert "Traceback" not in result.stderr


def test_exception_inside_a_function_in_an_indented_fence(site):
    body = ("- a list item holding a figure\n\n"
            "  ```python {figure} alt='broken'\n"
            "  def f(values):\n"
            "      return values['missing']\n"
            "  plt.plot([1, 2])\n"
            "  f({})\n"
            "  ```\n")
    result, _ = build_post(site, body)
    # The innermost line of the block's own code: line 2 of the code, after the list's two-space indent.
    assert result.errors == ["content/p.md:10:14: error: figure code raised KeyError: 'missing'"]


def test_syntax_error_position(site):
    result, _ = build_post(site, fence("plt.plot([1, 2]\nx = (\n"))
    assert len(result.errors) == 1
    assert re.fullmatch(r"content/p\.md:7:\d+: error: figure code is not valid Python: .+", result.errors[0])


def test_code_that_draws_nothing_is_an_error(site):
    result, _ = build_post(site, fence("x = 1 + 1\n"))
    assert result.errors == [
        "content/p.md:6:11: error: figure code drew no figure: draw with matplotlib (plt.plot, plt.subplots, ...) "
        "and leave the figure open"]
    result, _ = build_post(site, fence("plt.plot([1, 2])\nplt.close()\n"))
    assert result.errors and "drew no figure" in result.errors[0]


def test_missing_alt_and_caption_is_an_error(site):
    result, _ = build_post(site, "```python {figure}\nplt.plot([1, 2])\n```\n")
    assert result.errors == [
        'content/p.md:6:11: error: a figure needs a text alternative for readers who cannot see it: '
        'add alt="what the figure shows" (or a caption="...")']


@pytest.mark.parametrize("info, message", [
    ('capton="x"', "6:20: error: unknown figure option 'capton' (did you mean 'caption'?); known options: caption, alt"),
    ('alt="never closed', "6:20: error: the value of figure option 'alt' has no closing \""),
    ('alt="a" alt="b"', "6:28: error: figure option 'alt' is given twice"),
    ("just words", '6:20: error: figure options are written key="value", as in caption="..." alt="..."'),
])
def test_bad_fence_options(site, info, message):
    result, _ = build_post(site, fence("plt.plot([1, 2])\n", info))
    assert result.errors == ["content/p.md:" + message]


def test_figure_needs_python(site):
    result, _ = build_post(site, "```r {figure} alt='x'\nplot(1:3)\n```\n")
    assert result.errors == ["content/p.md:6:4: error: a figure block runs Python, not 'r': write ```python {figure}"]


def test_theme_colours_replace_matplotlib_colours(site):
    code = PLOT + "plt.bar([2, 4], [0.5, 0.7], color='C2')\nplt.scatter([1], [0.3], color='white', edgecolor='k')\n"
    result, html = build_post(site, fence(code))
    assert result.returncode == 0, result.stderr
    svg = svg_of(figures(html)[0])
    from labpress.figures.style import CYCLE, INK, MUTED, PAPER, RULE
    for sentinel in (INK, MUTED, RULE, PAPER, *CYCLE):
        assert sentinel not in svg.lower()
    for default in ("#1f77b4", "#ff7f0e", "#2ca02c", "#000000", "#ffffff", "#b0b0b0"):
        assert default not in svg.lower()  # matplotlib's own cycle, black, white and grid grey
    for name in ("pyfig-stroke-c1", "pyfig-stroke-c2", "pyfig-fill-c3", "pyfig-fill-muted", "pyfig-stroke-rule",
                 "pyfig-fill-paper"):
        assert name in svg
    css = next((site.out / "assets").glob("style.*.css")).read_text()
    assert re.search(r"--lp-fig-1: light-dark\(#[0-9a-f]{6}, #[0-9a-f]{6}\)", css)
    for name in ("pyfig-stroke-c1", "pyfig-fill-c3", "pyfig-fill-muted", "pyfig-stroke-rule", "pyfig-fill-paper"):
        assert f".py-figure .{name} {{" in css


def test_svg_works_under_a_strict_csp(site):
    result, html = build_post(site, fence(PLOT))
    assert result.returncode == 0, result.stderr
    figure = figures(html)[0]
    assert " style=" not in figure and "<style" not in figure
    assert not list((site.out / "assets").glob("inline.*.css"))  # nothing left for the style post-pass


def test_no_hard_coded_black_text(site):
    code = PLOT + "plt.text(2, 0.5, 'black on purpose', color='black')\nplt.annotate('k too', (5, 0.2), color='k')\n"
    result, html = build_post(site, fence(code))
    assert result.returncode == 0, result.stderr
    svg = svg_of(figures(html)[0])
    assert re.match(r'<svg [^>]*fill="currentColor"', svg)  # what unfilled text and shapes inherit
    for text in re.findall(r"<text\b[^>]*>", svg):
        fill = re.search(r' fill="([^"]*)"', text)
        assert fill is None or fill.group(1) == "currentColor" or "pyfig-fill-" in text, text
    assert not re.search(r'(fill|stroke)="(#000000|#000|black)"', svg)


def test_ids_are_unique_on_a_page_with_two_figures(site):
    scatter = "plt.scatter([1, 2, 3], [1, 4, 9])\nplt.plot([1, 3], [1, 9])\n"
    result, html = build_post(site, fence(scatter, 'alt="one"') + "\n" + fence(scatter, 'alt="two"'))
    assert result.returncode == 0, result.stderr
    ids = re.findall(r'\sid="([^"]+)"', html)
    assert len(ids) == len(set(ids))
    first, second = (svg_of(f) for f in figures(html))
    assert 'id="pyfig1-' in first and 'id="pyfig2-' in second
    for svg in (first, second):
        own = set(re.findall(r'\sid="([^"]+)"', svg))
        refs = set(re.findall(r'href="#([^"]+)"', svg)) | set(re.findall(r"url\(#([^)]+)\)", svg))
        assert refs and refs <= own  # every reference resolves inside its own figure
    assert "xlink:" not in html


def test_a_posts_blocks_share_one_namespace_and_each_post_starts_fresh(site):
    # Like a notebook run top to bottom: what one block defines (names, pyplot settings), the next sees.
    leak = "leaked = 42\nplt.plot(np.random.rand(5))\nplt.rcParams['lines.linewidth'] = 9\n"
    probe = ("assert leaked == 42\nassert plt.rcParams['lines.linewidth'] == 9\n"
             "plt.plot(np.random.rand(5))\n")
    site.post("q.md", HEAD.replace("title: Figures", "title: Another") + fence(
        "assert 'leaked' not in globals()\nassert plt.rcParams['lines.linewidth'] == 2\n"
        "plt.plot(np.random.rand(5))\n", 'alt="a"'))
    result, html = build_post(site, fence(leak, 'alt="a"') + "\n" + fence(probe, 'alt="a"'))
    assert result.returncode == 0, result.stderr
    first, second = (svg_of(f) for f in figures(html))
    fresh = svg_of(figures((site.out / "q" / "index.html").read_text())[0])
    # Each post starts from the same seed: its first draw is the same; the next draw goes on from there.
    curve = re.compile(r'<path d="(M [^"]+)" clip-path[^>]*class="pyfig-stroke-c1"')
    assert curve.search(first).group(1) == curve.search(fresh).group(1)
    assert curve.search(first).group(1) != curve.search(second).group(1)


@pytest.mark.browser
def test_figure_follows_the_colour_scheme(site, browser):
    result, _ = build_post(site, fence(PLOT + "plt.text(1, 0.5, 'black text', color='k')\n"))
    assert result.returncode == 0, result.stderr
    server = StaticServer(site.out)
    try:
        colours = {}
        for scheme in ("light", "dark"):
            context = browser.new_context(color_scheme=scheme)
            page = context.new_page()
            page.goto(server.url + "p/")
            colours[scheme] = page.evaluate("""() => {
                const svg = document.querySelector('.py-figure svg');
                const text = [...svg.querySelectorAll('text')].find(t => t.textContent === 'black text');
                const label = [...svg.querySelectorAll('text')].find(t => t.textContent === 'epoch');
                const line = svg.querySelector('.pyfig-stroke-c1');
                const box = svg.getBoundingClientRect();
                return {text: getComputedStyle(text).fill, label: getComputedStyle(label).fill,
                        line: getComputedStyle(line).stroke, paper: getComputedStyle(document.body).backgroundColor,
                        width: box.width, height: box.height};
            }""")
            context.close()
    finally:
        server.close()

    def luminance(css: str) -> float:
        r, g, b = (int(v) for v in re.findall(r"\d+", css)[:3])
        return (0.2126 * r + 0.7152 * g + 0.0722 * b) / 255

    light, dark = colours["light"], colours["dark"]
    assert luminance(light["text"]) < 0.2 and luminance(dark["text"]) > 0.8  # ink, not black, in the dark
    assert luminance(dark["label"]) > 0.8 and luminance(dark["paper"]) < 0.2
    assert light["line"] != dark["line"] and luminance(dark["line"]) > luminance(light["line"])
    assert light["width"] > 300 and 0.4 < light["height"] / light["width"] < 0.9
