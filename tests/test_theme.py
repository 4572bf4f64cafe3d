"""The theme owns its look: the palette is declared once, in the theme's stylesheet, and the build's
figures and code colours read it there. A second theme is a copy of themes/default/ edited, with no
Python change; a bad colour is an error naming the stylesheet, its line and the property."""

import re
import shutil
from pathlib import Path

import pytest

from conftest import MINIMAL_CONFIG, REPO
from labpress.theme.code_colours import contrast, pygments_css
from labpress.theme.palette import load_palette

HEAD = "---\ntitle: Figures\ndate: 2026-02-02\n---\n\n"
FIGURE = '```python {figure} alt="a line"\nplt.plot([1, 2, 3])\nplt.grid(True)\n```\n\n```python\ndef f(x):\n    return x\n```\n'
LIGHT_C1 = re.compile(r'stroke="(#[0-9a-f]{6})"[^>]*class="pyfig-stroke-c1"')


def stylesheet(out: Path) -> str:
    return next((out / "assets").glob("style.*.css")).read_text()


def declared(css: str, name: str) -> tuple[str, str]:
    return re.search(rf"--{name}: light-dark\((#[0-9a-f]{{6}}), (#[0-9a-f]{{6}})\);", css).groups()


def copy_theme(site, name: str = "lagoon") -> Path:
    theme = site.root / "themes" / name
    shutil.copytree(site.root / "themes" / "default", theme)
    site.config(f'theme = "{name}"\n' + MINIMAL_CONFIG)
    return theme / "static" / "style.css"


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


def test_the_palette_is_read_from_the_themes_stylesheet():
    css = (REPO / "themes" / "default" / "static" / "style.css").read_text()
    palette = load_palette(REPO / "themes" / "default")
    for name in ("ink", "muted", "rule", "paper", "accent", "code-bg", *(f"lp-fig-{n}" for n in range(1, 9))):
        assert palette.colour(name, "tests") == declared(css, name)
    assert palette.value("mono", "tests").value.endswith("monospace")
    # Code colours: the Pygments styles the stylesheet names, readable on its code background.
    light_bg, dark_bg = declared(css, "code-bg")
    light, dark = pygments_css(palette).split("@media")
    colour = re.compile(r"(?<![-\w])color: (#[0-9a-f]{6})")
    assert min(contrast(c, light_bg) for c in colour.findall(light)) >= 4.5
    assert min(contrast(c, dark_bg) for c in colour.findall(dark)) >= 4.5


def test_the_published_stylesheet_has_the_code_colours_where_the_theme_put_them(site):
    result, html = site.build_post(HEAD + FIGURE)
    assert result.returncode == 0, result.stderr
    css = stylesheet(site.out)
    assert "@labpress" not in css
    assert css.index("Build-time figures: END") < css.index("/* Code colours (Pygments) */\n.highlight .c {")
    assert "[data-scheme=dark] .highlight .k" in css
    source = (site.root / "themes" / "default" / "static" / "style.css").read_text()
    assert css.startswith(source[:source.index("@labpress")])  # the rest of the stylesheet as written
    # The figure's fallback colours are the theme's light colours.
    assert LIGHT_C1.search(html).group(1) == declared(source, "lp-fig-1")[0]


def test_a_second_theme_is_a_copy_of_the_default_edited(site, tmp_path):
    result, default_html = site.build_post(HEAD + FIGURE)
    assert result.returncode == 0, result.stderr
    default_css = stylesheet(site.out)
    style = copy_theme(site)
    edit(style, "--accent: light-dark(#9a3f00, #ffb070);", "--accent: light-dark(#0b5d6e, #7fd6e6);")
    edit(style, "--lp-fig-1: light-dark(#1f5fa8, #7fb4ff);", "--lp-fig-1: light-dark(#2b6b2b, #9be39b);")
    edit(style, "light: lovelace;", "light: friendly;")
    result, html = site.build_post(HEAD + FIGURE)
    assert result.returncode == 0, result.stderr
    css = stylesheet(site.out)
    assert "--accent: light-dark(#0b5d6e, #7fd6e6);" in css and "#9a3f00" not in css
    assert "--lp-fig-1: light-dark(#2b6b2b, #9be39b);" in css
    code = lambda text: text[text.index("/* Code colours"):text.index("@media (prefers-color-scheme: dark) {\n:root:not")]  # noqa: E731
    assert code(css) != code(default_css)  # the light code colours follow the other Pygments style
    assert LIGHT_C1.search(default_html).group(1) == "#1f5fa8"
    assert LIGHT_C1.search(html).group(1) == "#2b6b2b" and "#1f5fa8" not in html


def test_editing_the_stylesheet_renders_posts_with_figures_again(site, tmp_path):
    style = copy_theme(site)
    result, _ = site.build_post(HEAD + FIGURE)
    assert result.returncode == 0, result.stderr
    edit(style, "--lp-fig-1: light-dark(#1f5fa8, #7fb4ff);", "--lp-fig-1: light-dark(#2b6b2b, #9be39b);")
    result = site.build()  # the rendered-post cache is used
    assert result.returncode == 0, result.stderr
    html = (site.out / "p" / "index.html").read_text()
    assert LIGHT_C1.search(html).group(1) == "#2b6b2b"


@pytest.mark.parametrize("old, new, message", [
    ("--lp-fig-1: light-dark(#1f5fa8, #7fb4ff);", "--lp-fig-1: light-dark(#1f5fa, #7fb4ff);",
     r"themes/lagoon/static/style\.css:(\d+): error: --lp-fig-1: '#1f5fa' is not a colour: write #rrggbb"),
    ("--accent: light-dark(#9a3f00, #ffb070);", "--accent: light-dark(#9a3f00, #ffb0701);",
     r"themes/lagoon/static/style\.css:(\d+): error: --accent: '#ffb0701' is not a colour"),
    ("--muted: light-dark(#595550, #aaa59c);", "--muted: light-dark(grey, #aaa59c);",
     r"themes/lagoon/static/style\.css:(\d+): error: --muted is 'light-dark\(grey, #aaa59c\)', but figures read it"),
    ("--code-bg: light-dark(#f0ece4, #1f2227);", "--code-background: light-dark(#f0ece4, #1f2227);",
     r"themes/lagoon/static/style\.css: error: the theme declares no --code-bg in :root"),
    ("dark: github-dark;", "dark: github-drak;",
     r"themes/lagoon/static/style\.css:(\d+): error: @labpress code-colours: Pygments has no style 'github-drak'"
     r" \(did you mean 'github-dark'\?\)"),
    ("@labpress code-colours { light: lovelace; dark: github-dark; }", "",
     r"themes/lagoon/static/style\.css: error: the stylesheet has no @labpress code-colours rule"),
    ("@labpress code-colours", "@labpress code-colors",
     r"themes/lagoon/static/style\.css:(\d+): error: '@labpress code-colors' is not a LabPress rule"
     r" \(did you mean 'code-colours'\?\)"),
])
def test_a_bad_palette_is_an_error_naming_the_stylesheet(site, old, new, message):
    style = copy_theme(site)
    edit(style, old, new)
    result, _ = site.build_post(HEAD + FIGURE)
    assert result.returncode == 2, result.stderr
    match = re.search(message, result.stderr)
    assert match, result.stderr
    if match.groups():  # the line of the declaration
        line = next(n for n, text in enumerate(style.read_text().splitlines(), 1) if new in text)
        assert int(match.group(1)) == line
    assert "Traceback" not in result.stderr
