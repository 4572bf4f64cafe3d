"""A site overrides single files of its theme: a file at the same path under its own themes/<name>/
takes the place of the packaged theme's, and everything else still comes from the package. A
static/custom.css is published after the stylesheet. A theme LabPress does not ship is complete on
its own, or the build says which files it lacks."""

import re
import shutil
from pathlib import Path

import pytest

from conftest import MINIMAL_CONFIG, REPO
from labpress.figures.svg import ROLES
from labpress.site.pipeline import build_site
from labpress.theme.code_colours import CODE_BACKGROUND
from labpress.theme.lookup import theme_layers
from labpress.theme.palette import BUILD_PROPERTIES

PACKAGED = REPO / "themes" / "default"
HEAD = "---\ntitle: Figures\ndate: 2026-02-02\n---\n\n"
FIGURE = '```python {figure} alt="a line"\nplt.plot([1, 2, 3])\n```\n'
LIGHT_C1 = re.compile(r'stroke="(#[0-9a-f]{6})"[^>]*class="pyfig-stroke-c1"')
FOOTER_LINK = '<a href="https://lab.example/">Our lab</a>'
ACCENT = ":root {\n  --accent: light-dark(#1d5fa8, #8cc4ff);\n}\n"


@pytest.fixture
def bare(site):
    """A site with no theme files of its own (SiteMaker copies the whole repository's themes/)."""
    shutil.rmtree(site.root / "themes")
    return site


def own(site, relative: str, text: str) -> Path:
    """The site's own themes/default/RELATIVE."""
    path = site.root / "themes" / "default" / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def footer_with_link() -> str:
    packaged = (PACKAGED / "templates" / "_footer.html").read_text()
    assert "Built with LabPress</p>" in packaged
    return packaged.replace("Built with LabPress</p>", f"Built with LabPress · {FOOTER_LINK}</p>")


def stylesheet(out: Path) -> str:
    return next((out / "assets").glob("style.*.css")).read_text()


def files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_a_template_override_takes_effect_and_the_rest_comes_from_the_package(bare):
    own(bare, "templates/_footer.html", footer_with_link())
    result, html = bare.build_post(HEAD + "Text.\n")
    assert result.returncode == 0, result.stderr
    for page in ("index.html", "p/index.html", "tags/index.html", "404.html"):
        assert FOOTER_LINK in (bare.out / page).read_text(), page
    # base.html, post.html and the static files are the package's.
    assert '<header class="masthead" id="site-header">' in html and 'class="post' in html
    published = stylesheet(bare.out)
    assert "--accent: light-dark(#9a3f00, #ffb070);" in published
    assert (bare.out / "assets" / "favicon.svg").read_bytes() == (PACKAGED / "static" / "favicon.svg").read_bytes()


def test_custom_css_is_published_after_the_packaged_stylesheet(bare):
    own(bare, "static/custom.css", ACCENT)
    result, _ = bare.build_post(HEAD + FIGURE)
    assert result.returncode == 0, result.stderr
    css = stylesheet(bare.out)
    packaged = (PACKAGED / "static" / "style.css").read_text()
    assert css.startswith(packaged[:packaged.index("@labpress")])  # the package's stylesheet first
    assert css.endswith("/* The site's custom.css */\n" + ACCENT)  # then the site's, which wins the cascade
    assert not list((bare.out / "assets").glob("custom*"))  # one stylesheet, not two
    index = (bare.out / "index.html").read_text()
    assert index.count('rel="stylesheet"') == 1 and "Built with LabPress</p>" in index


def test_a_stylesheet_override_replaces_the_whole_stylesheet_and_colours_figures(bare):
    packaged = (PACKAGED / "static" / "style.css").read_text()
    own(bare, "static/style.css", packaged.replace("--lp-fig-1: light-dark(#1f5fa8, #7fb4ff);",
                                                   "--lp-fig-1: light-dark(#2b6b2b, #9be39b);")
        .replace("--accent: light-dark(#9a3f00, #ffb070);", "--accent: light-dark(#1d5fa8, #8cc4ff);"))
    result, html = bare.build_post(HEAD + FIGURE)
    assert result.returncode == 0, result.stderr
    css = stylesheet(bare.out)
    assert "--accent: light-dark(#1d5fa8, #8cc4ff);" in css and "#9a3f00" not in css
    assert LIGHT_C1.search(html).group(1) == "#2b6b2b"  # figures take the site's palette
    # scheme.js and the templates still come from the package.
    scheme = next((bare.out / "assets").glob("scheme.*.js")).read_bytes()
    assert scheme == (PACKAGED / "static" / "scheme.js").read_bytes()


