"""Chemistry and units: KaTeX's mhchem extension (\\ce, \\pu) is loaded into the quickjs-ng engine,
gives exactly node's KaTeX-with-mhchem HTML, and is part of every formula's cache key."""

import json
import shutil
import subprocess

import pytest

from conftest import REPO
from labpress.math.katex import EXTENSIONS, KatexRenderer, TexError, extension_file
from labpress.theme.lookup import find_node_package

HEAD = "---\ntitle: Chemistry\ndate: 2026-02-02\n---\n"

FORMULAS = [
    r"\ce{H2SO4 + 2NaOH -> Na2SO4 + 2H2O}",
    r"\pu{25 mL}",
    r"\ce{CH3COOH <=> CH3COO- + H+}",
    r"\pu{0.1 mol L-1}",
    r"\pu{1.2e-3 mol dm^-3}",
    r"\pu{123 kJ mol-1 K-1}",
    r"K_a = \frac{[\ce{H+}][\ce{CH3COO-}]}{[\ce{CH3COOH}]} = \pu{1.8e-5}",
    r"\ce{^{227}_{90}Th+}",
    r"\ce{[Cu(NH3)4]^2+}",
    r"\ce{A ->[\Delta][\text{cat.}] B}",
    r"\ce{CO2 + C -> 2 CO}",
    r"\ce{Hg^2+ ->[I-] HgI2 ->[I-] [Hg^{II}I4]^2-}",
    r"\ce{SO4^2- + Ba^2+ -> BaSO4 v}",
    r"\ce{NaOH(aq,$\infty$)}",
    r"\ce{x Na(NH4)HPO4 ->[\Delta] (NaPO3)_x + x NH3 ^ + x H2O}",
    r"\ce{1/2 H2O}",
    r"\ce{Fe^{II}Fe^{III}2O4}",
    r"\ce{A <--> B} \quad \ce{A <=>> B} \quad \ce{A <<=> B}",
    r"\ce{$K = \frac{[\ce{Hg^2+}][\ce{Hg}]}{[\ce{Hg2^2+}]}$}",
    r"\pu{30 \degree C} \text{ and } \pu{298.15 K}",
]

NODE_SCRIPT = (
    "const [katexDir, mhchem] = process.argv.slice(1); const katex = require(katexDir); require(mhchem);"
    "const cases = JSON.parse(require('fs').readFileSync(0, 'utf8'));"
    "process.stdout.write(JSON.stringify(cases.map(([t, d]) =>"
    " katex.renderToString(t, {displayMode: d, throwOnError: true, macros: {}}))));"
)


def katex_dir():
    return find_node_package("katex", REPO)


@pytest.mark.skipif(shutil.which("node") is None,
                    reason="node is not installed: there is no KaTeX-with-mhchem in node to compare to")
def test_html_is_byte_identical_to_node_katex_with_mhchem():
    """The expected HTML is made now, by node's KaTeX with require('katex/contrib/mhchem') (the same files)."""
    cases = [(tex, display) for tex in FORMULAS for display in (False, True)]
    package = katex_dir()
    node = subprocess.run(["node", "-e", NODE_SCRIPT, str(package), str(extension_file(package, "mhchem"))],
                          input=json.dumps(cases), capture_output=True, text=True, check=True, cwd=REPO)
    expected = json.loads(node.stdout)
    renderer = KatexRenderer(package, {}, None)
    for (tex, display), want in zip(cases, expected, strict=True):
        assert renderer.render(tex, display) == want, (tex, display)


def test_chemistry_and_units_in_a_post(site):
    result, html = site.build_post(HEAD + "Neutralise $\\ce{H2SO4 + 2NaOH -> Na2SO4 + 2H2O}$ with $\\pu{25 mL}$.\n\n"
                                          "$$\n\\ce{CH3COOH <=> CH3COO- + H+}\n$$\n")
    assert result.returncode == 0, result.stderr
    assert html.count('<span class="katex">') == 3
    assert '<annotation encoding="application/x-tex">\\ce{H2SO4 + 2NaOH -&gt; Na2SO4 + 2H2O}</annotation>' in html
    assert '<annotation encoding="application/x-tex">\\pu{25 mL}</annotation>' in html
    assert "<mi mathvariant=\"normal\">m</mi><mi mathvariant=\"normal\">L</mi>" in html  # upright units