def test_editing_or_adding_an_override_rebuilds_as_a_clean_build_would(bare, tmp_path):
    bare.post("p.md", HEAD + FIGURE)
    bare.post("q.md", "---\ntitle: Q\ndate: 2026-02-03\n---\n\nWords.\n")
    assert build_site(bare.root).pages
    # An override added: a template, then the stylesheet (the figure's colours change).
    footer = own(bare, "templates/_footer.html", footer_with_link())
    result = build_site(bare.root)
    assert result.rendered_posts == [] and len(result.rendered_pages) == result.pages
    assert FOOTER_LINK in (bare.out / "q" / "index.html").read_text()
    packaged = (PACKAGED / "static" / "style.css").read_text()
    style = own(bare, "static/style.css", packaged.replace("#1f5fa8", "#2b6b2b"))
    build_site(bare.root)
    assert LIGHT_C1.search((bare.out / "p" / "index.html").read_text()).group(1) == "#2b6b2b"
    assert files(bare.out) == files(build_site(bare.root, out_dir=tmp_path / "clean1", use_cache=False).out_dir)
    # Overrides edited.
    footer.write_text(footer.read_text().replace("Our lab", "The lab"))
    style.write_text(style.read_text().replace("#2b6b2b", "#6b2b2b"))
    result = build_site(bare.root)
    assert result.rendered_posts == ["content/p.md"]  # the post with a figure; pages all
    assert "The lab</a>" in (bare.out / "index.html").read_text()
    assert LIGHT_C1.search((bare.out / "p" / "index.html").read_text()).group(1) == "#6b2b2b"
    assert files(bare.out) == files(build_site(bare.root, out_dir=tmp_path / "clean2", use_cache=False).out_dir)
    # An override removed: the packaged file again.
    style.unlink()
    build_site(bare.root)
    assert LIGHT_C1.search((bare.out / "p" / "index.html").read_text()).group(1) == "#1f5fa8"
    assert files(bare.out) == files(build_site(bare.root, out_dir=tmp_path / "clean3", use_cache=False).out_dir)


def test_provenance_names_the_stylesheet_a_figure_was_coloured_from(bare):
    import json

    result, _ = bare.build_post(HEAD + FIGURE)
    record = json.loads((bare.out / "p" / "provenance.json").read_text())
    assert [f["path"] for f in record["theme"]["files"]] == ["static/style.css"] and record["data"] == []
    own(bare, "templates/_footer.html", footer_with_link())  # a site theme folder, without a stylesheet
    assert bare.build().returncode == 0
    record = json.loads((bare.out / "p" / "provenance.json").read_text())
    assert [f["path"] for f in record["theme"]["files"]] == ["static/style.css"] and record["data"] == []
    from labpress.provenance.verify import verify_build

    assert verify_build(bare.out, bare.root).mismatches == []


def test_a_syntax_error_in_an_override_names_the_sites_file(bare):
    own(bare, "templates/_footer.html", "<footer>\n<p>{{ site.title }</p>\n</footer>\n")
    result, _ = bare.build_post(HEAD + "Text.\n")
    assert result.returncode == 1
    assert result.stderr.splitlines()[0] == ("themes/default/templates/_footer.html:2:1: error: theme template:"
                                             " unexpected '}'"), result.stderr


@pytest.mark.parametrize("text, message", [
    (ACCENT.replace("--accent", "--code-bg"),
     "themes/default/static/custom.css:2: error: --code-bg is read by the build too (figures and code colours),"
     " from style.css: set it in a copy of style.css, not in custom.css"),
    (":root { --lp-fig-3: #123456; }\n",
     "themes/default/static/custom.css:1: error: --lp-fig-3 is read by the build too"),
    ("a { color: red; }\n@labpress code-colours { light: lovelace; dark: github-dark; }\n",
     "themes/default/static/custom.css:2: error: @labpress code-colours belongs in style.css, not custom.css"),
    (":root { --accent: #12345; }\n",
     "themes/default/static/custom.css:1: error: --accent: '#12345' is not a colour"),
])
def test_custom_css_may_not_change_what_the_build_reads(bare, text, message):
    own(bare, "static/custom.css", text)
    result, _ = bare.build_post(HEAD + "Text.\n")
    assert result.returncode == 2 and result.stderr.startswith(message), result.stderr


def test_the_build_properties_are_those_figures_and_code_read():
    assert {prop for _, prop in ROLES.values()} | {CODE_BACKGROUND} == set(BUILD_PROPERTIES)


def test_a_theme_of_a_new_name_must_be_complete(bare):
    theme = bare.root / "themes" / "lagoon"
    shutil.copytree(PACKAGED, theme)
    (theme / "templates" / "tags.html").unlink()
    (theme / "static" / "scheme.js").unlink()
    bare.config('theme = "lagoon"\n' + MINIMAL_CONFIG)
    result, _ = bare.build_post(HEAD + "Text.\n")
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "labpress.toml:1: error: theme 'lagoon' (themes/lagoon/) lacks templates/tags.html, static/scheme.js:"
        " LabPress ships no theme 'lagoon' to take them from, so the theme must have every file (copy them from"
        " the default theme)")
    bare.config('theme = "lagon"\n' + MINIMAL_CONFIG)
    result, _ = bare.build_post(HEAD + "Text.\n")
    assert result.returncode == 2 and result.stderr.strip() == "labpress.toml:1: error: theme 'lagon' not found at themes/lagon/"


def test_the_layers_of_a_theme(bare):
    assert theme_layers(PACKAGED) == [PACKAGED]  # the packaged theme alone
    own(bare, "static/custom.css", ACCENT)
    mine = bare.root / "themes" / "default"
    assert [p.resolve() for p in theme_layers(mine)] == [mine.resolve(), PACKAGED.resolve()]
    lagoon = bare.root / "themes" / "lagoon"
    assert theme_layers(lagoon) == [lagoon]  # not shipped: no fallback