@pytest.mark.parametrize("formula, error", [
    pytest.param("$\\ce{H2O$", "6:9: error: KaTeX: Unexpected end of input in a macro argument, expected '}'",
                 id="unclosed-argument"),
    pytest.param("$\\ce{A}_{\\foo}$", "6:10: error: KaTeX: Undefined control sequence: \\foo", id="undefined-after"),
    # mhchem's own errors carry no position: the error is at the formula
    pytest.param("$\\ce{\\bond{x}}$", "6:2: error: KaTeX: mhchem bug T. Please report.", id="mhchem-own-error"),
    # (KaTeX's offset is in what \pu expanded to, which is as long as the formula: its end)
    pytest.param("$\\pu{25 \\foo}$", "6:14: error: KaTeX: Undefined control sequence: \\foo", id="in-units"),
])
def test_a_bad_formula_is_an_error_at_its_position(site, formula, error):
    result, _ = site.build_post(HEAD + "\n" + formula + "\n")
    assert result.returncode == 1
    assert result.errors == [f"content/p.md:{error}"]
    assert "Traceback" not in result.stderr


def test_an_error_position_past_the_formula_is_not_trusted():
    """KaTeX's position inside what \\ce expanded to is not an offset in the TeX: none is given then."""
    renderer = KatexRenderer(katex_dir(), {}, None)
    with pytest.raises(TexError) as caught:
        renderer.render("\\ce{A + B}\\foo", False)
    assert caught.value.position == len("\\ce{A + B}")  # an offset in the TeX is kept
    for tex in ("\\ce{\\bond{x}}", "\\pu{1 \\foo}", "\\ce{A}}"):
        with pytest.raises(TexError) as caught:
            renderer.render(tex, False)
        assert caught.value.position is None or 0 <= caught.value.position <= len(tex), tex


def test_the_cache_key_names_the_extensions(tmp_path):
    package = katex_dir()
    assert EXTENSIONS == ("mhchem",)
    cache = tmp_path / "katex.sqlite"
    plain = KatexRenderer(package, {}, cache, extensions=())
    with_mhchem = KatexRenderer(package, {}, cache)
    assert plain._key("x", False) != with_mhchem._key("x", False)
    # A cache written by an engine without mhchem is not trusted by one with it, even for plain TeX.
    plain.render("x^2", False)
    with pytest.raises(TexError):
        plain.render("\\ce{H2O}", False)  # no mhchem: undefined
    plain.save()
    again = KatexRenderer(package, {}, cache)
    again.render("x^2", False)
    assert (again.hits, again.misses) == (0, 1)
    assert "H" in again.render("\\ce{H2O}", False)
    again.save()
    reread = KatexRenderer(package, {}, cache)
    reread.render("x^2", False)
    reread.render("\\ce{H2O}", False)
    assert (reread.hits, reread.misses) == (2, 0)


def test_a_missing_extension_is_a_set_up_error(tmp_path):
    from labpress.errors import ConfigError

    fake = tmp_path / "katex"
    (fake / "dist").mkdir(parents=True)
    shutil.copy(katex_dir() / "package.json", fake / "package.json")
    shutil.copy(katex_dir() / "dist" / "katex.min.js", fake / "dist" / "katex.min.js")
    with pytest.raises(ConfigError, match="mhchem extension is missing"):
        KatexRenderer(fake, {}, None)


def test_two_builds_are_byte_identical(site):
    site.post("p.md", HEAD + "$\\ce{2H2 + O2 -> 2H2O}$ at $\\pu{298 K}$\n")
    assert site.build().returncode == 0
    first = (site.out / "p" / "index.html").read_bytes()
    shutil.rmtree(site.root / ".labpress-cache")
    assert site.build().returncode == 0
    assert (site.out / "p" / "index.html").read_bytes() == first
